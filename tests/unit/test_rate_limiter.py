"""Moving-window rate limits in memory and in a real redis-server shared by two "replicas"."""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from limits import parse, storage, strategies

from serve_app.config import RateLimitConfig
from serve_app.ratelimit import RateLimiter
from tests.conftest import free_port


def config(uri: str, **limits: int) -> RateLimitConfig:
    return RateLimitConfig.model_validate({"storage_uri": uri, "key_prefix": "t", **limits})


@pytest.mark.parametrize(
    ("limits", "wait"),
    [
        ({"burst": 100, "requests_per_minute": 3}, 60),  # the minute is spent: a minute
        ({"burst": 3, "requests_per_minute": 100}, 1),  # the second is spent: a second
    ],
)
def test_retry_after_is_when_the_spent_window_takes_a_request_again(
    limits: dict[str, int], wait: int
) -> None:
    limiter = RateLimiter(config("memory://", **limits))
    assert all(limiter.hit("client").allowed for _ in range(3))
    refused = limiter.hit("client")
    assert not refused.allowed
    # The oldest hit leaves the window after `wait` seconds (+1 rounds up past it).
    assert wait <= refused.retry_after <= wait + 1


def test_burst_then_429_verdict_with_retry_after() -> None:
    limiter = RateLimiter(config("memory://", burst=5, requests_per_minute=60))
    verdicts = [limiter.hit("client") for _ in range(8)]
    assert [v.allowed for v in verdicts] == [True] * 5 + [False] * 3
    assert verdicts[0].limit == 60
    assert verdicts[0].remaining == 4
    assert verdicts[-1].retry_after >= 1
    assert limiter.hit("another client").allowed


def test_redis_limits_are_exact_across_two_replicas(redis_url: str) -> None:
    replicas = [RateLimiter(config(redis_url, burst=10)) for _ in range(2)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        verdicts = list(pool.map(lambda i: replicas[i % 2].hit("shared-client"), range(40)))
    assert sum(v.allowed for v in verdicts) == 10
    # A replica started afterwards (or restarted) sees the same windows.
    assert not RateLimiter(config(redis_url, burst=10)).hit("shared-client").allowed


def test_refused_requests_do_not_spend_longer_windows(redis_url: str) -> None:
    limiter = RateLimiter(config(redis_url, burst=3, requests_per_hour=100))
    allowed = sum(limiter.hit("hammering-client").allowed for _ in range(50))
    assert allowed == 3
    window = strategies.MovingWindowRateLimiter(
        storage.storage_from_string(redis_url, key_prefix="t")
    )
    # 47 requests refused at the per-second window left the hourly window at 3 used.
    assert window.get_window_stats(parse("100/hour"), "hammering-client").remaining == 97


def test_unreachable_redis_lets_requests_through_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limiter = RateLimiter(config(f"redis://127.0.0.1:{free_port()}/0", burst=1))
    with caplog.at_level(logging.WARNING):
        verdicts = [limiter.hit("client") for _ in range(3)]
    assert all(v.allowed for v in verdicts)
    assert sum("rate-limit storage unavailable" in r.message for r in caplog.records) == 1


def test_storage_uri_is_validated() -> None:
    with pytest.raises(ValueError, match="storage_uri"):
        RateLimitConfig.model_validate({"storage_uri": "postgres://db"})


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_characters_are_charged_against_windows_of_their_own(
    backend: str, request: pytest.FixtureRequest
) -> None:
    uri = "memory://" if backend == "memory" else request.getfixturevalue("redis_url")
    client, other = f"client-{uuid.uuid4().hex}", f"other-{uuid.uuid4().hex}"
    limiter = RateLimiter(
        config(uri, burst=2, characters_per_minute=1000, characters_per_hour=1500)
    )
    first = limiter.hit(client, "characters", 600)
    assert first.allowed
    assert first.remaining == 400
    second = limiter.hit(client, "characters", 600)  # 1,200 > 1,000 a minute
    assert not second.allowed
    assert second.retry_after >= 1
    assert limiter.hit(client, "characters", 400).allowed  # exactly what was left
    # Characters and requests are separate budgets, and so are clients.
    assert limiter.hit(client).allowed
    assert limiter.hit(client).allowed
    assert not limiter.hit(client).allowed  # the burst of 2 requests
    assert limiter.hit(other, "characters", 1000).allowed
    upload = RateLimiter(config(uri, upload_bytes_per_hour=5000))
    assert upload.hit(client, "upload_bytes", 5000).allowed
    assert not upload.hit(client, "upload_bytes", 1).allowed
