"""The composition root: ``build_app(args)`` returns the Tafsiri Serve application.

``serve run serve_config.yaml`` (import path ``serve_app.app:build_app``) or, in Python,
``serve.run(build_app(AppArgs(...)))``.
"""

from __future__ import annotations

import logging
from typing import Any, cast

import ray
from ray.serve import Application, Deployment

from deployments.detector import DetectorDeployment
from deployments.ingress import IngressDeployment
from deployments.job_worker import JobWorkerDeployment
from deployments.orchestrator import OrchestratorDeployment
from deployments.translator import TranslatorDeployment
from serve_app.config import AppArgs
from serve_app.handle_api import BULK_TRANSLATOR
from serve_app.jobs.autoscaling import worker_autoscaling_config

logger = logging.getLogger(__name__)

# Runtime-environment fields that choose the workers' interpreter or image: a lean replica's
# own py_executable would replace what they chose (or, with an image, be refused).
INTERPRETER_FIELDS = ("py_executable", "image_uri", "container", "pip", "uv", "conda")


def interpreter_chosen_by(runtime_env: dict[str, Any]) -> str | None:
    """The field of ``runtime_env`` (the job's or the application's) that chooses the
    workers' interpreter, if any: then no replica starts lean."""
    return next((field for field in INTERPRETER_FIELDS if runtime_env.get(field)), None)


def _lean_blocked() -> str | None:
    """Why replicas cannot start lean here, if they cannot: an interpreter chosen by the
    runtime environment the app is built in, or a driver off the cluster (Ray Client),
    whose interpreter path the cluster's nodes need not have."""
    if ray.util.client.ray.is_connected():
        return "Ray Client"
    if not ray.is_initialized():
        return None
    field = interpreter_chosen_by(dict(ray.get_runtime_context().runtime_env or {}))
    return f"runtime_env.{field}" if field else None


def deployment_options(args: AppArgs) -> dict[str, dict[str, Any]]:
    """Every deployment's Serve options, computed from ``args`` alone (keyed by the
    deployment's name). The decorators carry no setting, and ``serve_config.yaml`` has no
    ``deployments:`` section whose values would silently win over these."""
    configured = args.deployments
    jobs = args.jobs
    worker = configured.job_worker.serve_options()
    worker.pop("num_replicas")
    worker["autoscaling_config"] = worker_autoscaling_config(
        jobs.target_jobs_per_worker,
        jobs.min_workers,
        jobs.max_workers,
        jobs.workers_upscale_delay_s,
        jobs.workers_downscale_delay_s,
    )
    options = {
        "Translator": {
            **configured.translator.serve_options(),
            # Tunables travel as user_config: a `serve deploy` with new values reconfigures
            # the running replicas in place (a new model is loaded aside and swapped in).
            "user_config": args.translator.model_dump(mode="json"),
        },
        "LanguageDetector": {
            **configured.detector.serve_options(),
            "user_config": args.detector.model_dump(mode="json"),
        },
        "Orchestrator": configured.orchestrator.serve_options(),
        "JobWorker": worker,
        "Ingress": configured.ingress.serve_options(),
    }
    if args.translator.bulk.enabled:
        # The bulk lane: the same model and settings, its own replicas (translator.bulk).
        options[BULK_TRANSLATOR] = {
            **configured.bulk_translator.serve_options(),
            "user_config": args.translator.model_dump(mode="json"),
        }
    blocked = _lean_blocked()
    if blocked is not None:
        leaned = [name for name, o in options.items() if "runtime_env" in o["ray_actor_options"]]
        for name in leaned:
            del options[name]["ray_actor_options"]["runtime_env"]
        if leaned:
            logger.warning(
                "lean_worker off for %s: the interpreter is chosen by %s",
                ", ".join(leaned),
                blocked,
            )
    return options


def build_app(args: AppArgs | dict[str, Any] | None = None) -> Application:
    """Detector and Translator feed the Orchestrator; all three sit behind the Ingress."""
    app_args = args if isinstance(args, AppArgs) else AppArgs.model_validate(args or {})
    options = deployment_options(app_args)
    everything = app_args.model_dump(mode="json")

    def deployment(decorated: object, name: str | None = None) -> Deployment:
        # `@serve.deployment` turns a class into a Deployment; type checkers see a class.
        bare = cast(Deployment, decorated)
        name = name or bare.name
        return bare.options(name=name, **options[name])

    detector = deployment(DetectorDeployment).bind()
    translator = deployment(TranslatorDeployment).bind()
    # Jobs' sentences go to a Translator of their own at a lower CPU priority, so interactive
    # requests on the same cores are served first (translator.bulk; off: the same replicas).
    bulk = app_args.translator.bulk
    bulk_translator = (
        deployment(TranslatorDeployment, BULK_TRANSLATOR).bind(bulk.nice, bulk.scheduling == "idle")
        if bulk.enabled
        else translator
    )
    orchestrator = deployment(OrchestratorDeployment).bind(translator, detector, everything)
    worker = deployment(JobWorkerDeployment).bind(
        bulk_translator,
        detector,
        orchestrator,
        app_args.jobs.store_config(),
        app_args.translator.model_dump(mode="json"),
        bulk.nice if bulk.enabled else 0,
    )
    application: Application = deployment(IngressDeployment).bind(
        translator,
        detector,
        orchestrator,
        worker,
        everything,
        bulk_translator if bulk.enabled else None,
    )
    return application
