"""Ingress deployment: the FastAPI application, built per replica from the app's args."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from ray import serve
from ray.serve.handle import DeploymentHandle

from serve_app.api.app import create_api
from serve_app.api.services import Services
from serve_app.config import AppArgs


@serve.deployment(
    name="Ingress",
    ray_actor_options={"num_cpus": 0.25},
    max_ongoing_requests=512,
)
@serve.ingress()
class IngressDeployment:
    def __init__(
        self,
        translator: DeploymentHandle,
        detector: DeploymentHandle,
        orchestrator: DeploymentHandle,
        args: dict[str, Any],
    ) -> None:
        self._args = AppArgs.model_validate(args)
        self._services = Services(translator, detector, orchestrator, self._args)

    def __serve_build_asgi_app__(self) -> FastAPI:
        app = create_api(self._args.api)
        app.state.services = self._services
        return app
