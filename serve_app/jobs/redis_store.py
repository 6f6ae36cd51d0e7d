"""Redis backend of the job store, for clusters (several nodes, one Redis).

Layout under ``prefix``: ``job:{token}`` JSON with a Redis TTL; ``queue:{kind}`` sorted sets
ordered by priority then age; ``leases`` (score: lease expiry), ``deadlines`` (score:
deadline), ``completed`` (score: completion time), ``totals`` hash. Multi-key transitions run
under a Redis lock, so any number of processes can share one store.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from serve_app.jobs.model import TERMINAL, Job, JobStatus
from serve_app.jobs.store import Clock, JobStore

# Priority 1..10 with 10 first; within a priority, older first (milliseconds since epoch).
_PRIORITY_SPAN = 10**14


def queue_score(job: Job) -> float:
    return float((10 - job.priority) * _PRIORITY_SPAN + int(job.created_at * 1000))


class RedisJobStore(JobStore):
    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "tafsiri",
        clock: Clock = time.time,
        client: Any = None,
    ) -> None:
        super().__init__(clock)
        import redis

        # redis-py annotates results as sync-or-async unions; this client is sync.
        self._redis: Any = client or redis.Redis.from_url(url, decode_responses=True)
        self._redis.ping()
        self.prefix = prefix
        self._lock = self._redis.lock(f"{prefix}:lock", timeout=30, blocking_timeout=30)
        self._depth = 0

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        if self._depth:  # re-entrant within this process
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        if not self._lock.acquire():
            raise TimeoutError("could not acquire the job store lock")
        self._depth = 1
        try:
            yield
        finally:
            self._depth = 0
            self._lock.release()

    def _load(self, token: str) -> Job | None:
        raw = self._redis.get(self._key("job", token))
        return Job.from_dict(json.loads(raw)) if raw else None

    def _save(self, job: Job) -> None:
        ttl_ms = max(1, math.ceil((job.expires_at - self.clock()) * 1000))
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(self._key("job", job.token), json.dumps(job.to_dict()), px=ttl_ms)
        pipe.hset(self._key("kinds"), job.kind, 1)
        queue = self._key("queue", job.kind)
        if job.status is JobStatus.QUEUED:
            pipe.zadd(queue, {job.token: queue_score(job)})
        else:
            pipe.zrem(queue, job.token)
        if job.status is JobStatus.PROCESSING and job.lease_expires_at is not None:
            pipe.zadd(self._key("leases"), {job.token: job.lease_expires_at})
        else:
            pipe.zrem(self._key("leases"), job.token)
        if job.status is JobStatus.QUEUED:
            pipe.zadd(self._key("queued_by_age"), {job.token: job.created_at})
        else:
            pipe.zrem(self._key("queued_by_age"), job.token)
        for status in TERMINAL:
            if job.status is status:
                pipe.zadd(self._key("status", status.value), {job.token: job.updated_at})
            else:
                pipe.zrem(self._key("status", status.value), job.token)
        if job.terminal:
            pipe.zrem(self._key("deadlines"), job.token)
            pipe.zadd(self._key("expiry"), {job.token: job.expires_at})
            if job.status is JobStatus.DONE and job.completed_at is not None:
                pipe.zadd(self._key("completed"), {job.token: job.completed_at})
        else:
            pipe.zadd(self._key("deadlines"), {job.token: job.deadline_at})
            pipe.zadd(self._key("expiry"), {job.token: job.expires_at})
        pipe.execute()

    def _delete(self, token: str) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(self._key("job", token))
        for kind in self._redis.hkeys(self._key("kinds")):
            pipe.zrem(self._key("queue", kind), token)
        indexes = ["leases", "deadlines", "expiry", "completed", "queued_by_age"]
        indexes += [f"status:{status.value}" for status in TERMINAL]
        for index in indexes:
            pipe.zrem(self._key(index), token)
        pipe.execute()

    def _next_queued(self, kinds: frozenset[str] | None) -> str | None:
        candidates = kinds if kinds is not None else set(self._redis.hkeys(self._key("kinds")))
        best: tuple[float, str] | None = None
        for kind in candidates:
            head = self._redis.zrange(self._key("queue", kind), 0, 0, withscores=True)
            if head and (best is None or head[0][1] < best[0]):
                best = (head[0][1], head[0][0])
        if best is None:
            return None
        token = best[1]
        if self._redis.exists(self._key("job", token)):
            return token
        self._delete(token)  # its key expired by TTL: drop the stale index entries
        return self._next_queued(kinds)

    def _tokens_where(self, condition: str, now: float) -> list[str]:
        index = {"lease_expired": "leases", "past_deadline": "deadlines", "past_ttl": "expiry"}
        tokens: list[str] = self._redis.zrangebyscore(self._key(index[condition]), "-inf", now)
        return tokens

    def _count_by_status(self) -> dict[str, int]:
        pipe = self._redis.pipeline(transaction=False)
        pipe.zcard(self._key("queued_by_age"))
        pipe.zcard(self._key("leases"))
        for status in TERMINAL:
            pipe.zcard(self._key("status", status.value))
        queued, processing, *terminal = pipe.execute()
        counts = {JobStatus.QUEUED.value: queued, JobStatus.PROCESSING.value: processing}
        counts.update({status.value: n for status, n in zip(TERMINAL, terminal, strict=True)})
        return counts

    def _completed_since(self, since: float) -> int:
        count: int = self._redis.zcount(self._key("completed"), since, "+inf")
        return count

    def _oldest_queued_created_at(self) -> float | None:
        head = self._redis.zrange(self._key("queued_by_age"), 0, 0, withscores=True)
        return float(head[0][1]) if head else None

    def _add_total(self, status: str) -> None:
        self._redis.hincrby(self._key("totals"), status, 1)

    def _totals(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._redis.hgetall(self._key("totals")).items()}

    def close(self) -> None:
        self._redis.close()
