"""Ingress deployment: the FastAPI application, built per replica from the app's args."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from ray import serve
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

    def __serve_build_asgi_app__(self) -> FastAPI:
        return self._api

    def check_health(self) -> None:
        """The replica answers its event loop (Serve calls this on it) and is within its
        memory limit; the components behind it report themselves in ``/health``."""
        check_memory(self._args.api.max_memory_mib, "Ingress")
