"""The FastAPI application served by the ingress deployment."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from serve_app import __version__
from serve_app.api.errors import install_error_handlers
from serve_app.api.middleware import AdmissionMiddleware, RequestContextMiddleware
from serve_app.api.routes import (
    corrections,
    documents,
    glossaries,
    jobs,
    languages,
    memories,
    models,
    streaming,
    system,
    translation,
    workflows,
)
from serve_app.api.security import authenticate, key_of, spent_wait
from serve_app.api.services import Services

# Routers behind the API key (when auth is on) as one dependency of the whole router.
PROTECTED_ROUTERS = (translation.router, streaming.router, languages.router, models.router)
# Routers whose routes authenticate themselves: they need the caller's identity.
SELF_AUTHENTICATING_ROUTERS = (
    jobs.router,
    documents.router,
    glossaries.router,
    memories.router,
    corrections.router,
    workflows.router,
    system.router,
)


def create_api(services: Services) -> FastAPI:
    """Routes, error handlers and middleware over ``services``, whose ``args`` are the one
    source of every setting the API reads.

    Middleware, outermost first: errors (Starlette's), CORS, request context (request id,
    response time, body limit, metrics), admission (503 past ``api.max_in_flight``, and to
    every new request once the service is stopping).
    """
    config = services.args.api
    public = services.args.docs_public  # else the API's description is not served at all
    app = FastAPI(
        title="Tafsiri",
        version=__version__,
        description="Multilingual translation (NLLB-200 on CTranslate2) on Ray Serve.",
        docs_url="/docs" if public else None,
        redoc_url="/redoc" if public else None,
        openapi_url="/openapi.json" if public else None,
    )
    app.state.services = services
    install_error_handlers(app)
    # Added first = innermost: shed requests still get a request id and count in metrics.
    app.add_middleware(AdmissionMiddleware, admission=services.admission)
    app.add_middleware(
        RequestContextMiddleware,
        metrics=services.metrics,
        max_body_bytes=config.max_body_bytes,
        # The file and the form's few fields around it.
        uploads={
            documents.UPLOAD_PATH: services.args.documents.max_bytes + 64 * 1024,
            memories.UPLOAD_PATH: services.args.memories.max_bytes + 64 * 1024,
        },
        authorized=(
            (lambda header: key_of(services.args.auth, header) is not None)
            if services.args.auth.enabled
            else None
        ),
        spent=(
            (lambda header, path: spent_wait(services, header, path))
            if services.args.auth.enabled and services.args.rate_limits.enabled
            else None
        ),
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=config.cors_origins,
        allow_credentials=config.cors_allow_credentials,
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        expose_headers=[
            "X-Request-ID",
            "X-Response-Time",
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
            "Retry-After",
        ],
    )
    for router in PROTECTED_ROUTERS:
        app.include_router(router, dependencies=[Depends(authenticate)])
    for router in SELF_AUTHENTICATING_ROUTERS:
        app.include_router(router)
    return app
