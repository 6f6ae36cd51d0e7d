"""Calling the model deployments from other deployments, and handles made ready early."""

from __future__ import annotations

from ray.serve.handle import DeploymentHandle

from serve_app.config import TranslatorConfig
from serve_app.engines.languages import LanguageDatabase
from serve_app.messages import DetectCall, DetectOutcome
from serve_app.routing import ModelHandles, ModelRouter
from serve_app.translation.service import TranslationService


def ready(*handles: DeploymentHandle) -> None:
    """Builds each handle's router now, in the replica's constructor.

    A handle builds its router on its first call, and building one asks the GCS for the node's
    availability zone synchronously, on the replica's event loop. Left to the first request,
    a GCS outage (a fault-tolerant head restarting) would freeze the whole replica until the
    GCS came back; built here, no later call of the handle needs the GCS, and the replica goes
    on serving through the outage (tests/serve/gcs_ft_scenario.py).
    """
    for handle in handles:
        handle.options()  # initialises the router that every method handle of it shares


def translation_service(
    translator: DeploymentHandle, detector: DeploymentHandle, config: TranslatorConfig
) -> TranslationService:
    """The TranslationService over these handles (the job worker's, the Orchestrator's):
    each model's calls go to replicas that hold it, as the ingress's do."""

    async def detect(call: DetectCall) -> DetectOutcome:
        outcome: DetectOutcome = await detector.detect.remote(call)
        return outcome

    languages = LanguageDatabase.default()
    return TranslationService(
        ModelHandles(translator, config).translate,
        detect,
        ModelRouter(config, languages),
        languages,
        max_beam_size=config.max_beam_size,
    )
