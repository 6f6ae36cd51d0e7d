"""What a caller without a key sees of the API's surface: its description (/docs, /redoc,
/openapi.json) and /status's details are a setting, on in development, off in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from serve_app.api.app import create_api
from serve_app.api.job_access import max_priority
from serve_app.api.security import hash_key
from serve_app.api.services import Services
from serve_app.config import AppArgs
from serve_app.jobs.model import Job, JobKind, new_token, run_id_of

KEY = "k" * 40
DESCRIPTION = ("/docs", "/redoc", "/openapi.json")


def client(**args: object) -> TestClient:
    settings = AppArgs.model_validate(
        {"auth": {"enabled": True, "api_keys": [{"id": "ops", "sha256": hash_key(KEY)}]}} | args
    )
    return TestClient(create_api(Services(None, None, None, settings)))


def test_production_keeps_the_api_description_and_status_details_private() -> None:
    api = client(environment="production")
    for path in DESCRIPTION:
        assert api.get(path).status_code == 404, path
    anonymous = api.get("/status").json()
    assert set(anonymous) == {"status", "service", "timestamp"}
    keyed = api.get("/status", headers={"Authorization": f"Bearer {KEY}"}).json()
    assert keyed["environment"] == "production"
    assert keyed["version"]


@pytest.mark.parametrize(
    ("args", "public"),
    [
        ({}, True),  # development
        ({"environment": "production", "api": {"public_docs": True}}, True),
        ({"api": {"public_docs": False}}, False),
    ],
)
def test_the_setting_decides_and_the_environment_chooses_its_default(
    args: dict[str, object], public: bool
) -> None:
    api = client(**args)
    assert all((api.get(path).status_code == 200) is public for path in DESCRIPTION)
    assert ("version" in api.get("/status").json()) is public


@pytest.mark.parametrize("path", ["/api/v1/translate", "/api/v1/jobs/translate", "/workflows"])
def test_a_body_without_a_key_is_refused_before_it_is_read(path: str) -> None:
    # Malformed and oversized bodies: 401 without a key (nothing read or parsed), and only
    # with a key the body's own answer (422, 413).
    api = client()
    json_type = {"content-type": "application/json"}
    keyed = {**json_type, "Authorization": f"Bearer {KEY}"}
    for body, answer in ((b"{not json", 422), (b"x" * 3_000_000, 413)):
        refused = api.post(path, content=body, headers=json_type)
        assert refused.status_code == 401
        assert refused.json()["errors"][0]["code"] == "UNAUTHORIZED"
        assert refused.headers["www-authenticate"] == "Bearer"
        assert api.post(path, content=body, headers=keyed).status_code == answer


def test_a_chart_is_readable_by_its_owners_key_only(tmp_path: Path) -> None:
    other = "o" * 40
    api = client(
        auth={
            "enabled": True,
            "api_keys": [
                {"id": "ops", "sha256": hash_key(KEY)},
                {"id": "other", "sha256": hash_key(other)},
            ],
        },
        eda={"output_dir": str(tmp_path)},
    )
    job = Job(new_token(), JobKind.WORKFLOW_RUN, {}, owner="ops")
    name = f"{run_id_of(job)}-histogram-0123abcd.png"  # as the EDA agent names it
    (tmp_path / name).write_bytes(b"\x89PNG chart")
    url = f"/api/v1/artifacts/{name}"
    assert api.get(url, headers={"Authorization": f"Bearer {KEY}"}).content == b"\x89PNG chart"
    refused = api.get(url, headers={"Authorization": f"Bearer {other}"})
    assert refused.status_code == 404  # as if there were none
    assert api.get(url).status_code == 401


@pytest.mark.parametrize("priority", [7, 10])
def test_a_key_asks_for_no_higher_priority_than_it_is_allowed(priority: int) -> None:
    keys = [{"id": "ops", "sha256": hash_key(KEY), "max_priority": 6}]
    api = client(auth={"enabled": True, "api_keys": keys})
    refused = api.post(
        "/api/v1/jobs/translate",
        json={"texts": ["Habari"], "target_language": "fr", "priority": priority},
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0] == {
        "field": "priority",
        "message": f"priority {priority} is above the highest this API key may ask for (6)",
        "code": "PRIORITY_NOT_ALLOWED",
    }
    services = api.app.state.services  # type: ignore[attr-defined]
    assert max_priority(services, "ops") == 6
    assert max_priority(services, None) == 10  # no auth: any
