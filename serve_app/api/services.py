"""What the routes need, attached to the FastAPI app by the ingress deployment."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request

from serve_app.config import AppArgs
from serve_app.engines.languages import LanguageDatabase
from serve_app.metrics import Metrics


@dataclass
class Services:
    """Deployment handles (typed ``Any``: Ray's handle types are not needed by the routes)."""

    translator: Any
    detector: Any
    orchestrator: Any
    args: AppArgs
    job_manager: Any = None
    rate_limiter: Any = None
    metrics: Metrics = field(default_factory=Metrics)
    languages: LanguageDatabase = field(default_factory=LanguageDatabase.default)
    started_at: float = field(default_factory=time.time)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
