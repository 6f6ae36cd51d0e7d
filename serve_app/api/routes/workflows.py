"""Workflow DSL: validate, run (through the job system), poll, cancel, suggest; legacy sync."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse

from serve_app.api.errors import ApiError, error_responses, request_id_of, utc_now
from serve_app.api.job_access import load_job, submit_job
from serve_app.api.schemas import (
    AgentsResponse,
    DslRequest,
    DslValidation,
    LegacyWorkflowRequest,
    LegacyWorkflowResponse,
    SuggestRequest,
    SuggestResponse,
    WorkflowRun,
    WorkflowStarted,
)
from serve_app.api.security import Principal, charge, enforce_rate_limit
from serve_app.api.services import Services, ServicesDep
from serve_app.dsl.planner import PlanningError, plan
from serve_app.dsl.suggest import suggest
from serve_app.dsl.validator import validate
from serve_app.jobs.model import TERMINAL, Job, JobKind, owner_tag
from serve_app.jobs.payloads import WorkflowRunPayload
from serve_app.priority import DEFAULT_PRIORITY

router = APIRouter(
    tags=["workflows"], responses=error_responses(400, 401, 403, 404, 409, 413, 422, 429, 503)
)


def _run_view(job: Job) -> WorkflowRun:
    workflow = job.payload.get("workflow", {})
    tasks = (job.result or {}).get("tasks") or (job.error_details or {}).get("tasks") or job.detail
    body: dict[str, Any] = {
        "workflow_id": job.token,
        "name": workflow.get("name"),
        "status": job.status.value,
        "created_at": datetime.fromtimestamp(job.created_at, UTC).isoformat(),
        "updated_at": datetime.fromtimestamp(job.updated_at, UTC).isoformat(),
        "retries": job.retries,
        "progress": {
            "done": job.progress_done,
            "total": job.progress_total or len(workflow.get("tasks", [])),
        },
        "tasks": tasks or {},
        "metadata": {**job.metadata, "priority": job.priority, "client_id": job.client_id},
    }
    if job.status.value in ("error", "timeout", "needs_human"):
        body["error_message"] = job.error_message
        body["error_details"] = {k: v for k, v in (job.error_details or {}).items() if k != "tasks"}
    return WorkflowRun.model_validate(body)


async def _start(
    services: Services,
    response: Response,
    principal: str | None,
    workflow: dict[str, Any],
    client_id: str,
    priority: int,
    metadata: dict[str, Any],
    counted: bool = False,
) -> str:
    accepted = await submit_job(
        services,
        response,
        principal,
        JobKind.WORKFLOW_RUN,
        WorkflowRunPayload(workflow=workflow).model_dump(),
        client_id=client_id,
        priority=priority,
        metadata=metadata,
        counted=counted,
    )
    return accepted.token


@router.post(
    "/api/v1/workflows/dsl",
    response_model=DslValidation | WorkflowStarted,
    response_model_exclude_unset=True,
    summary="Validate, or validate and run, a DSL workflow",
)
async def workflow_dsl(
    body: DslRequest, response: Response, services: ServicesDep, principal: Principal
) -> DslValidation | WorkflowStarted:
    # Counted first: validating up to 64 kB of YAML is the costly part of this route, and
    # it runs off the event loop, so that neither a flood nor one big workflow stalls the
    # replica (health checks included).
    await enforce_rate_limit(services, principal or body.client_id, response)
    report = await asyncio.to_thread(validate, body.dsl_yaml, services.languages)
    results = report.to_dict()
    if body.validate_only:
        return DslValidation.model_validate(results)
    if not report.valid or report.workflow is None:
        raise ApiError(
            422,
            "DSL validation failed",
            field="dsl_yaml",
            code="INVALID_DSL",
            extra={"validation_results": results},
        ) from None
    token = await _start(
        services,
        response,
        principal,
        report.workflow.model_dump(),
        body.client_id,
        body.priority,
        body.metadata,
        counted=True,
    )
    response.status_code = 200  # the contract answers 200 with the run's id
    return WorkflowStarted(
        workflow_id=token,
        status="running",
        message="DSL workflow started successfully",
        validation_results=DslValidation.model_validate(results),
    )


@router.get(
    "/api/v1/workflows/{workflow_id}",
    response_model=WorkflowRun,
    response_model_exclude_unset=True,
    summary="Status, per-task state and results",
)
async def workflow_status(
    workflow_id: str, services: ServicesDep, principal: Principal
) -> WorkflowRun:
    return _run_view(await load_job(services, workflow_id, principal, "Workflow"))


@router.delete(
    "/api/v1/workflows/{workflow_id}",
    response_model=WorkflowRun,
    response_model_exclude_unset=True,
    summary="Cancel a workflow run",
)
async def cancel_workflow(
    workflow_id: str, services: ServicesDep, principal: Principal
) -> WorkflowRun:
    job = await load_job(services, workflow_id, principal, "Workflow")
    if job.terminal:
        raise ApiError(
            409,
            f"Workflow already finished with status {job.status.value}",
            field="workflow_id",
            code="ALREADY_FINISHED",
        )
    await services.job_manager.cancel.remote(job.token)
    return _run_view(await load_job(services, workflow_id, principal, "Workflow"))


@router.post(
    "/api/v1/workflows/suggest",
    response_model=SuggestResponse,
    summary="Suggest workflows for a context",
)
async def suggest_workflows(
    body: SuggestRequest, services: ServicesDep, principal: Principal
) -> SuggestResponse:
    datasets = await services.orchestrator.datasets.remote()
    return SuggestResponse.model_validate(
        {
            "suggestions": suggest(body.context, body.domain, body.complexity, datasets),
            "context": body.context,
            "domain": body.domain,
            "complexity": body.complexity,
            "generated_at": utc_now(),
        }
    )


_ARTIFACT_NAME = re.compile(r"^[\w.-]{1,200}\.png$")


@router.get(
    "/api/v1/artifacts/{name}",
    summary="A file a workflow produced (PNG charts)",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}}},
)
def artifact(name: str, services: ServicesDep, principal: Principal) -> FileResponse:
    """A chart of one of the caller's runs: another key's is not found, like a missing one."""
    root = Path(services.args.eda.output_dir).resolve()
    path = (root / name).resolve()
    if (
        not _ARTIFACT_NAME.match(name)
        or not name.startswith(f"{owner_tag(principal)}-")
        or path.parent != root
        or not path.is_file()
    ):
        raise ApiError(404, "Artifact not found", field="name", code="NOT_FOUND")
    return FileResponse(path, media_type="image/png")


@router.get(
    "/api/v1/agents",
    response_model=AgentsResponse,
    summary="Agents, their actions, params and outputs",
)
async def list_agents(services: ServicesDep, principal: Principal) -> AgentsResponse:
    return AgentsResponse.model_validate({"agents": await services.orchestrator.agents.remote()})


@router.post(
    "/workflows",
    response_model=LegacyWorkflowResponse,
    response_model_exclude_unset=True,
    summary="Legacy: natural language to DSL to result, synchronously",
)
async def legacy_workflow(
    body: LegacyWorkflowRequest,
    request: Request,
    response: Response,
    services: ServicesDep,
    principal: Principal,
) -> LegacyWorkflowResponse:
    await charge(services, principal or body.client_id, len(body.natural_language))
    datasets = await services.orchestrator.datasets.remote()
    try:
        workflow = plan(body.natural_language, services.languages, datasets)
    except PlanningError as exc:
        raise ApiError(
            422,
            "Could not plan a workflow for this request",
            field="natural_language",
            code="NEEDS_HUMAN",
            message=str(exc),
        ) from exc
    token = await _start(
        services, response, principal, workflow, body.client_id, DEFAULT_PRIORITY, {}
    )
    deadline = time.monotonic() + services.args.workflows.sync_wait_seconds
    job = await load_job(services, token, principal, "Workflow")
    while job.status not in TERMINAL and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        job = await load_job(services, token, principal, "Workflow")
    response.status_code = 200
    return LegacyWorkflowResponse.model_validate(
        {
            "natural_language": body.natural_language,
            "dsl": yaml.safe_dump(workflow, sort_keys=False, allow_unicode=True),
            **_run_view(job).model_dump(exclude_unset=True),
            "request_id": request_id_of(request),
        }
    )
