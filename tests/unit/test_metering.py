"""Every costly endpoint is charged by what it costs, before it does any work: characters
for translating and detecting, bytes for uploads; per key with auth, per client without.

The routes run in the real FastAPI app over a real redis-server's windows; the model
deployments are absent, so a request that got past its charge would fail (a 500), and each
refusal here is the charge's, before any work."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from serve_app.api.app import create_api
from serve_app.api.security import CHARGED_PATHS, hash_key, new_api_key
from serve_app.api.services import Services
from serve_app.config import AppArgs
from serve_app.ratelimit import SPENT_HOLD_S, RateLimiter, SpentBudgets, rate_limiter

PER_MINUTE = 20_000


@pytest.fixture
def metered(redis_url: str) -> tuple[TestClient, RateLimiter]:
    limits = {
        "storage_uri": redis_url,
        "key_prefix": f"metering-{uuid.uuid4().hex}",
        "characters_per_minute": PER_MINUTE,
        "characters_per_hour": 10 * PER_MINUTE,
        "upload_bytes_per_hour": 100_000,
    }
    args = AppArgs.model_validate(
        {
            "rate_limits": limits,
            "api": {"max_text_chars": 5000, "max_batch_items": 4, "max_job_chars": 20_000},
            "documents": {"max_bytes": 50_000},
        }
    )
    services = Services(None, None, None, args, rate_limiter=rate_limiter(args.rate_limits, "t"))
    return TestClient(create_api(services)), RateLimiter(args.rate_limits)


def spend_all(limiter: RateLimiter, key: str) -> None:
    assert limiter.hit(key, "characters", PER_MINUTE).allowed


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/translate", {"text": "Habari", "target_language": "fr"}),
        ("/api/v1/detect-language", {"text": "Habari"}),
        ("/api/v1/translate/stream", {"text": "Habari. Yako.", "target_language": "fr"}),
        (
            "/workflows",
            {"natural_language": "Detect the language of 'Habari'", "client_id": "wf-client"},
        ),
        (
            "/api/v1/jobs/translate",
            {"texts": ["Habari"], "target_language": "fr", "client_id": "metered-client"},
        ),
    ],
)
def test_a_client_whose_characters_are_spent_is_refused_before_any_work(
    metered: tuple[TestClient, RateLimiter], path: str, body: dict[str, Any]
) -> None:
    api, limiter = metered
    # Without auth, a client is the client_id it names, else its address.
    spend_all(limiter, body.get("client_id", "addr:testclient"))
    refused = api.post(path, json=body)
    assert refused.status_code == 429, refused.text
    error = refused.json()
    assert error["errors"][0]["code"] == "RATE_LIMITED"
    assert error["retry_after"] >= 1
    assert refused.headers["retry-after"] == str(error["retry_after"])


def test_a_request_is_charged_each_text_once_per_target(
    metered: tuple[TestClient, RateLimiter],
) -> None:
    api, limiter = metered
    # 4 texts of 5,000 characters into 2 targets: 40,000, more than a minute's 20,000.
    texts = ["a" * 5000] * 4
    too_much = api.post("/api/v1/translate", json={"text": texts, "target_language": ["fr", "de"]})
    assert too_much.status_code == 413
    assert "costs 40000 characters" in too_much.json()["detail"]
    # Nothing was charged for it.
    assert limiter.hit("addr:testclient", "characters", PER_MINUTE).allowed


def test_an_upload_is_charged_by_its_bytes_before_it_is_parsed(
    metered: tuple[TestClient, RateLimiter],
) -> None:
    api, limiter = metered
    assert limiter.hit("uploader", "upload_bytes", 100_000 - 10).allowed
    refused = api.post(
        "/api/v1/documents",
        files={"file": ("a.txt", b"not parsed at all " * 2, "text/plain")},
        data={"target_language": "fr", "client_id": "uploader"},
    )
    assert refused.status_code == 429, refused.text
    assert "bytes of uploads" in refused.json()["detail"]


def test_every_charged_path_is_a_route_that_takes_a_body() -> None:
    app = create_api(Services(None, None, None, AppArgs()))
    posted = {path for path, ops in app.openapi()["paths"].items() if "post" in ops}
    assert set(CHARGED_PATHS) <= posted


def test_a_key_whose_budget_is_spent_is_refused_before_its_body_is_read(redis_url: str) -> None:
    """Once the limiter said a key's characters are spent, this replica refuses that key's
    costly requests at once: a body that is not even JSON is answered 429, not 422. Other
    keys, other routes, and the same key once the hold is over go on as before."""
    keys = {"spender": new_api_key(), "other": new_api_key()}
    args = AppArgs.model_validate(
        {
            "auth": {
                "enabled": True,
                "api_keys": [{"id": i, "sha256": hash_key(k)} for i, k in keys.items()],
            },
            "rate_limits": {
                "storage_uri": redis_url,
                "key_prefix": f"spent-{uuid.uuid4().hex}",
                "characters_per_minute": PER_MINUTE,
                "characters_per_hour": 10 * PER_MINUTE,
            },
            "api": {"max_text_chars": 5000, "max_batch_items": 4, "max_job_chars": 20_000},
        }
    )
    now = [1000.0]
    services = Services(None, None, None, args, rate_limiter=rate_limiter(args.rate_limits, "t"))
    services.spent = SpentBudgets(clock=lambda: now[0])
    api = TestClient(create_api(services))
    assert RateLimiter(args.rate_limits).hit("spender", "characters", PER_MINUTE).allowed

    def post(who: str, path: str, **body: Any) -> Any:
        return api.post(path, headers={"Authorization": f"Bearer {keys[who]}"}, **body)

    first = post("spender", "/api/v1/translate", json={"text": "Habari", "target_language": "fr"})
    assert first.status_code == 429  # the limiter's answer
    for path in ("/api/v1/translate", "/api/v1/detect-language", "/api/v1/documents"):
        refused = post("spender", path, content=b"{not json")
        assert refused.status_code == 429, (path, refused.text)
        assert refused.json()["errors"][0]["code"] == "RATE_LIMITED"
        assert refused.headers["retry-after"] == str(refused.json()["retry_after"])
        assert 1 <= refused.json()["retry_after"] <= SPENT_HOLD_S
    # Another key, and a route that charges nothing, read and parse the body as before.
    assert post("other", "/api/v1/translate", content=b"{not json").status_code == 422
    assert post("spender", "/api/v1/glossaries", content=b"{not json").status_code == 422
    now[0] += SPENT_HOLD_S + 0.1  # the hold is over: the limiter is asked again
    assert post("spender", "/api/v1/translate", content=b"{not json").status_code == 422


def test_a_request_costs_at_least_min_request_characters(
    metered: tuple[TestClient, RateLimiter],
) -> None:
    """A one-character request is charged its overhead (100): 50 characters left in the
    window do not take it; it is refused before any work."""
    api, limiter = metered
    assert limiter.hit("addr:testclient", "characters", PER_MINUTE - 50).allowed
    refused = api.post("/api/v1/detect-language", json={"text": "H"})
    assert refused.status_code == 429, refused.text
    assert "100 characters asked" in refused.json()["detail"]
