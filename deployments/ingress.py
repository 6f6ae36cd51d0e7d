"""Ingress deployment: the FastAPI application, built per replica from the app's args."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from fastapi import FastAPI
from ray import serve
from ray.exceptions import RayActorError
from ray.serve.handle import DeploymentHandle

from deployments.handles import ready
from serve_app.api.app import create_api
from serve_app.api.services import Services
from serve_app.config import AppArgs
from serve_app.health import check_memory
from serve_app.jobs.actors import job_manager
from serve_app.metrics import Metrics
from serve_app.ratelimit import rate_limiter
from serve_app.records.keeper import record_keeper
from serve_app.serving import find_stop_notice

logger = logging.getLogger("ray.serve")


@serve.deployment(name="Ingress")
@serve.ingress()
class IngressDeployment:
    def __init__(
        self,
        translator: DeploymentHandle,
        detector: DeploymentHandle,
        orchestrator: DeploymentHandle,
        job_worker: DeploymentHandle,
        args: dict[str, Any],
        bulk_translator: DeploymentHandle | None = None,
    ) -> None:
        # `job_worker` is bound here only so the worker deployment is part of the application
        # graph; workers pull jobs from the job manager, nothing calls them.
        del job_worker
        ready(translator, detector, orchestrator)
        self._args = AppArgs.model_validate(args)
        self._services = Services(
            translator,
            detector,
            orchestrator,
            self._args,
            bulk_translator=bulk_translator,
            job_manager=job_manager(self._args.jobs),
            records=record_keeper(self._args.jobs),
            rate_limiter=rate_limiter(self._args.rate_limits, self._args.jobs.namespace),
            metrics=Metrics(export_to_ray=True),
        )
        self._api = create_api(self._services)
        # Under `tafsiri serve`: told when the service is stopping (serve_app.serving).
        self._replica = serve.get_replica_context().replica_id.unique_id
        self._notice = find_stop_notice()
        self._stop_watch = (
            asyncio.get_event_loop().create_task(self._drain_when_stopping(self._notice))
            if self._notice is not None
            else None
        )

    async def _drain_when_stopping(self, notice: Any) -> None:
        """Once the service is stopping: admit nothing more, finish what is in flight, say so."""
        admission = self._services.admission
        try:
            await notice.watch.remote(self._replica)
            admission.stop()
            logger.info("stopping: admitting no request; %d in flight", admission.in_flight)
            await admission.idle()
            await notice.drained.remote(self._replica)
        except RayActorError:  # `tafsiri serve` is gone: Serve stops this replica its own way
            return

    async def __del__(self) -> None:
        """Serve stops this replica (a restart, a downscale, the end): the stop notice has
        nothing more to wait for from it."""
        if self._notice is not None:
            with contextlib.suppress(RayActorError):
                await self._notice.drained.remote(self._replica)

    def __serve_build_asgi_app__(self) -> FastAPI:
        return self._api

    def check_health(self) -> None:
        """The replica answers its event loop (Serve calls this on it) and is within its
        memory limit; the components behind it report themselves in ``/health``."""
        check_memory(self._args.api.max_memory_mib, "Ingress")
