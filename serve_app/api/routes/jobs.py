"""The async token API: submit returns 202 and a token, polling returns the job's state."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response

from serve_app.api.errors import ApiError
from serve_app.api.schemas import (
    JobAccepted,
    JobProgress,
    JobStatusResponse,
    TextJobRequest,
    WorkflowTranslateRequest,
)
from serve_app.api.security import Principal, enforce_rate_limit
from serve_app.api.services import Services, ServicesDep
from serve_app.api.validation import language_code
from serve_app.jobs.handlers import NL_TO_DSL, TEXT_TRANSLATION, WORKFLOW_RUN
from serve_app.jobs.model import Job, JobStatus, is_token, new_token

router = APIRouter(prefix="/api/v1", tags=["jobs"])
# Rough cost of one job of each kind on one worker, for estimates before any job finished.
_DEFAULT_SECONDS = {NL_TO_DSL: 2.0, TEXT_TRANSLATION: 5.0, WORKFLOW_RUN: 10.0}


async def _estimate(services: Services, kind: str) -> int:
    stats = await services.queue_stats()
    per_minute = int(stats["completed_last_minute"])
    ahead = int(stats["queue_depth"]) + int(stats["processing"])
    if per_minute:
        return max(1, round((ahead + 1) * 60 / per_minute))
    return max(1, round((ahead + 1) * _DEFAULT_SECONDS[kind]))


async def submit_job(
    services: Services,
    response: Response,
    principal: str | None,
    kind: str,
    payload: dict[str, Any],
    client_id: str,
    priority: int,
    metadata: dict[str, Any],
) -> JobAccepted:
    await enforce_rate_limit(services, principal or client_id, response)
    config = services.args.jobs
    now = time.time()
    job = Job(
        token=new_token(),
        kind=kind,
        payload=payload,
        client_id=client_id,
        owner=principal,
        priority=priority,
        created_at=now,
        deadline_at=now + config.timeout_seconds,
        expires_at=now + config.ttl_seconds,
        max_retries=config.max_retries,
        metadata=metadata,
    )
    await services.job_manager.submit.remote(job.to_dict())
    response.status_code = 202
    response.headers["Location"] = _status_path(kind, job.token)
    return JobAccepted(
        token=job.token,
        status="queued",
        estimated_completion_seconds=await _estimate(services, kind),
        message=("Translation queued successfully. " if kind == NL_TO_DSL else "Job queued. ")
        + "Use the token to poll for results.",
        status_url=_status_path(kind, job.token),
    )


def _status_path(kind: str, token: str) -> str:
    if kind == NL_TO_DSL:
        return f"/api/v1/translation/{token}"
    if kind == WORKFLOW_RUN:
        return f"/api/v1/workflows/{token}"
    return f"/api/v1/jobs/{token}"


def _poll_link(operation_id: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI link from a 202 to the poll operation: clients and fuzzers can follow it."""
    return {
        202: {
            "description": "Accepted",
            "links": {
                "Poll": {
                    "operationId": operation_id,
                    "parameters": {"token": "$response.body#/token"},
                }
            },
        }
    }


@router.post(
    "/workflows/translate",
    status_code=202,
    response_model=JobAccepted,
    responses=_poll_link("poll_translation"),
    summary="Submit natural language for asynchronous translation to DSL",
)
async def submit_workflow_translation(
    body: WorkflowTranslateRequest,
    response: Response,
    services: ServicesDep,
    principal: Principal,
) -> JobAccepted:
    return await submit_job(
        services,
        response,
        principal,
        NL_TO_DSL,
        {"natural_language": body.natural_language},
        body.client_id,
        body.priority,
        body.metadata,
    )


@router.post(
    "/jobs/translate",
    status_code=202,
    response_model=JobAccepted,
    responses=_poll_link("poll_job"),
    summary="Submit texts or a long document for asynchronous translation",
)
async def submit_text_job(
    body: TextJobRequest,
    response: Response,
    services: ServicesDep,
    principal: Principal,
) -> JobAccepted:
    limit = services.args.api.max_job_chars
    total = sum(len(text) for text in body.texts)
    if total > limit:
        raise ApiError(
            413,
            f"Job too large: {total} characters, the limit is {limit}",
            field="texts",
            code="PAYLOAD_TOO_LARGE",
        )
    payload = {
        "texts": body.texts,
        "target_language": language_code(
            body.target_language, services.languages, "target_language"
        ),
        "source_language": language_code(
            body.source_language, services.languages, "source_language"
        )
        if body.source_language
        else None,
    }
    return await submit_job(
        services,
        response,
        principal,
        TEXT_TRANSLATION,
        payload,
        body.client_id,
        body.priority,
        body.metadata,
    )


async def load_job(services: Services, token: str, principal: str | None, what: str) -> Job:
    if not is_token(token):
        raise ApiError(
            400,
            "Invalid token format",
            field="token",
            code="INVALID_TOKEN",
            message="tokens are 32 lowercase hexadecimal characters",
        )
    data = await services.job_manager.get.remote(token)
    job = Job.from_dict(data) if data else None
    # With auth on, another client's job is indistinguishable from a missing one.
    if job is None or (services.args.auth.enabled and job.owner != principal):
        raise ApiError(404, f"{what} token not found or expired", field="token", code="NOT_FOUND")
    return job


def _status(job: Job) -> JobStatusResponse:
    progress = None
    if job.progress_total:
        progress = JobProgress(
            done=job.progress_done,
            total=job.progress_total,
            percent=round(100 * job.progress_done / job.progress_total, 1),
        )
    failed = job.status in (JobStatus.ERROR, JobStatus.TIMEOUT, JobStatus.NEEDS_HUMAN)
    return JobStatusResponse(
        token=job.token,
        kind=job.kind,
        status=job.status.value,
        created_at=datetime.fromtimestamp(job.created_at, UTC),
        updated_at=datetime.fromtimestamp(job.updated_at, UTC),
        retries=job.retries,
        metadata={**job.metadata, "priority": job.priority, "client_id": job.client_id},
        progress=progress,
        dsl=(job.result or {}).get("dsl") if job.kind == NL_TO_DSL else None,
        result=job.result if job.kind != NL_TO_DSL else None,
        error_message=job.error_message if failed else None,
        error_details=job.error_details if failed else None,
    )


@router.get(
    "/translation/{token}",
    operation_id="poll_translation",
    response_model=JobStatusResponse,
    response_model_exclude_none=True,
    summary="Poll an NL-to-DSL translation",
)
async def poll_translation(
    token: str, services: ServicesDep, principal: Principal
) -> JobStatusResponse:
    return _status(await load_job(services, token, principal, "Translation"))


@router.get(
    "/jobs/{token}",
    operation_id="poll_job",
    response_model=JobStatusResponse,
    response_model_exclude_none=True,
    summary="Poll any job",
)
async def poll_job(token: str, services: ServicesDep, principal: Principal) -> JobStatusResponse:
    return _status(await load_job(services, token, principal, "Job"))
