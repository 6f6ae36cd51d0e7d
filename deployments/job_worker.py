"""JobWorker deployment: leases jobs from the job manager and runs them; scales with the queue."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Any

from ray import serve
from ray.serve.handle import DeploymentHandle

from deployments.handles import ready
from serve_app.config import JobsConfig
from serve_app.jobs.actors import job_manager
from serve_app.jobs.autoscaling import worker_autoscaling_config
from serve_app.jobs.handlers import KINDS, JobHandlers, NeedsHumanError, PermanentJobError
from serve_app.jobs.model import Job, JobStatus
from serve_app.messages import DetectCall, DetectOutcome, TranslateCall, TranslateOutcome

logger = logging.getLogger("ray.serve")


@serve.deployment(
    name="JobWorker",
    ray_actor_options={"num_cpus": 0.1},
    max_ongoing_requests=8,
    health_check_period_s=10,
    autoscaling_config=worker_autoscaling_config(),
)
class JobWorkerDeployment:
    def __init__(
        self,
        translator: DeploymentHandle,
        detector: DeploymentHandle,
        orchestrator: DeploymentHandle,
        config: dict[str, Any],
    ) -> None:
        self.config = JobsConfig.model_validate(config)
        self.manager = job_manager(self.config)
        self.worker_id = f"worker-{uuid.uuid4().hex[:12]}"
        ready(translator, detector, orchestrator)
        self._translator, self._detector, self._orchestrator = translator, detector, orchestrator
        self.handlers = JobHandlers(
            self._translate,
            self._detect,
            self._plan,
            self._execute_workflow,
            self.config.chunk_texts,
        )
        self._depth = 0.0
        loop = asyncio.get_event_loop()
        self._slots = [
            loop.create_task(self._slot()) for _ in range(self.config.worker_concurrency)
        ]

    async def _translate(self, texts: list[str], sources: list[str], target: str) -> list[str]:
        outcome: TranslateOutcome = await self._translator.translate.remote(
            TranslateCall(texts, sources, target)
        )
        if outcome.error:
            raise PermanentJobError(outcome.error)
        return outcome.texts

    async def _detect(self, texts: list[str]) -> list[str]:
        outcome: DetectOutcome = await self._detector.detect.remote(DetectCall(texts, 1))
        return [detection.language for detection in outcome.detections]

    async def _plan(self, request: str) -> str:
        plan: dict[str, str] = await self._orchestrator.plan.remote(request)
        if "dsl" not in plan:
            raise NeedsHumanError(plan.get("needs_human", "no valid plan"))
        return plan["dsl"]

    async def _execute_workflow(
        self, workflow: dict[str, Any], token: str, lease_id: str
    ) -> dict[str, Any]:
        result: dict[str, Any] = await self._orchestrator.execute.remote(workflow, token, lease_id)
        return result

    async def _slot(self) -> None:
        """One job at a time: lease, run with heartbeats, settle; idle polling in between."""
        while True:
            try:
                leased = await self.manager.lease.remote(self.worker_id, list(KINDS))
            except Exception:
                logger.exception("job_lease_failed")
                await asyncio.sleep(1.0)
                continue
            if leased is None:
                await asyncio.sleep(self.config.poll_interval_seconds)
                continue
            await self._execute(Job.from_dict(leased["job"]), leased["lease_id"])

    async def _execute(self, job: Job, lease_id: str) -> None:
        progress: list[tuple[int, int] | None] = [None]
        lost = asyncio.Event()
        last_sent = [0.0]

        async def report(done: int, total: int) -> None:
            progress[0] = (done, total)
            # Pollers see progress within a second, without a write per step.
            if time.monotonic() - last_sent[0] >= 1.0:
                last_sent[0] = time.monotonic()
                if not await self.manager.heartbeat.remote(job.token, lease_id, progress[0]):
                    lost.set()

        async def heartbeat() -> None:
            while True:
                await asyncio.sleep(self.config.lease_seconds / 3)
                if not await self.manager.heartbeat.remote(job.token, lease_id, progress[0]):
                    lost.set()  # the job timed out or was re-leased: stop working on it
                    return

        beat = asyncio.create_task(heartbeat())
        work = asyncio.create_task(self.handlers.run(job, report, lease_id))
        try:
            await asyncio.wait(
                {work, asyncio.create_task(lost.wait())}, return_when=asyncio.FIRST_COMPLETED
            )
            if not work.done():
                work.cancel()
                return
            await self._settle(job, lease_id, work)
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

    async def _settle(self, job: Job, lease_id: str, work: asyncio.Task[dict[str, Any]]) -> None:
        manager = self.manager
        try:
            result = work.result()
        except NeedsHumanError as exc:
            await manager.fail.remote(
                job.token, lease_id, str(exc), False, None, JobStatus.NEEDS_HUMAN.value
            )
        except PermanentJobError as exc:
            await manager.fail.remote(
                job.token, lease_id, str(exc), False, exc.details, JobStatus.ERROR.value
            )
        except Exception as exc:
            logger.exception("job_failed token=%s", job.token[:8])
            await manager.fail.remote(
                job.token,
                lease_id,
                f"{type(exc).__name__}: {exc}",
                True,
                None,
                JobStatus.ERROR.value,
            )
        else:
            await manager.complete.remote(job.token, lease_id, result)

    async def record_autoscaling_stats(self) -> dict[str, float]:
        """Queue depth for :class:`serve_app.jobs.autoscaling.QueueDepthPolicy`."""
        try:
            stats = await self.manager.stats.remote()
            self._depth = float(stats["queue_depth"] + stats["processing"])
        except Exception:
            logger.exception("queue_depth_unavailable")
        return {"queue_depth": self._depth}

    async def check_health(self) -> None:
        if any(slot.done() for slot in self._slots):
            raise RuntimeError("a job slot stopped")
        await self.manager.ping.remote()
