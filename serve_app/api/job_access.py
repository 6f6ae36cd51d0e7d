"""Submitting and reading jobs from the routes: rate limit, ownership, status URLs."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

from fastapi import Response

from serve_app.api.errors import ApiError
from serve_app.api.schemas import JobAccepted
from serve_app.api.security import enforce_rate_limit
from serve_app.api.services import Services
from serve_app.jobs.model import Job, JobKind, QueueStats, is_token
from serve_app.jobs.submission import estimated_seconds, new_job
from serve_app.priority import MAX_PRIORITY

log = logging.getLogger("ray.serve")
T = TypeVar("T")


async def from_store(call: Awaitable[T]) -> T:
    """A call to the job manager or the record keeper; a store that cannot answer (its Redis
    restarting, say) is a 503 with Retry-After, so that clients retry instead of seeing a
    server error."""
    try:
        return await call
    except Exception as exc:
        log.warning("job store unavailable: %s", type(exc).__name__)
        raise ApiError(
            503,
            "The job store is unavailable, retry shortly",
            code="STORE_UNAVAILABLE",
            headers={"Retry-After": "1"},
            extra={"retry_after": 1},
        ) from exc


def max_priority(services: Services, principal: str | None) -> int:
    """The highest priority ``principal``'s key may submit at (any, without auth)."""
    for key in services.args.auth.api_keys:
        if key.id == principal:
            return key.max_priority
    return MAX_PRIORITY


def status_path(kind: JobKind | str, token: str) -> str:
    if kind == JobKind.WORKFLOW_PLANNING:
        return f"/api/v1/translation/{token}"
    if kind == JobKind.WORKFLOW_RUN:
        return f"/api/v1/workflows/{token}"
    return f"/api/v1/jobs/{token}"


async def submit_job(
    services: Services,
    response: Response,
    principal: str | None,
    kind: JobKind,
    payload: dict[str, Any],
    *,
    client_id: str,
    priority: int,
    metadata: dict[str, Any],
    counted: bool = False,
) -> JobAccepted:
    """Counts the submission against the caller's limits (unless the route already
    ``counted`` it), stores the job, answers 202. A priority above the key's
    ``max_priority`` is refused (403)."""
    allowed = max_priority(services, principal)
    if priority > allowed:
        raise ApiError(
            403,
            f"priority {priority} is above the highest this API key may ask for ({allowed})",
            field="priority",
            code="PRIORITY_NOT_ALLOWED",
        )
    if not counted:
        await enforce_rate_limit(services, principal or client_id, response)
    job = new_job(
        services.args.jobs,
        kind,
        payload,
        client_id=client_id,
        owner=principal,
        priority=priority,
        metadata=metadata,
    )
    await from_store(services.job_manager.submit.remote(job))
    response.status_code = 202
    response.headers["Location"] = status_path(kind, job.token)
    return JobAccepted(
        token=job.token,
        status="queued",
        estimated_completion_seconds=estimated_seconds(await _stats_or_none(services), kind),
        message=(
            "Translation queued successfully. "
            if kind == JobKind.WORKFLOW_PLANNING
            else "Job queued. "
        )
        + "Use the token to poll for results.",
        status_url=status_path(kind, job.token),
    )


async def _stats_or_none(services: Services) -> QueueStats | None:
    """The queue's stats for an estimate; the job is stored already, so an unavailable store
    costs the estimate its precision, not the client its 202."""
    try:
        return await services.queue_stats()
    except Exception:
        return None


async def load_job(services: Services, token: str, principal: str | None, what: str) -> Job:
    """The caller's job ``token``: 400 for a malformed token, 404 for an unknown or expired
    one and, with auth on, for another client's job (indistinguishable from a missing one)."""
    if not is_token(token):
        raise ApiError(
            400,
            "Invalid token format",
            field="token",
            code="INVALID_TOKEN",
            message="tokens are 32 lowercase hexadecimal characters",
        )
    job: Job | None = await from_store(services.job_manager.get.remote(token))
    if job is None or (services.args.auth.enabled and job.owner != principal):
        raise ApiError(404, f"{what} token not found or expired", field="token", code="NOT_FOUND")
    return job
