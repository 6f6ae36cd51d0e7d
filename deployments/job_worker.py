"""JobWorker deployment: leases jobs from the job manager and runs them; scales with the queue.

Each job has one writer: the worker that holds its lease. Everything a job publishes while it
runs (progress, a workflow's per-task state streamed back by the Orchestrator) reaches the
store through this worker's heartbeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from ray import serve
from ray.serve.handle import DeploymentHandle

from deployments.handles import ready, translation_service
from serve_app.config import JobsConfig, TranslatorConfig
from serve_app.jobs.actors import job_manager
from serve_app.jobs.handlers import JobHandlers, NeedsHumanError, PermanentJobError
from serve_app.jobs.model import Job, JobKind, JobStatus, Lease, QueueStats
from serve_app.serving import lower_priority

logger = logging.getLogger("ray.serve")
T = TypeVar("T")
KINDS = frozenset(JobKind)
# Progress-only reports reach the store at most this often (pollers see it within a second).
PROGRESS_INTERVAL_S = 1.0
# On shutdown, running jobs get this long to finish before they are handed back (inside
# Serve's graceful_shutdown_timeout_s, 20 s by default).
DRAIN_SECONDS = 10.0


class LeaseLostError(Exception):
    """The job timed out, was cancelled or was leased to another worker: stop working on it."""


@serve.deployment(name="JobWorker")
class JobWorkerDeployment:
    def __init__(
        self,
        translator: DeploymentHandle,
        detector: DeploymentHandle,
        orchestrator: DeploymentHandle,
        config: dict[str, Any],
        translator_config: dict[str, Any],
        nice: int = 0,
    ) -> None:
        # Jobs are bulk work: with the bulk lane on, the worker that drives them runs at the
        # BulkTranslator's lower CPU priority too (translator.bulk.nice).
        lower_priority(nice)
        self.config = JobsConfig.model_validate(config)
        self.manager = job_manager(self.config)
        self.worker_id = f"worker-{uuid.uuid4().hex[:12]}"
        # A lost lease is reported with this id ("worker ... lost its lease"): say which
        # replica it is.
        logger.info("job_worker_started worker_id=%s", self.worker_id)
        ready(translator, detector, orchestrator)
        self._workflows = orchestrator.options(stream=True)
        self.handlers = JobHandlers(
            translation_service(
                translator, detector, TranslatorConfig.model_validate(translator_config)
            ),
            self._plan(orchestrator),
            self._execute_workflow,
            self.config.chunk_texts,
            chunks_ahead=self.config.chunks_ahead,
        )
        self._depth = 0.0
        self._draining = False
        # lease id -> (job token, the task running it)
        self._running: dict[str, tuple[str, asyncio.Task[None]]] = {}
        # Started by Serve's first health check, not here: after this constructor Serve
        # finishes the replica's start-up on this loop (in the fast mode a full gc.collect()
        # before gc.freeze(): 1.5-3.6 s measured on a busy 2-core machine), and a lease
        # granted meanwhile lapsed before the worker could even read it, costing its job a
        # retry.
        self._slots: list[asyncio.Task[None]] = []

    @staticmethod
    def _plan(orchestrator: DeploymentHandle) -> Callable[[str], Awaitable[str]]:
        async def plan(request: str) -> str:
            answer: dict[str, str] = await orchestrator.plan.remote(request)
            if "dsl" not in answer:
                raise NeedsHumanError(answer.get("needs_human", "no valid plan"))
            return answer["dsl"]

        return plan

    def _execute_workflow(
        self, workflow: dict[str, Any], run_id: str, owner: str
    ) -> AsyncIterator[dict[str, Any]]:
        stream: AsyncIterator[dict[str, Any]] = self._workflows.execute.remote(
            workflow, run_id, owner
        )
        return stream

    async def _retrying(self, call: Callable[[], Awaitable[T]], within_s: float) -> T:
        """``call()``, tried again with backoff while the job manager or its store fails
        (an actor restart, a store hiccup) for up to ``within_s`` seconds."""
        deadline, pause = time.monotonic() + within_s, 0.1
        while True:
            try:
                return await call()
            except Exception:
                if time.monotonic() + pause > deadline:
                    raise
                logger.warning("job_manager_call_failed; retrying in %.1f s", pause)
                await asyncio.sleep(pause)
                pause = min(2 * pause, 2.0)

    async def _slot(self) -> None:
        """One job at a time: lease, run with heartbeats, settle. An idle slot long-polls (its
        lease call waits in the job manager until a job arrives), so it neither spins nor
        sleeps past a job. Nothing that goes wrong with one job ends the slot."""
        while not self._draining:
            try:
                lease: Lease | None = await self.manager.lease.remote(
                    self.worker_id,
                    KINDS,
                    lease_id=uuid.uuid4().hex,
                    wait_s=self.config.lease_wait_seconds,
                )
            except Exception:
                logger.exception("job_lease_failed")
                await asyncio.sleep(1.0)
                continue
            if lease is None:
                continue
            if self._draining:  # leased while the replica began shutting down: hand it back
                with contextlib.suppress(Exception):
                    await self.manager.release.remote(lease.job.token, lease.lease_id)
                return
            running = asyncio.create_task(self._execute(lease.job, lease.lease_id))
            self._running[lease.lease_id] = (lease.job.token, running)
            try:
                await asyncio.shield(running)  # a drain decides when the job stops
            except Exception:
                logger.exception("job_slot_error token=%s", lease.job.token[:8])
            finally:
                self._running.pop(lease.lease_id, None)

    async def __del__(self) -> None:
        """Serve's graceful shutdown (a rolling update, a downscale): lease nothing more,
        give the running jobs until the drain deadline to finish, and hand the others back
        to the queue at once, so they neither wait for their leases to lapse nor burn a
        retry for a worker that was merely replaced."""
        self._draining = True
        running = dict(self._running)
        if running:
            await asyncio.wait([task for _, task in running.values()], timeout=DRAIN_SECONDS)
        for lease_id, (token, task) in running.items():
            if task.done():
                continue
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self.manager.release.remote(token, lease_id)
        # Idle slots are inside a long-poll: let each come back (a lease it got meanwhile is
        # handed back) rather than leave a job leased to a replica that is gone.
        if self._slots:
            await asyncio.wait(self._slots, timeout=self.config.lease_wait_seconds + 2)
        for slot in self._slots:
            slot.cancel()

    async def _execute(self, job: Job, lease_id: str) -> None:
        lease_s = self.config.lease_seconds
        lost = asyncio.Event()
        last: dict[str, Any] = {"progress": None, "sent": 0.0}

        async def beat(detail: dict[str, Any] | None = None) -> None:
            """Extends the lease with the latest progress; a lost lease stops the work."""
            last["sent"] = time.monotonic()
            try:
                held = await self._retrying(
                    lambda: self.manager.heartbeat.remote(
                        job.token, lease_id, last["progress"], detail
                    ),
                    within_s=lease_s / 2,
                )
            except Exception:
                logger.exception("job_heartbeat_failed token=%s", job.token[:8])
                held = False  # the lease may lapse: let another worker have the job
            if not held:
                lost.set()
                raise LeaseLostError(job.token)

        async def report(done: int, total: int, detail: dict[str, Any] | None) -> None:
            last["progress"] = (done, total)
            if detail is not None or time.monotonic() - last["sent"] >= PROGRESS_INTERVAL_S:
                await beat(detail)

        async def heartbeats() -> None:
            with contextlib.suppress(LeaseLostError):
                while True:
                    await asyncio.sleep(lease_s / 3)
                    await beat()

        beating = asyncio.create_task(heartbeats())
        work = asyncio.create_task(self.handlers.run(job, report))
        losing = asyncio.create_task(lost.wait())
        try:
            await asyncio.wait({work, losing}, return_when=asyncio.FIRST_COMPLETED)
            if not lost.is_set():
                await self._settle(job, lease_id, work)
        finally:
            for task in (beating, work, losing):
                task.cancel()
            await asyncio.gather(beating, work, losing, return_exceptions=True)

    async def _settle(self, job: Job, lease_id: str, work: asyncio.Task[dict[str, Any]]) -> None:
        fail, token = self.manager.fail.remote, job.token
        settle: Callable[[], Awaitable[Any]]
        try:
            result = work.result()
        except LeaseLostError:
            return
        except NeedsHumanError as exc:
            settle = partial(
                fail,
                token,
                lease_id,
                str(exc),
                retryable=False,
                details=exc.details,
                status=JobStatus.NEEDS_HUMAN,
            )
        except PermanentJobError as exc:
            settle = partial(fail, token, lease_id, str(exc), retryable=False, details=exc.details)
        except Exception as exc:
            logger.exception("job_failed token=%s", token[:8])
            settle = partial(fail, token, lease_id, f"{type(exc).__name__}: {exc}")
        else:
            settle = partial(self.manager.complete.remote, token, lease_id, result)
        # Tried for as long as the lease lasts; past it the job is leased again anyway.
        await self._retrying(settle, within_s=self.config.lease_seconds)

    async def record_autoscaling_stats(self) -> dict[str, float]:
        """Queue depth for :class:`serve_app.jobs.autoscaling.QueueDepthPolicy`."""
        try:
            stats: QueueStats = await self.manager.stats.remote()
            self._depth = float(stats.queue_depth + stats.processing)
        except Exception:
            logger.exception("queue_depth_unavailable")
        return {"queue_depth": self._depth}

    async def check_health(self) -> None:
        """Serve's first call of this ends the replica's start-up: the job slots begin then."""
        if not self._draining and any(slot.done() for slot in self._slots):
            raise RuntimeError("a job slot stopped")
        await self.manager.ping.remote()
        if not self._slots and not self._draining:
            self._slots = [
                asyncio.create_task(self._slot()) for _ in range(self.config.worker_concurrency)
            ]
