"""The records service: what the record keeper does with a store, Ray-free and typed.

Every read and delete is an owner's: a record of another owner is not found, so its body
never leaves the service for a caller who may not see it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from serve_app.config import JobsConfig
from serve_app.records.model import OwnedRecord, Quota, RecordKind
from serve_app.records.store import RecordStore, RedisRecords, SQLiteRecords


class RecordsSettings(BaseModel):
    """Where the records are and how long uploaded documents stay: the job store's database
    and the jobs' TTL (a document goes when the job translating it no longer answers), and
    nothing else of the jobs' settings, so that tuning the jobs leaves the keeper alone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["sqlite", "redis"]
    sqlite_path: str
    redis_url: str
    redis_prefix: str
    keeper_name: str
    namespace: str
    document_ttl_seconds: float = Field(gt=0)
    # Expired documents are looked for this often: they stay at most this long past the TTL,
    # and a Redis store is scanned this rarely.
    expire_interval_seconds: float = Field(30.0, gt=0)

    @classmethod
    def of(cls, jobs: JobsConfig) -> RecordsSettings:
        return cls(
            backend=jobs.backend,
            sqlite_path=jobs.sqlite_path,
            redis_url=jobs.redis_url,
            redis_prefix=jobs.redis_prefix,
            # Named after the job manager, so that each application's keeper is found (and
            # cleaned up) with its job manager.
            keeper_name=f"{jobs.manager_name}-records",
            namespace=jobs.namespace,
            document_ttl_seconds=jobs.ttl_seconds,
        )


def open_records(settings: RecordsSettings) -> RecordStore:
    """The record store in the job store's database."""
    if settings.backend == "sqlite":
        return SQLiteRecords(settings.sqlite_path)
    return RedisRecords(settings.redis_url, prefix=settings.redis_prefix)


class Records:
    """Records over a :class:`RecordStore`, each read and deletion on behalf of an owner."""

    def __init__(self, store: RecordStore) -> None:
        self._store = store

    def create(self, kind: RecordKind, record: OwnedRecord, quota: Quota) -> None:
        """Stores ``record`` within its owner's ``quota`` of ``kind``: TooManyRecordsError
        past the count, RecordsTooLargeError past the size."""
        self._store.create(kind, record, quota.count, quota.size)

    def get(self, kind: RecordKind, record_id: str, owner: str) -> OwnedRecord | None:
        """``owner``'s record ``record_id``, body and all; None for an unknown id and for
        another owner's (indistinguishable)."""
        found = self._store.get(kind, record_id)
        return found if found is not None and found.owner == owner else None

    def list(self, kind: RecordKind, owner: str) -> list[OwnedRecord]:
        """``owner``'s records of ``kind``, oldest first, without their bodies."""
        return self._store.list(kind, owner)

    def delete(self, kind: RecordKind, record_id: str, owner: str) -> bool:
        """Deletes ``owner``'s record ``record_id``; False when it has none of that id."""
        return self._store.delete(kind, record_id, owner)

    def expire(self, kind: RecordKind, before: float) -> int:
        """Deletes every record of ``kind`` created before ``before``; how many went."""
        return self._store.expire(kind, before)

    def close(self) -> None:
        self._store.close()
