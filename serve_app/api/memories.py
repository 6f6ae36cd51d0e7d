"""Translation memories from the routes: reading an upload, finding the caller's memories
(its own only, with the corrections filed under each) and a request's matches in one."""

from __future__ import annotations

import asyncio
import time
import uuid

from serve_app.api import records
from serve_app.api.errors import ApiError
from serve_app.api.services import Services
from serve_app.engines.corrections import Correction
from serve_app.engines.memory import (
    MemoryFileError,
    MemoryLimits,
    MemoryUnit,
    TranslationMemory,
)
from serve_app.records import CORRECTION, MEMORY, correction_of, memory_of, memory_record
from serve_app.records.tmx import ReadMemory, read_tmx

WHAT = "memory"


def limits(services: Services) -> MemoryLimits:
    config = services.args.memories
    return MemoryLimits(max_units=config.max_units, max_segment_chars=config.max_segment_chars)


def too_large(message: str) -> ApiError:
    return ApiError(413, message, field="file", code="MEMORY_TOO_LARGE")


async def build(
    services: Services, data: bytes, name: str, owner: str | None
) -> tuple[TranslationMemory, int]:
    """A new memory from a TMX file's bytes, and how many of its units were left out: 413
    past a limit, 400 for a file that is not (safe, well-formed) TMX, 422 for one without a
    unit this service can use. Parsed in a worker thread (a large file takes seconds)."""
    try:
        read: ReadMemory = await asyncio.to_thread(
            read_tmx, data, services.languages, limits(services)
        )
    except MemoryFileError as exc:
        if exc.too_large:
            raise too_large(str(exc)) from exc
        raise ApiError(400, str(exc), field="file", code="INVALID_TMX") from exc
    if not read.units:
        raise ApiError(
            422,
            f"the file holds no unit in two languages this service knows ({read.skipped} left out)",
            field="file",
            code="EMPTY_MEMORY",
        )
    memory = TranslationMemory(
        uuid.uuid4().hex, records.owner_of(owner), name, time.time(), read.units
    )
    return memory, read.skipped


async def create(services: Services, memory: TranslationMemory, skipped: int) -> None:
    maximum = services.args.memories.max_per_owner
    record = await asyncio.to_thread(memory_record, memory, skipped)
    await records.create(services, MEMORY, record, maximum, WHAT, plural="memories")


def _filed(corrections: list[Correction], memory_id: str) -> tuple[MemoryUnit, ...]:
    """The corrections filed under memory ``memory_id`` as its units, oldest first (so the
    newest wins a sentence, as the newest correction does)."""
    return tuple(
        MemoryUnit(((c.source_language, c.text), (c.target_language, c.translation)))
        for c in sorted(corrections, key=lambda c: c.created_at)
        if c.memory_id == memory_id and c.source_language != c.target_language
    )


async def load(
    services: Services, memory_id: str, owner: str | None, field: str
) -> TranslationMemory:
    """The caller's memory ``memory_id`` with the corrections filed under it: 404 for an
    unknown one and for another key's (indistinguishable), read through the replica's
    short-lived cache (which keeps its indexes too)."""
    memory = services.memories.get(memory_id)
    if memory is None:
        memory = await _read(services, memory_id, owner, field)
        services.memories[memory_id] = memory
    if memory.owner != records.owner_of(owner):
        raise records.not_found(WHAT, field)
    return memory


async def _read(
    services: Services, memory_id: str, owner: str | None, field: str
) -> TranslationMemory:
    """The memory as it stands now. A memory's record is written once, so one this replica
    read before (``services.memory_bodies``, its indexes built) is used again while it is
    still listed: only its listing and its corrections are read, not its units, and the
    indexes (seconds to build at 100,000 units) are rebuilt only when a correction filed
    under it came or went."""
    filed: tuple[MemoryUnit, ...] = ()
    if services.args.corrections.enabled:
        listed = await records.listed(services, CORRECTION, owner)
        filed = _filed([correction_of(record) for record in listed], memory_id)
    known = services.memory_bodies.get(memory_id)
    if known is None or known.owner != records.owner_of(owner):
        found = await records.load(services, MEMORY, memory_id, owner, WHAT, field)
        known = await asyncio.to_thread(memory_of, found)
    elif memory_id not in {record.id for record in await records.listed(services, MEMORY, owner)}:
        services.memory_bodies.pop(memory_id, None)
        raise records.not_found(WHAT, field)
    memory = known.with_filed(filed)
    services.memory_bodies[memory_id] = memory
    return memory


async def delete(services: Services, memory_id: str, owner: str | None) -> None:
    """Deletes the caller's memory; 404 when it has none of that id."""
    await records.delete(services, MEMORY, memory_id, owner, WHAT, "memory_id")
    services.memories.pop(memory_id, None)
    services.memory_bodies.pop(memory_id, None)


def forget(services: Services, memory_id: str) -> None:
    """This replica reads the memory again (a correction was filed under it)."""
    services.memories.pop(memory_id, None)


def forget_owner(services: Services, owner: str) -> None:
    """This replica reads ``owner``'s memories again (a correction of theirs went)."""
    for memory_id, memory in list(services.memories.items()):
        if memory.owner == owner:
            services.memories.pop(memory_id, None)
