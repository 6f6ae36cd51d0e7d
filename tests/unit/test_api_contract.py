"""The API's contract as its OpenAPI states it, read from the app without Ray: the one
priority rule wherever a job is submitted."""

from __future__ import annotations

from typing import Any

from serve_app.api.app import create_api
from serve_app.api.services import Services
from serve_app.config import ApiKey, AppArgs
from serve_app.jobs.model import Job
from serve_app.priority import DEFAULT_PRIORITY, MAX_PRIORITY, MIN_PRIORITY


def openapi() -> dict[str, Any]:
    return create_api(Services(None, None, None, AppArgs())).openapi()


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
