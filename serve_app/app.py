"""The composition root: ``build_app(args)`` returns the Tafsiri Serve application.

``serve run serve_config.yaml`` (import path ``serve_app.app:build_app``) or, in Python,
``serve.run(build_app(AppArgs(...)))``.
"""

from __future__ import annotations

from typing import Any, cast

from ray.serve import Application, Deployment

from deployments.detector import DetectorDeployment
from deployments.ingress import IngressDeployment
from deployments.job_worker import JobWorkerDeployment
from deployments.orchestrator import OrchestratorDeployment
from deployments.translator import TranslatorDeployment
from serve_app.config import AppArgs
from serve_app.jobs.autoscaling import worker_autoscaling_config


def build_app(args: AppArgs | dict[str, Any] | None = None) -> Application:
    """Detector and Translator feed the Orchestrator; all three sit behind the Ingress.

    Tunables (batching, decoding, the model itself) travel as ``user_config`` so that a
    ``serve deploy`` with new values reconfigures replicas in place.
    """
    app_args = args if isinstance(args, AppArgs) else AppArgs.model_validate(args or {})
    translator_config = app_args.translator.model_dump(mode="json")
    detector_config = app_args.detector.model_dump(mode="json")
    detector = _deployment(DetectorDeployment).options(user_config=detector_config)
    translator = _deployment(TranslatorDeployment).options(user_config=translator_config)
    detector_app = detector.bind()
    translator_app = translator.bind()
    orchestrator = _deployment(OrchestratorDeployment).bind(
        translator_app, detector_app, app_args.model_dump(mode="json")
    )
    jobs = app_args.jobs
    worker = _deployment(JobWorkerDeployment).options(
        autoscaling_config=worker_autoscaling_config(
            jobs.target_jobs_per_worker, jobs.min_workers, jobs.max_workers
        )
    )
    worker_app = worker.bind(translator_app, detector_app, orchestrator, jobs.store_config())
    ingress = _deployment(IngressDeployment).options(
        num_replicas=app_args.api.replicas,
        max_ongoing_requests=app_args.api.max_ongoing_requests,
        max_queued_requests=app_args.api.max_queued_requests,
    )
    application: Application = ingress.bind(
        translator_app, detector_app, orchestrator, worker_app, app_args.model_dump(mode="json")
    )
    return application


def _deployment(decorated: object) -> Deployment:
    """``@serve.deployment`` turns a class into a Deployment; type checkers still see a class."""
    return cast(Deployment, decorated)
