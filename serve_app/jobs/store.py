"""Durable job store: the state machine once, over SQLite or Redis primitives.

Every rule (who may settle a job, what a failure or a lost lease turns into, timeouts, TTL)
lives in :class:`JobStore`; a backend supplies storage primitives and an atomic section.
State is written through on every transition, so a restart of the owning actor, or of the
whole application, finds every accepted job where it was.
"""

from __future__ import annotations

import time
import uuid
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from serve_app.jobs.model import TERMINAL, Job, JobStatus, Lease, QueueStats

Clock = Callable[[], float]
# Waiting this long counts as one priority level (see JobStore.queue_key).
DEFAULT_AGING_SECONDS = 60.0
# Jobs of one owner running at once before the others' queued jobs go first (JobStore.lease).
DEFAULT_RUNNING_PER_OWNER = 2


class JobStore(ABC):
    """Priority queue with leases and at-least-once delivery, exactly-once results."""

    def __init__(
        self,
        clock: Clock = time.time,
        aging_seconds: float = DEFAULT_AGING_SECONDS,
        running_per_owner: int = DEFAULT_RUNNING_PER_OWNER,
    ):
        self.clock = clock
        self.aging_seconds = aging_seconds
        self.running_per_owner = running_per_owner

    def queue_key(self, job: Job) -> float:
        """Queue order, smallest first: priority with aging. A job of priority ``p`` queues
        as if submitted ``p × aging_seconds`` earlier, so higher priorities go first, but a
        job that has waited long enough overtakes newer ones of any priority: no client can
        starve the others by submitting at the highest priority."""
        return job.created_at - job.priority * self.aging_seconds

    # -- primitives a backend provides -------------------------------------------------------
    @abstractmethod
    def _atomic(self) -> AbstractContextManager[None]:
        """A section no other writer interleaves with."""

    @abstractmethod
    def _load(self, token: str) -> Job | None: ...

    @abstractmethod
    def _save(self, job: Job) -> None:
        """Writes the job and keeps the backend's indexes (queue order, leases) in step."""

    @abstractmethod
    def _delete(self, tokens: list[str]) -> None: ...

    @abstractmethod
    def _next_queued(
        self, kinds: frozenset[str] | None, passed_over: frozenset[str] = frozenset()
    ) -> str | None:
        """Token of the queued job with the smallest :meth:`queue_key` among those whose
        owner (``""`` for none) is not ``passed_over``."""

    @abstractmethod
    def _running_owners(self) -> Counter[str]:
        """How many jobs each owner (``""`` for none) has processing."""

    @abstractmethod
    def _token_of_lease(self, lease_id: str) -> str | None:
        """The job last leased under ``lease_id``, if any."""

    @abstractmethod
    def _tokens_where(self, condition: str, now: float) -> list[str]:
        """``lease_expired``, ``past_deadline`` (not terminal) or ``past_ttl`` jobs."""

    @abstractmethod
    def _count_by_status(self) -> dict[str, int]: ...

    @abstractmethod
    def _completed_since(self, since: float) -> int: ...

    @abstractmethod
    def _oldest_queued_created_at(self) -> float | None: ...

    @abstractmethod
    def _add_total(self, status: str) -> None: ...

    @abstractmethod
    def _totals(self) -> dict[str, int]: ...

    def close(self) -> None:  # noqa: B027 - optional for backends
        """Releases connections."""

    # -- the state machine --------------------------------------------------------------------
    def submit(self, job: Job) -> Job:
        """Stores a new job. The same job submitted again (a call retried after the actor
        that stored it died before answering) returns the stored one; another job under
        an existing token is refused."""
        with self._atomic():
            stored = self._load(job.token)
            if stored is not None:
                if (stored.kind, stored.payload, stored.created_at, stored.owner) == (
                    job.kind,
                    job.payload,
                    job.created_at,
                    job.owner,
                ):
                    return stored
                raise ValueError(f"token {job.token} already exists")
            job.status = JobStatus.QUEUED
            job.updated_at = self.clock()
            self._save(job)
            self._add_total("submitted")
        return job

    def get(self, token: str) -> Job | None:
        """The job, or ``None`` once unknown or past its TTL. Deadlines are applied here too,
        so a poll never reports `processing` for a job whose time is up."""
        job = self._load(token)
        if job is None or job.expires_at <= self.clock():
            return None
        if not job.terminal and job.deadline_at <= self.clock():
            with self._atomic():
                job = self._load(token)
                if job is not None and not job.terminal and job.deadline_at <= self.clock():
                    self._finish(job, JobStatus.TIMEOUT, error="job exceeded its time limit")
        return job

    def lease(
        self,
        owner: str,
        lease_seconds: float,
        kinds: frozenset[str] | None = None,
        lease_id: str | None = None,
    ) -> Lease | None:
        """Hands the next job to ``owner`` until the lease expires; ``None`` if none waits.

        A caller that names its ``lease_id`` may ask again with the same id (its call was
        retried after the actor died before answering) and gets the same lease back, rather
        than a second job while the first one's lease lapses and burns a retry.
        """
        with self._atomic():
            if lease_id is not None and (token := self._token_of_lease(lease_id)):
                held = self._held(token, lease_id)
                if held is not None and held.lease_expires_at is not None:
                    return Lease(held, lease_id, held.lease_expires_at)
            self._requeue_expired_leases()
            while (token := self._next_for_lease(kinds)) is not None:
                job = self._load(token)
                if job is None:
                    continue
                now = self.clock()
                if job.deadline_at <= now:
                    self._finish(job, JobStatus.TIMEOUT, error="job exceeded its time limit")
                    continue
                job.status = JobStatus.PROCESSING
                job.attempts += 1
                job.lease_id = lease_id or uuid.uuid4().hex
                job.lease_owner = owner
                job.lease_expires_at = now + lease_seconds
                job.updated_at = now
                self._save(job)
                return Lease(job, job.lease_id, job.lease_expires_at)
        return None

    def _next_for_lease(self, kinds: frozenset[str] | None) -> str | None:
        """Fair share of the worker slots: an owner with ``running_per_owner`` jobs running
        is passed over while anyone else's job waits, so one key cannot fill every slot
        while others queue behind it. Nobody else waiting, its next job runs (no slot idles);
        a running job is never pre-empted, so another owner's job waits at most for the
        first slot to free."""
        busy = frozenset(
            owner for owner, n in self._running_owners().items() if n >= self.running_per_owner
        )
        token = self._next_queued(kinds, busy) if busy else None
        return token if token is not None else self._next_queued(kinds)

    def heartbeat(
        self,
        token: str,
        lease_id: str,
        lease_seconds: float,
        progress: tuple[int, int] | None = None,
        detail: dict[str, Any] | None = None,
    ) -> bool:
        """Extends a lease still held by ``lease_id`` (and records progress and detail)."""
        with self._atomic():
            job = self._held(token, lease_id)
            if job is None:
                return False
            job.lease_expires_at = self.clock() + lease_seconds
            if progress is not None:
                job.progress_done, job.progress_total = progress
            if detail is not None:
                job.detail = detail
            job.updated_at = self.clock()
            self._save(job)
            return True

    def complete(self, token: str, lease_id: str, result: dict[str, Any]) -> bool:
        """Stores the result if ``lease_id`` still holds the job; a stale worker's result
        (its lease was lost and the job re-leased) is refused, so exactly one is stored."""
        with self._atomic():
            job = self._held(token, lease_id)
            if job is None:
                return False
            job.result = result
            if job.progress_total:
                job.progress_done = job.progress_total
            self._finish(job, JobStatus.DONE)
            return True

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
        """A failed attempt: queued again while retries remain (and ``retryable``), else
        settled as ``status`` (``error`` or ``needs_human``). ``None`` if the lease was lost."""
        with self._atomic():
            job = self._held(token, lease_id)
            if job is None:
                return None
            return self._retry_or_finish(job, error, retryable, details, status)

    def release(self, token: str, lease_id: str) -> bool:
        """Hands a job back to the queue without counting a failed attempt: its worker is
        shutting down (a rolling update, a downscale), the job did nothing wrong."""
        with self._atomic():
            job = self._held(token, lease_id)
            if job is None:
                return False
            job.status = JobStatus.QUEUED
            job.lease_id = job.lease_owner = job.lease_expires_at = None
            job.progress_done = 0
            job.updated_at = self.clock()
            self._save(job)
            return True

    def cancel(self, token: str, reason: str = "cancelled by the client") -> Job | None:
        """Ends a job that has not finished; its worker loses the lease and stops."""
        with self._atomic():
            job = self._load(token)
            if job is None or job.terminal:
                return job
            self._finish(
                job,
                JobStatus.ERROR,
                error=reason,
                details={"cancelled": True, "retries": job.retries},
            )
            return job

    def sweep(self) -> dict[str, int]:
        """Periodic upkeep: lost leases back to the queue, deadlines, TTL expiry."""
        with self._atomic():
            requeued = self._requeue_expired_leases()
            now = self.clock()
            timed_out = 0
            for token in self._tokens_where("past_deadline", now):
                job = self._load(token)
                if job is not None and not job.terminal:
                    self._finish(job, JobStatus.TIMEOUT, error="job exceeded its time limit")
                    timed_out += 1
            expired = self._tokens_where("past_ttl", now)
            if expired:
                self._delete(expired)
        return {"requeued": requeued, "timed_out": timed_out, "expired": len(expired)}

    def stats(self) -> QueueStats:
        now = self.clock()
        by_status = {status.value: 0 for status in JobStatus}
        by_status.update(self._count_by_status())
        oldest = self._oldest_queued_created_at()
        return QueueStats(
            queue_depth=by_status[JobStatus.QUEUED.value],
            processing=by_status[JobStatus.PROCESSING.value],
            by_status=by_status,
            completed_last_minute=self._completed_since(now - 60),
            oldest_queued_age_seconds=round(now - oldest, 3) if oldest else 0.0,
            totals=self._totals(),
        )

    # -- helpers -----------------------------------------------------------------------------
    def _held(self, token: str, lease_id: str) -> Job | None:
        job = self._load(token)
        if job is None or job.status is not JobStatus.PROCESSING or job.lease_id != lease_id:
            return None
        return job

    def _requeue_expired_leases(self) -> int:
        count = 0
        for token in self._tokens_where("lease_expired", self.clock()):
            job = self._load(token)
            if job is None or job.status is not JobStatus.PROCESSING:
                continue
            if job.deadline_at <= self.clock():  # past its time limit: that is its end
                self._finish(job, JobStatus.TIMEOUT, error="job exceeded its time limit")
                count += 1
                continue
            owner = job.lease_owner
            self._retry_or_finish(
                job,
                f"worker {owner} lost its lease",
                True,
                {"lease_owner": owner},
                JobStatus.ERROR,
            )
            count += 1
        return count

    def _retry_or_finish(
        self,
        job: Job,
        error: str,
        retryable: bool,
        details: dict[str, Any] | None,
        status: JobStatus,
    ) -> JobStatus:
        if retryable and job.retries < job.max_retries:
            job.retries += 1
            job.status = JobStatus.QUEUED
            job.error_message = error
            job.lease_id = job.lease_owner = job.lease_expires_at = None
            job.updated_at = self.clock()
            self._save(job)
            return JobStatus.QUEUED
        attempts = "1 attempt" if job.attempts == 1 else f"{job.attempts} attempts"
        self._finish(
            job,
            status,
            error=f"failed after {attempts}: {error}",
            details={"retries": job.retries, "last_error": error, **(details or {})},
        )
        return status

    def _finish(
        self,
        job: Job,
        status: JobStatus,
        *,
        error: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        assert status in TERMINAL
        now = self.clock()
        job.status = status
        job.updated_at = job.completed_at = now
        job.lease_id = job.lease_owner = job.lease_expires_at = None
        if error is not None:
            job.error_message = error
            job.error_details = details or {"retries": job.retries, "last_error": error}
        self._save(job)
        self._add_total(status.value)
