"""Translation memories per API key: upload a TMX file, list, get, export as TMX, delete."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile

from serve_app.api import memories, records
from serve_app.api.errors import ApiError, error_responses
from serve_app.api.routes.documents import content_disposition
from serve_app.api.schemas import MemoryCreated, MemoryListResponse, MemorySummaryOut
from serve_app.api.security import Principal, charge, client_key
from serve_app.api.services import ServicesDep
from serve_app.engines.memory import TranslationMemory
from serve_app.records import MEMORY, OwnedRecord
from serve_app.records.tmx import write_tmx

UPLOAD_PATH = "/api/v1/memories"
TMX_MEDIA_TYPE = "application/x-tmx+xml"
router = APIRouter(
    prefix=UPLOAD_PATH,
    tags=["memories"],
    responses=error_responses(400, 401, 404, 413, 422, 429, 503),
)


def _summary(found: TranslationMemory | OwnedRecord) -> MemorySummaryOut:
    if isinstance(found, TranslationMemory):
        name, count, languages = found.name, len(found.units), found.languages
    else:
        summary = found.summary
        name, count, languages = summary["name"], summary["entry_count"], summary["languages"]
    return MemorySummaryOut(
        id=found.id,
        name=name,
        created_at=datetime.fromtimestamp(found.created_at, UTC),
        entry_count=count,
        languages=languages,
    )


@router.post(
    "",
    status_code=201,
    response_model=MemoryCreated,
    summary="Upload a translation memory (TMX 1.4b)",
)
async def create_memory(
    request: Request,
    services: ServicesDep,
    principal: Principal,
    file: Annotated[UploadFile, File(description="A TMX file (UTF-8 XML).")],
    name: Annotated[
        str | None, Form(max_length=200, description="The file's name when omitted.")
    ] = None,
) -> MemoryCreated:
    """413 past `memories.max_bytes` or `memories.max_units`; 400 for a file that is not
    well-formed TMX or declares XML entities; 422 for one with no unit in two known
    languages, or past `memories.max_per_owner`."""
    limit = services.args.memories.max_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise memories.too_large(f"the file is larger than the {limit} bytes allowed")
    if not data:
        raise ApiError(400, "the file is empty", field="file", code="INVALID_TMX")
    await charge(services, client_key(request, principal), len(data), kind="upload_bytes")
    title = name or PurePath(file.filename or "").stem or "memory"
    memory, skipped = await memories.build(services, data, title, principal)
    await memories.create(services, memory, skipped)
    return MemoryCreated(**_summary(memory).model_dump(), skipped=skipped)


@router.get("", response_model=MemoryListResponse, summary="Your translation memories")
async def list_memories(services: ServicesDep, principal: Principal) -> MemoryListResponse:
    found = await records.listed(services, MEMORY, principal)
    return MemoryListResponse(memories=[_summary(record) for record in found])


@router.get(
    "/{memory_id}",
    response_model=MemorySummaryOut,
    summary="One translation memory (its units counted with the corrections filed under it)",
)
async def get_memory(
    memory_id: str, services: ServicesDep, principal: Principal
) -> MemorySummaryOut:
    return _summary(await memories.load(services, memory_id, principal, "memory_id"))


@router.get(
    "/{memory_id}/export",
    response_class=Response,
    responses={200: {"content": {TMX_MEDIA_TYPE: {}}}},
    summary="A translation memory as a TMX 1.4b file (with the corrections filed under it)",
)
async def export_memory(memory_id: str, services: ServicesDep, principal: Principal) -> Response:
    memory = await memories.load(services, memory_id, principal, "memory_id")
    data = await asyncio.to_thread(write_tmx, memory.units, services.languages)
    return Response(
        data,
        media_type=TMX_MEDIA_TYPE,
        headers={"Content-Disposition": content_disposition(f"{memory.name}.tmx")},
    )


@router.delete("/{memory_id}", status_code=204, response_class=Response, summary="Delete a memory")
async def delete_memory(memory_id: str, services: ServicesDep, principal: Principal) -> Response:
    await memories.delete(services, memory_id, principal)
    return Response(status_code=204)
