"""Corrections per API key: submit a better translation, list them (the audit), delete one."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Response

from serve_app.api import corrections
from serve_app.api.errors import error_responses
from serve_app.api.schemas import CorrectionCreate, CorrectionListResponse, CorrectionOut
from serve_app.api.security import Principal
from serve_app.api.services import ServicesDep
from serve_app.engines.corrections import Correction

router = APIRouter(
    prefix="/api/v1/corrections",
    tags=["corrections"],
    responses=error_responses(400, 401, 403, 404, 413, 422, 503),
)


def _out(correction: Correction) -> CorrectionOut:
    return CorrectionOut(
        id=correction.id,
        text=correction.text,
        translation=correction.translation,
        source_language=correction.source_language,
        target_language=correction.target_language,
        original=correction.original,
        memory_id=correction.memory_id,
        created_at=datetime.fromtimestamp(correction.created_at, UTC),
        created_by=correction.owner or None,
    )


@router.post(
    "",
    status_code=201,
    response_model=CorrectionOut,
    summary="Submit a better translation of a text (served before the model from then on)",
)
async def create_correction(
    body: CorrectionCreate, services: ServicesDep, principal: Principal
) -> CorrectionOut:
    corrections.check_enabled(services)
    correction = corrections.build(services, body, principal)
    await corrections.create(services, correction)
    return _out(correction)


@router.get("", response_model=CorrectionListResponse, summary="Your corrections, oldest first")
async def list_corrections(services: ServicesDep, principal: Principal) -> CorrectionListResponse:
    corrections.check_enabled(services)
    found = await corrections.listed(services, principal)
    return CorrectionListResponse(corrections=[_out(c) for c in found])


@router.delete(
    "/{correction_id}",
    status_code=204,
    response_class=Response,
    summary="Withdraw a correction",
)
async def delete_correction(
    correction_id: str, services: ServicesDep, principal: Principal
) -> Response:
    corrections.check_enabled(services)
    await corrections.delete(services, correction_id, principal)
    return Response(status_code=204)
