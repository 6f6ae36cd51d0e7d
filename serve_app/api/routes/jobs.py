"""The async token API: submit returns 202 and a token, polling returns the job's state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response

from serve_app.api import translating
from serve_app.api.errors import ApiError, error_responses
from serve_app.api.job_access import load_job, submit_job
from serve_app.api.schemas import (
    DocumentReport,
    JobAccepted,
    JobProgress,
    JobStatusResponse,
    TextJobRequest,
    WorkflowTranslateRequest,
)
from serve_app.api.security import Principal, charge
from serve_app.api.services import Services, ServicesDep
from serve_app.api.validation import target_codes
from serve_app.jobs.model import Job, JobKind, JobStatus
from serve_app.jobs.payloads import PlanningPayload, TextJobPayload

router = APIRouter(
    prefix="/api/v1",
    tags=["jobs"],
    responses=error_responses(400, 401, 403, 404, 413, 422, 429, 503),
)


def poll_link(operation_id: str) -> dict[int | str, dict[str, Any]]:
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
    responses=poll_link("poll_translation"),
    summary="Submit natural language for asynchronous translation to DSL",
)
async def submit_workflow_planning(
    body: WorkflowTranslateRequest,
    response: Response,
    services: ServicesDep,
    principal: Principal,
) -> JobAccepted:
    """Plans natural language into workflow DSL (the contract's "translation" to DSL)."""
    return await submit_job(
        services,
        response,
        principal,
        JobKind.WORKFLOW_PLANNING,
        PlanningPayload(natural_language=body.natural_language).model_dump(),
        client_id=body.client_id,
        priority=body.priority,
        metadata=body.metadata,
    )


@router.post(
    "/jobs/translate",
    status_code=202,
    response_model=JobAccepted,
    responses=poll_link("poll_job"),
    summary="Submit texts or a long document for asynchronous translation",
)
async def submit_text_job(
    body: TextJobRequest,
    response: Response,
    services: ServicesDep,
    principal: Principal,
) -> JobAccepted:
    # The payload's characters are charged before its markup or glossary is read; the
    # submission is counted once it is a job (a refused one costs the client no request).
    return await submit_job(
        services,
        response,
        principal,
        JobKind.TEXT_TRANSLATION,
        (await text_job_payload(body, services, principal)).model_dump(mode="json"),
        client_id=body.client_id,
        priority=body.priority,
        metadata=body.metadata,
    )


async def text_job_payload(
    body: TextJobRequest, services: Services, principal: str | None, *, as_one: bool = False
) -> TextJobPayload:
    """A text job's payload, checked (size, languages, markup, model, beam) and carrying
    what it needs of the caller's glossary and corrections: the same for texts and for a
    document (whose texts, ``as_one``, share one language read from the whole)."""
    limit = services.args.api.max_job_chars
    total = sum(len(text) for text in body.texts)
    if total > limit:
        raise ApiError(
            413,
            f"Job too large: {total} characters, the limit is {limit}",
            field="texts",
            code="PAYLOAD_TOO_LARGE",
        )
    targets, several = target_codes(body.target_language, services.languages)
    # Charged before its markup is parsed or its glossary's terms are found: each text once
    # per target.
    await charge(services, principal or body.client_id, total * len(targets))
    field_of = translating.texts_field(False, "texts")
    request = await translating.request_of(services, body, body.texts, targets, principal, field_of)
    if as_one:
        request = request.model_copy(update={"detect_as_one": True})
    return TextJobPayload(request=request, several=several)


def _status(job: Job) -> JobStatusResponse:
    progress = None
    if job.progress_total:
        progress = JobProgress(
            done=job.progress_done,
            total=job.progress_total,
            percent=round(100 * job.progress_done / job.progress_total, 1),
        )
    failed = job.status in (JobStatus.ERROR, JobStatus.TIMEOUT, JobStatus.NEEDS_HUMAN)
    # A document job's integrity report: in its result, or in a needs_human job's details.
    report = None
    if job.kind == JobKind.TEXT_TRANSLATION:
        report = (job.result or {}).get("report") or (job.error_details or {}).get("report")
    return JobStatusResponse(
        token=job.token,
        kind=job.kind,
        status=job.status.value,
        created_at=datetime.fromtimestamp(job.created_at, UTC),
        updated_at=datetime.fromtimestamp(job.updated_at, UTC),
        retries=job.retries,
        metadata={**job.metadata, "priority": job.priority, "client_id": job.client_id},
        progress=progress,
        dsl=(job.result or {}).get("dsl") if job.kind == JobKind.WORKFLOW_PLANNING else None,
        result=job.result if job.kind != JobKind.WORKFLOW_PLANNING else None,
        error_message=job.error_message if failed else None,
        error_details=job.error_details if failed else None,
        report=None if report is None else DocumentReport.model_validate(report),
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
