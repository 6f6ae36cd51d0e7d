"""Named glossaries per API key: create, list, get, delete."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Response

from serve_app.api import glossaries, records
from serve_app.api.errors import error_responses
from serve_app.api.schemas import (
    GlossaryCreate,
    GlossaryEntryOut,
    GlossaryListResponse,
    GlossaryOut,
    GlossarySummaryOut,
    LanguagePairOut,
)
from serve_app.api.security import Principal
from serve_app.api.services import ServicesDep
from serve_app.engines.glossary import Glossary
from serve_app.records import GLOSSARY, OwnedRecord

router = APIRouter(
    prefix="/api/v1/glossaries",
    tags=["glossaries"],
    responses=error_responses(400, 401, 404, 413, 422, 503),
)


def _summary(found: Glossary | OwnedRecord) -> GlossarySummaryOut:
    if isinstance(found, Glossary):
        name, count, pairs = found.name, len(found.entries), found.language_pairs
    else:
        summary = found.summary
        name, count, pairs = summary["name"], summary["entry_count"], summary["language_pairs"]
    return GlossarySummaryOut(
        id=found.id,
        name=name,
        created_at=datetime.fromtimestamp(found.created_at, UTC),
        entry_count=count,
        language_pairs=[LanguagePairOut(source_language=s, target_language=t) for s, t in pairs],
    )


def _out(glossary: Glossary) -> GlossaryOut:
    return GlossaryOut(
        **_summary(glossary).model_dump(),
        entries=[
            GlossaryEntryOut(
                source_language=e.source_language,
                target_language=e.target_language,
                source=e.source,
                target=e.target,
            )
            for e in glossary.entries
        ],
    )


@router.post(
    "",
    status_code=201,
    response_model=GlossaryOut,
    summary="Create a glossary (entries as JSON or CSV)",
)
async def create_glossary(
    body: GlossaryCreate, services: ServicesDep, principal: Principal
) -> GlossaryOut:
    glossary = glossaries.build(services, body, principal)
    await glossaries.create(services, glossary)
    return _out(glossary)


@router.get("", response_model=GlossaryListResponse, summary="Your glossaries")
async def list_glossaries(services: ServicesDep, principal: Principal) -> GlossaryListResponse:
    found = await records.listed(services, GLOSSARY, principal)
    return GlossaryListResponse(glossaries=[_summary(record) for record in found])


@router.get("/{glossary_id}", response_model=GlossaryOut, summary="One glossary, with entries")
async def get_glossary(
    glossary_id: str, services: ServicesDep, principal: Principal
) -> GlossaryOut:
    return _out(await glossaries.load(services, glossary_id, principal, "glossary_id"))


@router.delete(
    "/{glossary_id}", status_code=204, response_class=Response, summary="Delete a glossary"
)
async def delete_glossary(
    glossary_id: str, services: ServicesDep, principal: Principal
) -> Response:
    await glossaries.delete(services, glossary_id, principal)
    return Response(status_code=204)
