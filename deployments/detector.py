"""Language detection deployment.

The engine's cost is per text (fastText and the later stages take texts one by one), so
batching buys it nothing: a call is answered at once on the replica's loop while no batch
runs. Only large calls (over ``INLINE_TEXTS`` texts) go through ``@serve.batch`` to a
thread; calls that arrive while one runs gather and go together after it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ray import serve

from deployments.batching import BatchWait
from serve_app.config import DETECTOR_BATCHING, DetectorConfig
from serve_app.engines.detector import LanguageDetector
from serve_app.engines.models import Loaded
from serve_app.health import check_memory, replica_details
from serve_app.loading import load_detector
from serve_app.messages import ComponentInfo, DetectCall, DetectOutcome

# Texts detected on the replica's event loop; more go to a thread.
INLINE_TEXTS = 64
# Settings that need a new engine; the others are applied to the running one.
_ENGINE_FIELDS = (
    "model",
    "revision",
    "fallback_model",
    "short_text_stage",
    "lexicon_stage",
    "lexicon_dir",
    "breadth_stage",
    "breadth_dir",
    "web_text_stage",
)


@serve.deployment(name="LanguageDetector")
class DetectorDeployment:
    """Settings arrive as ``user_config`` (a :class:`DetectorConfig`); see the Translator."""

    _engine: LanguageDetector
    _loaded: Loaded[LanguageDetector]
    _config: DetectorConfig

    async def reconfigure(self, user_config: dict[str, Any]) -> None:
        config = DetectorConfig.model_validate(user_config)
        previous = getattr(self, "_config", None)
        if previous is None or any(
            getattr(config, name) != getattr(previous, name) for name in _ENGINE_FIELDS
        ):
            loaded = await asyncio.to_thread(load_detector, config)
            self._engine, self._loaded = loaded.engine, loaded
        self._detect_batch.set_max_batch_size(config.batching.max_batch_size)
        if not hasattr(self, "_wait"):
            self._wait = BatchWait(self._detect_batch)
        self._wait.configure(config.batching.batch_wait_timeout_s, config.batching.work_conserving)
        self._config = config

    async def detect(self, call: DetectCall) -> DetectOutcome:
        if self._wait.idle and len(call.texts) <= INLINE_TEXTS:
            # Nothing to batch with: answered at once, without the batch queue's hops. At
            # this size _detect does not yield, so no request can arrive meanwhile to join it.
            (outcome,) = await self._detect([call])
            return outcome
        return await self._detect_batch(call)

    @serve.batch(
        max_batch_size=DETECTOR_BATCHING.max_batch_size,
        batch_wait_timeout_s=DETECTOR_BATCHING.batch_wait_timeout_s,
    )
    async def _detect_batch(self, calls: list[DetectCall]) -> list[DetectOutcome]:
        with self._wait.running():
            return await self._detect(calls)

    async def _detect(self, calls: list[DetectCall]) -> list[DetectOutcome]:
        texts = [text for call in calls for text in call.texts]
        allowed = [call.candidates for call in calls for _ in call.texts]
        k = max(call.k for call in calls)
        # fastText is microseconds per text: a thread hop would cost more than it saves,
        # except for big batches.
        if len(texts) > INLINE_TEXTS:
            detections = await asyncio.to_thread(self._engine.detect, texts, k, allowed)
        else:
            detections = self._engine.detect(texts, k, allowed)
        outcomes, start = [], 0
        for call in calls:
            chunk = detections[start : start + len(call.texts)]
            start += len(call.texts)
            for detection in chunk:
                del detection.candidates[call.k :]
            outcomes.append(
                DetectOutcome(
                    chunk,
                    batch_requests=len(calls),
                    model=self._loaded.model,
                    model_is_fallback=self._loaded.fallback_reason is not None,
                )
            )
        return outcomes

    def info(self) -> ComponentInfo:
        return ComponentInfo(
            model=self._loaded.model,
            fallback_reason=self._loaded.fallback_reason,
            load_seconds=self._engine.load_seconds,
            details={
                "path": str(self._engine.model_path),
                "top_k": self._config.top_k,
                "stages": self._engine.stages,
                **replica_details(),
            },
        )

    def check_health(self) -> None:
        (result,) = self._engine.detect(["The quick brown fox jumps over the lazy dog."])
        if result.language != "eng_Latn":
            raise RuntimeError(f"detector misidentified the health probe as {result.language}")
        check_memory(self._config.max_memory_mib, "LanguageDetector")
