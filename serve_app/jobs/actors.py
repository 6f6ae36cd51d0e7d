"""The job manager: the Ray actor that owns job queueing over the durable store.

Named, detached and restartable (one generation per configuration, see
:mod:`serve_app.actors`): any ingress or worker replica finds it by name, and a crash
restarts it. It keeps no state of its own beyond the durable store, so a restart (or a new
actor after the whole application restarted) answers every accepted token. Its interface
speaks the job model's dataclasses and keyword arguments, never loose dicts.

Idle workers long-poll: a ``lease`` call with ``wait_s`` waits in the manager (a threaded
actor) until a job may have become leasable (submitted, handed back, failed with retries
left, or requeued by a sweep) or the wait ends, so a submitted job is leased at once while
an idle service costs one call per worker slot per ``jobs.lease_wait_seconds``.
"""

from __future__ import annotations

import logging
import threading
import time
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
    aging, per_owner = config.priority_aging_seconds, config.running_per_owner
    if config.backend == "sqlite":
        return SQLiteJobStore(
            config.sqlite_path,
            synchronous=config.sqlite_synchronous,
            aging_seconds=aging,
            running_per_owner=per_owner,
        )
    store = RedisJobStore(
        config.redis_url,
        prefix=config.redis_prefix,
        aging_seconds=aging,
        running_per_owner=per_owner,
    )
    if problems := store.durability_problems():
        message = "job store Redis may lose accepted jobs: " + "; ".join(problems)
        if config.redis_durability == "require":
            store.close()
            raise RuntimeError(message + " (jobs.redis_durability: require)")
        log.warning(message)
    return store


# Threads of the job manager actor: every idle worker slot holds one while it long-polls.
MANAGER_CONCURRENCY = 256
# A lease call waits at most this long, whatever it asks (a Ray call should not hang).
MAX_LEASE_WAIT_S = 30.0


class QueueSignal:
    """Wakes waiting lease calls when a job may have become leasable. A version number,
    read before looking at the queue, makes a job that arrives in between impossible to
    miss."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._version = 0

    @property
    def version(self) -> int:
        with self._changed:
            return self._version

    def notify(self) -> None:
        with self._changed:
            self._version += 1
            self._changed.notify_all()

    def wait_past(self, seen: int, timeout: float) -> bool:
        """Waits until something changed after version ``seen``; ``False`` on timeout."""
        with self._changed:
            return self._changed.wait_for(lambda: self._version != seen, timeout)


class JobManager(Generational):
    """Thin actor over a :class:`~serve_app.jobs.store.JobStore`, plus periodic sweeps.

    A threaded actor (long-polling lease calls wait on threads of their own); store calls
    still run one at a time under one lock, as they did on a single-threaded actor."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = JobsConfig.model_validate(config)
        self.store = open_store(self.config)
        self.store.sweep()  # leases of workers that died with the previous actor
        self._store_lock = threading.RLock()
        self._signal = QueueSignal()
        self._stop = threading.Event()
        self._sweeper = threading.Thread(target=self._sweep_forever, daemon=True)
        self._sweeper.start()
        self._start_generation(self.config.manager_name)

    def _sweep_forever(self) -> None:
        while not self._stop.wait(self.config.sweep_interval_seconds):
            try:
                with self._store_lock:
                    swept = self.store.sweep()
            except Exception:  # noqa: S112 - a failed sweep is retried on the next tick
                continue
            if swept["requeued"]:
                self._signal.notify()

    def submit(self, job: Job) -> None:
        """Stores ``job`` (idempotent when Ray retries the call). Nothing comes back: the
        caller holds the job already, and sending it back cost the submit route ~4% of its
        CPU to unpickle."""
        self.touch()
        with self._store_lock:
            self.store.submit(job)
        self._signal.notify()

    def get(self, token: str) -> Job | None:
        self.touch()
        with self._store_lock:
            return self.store.get(token)

    def lease(
        self,
        owner: str,
        kinds: frozenset[JobKind] | None = None,
        lease_id: str | None = None,
        wait_s: float = 0.0,
    ) -> Lease | None:
        """The next job for ``owner``, waiting up to ``wait_s`` for one to arrive; asked again
        with the same ``lease_id`` (Ray retries a call whose actor died before answering),
        the same lease comes back."""
        self.touch()
        deadline = time.monotonic() + min(max(wait_s, 0.0), MAX_LEASE_WAIT_S)
        while True:
            seen = self._signal.version
            with self._store_lock:
                lease = self.store.lease(owner, self.config.lease_seconds, kinds, lease_id)
            remaining = deadline - time.monotonic()
            if lease is not None or remaining <= 0:
                return lease
            self._signal.wait_past(seen, remaining)

    def heartbeat(
        self,
        token: str,
        lease_id: str,
        progress: tuple[int, int] | None = None,
        detail: dict[str, Any] | None = None,
    ) -> bool:
        self.touch()
        with self._store_lock:
            return self.store.heartbeat(
                token, lease_id, self.config.lease_seconds, progress, detail
            )

    def release(self, token: str, lease_id: str) -> bool:
        self.touch()
        with self._store_lock:
            released = self.store.release(token, lease_id)
        if released:
            self._signal.notify()
        return released

    def cancel(self, token: str) -> Job | None:
        self.touch()
        with self._store_lock:
            return self.store.cancel(token)

    def complete(self, token: str, lease_id: str, result: dict[str, Any]) -> bool:
        self.touch()
        with self._store_lock:
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
        with self._store_lock:
            settled = self.store.fail(
                token, lease_id, error, retryable=retryable, details=details, status=status
            )
        if settled is JobStatus.QUEUED:  # another attempt: a waiting worker may take it
            self._signal.notify()
        return settled

    def stats(self) -> QueueStats:
        with self._store_lock:
            return self.store.stats()

    def ping(self) -> str:
        return "ok"


def job_manager_name(config: JobsConfig) -> str:
    """The actor name of ``config``'s generation (tests and operators look it up)."""
    return generation_name(config.manager_name, config.store_config())


def job_manager(config: JobsConfig) -> Any:
    """The job manager actor of ``config``, created on first use."""
    return named_actor(
        JobManager,
        config.manager_name,
        config.namespace,
        config.store_config(),
        max_concurrency=MANAGER_CONCURRENCY,
    )
