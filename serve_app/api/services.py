"""What the routes need, attached to the FastAPI app by the ingress deployment."""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from cachetools import LRUCache, TTLCache
from fastapi import Depends, Request

from serve_app.api.admission import Admission
from serve_app.config import AppArgs
from serve_app.engines.corrections import Corrections
from serve_app.engines.glossary import Glossary
from serve_app.engines.languages import LanguageDatabase
from serve_app.engines.memory import TranslationMemory
from serve_app.jobs.model import QueueStats
from serve_app.messages import DetectCall, DetectOutcome
from serve_app.metrics import Metrics
from serve_app.ratelimit import CountRequest, SpentBudgets
from serve_app.routing import ModelHandles, ModelRouter
from serve_app.translation.service import TranslationService


@dataclass
class Services:
    """Deployment handles (typed ``Any``: Ray's handle types are not needed by the routes)."""

    translator: Any
    detector: Any
    orchestrator: Any
    args: AppArgs
    # The bulk lane's Translator (translator.bulk), asked for its health only.
    bulk_translator: Any = None
    job_manager: Any = None
    # The record keeper actor (serve_app.records.keeper): glossaries, corrections, documents.
    records: Any = None
    rate_limiter: CountRequest | None = None
    # Keys whose budgets this replica found spent (refused before their bodies are read).
    spent: SpentBudgets = field(default_factory=SpentBudgets)
    metrics: Metrics = field(default_factory=Metrics)
    languages: LanguageDatabase = field(default_factory=LanguageDatabase.default)
    started_at: float = field(default_factory=time.time)
    _queue_stats: tuple[float, QueueStats] | None = field(default=None, repr=False)
    # (monotonic time, component name -> health) of the last /health round (routes/system.py).
    health_cache: tuple[float, dict[str, Any]] | None = field(default=None, repr=False)
    # Glossaries this replica read lately, by id (a deletion elsewhere is seen once they age).
    glossaries: MutableMapping[str, Glossary] = field(init=False, repr=False)
    # Each owner's corrections this replica read lately (when corrections are enabled).
    corrections: MutableMapping[str, Corrections] = field(init=False, repr=False)
    # Translation memories this replica read lately, by id, with their indexes; and, past
    # that short while, the last read of each (checked before it is used again).
    memories: MutableMapping[str, TranslationMemory] = field(init=False, repr=False)
    memory_bodies: MutableMapping[str, TranslationMemory] = field(init=False, repr=False)

    # Which registered model serves a pair (serve_app.routing), and a handle per model id.
    router: ModelRouter = field(init=False, repr=False)
    # Every translation of the routes (and streams) goes through this service.
    translation: TranslationService = field(init=False, repr=False)
    translator_for: ModelHandles = field(init=False, repr=False)
    # What this replica admits (api.max_in_flight; nothing once the service is stopping).
    admission: Admission = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.admission = Admission(self.args.api.max_in_flight)
        self.glossaries = _cache(self.args.glossaries.cache_seconds)
        self.corrections = _cache(self.args.corrections.cache_seconds)
        memories = self.args.memories
        self.memories = _cache(memories.cache_seconds, memories.cache_size)
        self.memory_bodies = LRUCache(maxsize=memories.cache_size)
        self.router = ModelRouter(self.args.translator, self.languages)
        self.translator_for = ModelHandles(self.translator, self.args.translator)

        async def detect(call: DetectCall) -> DetectOutcome:
            outcome: DetectOutcome = await self.detector.detect.remote(call)
            return outcome

        self.translation = TranslationService(
            self.translator_for.translate,
            detect,
            self.router,
            self.languages,
            max_beam_size=self.args.translator.max_beam_size,
            on_detected=self.count_detections,
        )

    def count_detections(self, outcome: DetectOutcome) -> None:
        """Counts what the detector found for a client (in the metrics)."""
        self.metrics.detection_batch_size.observe(outcome.batch_requests)
        for detection in outcome.detections:
            self.metrics.detections.labels(detection.language).inc()

    async def queue_stats(self, max_age_s: float = 1.0) -> QueueStats:
        """The job queue's stats, at most ``max_age_s`` old: estimates on every submission
        do not need a round trip to the job manager each."""
        now = time.monotonic()
        if self._queue_stats is None or now - self._queue_stats[0] > max_age_s:
            self._queue_stats = (now, await self.job_manager.stats.remote())
        return self._queue_stats[1]


class _NoCache(dict[str, Any]):
    """``cache_seconds: 0``: every request reads the store."""

    def __setitem__(self, key: str, value: Any) -> None:
        return None


def _cache(seconds: float, size: int = 256) -> MutableMapping[str, Any]:
    return TTLCache(maxsize=size, ttl=seconds) if seconds else _NoCache()


async def get_services(request: Request) -> Services:
    """The replica's services. ``async`` so that FastAPI calls it on the event loop: a plain
    ``def`` dependency runs in a worker thread, a thread hop on every request."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
