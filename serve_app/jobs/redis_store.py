"""Redis backend of the job store, for clusters (several nodes, one Redis).

Layout under ``prefix``: ``job:{token}`` JSON with a Redis TTL; ``queue:{kind}`` sorted sets
ordered by the store's queue key (priority with aging); ``leases`` (score: lease expiry),
``deadlines`` (score: deadline), ``completed`` (score: completion time), ``totals`` hash,
``owners`` hash (token → owner of each unfinished job, ``""`` for none).

Multi-key transitions run under one Redis lock, so any number of processes can share one
store. Within a process, threads (the job manager's sweeper beside its calls) take a local
lock first, so a section is re-entrant for its own thread only. Every write is *fenced*: it
is a MULTI/EXEC that WATCHes the lock key and first checks that this holder's token is still
the lock's, so a holder that stalled past the lock's expiry has its writes refused
(:class:`LockLostError`) instead of overwriting the next holder's.

Redis must keep what it accepted: ``appendonly yes`` with ``appendfsync everysec`` (or
``always``), and ``maxmemory-policy noeviction`` (job keys carry TTLs, so every ``volatile-*``
policy may evict them). :meth:`RedisJobStore.durability_problems` checks this at start-up.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from serve_app.jobs.model import TERMINAL, Job, JobStatus
from serve_app.jobs.store import (
    DEFAULT_AGING_SECONDS,
    DEFAULT_RUNNING_PER_OWNER,
    Clock,
    JobStore,
)

log = logging.getLogger(__name__)
# A section that holds the lock longer than this loses it (and its writes are refused, so a
# short expiry is safe): a holder that died mid-section blocks the others for this long at
# most, a Redis restarted from its AOF with the lock in it included.
LOCK_SECONDS = 5
LOCK_WAIT_SECONDS = 15
# Sweeps delete expired jobs in pipelines of this many.
DELETE_CHUNK = 500
# A queue is read this many tokens at a time when owners are passed over, and no further than
# SCAN_LIMIT: past it, the head is taken (request budgets keep one key's queued jobs far below).
SCAN_CHUNK = 256
SCAN_LIMIT = 8192


class LockLostError(RuntimeError):
    """The store lock expired while held; the section's writes were refused."""


class RedisJobStore(JobStore):
    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        *,
        prefix: str = "tafsiri",
        clock: Clock = time.time,
        aging_seconds: float = DEFAULT_AGING_SECONDS,
        running_per_owner: int = DEFAULT_RUNNING_PER_OWNER,
        client: Any = None,
    ) -> None:
        super().__init__(clock, aging_seconds, running_per_owner)
        import redis

        # redis-py annotates results as sync-or-async unions; this client is sync.
        self._redis: Any = client or redis.Redis.from_url(url, decode_responses=True)
        self._redis.ping()
        self.prefix = prefix
        self._lock_key = f"{prefix}:lock"
        self._lock = self._redis.lock(
            self._lock_key, timeout=LOCK_SECONDS, blocking_timeout=LOCK_WAIT_SECONDS
        )
        # Threads of this process take turns here; only the thread inside touches _depth.
        self._local = threading.RLock()
        self._depth = 0
        self._backfill_owners()

    def _backfill_owners(self) -> None:
        """The owners of jobs queued or running before the ``owners`` hash was kept (an
        upgrade), read from the jobs once, so the fair share of slots counts them too."""
        tokens = set(self._redis.zrange(self._key("leases"), 0, -1))
        for kind in self._redis.hkeys(self._key("kinds")):
            tokens.update(self._redis.zrange(self._key("queue", kind), 0, -1))
        ordered = sorted(tokens)
        for start in range(0, len(ordered), DELETE_CHUNK):
            chunk = ordered[start : start + DELETE_CHUNK]
            known = self._redis.hmget(self._key("owners"), chunk)
            for token, owner in zip(chunk, known, strict=True):
                job = self._load(token) if owner is None else None
                if job is not None and not job.terminal:
                    self._redis.hset(self._key("owners"), token, job.owner or "")

    def _key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        with self._local:
            if self._depth == 0 and not self._lock.acquire():
                raise TimeoutError("could not acquire the job store lock")
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._release()

    def _release(self) -> None:
        from redis.exceptions import LockError

        try:
            self._lock.release()
        except LockError:  # expired after the last write: the fenced writes stand
            log.warning("the job store lock expired before it was released")

    @contextmanager
    def _fenced(self) -> Iterator[Any]:
        """A transaction that commits only while this holder still owns the lock."""
        from redis.exceptions import WatchError

        token = self._lock.local.token
        expected = token.decode() if isinstance(token, bytes) else token
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.watch(self._lock_key)
            if pipe.get(self._lock_key) != expected:
                raise LockLostError("the job store lock expired while held; write refused")
            pipe.multi()
            yield pipe
            try:
                pipe.execute()
            except WatchError as exc:
                raise LockLostError("the job store lock changed hands; write refused") from exc

    def durability_problems(self) -> list[str]:
        """What in this Redis's settings could lose accepted jobs (empty: nothing)."""
        from redis.exceptions import ResponseError

        try:
            settings: dict[str, str] = {}
            for name in ("appendonly", "appendfsync", "maxmemory-policy"):
                settings |= self._redis.config_get(name)
        except ResponseError as exc:
            return [f"cannot read Redis settings (CONFIG GET refused: {exc}); check by hand"]
        problems = []
        if settings.get("appendonly") != "yes":
            problems.append(
                "appendonly is off: jobs accepted since the last snapshot are lost when Redis "
                "restarts (set appendonly yes)"
            )
        elif settings.get("appendfsync") not in ("always", "everysec"):
            problems.append("appendfsync is 'no': set everysec (or always)")
        if settings.get("maxmemory-policy") != "noeviction":
            problems.append(
                f"maxmemory-policy is {settings.get('maxmemory-policy')!r}: Redis may evict job "
                "keys under memory pressure (set noeviction)"
            )
        return problems

    def _load(self, token: str) -> Job | None:
        raw = self._redis.get(self._key("job", token))
        return Job.from_dict(json.loads(raw)) if raw else None

    def _save(self, job: Job) -> None:
        with self._fenced() as pipe:
            self._write(pipe, job)

    def _write(self, pipe: Any, job: Job) -> None:
        ttl_ms = max(1, math.ceil((job.expires_at - self.clock()) * 1000))
        pipe.set(self._key("job", job.token), json.dumps(job.to_dict()), px=ttl_ms)
        pipe.hset(self._key("kinds"), job.kind, 1)
        queue = self._key("queue", job.kind)
        if job.status is JobStatus.QUEUED:
            pipe.zadd(queue, {job.token: self.queue_key(job)})
        else:
            pipe.zrem(queue, job.token)
        if job.status is JobStatus.PROCESSING and job.lease_expires_at is not None:
            pipe.zadd(self._key("leases"), {job.token: job.lease_expires_at})
            if job.lease_id is not None:
                # Finds the job of a lease request that is tried again (see JobStore.lease).
                pipe.set(self._key("lease", job.lease_id), job.token, px=ttl_ms)
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
            pipe.hdel(self._key("owners"), job.token)
            pipe.zrem(self._key("deadlines"), job.token)
            pipe.zadd(self._key("expiry"), {job.token: job.expires_at})
            if job.status is JobStatus.DONE and job.completed_at is not None:
                pipe.zadd(self._key("completed"), {job.token: job.completed_at})
        else:
            pipe.hset(self._key("owners"), job.token, job.owner or "")
            pipe.zadd(self._key("deadlines"), {job.token: job.deadline_at})
            pipe.zadd(self._key("expiry"), {job.token: job.expires_at})

    def _delete(self, tokens: list[str]) -> None:
        kinds = self._redis.hkeys(self._key("kinds"))
        indexes = ["leases", "deadlines", "expiry", "completed", "queued_by_age"]
        indexes += [f"status:{status.value}" for status in TERMINAL]
        indexes += [f"queue:{kind}" for kind in kinds]
        for start in range(0, len(tokens), DELETE_CHUNK):
            chunk = tokens[start : start + DELETE_CHUNK]
            with self._fenced() as pipe:
                pipe.delete(*(self._key("job", token) for token in chunk))
                pipe.hdel(self._key("owners"), *chunk)
                for index in indexes:
                    pipe.zrem(self._key(index), *chunk)

    def _next_queued(
        self, kinds: frozenset[str] | None, passed_over: frozenset[str] = frozenset()
    ) -> str | None:
        candidates = kinds if kinds is not None else set(self._redis.hkeys(self._key("kinds")))
        best: tuple[float, str] | None = None
        for kind in candidates:
            head = self._head(self._key("queue", kind), passed_over)
            if head and (best is None or head[1] < best[0]):
                best = (head[1], head[0])
        if best is None:
            return None
        token = best[1]
        if self._redis.exists(self._key("job", token)):
            return token
        self._delete([token])  # its key expired by TTL: drop the stale index entries
        return self._next_queued(kinds, passed_over)

    def _head(self, queue: str, passed_over: frozenset[str]) -> tuple[str, float] | None:
        """The first (token, score) of ``queue`` whose owner is not passed over."""
        if not passed_over:
            head = self._redis.zrange(queue, 0, 0, withscores=True)
            return (head[0][0], head[0][1]) if head else None
        for start in range(0, SCAN_LIMIT, SCAN_CHUNK):
            entries = self._redis.zrange(queue, start, start + SCAN_CHUNK - 1, withscores=True)
            if not entries:
                return None
            owners = self._redis.hmget(self._key("owners"), [token for token, _ in entries])
            for (token, score), owner in zip(entries, owners, strict=True):
                if (owner or "") not in passed_over:
                    return token, score
        return None

    def _running_owners(self) -> Counter[str]:
        running = self._redis.zrange(self._key("leases"), 0, -1)
        owners = self._redis.hmget(self._key("owners"), running) if running else []
        return Counter(owner or "" for owner in owners)

    def _token_of_lease(self, lease_id: str) -> str | None:
        token: str | None = self._redis.get(self._key("lease", lease_id))
        return token

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
