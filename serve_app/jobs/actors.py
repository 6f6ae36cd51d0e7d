"""The Ray actors that own job queueing and rate limiting.

Both are named, detached and restartable: any ingress or worker replica finds them by name,
and a crash restarts them. The job manager keeps no state of its own beyond the durable
store, so a restart (or a new actor after the whole application restarted) answers every
accepted token.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

import ray

from serve_app.api.ratelimit import RateLimiter
from serve_app.config import JobsConfig, RateLimitConfig
from serve_app.jobs.model import Job, JobStatus
from serve_app.jobs.store import open_store


class JobManager:
    """Thin actor over a :class:`~serve_app.jobs.store.JobStore`, plus periodic sweeps."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = JobsConfig.model_validate(config)
        self.store = open_store(self.config)
        self.store.sweep()  # leases of workers that died with the previous actor
        self._stop = threading.Event()
        self._sweeper = threading.Thread(target=self._sweep_forever, daemon=True)
        self._sweeper.start()

    def _sweep_forever(self) -> None:
        while not self._stop.wait(self.config.sweep_interval_seconds):
            try:
                self.store.sweep()
            except Exception:  # noqa: S112 - a failed sweep is retried on the next tick
                continue

    def submit(self, job: dict[str, Any]) -> dict[str, Any]:
        return self.store.submit(Job.from_dict(job)).to_dict()

    def get(self, token: str) -> dict[str, Any] | None:
        job = self.store.get(token)
        return job.to_dict() if job else None

    def lease(self, owner: str, kinds: list[str] | None = None) -> dict[str, Any] | None:
        lease = self.store.lease(
            owner, self.config.lease_seconds, frozenset(kinds) if kinds else None
        )
        return {"job": lease.job.to_dict(), "lease_id": lease.lease_id} if lease else None

    def heartbeat(
        self,
        token: str,
        lease_id: str,
        progress: tuple[int, int] | None = None,
        detail: dict[str, Any] | None = None,
    ) -> bool:
        return self.store.heartbeat(token, lease_id, self.config.lease_seconds, progress, detail)

    def cancel(self, token: str) -> dict[str, Any] | None:
        job = self.store.cancel(token)
        return job.to_dict() if job else None

    def complete(self, token: str, lease_id: str, result: dict[str, Any]) -> bool:
        return self.store.complete(token, lease_id, result)

    def fail(
        self,
        token: str,
        lease_id: str,
        error: str,
        retryable: bool,
        details: dict[str, Any] | None,
        status: str,
    ) -> str | None:
        outcome = self.store.fail(
            token, lease_id, error, retryable=retryable, details=details, status=JobStatus(status)
        )
        return outcome.value if outcome else None

    def stats(self) -> dict[str, Any]:
        return asdict(self.store.stats())

    def ping(self) -> str:
        return "ok"


def _named(cls: type, name: str, namespace: str, config: dict[str, Any]) -> Any:
    remote = ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=-1)(cls)
    return remote.options(
        name=name, namespace=namespace, lifetime="detached", get_if_exists=True
    ).remote(config)


def job_manager(config: JobsConfig) -> Any:
    """The job manager actor of ``config``, created on first use."""
    return _named(JobManager, config.manager_name, config.namespace, config.store_config())


def rate_limiter(config: RateLimitConfig, namespace: str) -> Callable[[str], Awaitable[Any]]:
    """``await limiter(key)`` counts a request: in Redis from this process when the limits live
    there, else in the one named limiter actor that every ingress replica shares."""
    if config.in_redis:
        limiter = RateLimiter(config)
        return lambda key: asyncio.to_thread(limiter.hit, key)
    actor = _named(RateLimiter, config.limiter_name, namespace, config.model_dump(mode="json"))
    return lambda key: actor.hit.remote(key)
