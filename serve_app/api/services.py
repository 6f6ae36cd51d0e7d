"""What the routes need, attached to the FastAPI app by the ingress deployment."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request

from serve_app.config import AppArgs
from serve_app.engines.languages import LanguageDatabase
from serve_app.jobs.model import QueueStats
from serve_app.metrics import Metrics
from serve_app.ratelimit import CountRequest


@dataclass
class Services:
    """Deployment handles (typed ``Any``: Ray's handle types are not needed by the routes)."""

    translator: Any
    detector: Any
    orchestrator: Any
    args: AppArgs
    job_manager: Any = None
    rate_limiter: CountRequest | None = None
    metrics: Metrics = field(default_factory=Metrics)
    languages: LanguageDatabase = field(default_factory=LanguageDatabase.default)
    started_at: float = field(default_factory=time.time)
    _queue_stats: tuple[float, QueueStats] | None = field(default=None, repr=False)
    # (monotonic time, component name -> health) of the last /health round (routes/system.py).
    health_cache: tuple[float, dict[str, Any]] | None = field(default=None, repr=False)

    async def queue_stats(self, max_age_s: float = 1.0) -> QueueStats:
        """The job queue's stats, at most ``max_age_s`` old: estimates on every submission
        do not need a round trip to the job manager each."""
        now = time.monotonic()
        if self._queue_stats is None or now - self._queue_stats[0] > max_age_s:
            self._queue_stats = (now, await self.job_manager.stats.remote())
        return self._queue_stats[1]


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
