"""The API's contract as its OpenAPI states it, read from the app without Ray: every route
declares what it answers, every error is the one error body (declared, and answered), and
the one priority rule wherever a job is submitted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from serve_app.api.app import create_api
from serve_app.api.schemas import ErrorResponse
from serve_app.api.security import hash_key
from serve_app.api.services import Services
from serve_app.config import ApiKey, AppArgs
from serve_app.jobs.model import Job, JobKind, JobStatus
from serve_app.priority import DEFAULT_PRIORITY, MAX_PRIORITY, MIN_PRIORITY
from serve_app.ratelimit import Verdict
from tests.remote import Remote

JSON = "application/json"
SUCCESS = ("200", "201", "202")
ERROR_RESPONSE = {"$ref": "#/components/schemas/ErrorResponse"}
# Public probes: they answer every request, /health's 503 with its own body.
NO_CLIENT_ERRORS = {("GET", "/health"), ("GET", "/status")}
KEY = "k" * 40


def openapi() -> dict[str, Any]:
    return create_api(Services(None, None, None, AppArgs())).openapi()


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def shapes(spec: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The object schemas ``schema`` may be (references followed, unions spread)."""
    if "$ref" in schema:
        return shapes(spec, spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]])
    if "anyOf" in schema:
        return [shape for branch in schema["anyOf"] for shape in shapes(spec, branch)]
    return [schema]


def test_every_route_declares_what_it_answers() -> None:
    """JSON answers are models (each field named); other answers name their media type."""
    spec = openapi()
    untyped = []
    for method, path, operation in operations(spec):
        answers = {s: r for s, r in operation["responses"].items() if s in (*SUCCESS, "204")}
        assert answers, f"{method} {path} documents no success"
        for status, answer in answers.items():
            content = answer.get("content", {})
            if status == "204":
                assert not content, f"{method} {path}"
            elif JSON in content:
                found = shapes(spec, content[JSON].get("schema", {}))
                if not all(shape.get("properties") for shape in found):
                    untyped.append(f"{method} {path} {status}")
            else:
                assert content, f"{method} {path} names no media type for {status}"
    assert not untyped, f"JSON answers without a model: {untyped}"


def test_every_route_documents_its_errors_as_the_one_error_body() -> None:
    spec = openapi()
    for method, path, operation in operations(spec):
        errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
        if (method, path) not in NO_CLIENT_ERRORS:
            assert any(s.startswith("4") for s in errors), f"{method} {path}"
        for status, error in errors.items():
            schema = error["content"][JSON]["schema"]
            if path == "/health":
                assert schema == {"$ref": "#/components/schemas/HealthResponse"}
            else:
                assert schema == ERROR_RESPONSE, f"{method} {path} {status}"
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def _down(*_: Any) -> Any:
    raise ConnectionError("the store is down")


async def _spent(key: str, kind: str = "requests", cost: int = 1) -> Verdict:
    return Verdict(allowed=False, limit=60, remaining=0, reset=30, retry_after=17)


@dataclass(frozen=True)
class Refusal:
    """An error as a client meets it: ``route`` (as the OpenAPI names it) with ``values``."""

    method: str
    route: str
    status: int
    code: str
    values: dict[str, str] = field(default_factory=dict)
    request: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    services: dict[str, Any] = field(default_factory=dict)
    # Keys its body has besides detail, errors, request_id and timestamp.
    extras: tuple[str, ...] = ()


_AUTH = {"auth": {"enabled": True, "api_keys": [{"id": "ops", "sha256": hash_key(KEY)}]}}
_STORE_DOWN = {"job_manager": SimpleNamespace(get=Remote(_down), stats=Remote(_down))}
_TOKEN = {"token": "f" * 32}
ERRORS = {
    "malformed token": Refusal(
        "GET", "/api/v1/jobs/{token}", 400, "INVALID_TOKEN", {"token": "not-a-token"}
    ),
    "no key": Refusal("GET", "/api/v1/models", 401, "UNAUTHORIZED", settings=_AUTH),
    "no key, a body": Refusal(
        "POST",
        "/api/v1/translate",
        401,
        "UNAUTHORIZED",
        request={"json": {"text": "x", "target_language": "fr"}},
        settings=_AUTH,
    ),
    "unknown language": Refusal(
        "GET", "/api/v1/languages/{code}", 404, "NOT_FOUND", {"code": "qq"}
    ),
    "no such route": Refusal("GET", "/nothing", 404, "NOT_FOUND"),
    "body too large": Refusal(
        "POST",
        "/api/v1/translate",
        413,
        "PAYLOAD_TOO_LARGE",
        request={"content": b"x" * 3_000_000, "headers": {"content-type": JSON}},
    ),
    "invalid body": Refusal(
        "POST",
        "/api/v1/jobs/translate",
        422,
        "TOO_SHORT",
        request={"json": {"texts": [], "target_language": "fr"}},
    ),
    "invalid workflow": Refusal(
        "POST",
        "/api/v1/workflows/dsl",
        422,
        "INVALID_DSL",
        request={"json": {"dsl_yaml": "a: &x 1\nb: *x"}},
        extras=("validation_results",),
    ),
    "rate limited": Refusal(
        "POST",
        "/api/v1/workflows/dsl",
        429,
        "RATE_LIMITED",
        request={"json": {"dsl_yaml": "name: x"}},
        services={"rate_limiter": _spent},
        extras=("retry_after", "limit"),
    ),
    "store down": Refusal(
        "GET",
        "/api/v1/jobs/{token}",
        503,
        "STORE_UNAVAILABLE",
        _TOKEN,
        services=_STORE_DOWN,
        extras=("retry_after",),
    ),
    "unexpected": Refusal("GET", "/stats", 500, "INTERNAL_ERROR", services=_STORE_DOWN),
}


@pytest.mark.parametrize("case", ERRORS.values(), ids=ERRORS.keys())
def test_an_error_answered_is_the_error_body_documented(case: Refusal) -> None:
    settings = AppArgs.model_validate(case.settings)
    app = create_api(Services(None, None, None, settings, **case.services))
    path = case.route.format(**case.values)
    answer = TestClient(app, raise_server_exceptions=False).request(
        case.method, path, **case.request
    )
    assert answer.status_code == case.status, answer.text
    body = answer.json()
    error = ErrorResponse.model_validate(body)  # no key it does not declare
    assert error.model_dump(mode="json", exclude_unset=True) == body
    assert error.errors[0].code == case.code
    assert list(body) == ["detail", "errors", "request_id", "timestamp", *case.extras]
    assert body["request_id"]
    if case.status == 429:
        assert (body["retry_after"], answer.headers["retry-after"]) == (17, "17")
    if case.code == "INVALID_DSL":
        assert body["validation_results"]["errors"][0]["code"] == "ALIAS_NOT_ALLOWED"
    if case.route != "/nothing" and case.status != 500:  # a route's own error: documented
        responses = openapi()["paths"][case.route][case.method.lower()]["responses"]
        assert str(case.status) in responses


def _task(status: str, error: str | None = None) -> dict[str, Any]:
    return {"status": status, "attempts": 1, "seconds": 0.25, "output": None, "error": error}


def test_a_typed_workflow_run_keeps_its_wire_format() -> None:
    """Typed, a run's answer is what it was as a dict, byte for byte: times with "+00:00",
    null outputs and errors kept, ``error_message``/``error_details`` only once it failed."""
    workflow = {"workflow": {"name": "W", "tasks": [{"id": "a"}, {"id": "b"}]}}
    times = {"created_at": 1700000000.5, "updated_at": 1700000001.0}
    running = Job("1" * 32, JobKind.WORKFLOW_RUN, workflow, status=JobStatus.PROCESSING, **times)
    running.detail = {"a": _task("done"), "b": _task("running")}
    running.progress_done, running.progress_total = 1, 2
    failed = Job("2" * 32, JobKind.WORKFLOW_RUN, workflow, status=JobStatus.ERROR, **times)
    failed.error_message = "workflow tasks failed: a"
    failed.error_details = {"tasks": {"a": _task("error", "boom"), "b": _task("skipped")}}
    jobs = {job.token: job for job in (running, failed)}
    store = SimpleNamespace(get=Remote(jobs.get))
    api = TestClient(create_api(Services(None, None, None, AppArgs(), job_manager=store)))

    def answer(job: Job, status: str, done: int, **failure: Any) -> str:
        return json.dumps(
            {
                "workflow_id": job.token,
                "name": "W",
                "status": status,
                "created_at": "2023-11-14T22:13:20.500000+00:00",
                "updated_at": "2023-11-14T22:13:21+00:00",
                "retries": 0,
                "progress": {"done": done, "total": 2},
                "tasks": job.detail or (job.error_details or {})["tasks"],
                "metadata": {"priority": DEFAULT_PRIORITY, "client_id": "default"},
                **failure,
            },
            separators=(",", ":"),
        )

    assert api.get(f"/api/v1/workflows/{running.token}").text == answer(running, "processing", 1)
    assert api.get(f"/api/v1/workflows/{failed.token}").text == answer(
        failed, "error", 0, error_message="workflow tasks failed: a", error_details={}
    )


def test_every_priority_a_job_is_submitted_with_follows_the_one_rule() -> None:
    schemas = openapi()["components"]["schemas"]
    found = {
        name: properties["priority"]
        for name, schema in schemas.items()
        if "priority" in (properties := schema.get("properties", {}))
    }
    # Text jobs, NL-to-DSL, DSL runs, and the documents form.
    assert {"TextJobRequest", "WorkflowTranslateRequest", "DslRequest"} < set(found)
    assert any(name.startswith("Body_submit_document") for name in found)
    for name, priority in found.items():
        bounds = (priority["minimum"], priority["maximum"], priority["default"])
        assert bounds == (MIN_PRIORITY, MAX_PRIORITY, DEFAULT_PRIORITY), name
    key = ApiKey.model_json_schema()["properties"]["max_priority"]
    assert (key["minimum"], key["maximum"], key["default"]) == (
        MIN_PRIORITY,
        MAX_PRIORITY,
        MAX_PRIORITY,
    )
    assert Job("0" * 32, "text_translation", {}).priority == DEFAULT_PRIORITY
