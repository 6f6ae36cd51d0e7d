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
from typing import Any, Protocol

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


# What a client spends: requests (submissions), characters (translated or detected), bytes
# (uploaded). Each has windows of its own (RateLimitConfig.limit_strings).
KINDS = ("requests", "characters", "upload_bytes")


class RateLimiter:
    """Counts requests per client key against the configured per-second/minute/hour limits,
    and charges characters and upload bytes against their own windows."""

    def __init__(self, config: RateLimitConfig | dict[str, Any]) -> None:
        self.config = RateLimitConfig.model_validate(config)
        # Smallest window first: a request refused by the per-second limit uses up nothing,
        # so a client hammering at 429 does not burn its hourly quota.
        self._windows: dict[str, list[RateLimitItem]] = {
            kind: sorted(
                parse_many(";".join(self.config.limit_strings(kind))),
                key=lambda item: item.get_expiry(),
            )
            for kind in KINDS
        }
        # Per kind, the window the headers report: the per-minute one, else the first.
        self._shown = {
            kind: next((i for i, item in enumerate(items) if item.GRANULARITY.name == "minute"), 0)
            for kind, items in self._windows.items()
        }
        options = {"key_prefix": self.config.key_prefix} if self.config.in_redis else {}
        self._limiter = strategies.MovingWindowRateLimiter(
            storage.storage_from_string(self.config.storage_uri, **options)
        )
        self._failing_since: float | None = None

    def hit(self, key: str, kind: str = "requests", cost: int = 1) -> Verdict:
        """Charges ``cost`` of ``kind`` (one request by default) to ``key`` unless a window
        would overflow; says what is left.

        When the storage cannot be reached the request is let through (fail open, logged):
        an outage of the limiter's Redis must not take the API down with it.
        """
        try:
            verdict = self._hit(key, kind, cost)
        except Exception as error:
            now = time.monotonic()
            if self._failing_since is None or now - self._failing_since > 30:
                self._failing_since = now
                log.warning("rate-limit storage unavailable, letting requests through: %s", error)
            return _UNLIMITED
        self._failing_since = None
        return verdict

    def _hit(self, key: str, kind: str, cost: int) -> Verdict:
        # Each hit is atomic in the storage; `test` first spares the windows of a client that
        # is plainly blocked. Two replicas racing past `test` are settled by the atomic hits.
        windows = self._windows[kind]
        ids = (key,) if kind == "requests" else (kind, key)  # requests: keys as they were
        allowed = all(self._limiter.test(limit, *ids, cost=cost) for limit in windows)
        if allowed:
            allowed = all(self._limiter.hit(limit, *ids, cost=cost) for limit in windows)
        stats = [self._limiter.get_window_stats(limit, *ids) for limit in windows]
        blocked = [s for s in stats if s.remaining < cost]
        retry_after = (
            max(1, int(max(s.reset_time for s in blocked) - time.time()) + 1) if blocked else 1
        )
        shown = self._shown[kind]
        return Verdict(
            allowed=allowed,
            limit=windows[shown].amount,
            remaining=max(0, min(s.remaining for s in stats)),
            reset=int(stats[shown].reset_time),
            retry_after=0 if allowed else retry_after,
        )


class RateLimiterActor(RateLimiter, Generational):
    """The shared limiter of ``memory://`` storage, as a named actor (one per config)."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self._start_generation(self.config.limiter_name)

    def hit(self, key: str, kind: str = "requests", cost: int = 1) -> Verdict:
        self.touch()
        return super().hit(key, kind, cost)


class CountRequest(Protocol):
    """``await limiter(key)`` counts a request; ``limiter(key, kind, cost)`` charges more."""

    def __call__(self, key: str, kind: str = "requests", cost: int = 1) -> Awaitable[Verdict]: ...


def rate_limiter(config: RateLimitConfig, namespace: str) -> CountRequest:
    """Counts and charges: in Redis from this process when the limits live there, else in the
    one limiter actor that every ingress replica shares."""
    if config.in_redis:
        limiter = RateLimiter(config)

        def in_redis(key: str, kind: str = "requests", cost: int = 1) -> Awaitable[Verdict]:
            return asyncio.to_thread(limiter.hit, key, kind, cost)

        return in_redis
    actor = named_actor(
        RateLimiterActor, config.limiter_name, namespace, config.model_dump(mode="json")
    )

    def in_actor(key: str, kind: str = "requests", cost: int = 1) -> Awaitable[Verdict]:
        verdict: Awaitable[Verdict] = actor.hit.remote(key, kind, cost)
        return verdict

    return in_actor


# How long a replica refuses a spent key on its own, at most, before asking the limiter again.
SPENT_HOLD_S = 5.0


class SpentBudgets:
    """Keys whose budget of a kind this replica found spent (not even the smallest request
    fits), until when: their costly requests are refused before the body is read, parsed
    and validated, so a client that ignores ``Retry-After`` costs little while it waits."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._until: dict[tuple[str, str], float] = {}

    def spend(self, key: str, kind: str, retry_after: float) -> None:
        now = self._clock()
        if len(self._until) > 10_000:  # one entry per key and kind; forget what has passed
            self._until = {k: t for k, t in self._until.items() if t > now}
        self._until[(key, kind)] = now + min(retry_after, SPENT_HOLD_S)

    def wait(self, key: str, kinds: tuple[str, ...]) -> float:
        """Seconds until ``key`` may be charged any of ``kinds`` again (0: now)."""
        now = self._clock()
        return max((self._until.get((key, kind), now) - now for kind in kinds), default=0.0)
