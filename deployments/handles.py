"""Calling the model deployments from other deployments, and handles made ready early."""

from __future__ import annotations

from ray.serve.handle import DeploymentHandle

from serve_app.engines.detector import Detection
from serve_app.engines.quality import Translations
from serve_app.engines.translator import UnsupportedLanguageError
from serve_app.messages import DetectCall, DetectOutcome, TranslateCall, TranslateOutcome


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


class Models:
    """The detector and translator as plain async functions (for the job handlers and the
    workflow agents, which are Ray-free and take them injected)."""

    def __init__(self, translator: DeploymentHandle, detector: DeploymentHandle) -> None:
        self._translator, self._detector = translator, detector

    async def detect(self, texts: list[str], k: int = 1) -> list[Detection]:
        outcome: DetectOutcome = await self._detector.detect.remote(DetectCall(texts, k))
        return outcome.detections

    async def translate(
        self, texts: list[str], sources: list[str], target: str, cache_scope: str = ""
    ) -> list[str]:
        """Plain-text translations (the workflow agents' ``TranslateTexts``)."""
        return (await self.translate_texts(texts, sources, target, cache_scope=cache_scope)).texts

    async def translate_texts(
        self,
        texts: list[str],
        sources: list[str],
        target: str,
        *,
        text_format: str = "text",
        protect_spans: bool = True,
        quality: bool = False,
        glossary: tuple[tuple[str, str, str, str], ...] = (),
        glossary_mode: str = "enforce",
        cache_scope: str = "",
    ) -> Translations:
        """The translations, with the engine's quality signals when ``quality`` and each
        glossary term's fate when ``glossary`` terms are given."""
        outcome: TranslateOutcome = await self._translator.translate.remote(
            TranslateCall(
                texts,
                sources,
                target,
                text_format=text_format,
                protect_spans=protect_spans,
                quality=quality,
                glossary=glossary,
                glossary_mode=glossary_mode,
                cache_scope=cache_scope,
            )
        )
        if outcome.error:
            raise UnsupportedLanguageError(outcome.error)
        return Translations(
            outcome.texts,
            outcome.qualities or [None] * len(outcome.texts),
            outcome.glossary if glossary else None,
        )
