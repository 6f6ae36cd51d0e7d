"""A client's records (glossaries, corrections, documents) through the record keeper: its own
only."""

from __future__ import annotations

import re

from serve_app.api.errors import ApiError
from serve_app.api.job_access import from_store
from serve_app.api.services import Services
from serve_app.records import (
    OwnedRecord,
    Quota,
    RecordKind,
    RecordsTooLargeError,
    TooManyRecordsError,
)

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
    services: Services,
    kind: RecordKind,
    record: OwnedRecord,
    max_per_owner: int,
    what: str,
    max_size: int | None = None,
    *,
    plural: str | None = None,
) -> None:
    """Stores ``record``; 422 when its owner keeps ``max_per_owner`` of them already, or
    when theirs and its bodies would pass ``max_size`` characters together (``plural``:
    ``what``'s plural, when it is not ``what`` + "s")."""
    plural = plural or f"{what}s"

    async def stored() -> str:
        try:
            await services.records.create.remote(kind, record, Quota(max_per_owner, max_size))
        except RecordsTooLargeError:  # (Ray's error for it is one too)
            return "size"
        except TooManyRecordsError:
            return "count"
        return ""

    refused = await from_store(stored())
    if refused == "size":
        raise ApiError(
            422,
            f"your {plural} and this one would take more storage than one key may keep; "
            "delete one first or wait for their jobs to expire",
            code="STORAGE_QUOTA_EXCEEDED",
        )
    if refused:
        raise ApiError(
            422,
            f"you keep {max_per_owner} {plural} already, the most allowed; delete one first",
            code=f"TOO_MANY_{plural.upper()}",
        )


async def load(
    services: Services,
    kind: RecordKind,
    record_id: str,
    principal: str | None,
    what: str,
    field: str,
) -> OwnedRecord:
    """The caller's record: 404 for an unknown id and for another key's (indistinguishable)."""
    found: OwnedRecord | None = None
    if RECORD_ID.match(record_id):
        found = await from_store(services.records.get.remote(kind, record_id, owner_of(principal)))
    if found is None or found.owner != owner_of(principal):
        raise not_found(what, field)
    return found


async def listed(services: Services, kind: RecordKind, principal: str | None) -> list[OwnedRecord]:
    found: list[OwnedRecord] = await from_store(
        services.records.list.remote(kind, owner_of(principal))
    )
    return found


async def delete(
    services: Services,
    kind: RecordKind,
    record_id: str,
    principal: str | None,
    what: str,
    field: str,
) -> None:
    """Deletes the caller's record; 404 when it has none of that id."""
    deleted = RECORD_ID.match(record_id) and await from_store(
        services.records.delete.remote(kind, record_id, owner_of(principal))
    )
    if not deleted:
        raise not_found(what, field)
