"""Health, status and Prometheus metrics."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serve_app import __version__
from serve_app.api.errors import ApiError, error_responses, utc_now
from serve_app.api.schemas import ComponentHealth, HealthResponse, StatsResponse, StatusResponse
from serve_app.api.security import authenticate, caller
from serve_app.api.services import Services, ServicesDep
from serve_app.messages import ComponentInfo

router = APIRouter(tags=["system"])
log = logging.getLogger("ray.serve")
COMPONENT_TIMEOUT_S = 5.0
# /health asks the components at most this often; probes and floods share the answer.
HEALTH_CACHE_S = 1.0


def _unhealthy(name: str, exc: BaseException) -> ComponentHealth:
    # The cause goes to the log; the answer names no exception text or internal detail.
    log.warning("health: %s unreachable: %s: %s", name, type(exc).__name__, exc)
    return ComponentHealth(status="unhealthy", error="unreachable or failing")


async def _component(name: str, call: Any, services: Services) -> ComponentHealth:
    try:
        info: ComponentInfo = await asyncio.wait_for(call, COMPONENT_TIMEOUT_S)
    except Exception as exc:  # any failure of a component is reported, never raised
        return _unhealthy(name, exc)
    services.metrics.model_load_seconds.labels(name).set(info.load_seconds)
    return ComponentHealth(
        # Serving the bundled fallback: it answers, but not with a real model.
        status="degraded" if info.fallback_reason else "healthy",
        model=info.model,
        fallback=info.fallback_reason,
        details={"load_seconds": round(info.load_seconds, 4), **info.details},
    )


async def _orchestrator(services: Services) -> ComponentHealth:
    try:
        agents = await asyncio.wait_for(services.orchestrator.agents.remote(), COMPONENT_TIMEOUT_S)
    except Exception as exc:
        return _unhealthy("orchestrator", exc)
    return ComponentHealth(status="healthy", details={"agents": [a["name"] for a in agents]})


async def _jobs(services: Services) -> ComponentHealth:
    try:
        stats = await asyncio.wait_for(services.queue_stats(), COMPONENT_TIMEOUT_S)
    except Exception as exc:
        return _unhealthy("jobs", exc)
    return ComponentHealth(
        status="healthy",
        model=services.args.jobs.backend,
        details={"queue_depth": stats.queue_depth, "processing": stats.processing},
    )


async def component_health(services: Services) -> dict[str, ComponentHealth]:
    """Every component's health, asked at most once per ``HEALTH_CACHE_S``."""
    cached = services.health_cache
    if cached is not None and time.monotonic() - cached[0] < HEALTH_CACHE_S:
        return cached[1]
    asked = {
        "translator": _component("translator", services.translator.info.remote(), services),
        "detector": _component("detector", services.detector.info.remote(), services),
        "orchestrator": _orchestrator(services),
        "jobs": _jobs(services),
    }
    if services.bulk_translator is not None:
        asked["bulk_translator"] = _component(
            "bulk_translator", services.bulk_translator.info.remote(), services
        )
    components = dict(zip(asked, await asyncio.gather(*asked.values()), strict=True))
    services.health_cache = (time.monotonic(), components)
    return components


_STATIC = Path(__file__).parent.parent / "static"
_MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# The page's files, read once: the page names them with a hash of their content, so that a
# browser keeps them for a year and a new release is fetched at once.
_ASSETS = {name: (_STATIC / name).read_bytes() for name in ("app.js", "app.css", "favicon.svg")}
ASSET_VERSION = hashlib.sha256(b"".join(_ASSETS.values())).hexdigest()[:12]
_PAGE = (_STATIC / "index.html").read_text("utf-8").replace("{{asset_version}}", ASSET_VERSION)
# Scripts and styles from this server only, none inline: injected markup cannot run.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


@router.get("/", include_in_schema=False, response_class=HTMLResponse)
async def web_page(services: ServicesDep) -> HTMLResponse:
    """The web page: text, files and workflows, with the server's own limits filled in."""
    page = _PAGE.replace("{{max_text_chars}}", str(services.args.api.max_text_chars)).replace(
        "{{corrections}}", "on" if services.args.corrections.enabled else "off"
    )
    return HTMLResponse(page, headers=_PAGE_HEADERS)


@router.get("/static/{name}", include_in_schema=False)
async def web_asset(name: str) -> Response:
    """The page's script, style sheet and icon (immutable: their URL carries their hash)."""
    data = _ASSETS.get(name)
    if data is None:
        raise ApiError(404, "Not found", field="name", code="NOT_FOUND")
    return Response(
        data,
        media_type=_MEDIA_TYPES[Path(name).suffix],
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get(
    "/health",
    response_model=HealthResponse,
    responses={503: {"model": HealthResponse, "description": "No component answers"}},
    summary="Per-component health",
)
async def health(request: Request, services: ServicesDep) -> JSONResponse:
    """Public, for probes and load balancers. With auth on, a caller without a valid key
    sees each component's status only (no models, replicas, memory or queue figures)."""
    components = await component_health(services)
    if services.args.auth.enabled and caller(request, services) is None:
        components = {
            name: ComponentHealth(status=component.status) for name, component in components.items()
        }
    statuses = [c.status for c in components.values()]
    answering = [status != "unhealthy" for status in statuses]
    status: Literal["healthy", "degraded", "unhealthy"] = (
        "healthy"
        if all(s == "healthy" for s in statuses)
        else "unhealthy"
        if not any(answering)
        else "degraded"
    )
    body = HealthResponse(
        status=status,
        version=__version__,
        components=components,
        models_loaded={
            "translation": components["translator"].status != "unhealthy",
            "language_detection": components["detector"].status != "unhealthy",
        },
        timestamp=utc_now(),
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=200 if any(answering) else 503)


@router.get(
    "/status",
    response_model=StatusResponse,
    response_model_exclude_none=True,
    summary="Liveness and uptime",
)
async def status(request: Request, services: ServicesDep) -> StatusResponse:
    args = services.args
    if not args.docs_public and args.auth.enabled and caller(request, services) is None:
        return StatusResponse(status="ok", service="tafsiri", timestamp=utc_now())
    return StatusResponse(
        status="ok",
        service="tafsiri",
        version=__version__,
        environment=args.environment,
        uptime_seconds=round(time.time() - services.started_at, 3),
        timestamp=utc_now(),
    )


@router.get(
    "/stats",
    response_model=StatsResponse,
    responses=error_responses(401, 503),
    summary="Job queue statistics",
    dependencies=[Depends(authenticate)],
)
async def stats(services: ServicesDep) -> StatsResponse:
    queue = await services.job_manager.stats.remote()
    return StatsResponse.model_validate(
        {
            "translation_queue": asdict(queue),
            "backend": services.args.jobs.backend,
            "timestamp": utc_now(),
        }
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics (a key is needed when auth is on)",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}, **error_responses(401)},
    dependencies=[Depends(authenticate)],
)
async def metrics(services: ServicesDep) -> Response:
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
