"""Corrections from the routes: accepting one, and the caller's table of them.

A correction may be filed under one of the caller's translation memories (``memory_id``):
it is then a unit of that memory too, found by its sentences and exported with it, for as
long as the correction stands (withdrawing it takes it out of the memory). It stays a
correction: the whole text it corrects is answered by it with or without the memory."""

from __future__ import annotations

import logging
import time
import unicodedata
import uuid

from serve_app.api import memories, records
from serve_app.api.errors import ApiError
from serve_app.api.schemas import CorrectionCreate
from serve_app.api.services import Services
from serve_app.api.validation import language_code
from serve_app.engines.corrections import Correction, Corrections
from serve_app.records import CORRECTION, correction_of, correction_record

log = logging.getLogger("ray.serve")


def check_enabled(services: Services) -> None:
    if not services.args.corrections.enabled:
        raise ApiError(
            403,
            "Corrections are disabled on this server (corrections.enabled)",
            code="CORRECTIONS_DISABLED",
        )


def _checked(value: str, field: str, limit: int) -> str:
    if len(value) > limit:
        raise ApiError(
            413, f"longer than {limit} characters", field=field, code="PAYLOAD_TOO_LARGE"
        )
    if not value.strip():
        raise ApiError(422, "empty", field=field, code="INVALID_CORRECTION")
    if any(unicodedata.category(c) in ("Cc", "Cs") and c not in "\t\n\r" for c in value):
        raise ApiError(422, "holds control characters", field=field, code="INVALID_CORRECTION")
    return value


def build(services: Services, body: CorrectionCreate, principal: str | None) -> Correction:
    """A correction from ``body`` (languages normalised, sizes and characters checked)."""
    limit = services.args.api.max_text_chars
    return Correction(
        id=uuid.uuid4().hex,
        owner=records.owner_of(principal),
        created_at=time.time(),
        source_language=language_code(body.source_language, services.languages, "source_language"),
        target_language=language_code(body.target_language, services.languages, "target_language"),
        text=_checked(body.text, "text", limit),
        # A translation may run longer than its source; within reason.
        translation=_checked(body.translation, "translation", 4 * limit),
        original=None if body.original is None else _checked(body.original, "original", 4 * limit),
        memory_id=body.memory_id,
    )


async def create(services: Services, correction: Correction) -> None:
    """Stores ``correction``; 404 when it names a memory the caller does not have."""
    if correction.memory_id is not None:
        await memories.load(services, correction.memory_id, correction.owner, "memory_id")
    maximum = services.args.corrections.max_per_owner
    await records.create(services, CORRECTION, correction_record(correction), maximum, "correction")
    services.corrections.pop(correction.owner, None)  # this replica serves it at once
    if correction.memory_id is not None:
        memories.forget(services, correction.memory_id)
    # The audit trail: who corrected what, when (the texts themselves stay in the store).
    log.info(
        "correction_created",
        extra={
            "event": "correction_created",
            "correction_id": correction.id,
            "owner": correction.owner or None,
            "source_language": correction.source_language,
            "target_language": correction.target_language,
            "memory_id": correction.memory_id,
        },
    )


async def delete(services: Services, correction_id: str, principal: str | None) -> None:
    owner = records.owner_of(principal)
    await records.delete(
        services, CORRECTION, correction_id, principal, "correction", "correction_id"
    )
    services.corrections.pop(owner, None)
    memories.forget_owner(services, owner)  # it may have been one of their units
    log.info(
        "correction_deleted",
        extra={
            "event": "correction_deleted",
            "correction_id": correction_id,
            "owner": owner or None,
        },
    )


async def listed(services: Services, principal: str | None) -> list[Correction]:
    return [correction_of(r) for r in await records.listed(services, CORRECTION, principal)]


async def table(services: Services, principal: str | None) -> Corrections | None:
    """The caller's corrections to serve (None when corrections are off), read through the
    replica's short-lived cache."""
    if not services.args.corrections.enabled:
        return None
    owner = records.owner_of(principal)
    found = services.corrections.get(owner)
    if found is None:
        found = Corrections(await listed(services, principal))
        services.corrections[owner] = found
    return found
