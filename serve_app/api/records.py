"""A client's records (glossaries, corrections) through the job manager: its own only."""

from __future__ import annotations

import re

from serve_app.api.errors import ApiError
from serve_app.api.job_access import from_store
from serve_app.api.services import Services
from serve_app.jobs.records import OwnedRecord, TooManyRecordsError

RECORD_ID = re.compile(r"^[0-9a-f]{32}$")
# Owner of the records when auth is off: one shared namespace.
ANONYMOUS = ""


def owner_of(principal: str | None) -> str:
    return principal or ANONYMOUS


def not_found(what: str, field: str) -> ApiError:
    return ApiError(
        404, f"{what.capitalize()} not found", field=field, code=f"{what.upper()}_NOT_FOUND"
    )


async def create(
    services: Services, kind: str, record: OwnedRecord, max_per_owner: int, what: str
) -> None:
    """Stores ``record``; 422 when its owner keeps ``max_per_owner`` of them already."""

    async def stored() -> bool:
        try:
            await services.job_manager.create_record.remote(kind, record, max_per_owner)
        except TooManyRecordsError:  # (Ray's error for it is one too)
            return False
        return True

    if not await from_store(stored()):
        raise ApiError(
            422,
            f"you keep {max_per_owner} {what}s already, the most allowed; delete one first",
            code=f"TOO_MANY_{what.upper()}S",
        )


async def load(
    services: Services, kind: str, record_id: str, principal: str | None, what: str, field: str
) -> OwnedRecord:
    """The caller's record: 404 for an unknown id and for another key's (indistinguishable)."""
    found: OwnedRecord | None = None
    if RECORD_ID.match(record_id):
        found = await from_store(services.job_manager.record.remote(kind, record_id))
    if found is None or found.owner != owner_of(principal):
        raise not_found(what, field)
    return found


async def listed(services: Services, kind: str, principal: str | None) -> list[OwnedRecord]:
    found: list[OwnedRecord] = await from_store(
        services.job_manager.list_records.remote(kind, owner_of(principal))
    )
    return found


async def delete(
    services: Services, kind: str, record_id: str, principal: str | None, what: str, field: str
) -> None:
    """Deletes the caller's record; 404 when it has none of that id."""
    deleted = RECORD_ID.match(record_id) and await from_store(
        services.job_manager.delete_record.remote(kind, record_id, owner_of(principal))
    )
    if not deleted:
        raise not_found(what, field)
