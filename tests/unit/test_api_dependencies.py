"""FastAPI runs a plain ``def`` dependency or endpoint through ``run_in_threadpool``: a thread
hop on every request that uses it. On the ingress's hot path every dependency is ``async``
(a sync ``get_services`` cost every route ~0.4 ms idle and the token submit ~2 ms at
1,000 submits/min); only endpoints that do blocking file I/O may be plain functions."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from serve_app.api.app import PROTECTED_ROUTERS, SELF_AUTHENTICATING_ROUTERS
from serve_app.api.security import authenticate

# Endpoints that read files from disk: a worker thread is where that belongs.
BLOCKING_ENDPOINTS = {"artifact"}


def dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for dependency in dependant.dependencies:
        yield dependency
        yield from dependencies(dependency)


def routes() -> list[APIRoute]:
    routers = (*PROTECTED_ROUTERS, *SELF_AUTHENTICATING_ROUTERS)
    return [route for router in routers for route in router.routes if isinstance(route, APIRoute)]


def test_every_dependency_runs_on_the_event_loop() -> None:
    found = {
        (route.path, dependency.call.__name__)
        for route in routes()
        for dependency in dependencies(route.dependant)
        if dependency.call is not None and not inspect.iscoroutinefunction(dependency.call)
    }
    assert not found, f"sync dependencies (each a thread hop per request): {sorted(found)}"
    # The routers' shared dependency (added where they are included) is async too.
    assert inspect.iscoroutinefunction(authenticate)


def test_only_file_reading_endpoints_run_in_a_thread() -> None:
    sync = {
        route.endpoint.__name__
        for route in routes()
        if not inspect.iscoroutinefunction(route.endpoint)
        and not inspect.isasyncgenfunction(route.endpoint)
    }
    assert sync == BLOCKING_ENDPOINTS
    assert len(routes()) > 30
