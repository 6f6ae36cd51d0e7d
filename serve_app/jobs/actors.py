"""The job manager: the Ray actor that owns job queueing over the durable store.

Named, detached and restartable (one generation per configuration, see
:mod:`serve_app.actors`): any ingress or worker replica finds it by name, and a crash
restarts it. It keeps no state of its own beyond the durable store, so a restart (or a new
actor after the whole application restarted) answers every accepted token. Its interface
speaks the job model's dataclasses and keyword arguments, never loose dicts.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from serve_app.actors import Generational, generation_name, named_actor
from serve_app.config import JobsConfig
from serve_app.jobs.model import Job, JobKind, JobStatus, Lease, QueueStats
from serve_app.jobs.redis_store import RedisJobStore
from serve_app.jobs.sqlite_store import SQLiteJobStore
from serve_app.jobs.store import JobStore

log = logging.getLogger(__name__)


def open_store(config: JobsConfig) -> JobStore:
    """The store ``config`` names; a Redis that could lose accepted jobs is reported (or, with
    ``jobs.redis_durability: require``, refused)."""
    aging = config.priority_aging_seconds
    if config.backend == "sqlite":
        return SQLiteJobStore(
            config.sqlite_path, synchronous=config.sqlite_synchronous, aging_seconds=aging
        )
    store = RedisJobStore(config.redis_url, prefix=config.redis_prefix, aging_seconds=aging)
    if problems := store.durability_problems():
        message = "job store Redis may lose accepted jobs: " + "; ".join(problems)
        if config.redis_durability == "require":
            store.close()
            raise RuntimeError(message + " (jobs.redis_durability: require)")
        log.warning(message)
    return store


class JobManager(Generational):
    """Thin actor over a :class:`~serve_app.jobs.store.JobStore`, plus periodic sweeps."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = JobsConfig.model_validate(config)
        self.store = open_store(self.config)
        self.store.sweep()  # leases of workers that died with the previous actor
        self._stop = threading.Event()
        self._sweeper = threading.Thread(target=self._sweep_forever, daemon=True)
        self._sweeper.start()
        self._start_generation(self.config.manager_name)

    def _sweep_forever(self) -> None:
        while not self._stop.wait(self.config.sweep_interval_seconds):
            try:
                self.store.sweep()
            except Exception:  # noqa: S112 - a failed sweep is retried on the next tick
                continue

    def submit(self, job: Job) -> Job:
        self.touch()
        return self.store.submit(job)

    def get(self, token: str) -> Job | None:
        self.touch()
        return self.store.get(token)

    def lease(
        self, owner: str, kinds: frozenset[JobKind] | None = None, lease_id: str | None = None
    ) -> Lease | None:
        """The next job for ``owner``; asked again with the same ``lease_id`` (Ray retries a
        call whose actor died before answering), the same lease comes back."""
        self.touch()
        return self.store.lease(owner, self.config.lease_seconds, kinds, lease_id)

    def heartbeat(
        self,
        token: str,
        lease_id: str,
        progress: tuple[int, int] | None = None,
        detail: dict[str, Any] | None = None,
    ) -> bool:
        self.touch()
        return self.store.heartbeat(token, lease_id, self.config.lease_seconds, progress, detail)

    def release(self, token: str, lease_id: str) -> bool:
        self.touch()
        return self.store.release(token, lease_id)

    def cancel(self, token: str) -> Job | None:
        self.touch()
        return self.store.cancel(token)

    def complete(self, token: str, lease_id: str, result: dict[str, Any]) -> bool:
        self.touch()
        return self.store.complete(token, lease_id, result)

    def fail(
        self,
        token: str,
        lease_id: str,
        error: str,
        *,
        retryable: bool = True,
        details: dict[str, Any] | None = None,
        status: JobStatus = JobStatus.ERROR,
    ) -> JobStatus | None:
        self.touch()
        return self.store.fail(
            token, lease_id, error, retryable=retryable, details=details, status=status
        )

    def stats(self) -> QueueStats:
        return self.store.stats()

    def ping(self) -> str:
        return "ok"


def job_manager_name(config: JobsConfig) -> str:
    """The actor name of ``config``'s generation (tests and operators look it up)."""
    return generation_name(config.manager_name, config.store_config())


def job_manager(config: JobsConfig) -> Any:
    """The job manager actor of ``config``, created on first use."""
    return named_actor(JobManager, config.manager_name, config.namespace, config.store_config())
