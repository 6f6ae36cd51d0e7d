"""Per-client moving-window rate limits over a ``limits`` storage (memory or Redis).

With ``memory://`` one named actor holds the windows and every ingress replica asks it; with
``redis://`` each ingress replica counts straight into Redis (atomic Lua scripts in ``limits``),
so the limits hold across replicas on every node and survive restarts of any of them.
Counting lives here; the HTTP answer (headers, 429) is the API's (``api/security.py``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItem, parse_many, storage, strategies

from serve_app.actors import Generational, named_actor
from serve_app.config import RateLimitConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """One counted request: allowed or not, and what the headers report."""

    allowed: bool
    limit: int
    remaining: int
    reset: int
    retry_after: int


# Let through while the storage is unreachable (fail open).
_UNLIMITED = Verdict(allowed=True, limit=0, remaining=0, reset=0, retry_after=0)


class RateLimiter:
    """Counts requests per client key against the configured per-second/minute/hour limits."""

    def __init__(self, config: RateLimitConfig | dict[str, Any]) -> None:
        self.config = RateLimitConfig.model_validate(config)
        # Smallest window first: a request refused by the per-second limit uses up nothing,
        # so a client hammering at 429 does not burn its hourly quota.
        self._limits: list[RateLimitItem] = sorted(
            parse_many(";".join(self.config.limit_strings())),
            key=lambda item: item.get_expiry(),
        )
        # The limit and reset the headers report are the per-minute window's.
        self._minute = next(
            i for i, item in enumerate(self._limits) if item.GRANULARITY.name == "minute"
        )
        options = {"key_prefix": self.config.key_prefix} if self.config.in_redis else {}
        self._limiter = strategies.MovingWindowRateLimiter(
            storage.storage_from_string(self.config.storage_uri, **options)
        )
        self._failing_since: float | None = None

    def hit(self, key: str) -> Verdict:
        """Counts one request for ``key`` unless a window is full; says what is left.

        When the storage cannot be reached the request is let through (fail open, logged):
        an outage of the limiter's Redis must not take the API down with it.
        """
        try:
            verdict = self._hit(key)
        except Exception as error:
            now = time.monotonic()
            if self._failing_since is None or now - self._failing_since > 30:
                self._failing_since = now
                log.warning("rate-limit storage unavailable, letting requests through: %s", error)
            return _UNLIMITED
        self._failing_since = None
        return verdict

    def _hit(self, key: str) -> Verdict:
        # Each hit is atomic in the storage; `test` first spares the windows of a client that
        # is plainly blocked. Two replicas racing past `test` are settled by the atomic hits.
        allowed = all(self._limiter.test(limit, key) for limit in self._limits)
        if allowed:
            allowed = all(self._limiter.hit(limit, key) for limit in self._limits)
        stats = [self._limiter.get_window_stats(limit, key) for limit in self._limits]
        blocked = [s for s in stats if s.remaining <= 0]
        retry_after = (
            max(1, int(max(s.reset_time for s in blocked) - time.time()) + 1) if blocked else 1
        )
        return Verdict(
            allowed=allowed,
            limit=self._limits[self._minute].amount,
            remaining=max(0, min(s.remaining for s in stats)),
            reset=int(stats[self._minute].reset_time),
            retry_after=0 if allowed else retry_after,
        )


class RateLimiterActor(RateLimiter, Generational):
    """The shared limiter of ``memory://`` storage, as a named actor (one per config)."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self._start_generation(self.config.limiter_name)

    def hit(self, key: str) -> Verdict:
        self.touch()
        return super().hit(key)


CountRequest = Callable[[str], Awaitable[Verdict]]


def rate_limiter(config: RateLimitConfig, namespace: str) -> CountRequest:
    """``await limiter(key)`` counts a request: in Redis from this process when the limits live
    there, else in the one limiter actor that every ingress replica shares."""
    if config.in_redis:
        limiter = RateLimiter(config)
        return lambda key: asyncio.to_thread(limiter.hit, key)
    actor = named_actor(
        RateLimiterActor, config.limiter_name, namespace, config.model_dump(mode="json")
    )
    return lambda key: actor.hit.remote(key)
