"""Health, status and Prometheus metrics."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse, JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serve_app import __version__
from serve_app.api.errors import utc_now
from serve_app.api.schemas import ComponentHealth, HealthResponse, StatusResponse
from serve_app.api.services import Services, ServicesDep
from serve_app.messages import ComponentInfo

router = APIRouter(tags=["system"])
COMPONENT_TIMEOUT_S = 5.0


async def _component(name: str, call: Any, services: Services) -> ComponentHealth:
    try:
        info: ComponentInfo = await asyncio.wait_for(call, COMPONENT_TIMEOUT_S)
    except Exception as exc:  # any failure of a component is reported, never raised
        return ComponentHealth(status="unhealthy", error=f"{type(exc).__name__}: {exc}"[:500])
    services.metrics.model_load_seconds.labels(name).set(info.load_seconds)
    return ComponentHealth(
        status="healthy",
        model=info.model,
        details={"load_seconds": round(info.load_seconds, 4), **info.details},
    )


async def component_health(services: Services) -> dict[str, ComponentHealth]:
    translator, detector = await asyncio.gather(
        _component("translator", services.translator.info.remote(), services),
        _component("detector", services.detector.info.remote(), services),
    )
    try:
        agents = await asyncio.wait_for(services.orchestrator.agents.remote(), COMPONENT_TIMEOUT_S)
        orchestrator = ComponentHealth(
            status="healthy", details={"agents": [agent["name"] for agent in agents]}
        )
    except Exception as exc:
        orchestrator = ComponentHealth(status="unhealthy", error=f"{type(exc).__name__}: {exc}")
    try:
        stats = await asyncio.wait_for(services.job_manager.stats.remote(), COMPONENT_TIMEOUT_S)
        jobs = ComponentHealth(
            status="healthy",
            model=services.args.jobs.backend,
            details={"queue_depth": stats.queue_depth, "processing": stats.processing},
        )
    except Exception as exc:
        jobs = ComponentHealth(status="unhealthy", error=f"{type(exc).__name__}: {exc}")
    return {
        "translator": translator,
        "detector": detector,
        "orchestrator": orchestrator,
        "jobs": jobs,
    }


_PAGE = (Path(__file__).parent.parent / "static" / "index.html").read_text("utf-8")


@router.get("/", include_in_schema=False, response_class=HTMLResponse)
async def web_page() -> HTMLResponse:
    """The web page: translate with auto-detect, detect, plan and run workflows."""
    return HTMLResponse(
        _PAGE,
        headers={
            "Content-Security-Policy": "default-src 'self'; script-src 'unsafe-inline' 'self'; "
            "style-src 'unsafe-inline' 'self'",
        },
    )


@router.get("/health", response_model=HealthResponse, summary="Per-component health")
async def health(services: ServicesDep) -> JSONResponse:
    components = await component_health(services)
    healthy = [c.status == "healthy" for c in components.values()]
    status: Literal["healthy", "degraded", "unhealthy"] = (
        "healthy" if all(healthy) else "unhealthy" if not any(healthy) else "degraded"
    )
    body = HealthResponse(
        status=status,
        version=__version__,
        components=components,
        models_loaded={
            "translation": components["translator"].status == "healthy",
            "language_detection": components["detector"].status == "healthy",
        },
        timestamp=utc_now(),
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if any(healthy) else 503)


@router.get("/status", response_model=StatusResponse, summary="Liveness and uptime")
async def status(services: ServicesDep) -> StatusResponse:
    return StatusResponse(
        status="ok",
        service="tafsiri",
        version=__version__,
        environment=services.args.environment,
        uptime_seconds=round(time.time() - services.started_at, 3),
        timestamp=utc_now(),
    )


@router.get("/stats", summary="Job queue statistics")
async def stats(services: ServicesDep) -> dict[str, Any]:
    queue = await services.job_manager.stats.remote()
    return {
        "translation_queue": asdict(queue),
        "backend": services.args.jobs.backend,
        "timestamp": utc_now().isoformat().replace("+00:00", "Z"),
    }


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(services: ServicesDep) -> Response:
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
