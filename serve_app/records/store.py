"""Where records are kept: in the job store's database (the same SQLite file, or the same
Redis), so that every replica (and, with Redis, every node) sees the same ones.

SQLite: the ``owned`` table beside the jobs. Redis: keys under the job store's prefix. Both
are what earlier releases wrote (the records then lived in ``serve_app/jobs``), read as they
are; a SQLite file from before per-record sizes gets its ``size`` column on open.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Protocol

from serve_app.records.model import (
    OwnedRecord,
    RecordKind,
    RecordsTooLargeError,
    TooManyRecordsError,
)


class RecordStore(Protocol):
    def create(
        self, kind: RecordKind, record: OwnedRecord, max_per_owner: int, max_size: int | None = None
    ) -> None:
        """Stores ``record``, unless its owner keeps ``max_per_owner`` of ``kind`` already
        (TooManyRecordsError) or their bodies and its would be longer than ``max_size``
        characters together (RecordsTooLargeError)."""
        ...

    def get(self, kind: RecordKind, record_id: str) -> OwnedRecord | None: ...

    def list(self, kind: RecordKind, owner: str) -> list[OwnedRecord]: ...

    def delete(self, kind: RecordKind, record_id: str, owner: str) -> bool: ...

    def expire(self, kind: RecordKind, before: float) -> int:
        """Deletes every record of ``kind`` created before ``before``; how many went."""
        ...

    def close(self) -> None: ...


class SQLiteRecords:
    """A table beside the jobs in the SQLite file (its own connection, WAL mode)."""

    _SCHEMA = """
    CREATE TABLE IF NOT EXISTS owned (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        owner TEXT NOT NULL,
        created_at REAL NOT NULL,
        summary TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    );
    CREATE INDEX IF NOT EXISTS owned_by ON owned (kind, owner, created_at);
    """

    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(self._SCHEMA)
        # Each body's length, kept beside it: a quota sums these, not megabytes of bodies.
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(owned)")}
        if "size" not in columns:
            self._db.execute("ALTER TABLE owned ADD COLUMN size INTEGER")
        self._db.execute("UPDATE owned SET size = LENGTH(body) WHERE size IS NULL")

    def create(
        self, kind: RecordKind, record: OwnedRecord, max_per_owner: int, max_size: int | None = None
    ) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                count, size = self._db.execute(
                    "SELECT COUNT(*), IFNULL(SUM(size), 0) FROM owned WHERE kind = ? AND owner = ?",
                    (kind, record.owner),
                ).fetchone()
                if count >= max_per_owner:
                    raise TooManyRecordsError(record.owner)
                if max_size is not None and size + len(record.body) > max_size:
                    raise RecordsTooLargeError(record.owner)
                self._db.execute(
                    "INSERT INTO owned (kind, id, owner, created_at, summary, body, size) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        kind,
                        record.id,
                        record.owner,
                        record.created_at,
                        json.dumps(record.summary, ensure_ascii=False),
                        record.body,
                        len(record.body),
                    ),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def get(self, kind: RecordKind, record_id: str) -> OwnedRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT owner, created_at, summary, body FROM owned WHERE kind = ? AND id = ?",
                (kind, record_id),
            ).fetchone()
        if row is None:
            return None
        owner, created_at, summary, body = row
        return OwnedRecord(record_id, owner, created_at, json.loads(summary), body)

    def list(self, kind: RecordKind, owner: str) -> list[OwnedRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, created_at, summary FROM owned WHERE kind = ? AND owner = ? "
                "ORDER BY created_at",
                (kind, owner),
            ).fetchall()
        return [
            OwnedRecord(id_, owner, created, json.loads(summary)) for id_, created, summary in rows
        ]

    def delete(self, kind: RecordKind, record_id: str, owner: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM owned WHERE kind = ? AND id = ? AND owner = ?",
                (kind, record_id, owner),
            )
        return cursor.rowcount > 0

    def expire(self, kind: RecordKind, before: float) -> int:
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM owned WHERE kind = ? AND created_at < ?", (kind, before)
            )
        return cursor.rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()


class RedisRecords:
    """``{prefix}:{kind}:{id}`` (a hash: owner, created_at, summary, body) and
    ``{prefix}:{kind}:owner:{owner}`` (a sorted set of ids by creation; ids are hex, so the
    two never meet), no TTL."""

    def __init__(self, url: str, *, prefix: str = "tafsiri", client: Any = None) -> None:
        import redis

        self._redis: Any = client or redis.Redis.from_url(url, decode_responses=True)
        self._prefix = prefix

    def _key(self, kind: RecordKind, record_id: str) -> str:
        return f"{self._prefix}:{kind}:{record_id}"

    def _owned(self, kind: RecordKind, owner: str) -> str:
        return f"{self._prefix}:{kind}:owner:{owner}"

    def create(
        self, kind: RecordKind, record: OwnedRecord, max_per_owner: int, max_size: int | None = None
    ) -> None:
        owned = self._owned(kind, record.owner)

        def add(pipe: Any) -> None:
            if pipe.zcard(owned) >= max_per_owner:  # read under WATCH: a race retries
                raise TooManyRecordsError(record.owner)
            if max_size is not None and self._size(kind, owned) + len(record.body) > max_size:
                raise RecordsTooLargeError(record.owner)
            pipe.multi()
            pipe.hset(
                self._key(kind, record.id),
                mapping={
                    "owner": record.owner,
                    "created_at": repr(record.created_at),
                    "summary": json.dumps(record.summary, ensure_ascii=False),
                    "body": record.body,
                },
            )
            pipe.zadd(owned, {record.id: record.created_at})

        self._redis.transaction(add, owned)

    def _size(self, kind: RecordKind, owned: str) -> int:
        """The length of the bodies listed in ``owned`` (records are written once, and the
        list is WATCHed by the caller: a record added or deleted meanwhile retries)."""
        with self._redis.pipeline(transaction=False) as reads:
            for record_id in self._redis.zrange(owned, 0, -1):
                reads.hstrlen(self._key(kind, record_id), "body")
            return sum(reads.execute())

    def get(self, kind: RecordKind, record_id: str) -> OwnedRecord | None:
        found = self._redis.hgetall(self._key(kind, record_id))
        if not found:
            return None
        return OwnedRecord(
            record_id,
            found["owner"],
            float(found["created_at"]),
            json.loads(found["summary"]),
            found["body"],
        )

    def list(self, kind: RecordKind, owner: str) -> list[OwnedRecord]:
        ids = self._redis.zrange(self._owned(kind, owner), 0, -1, withscores=True)
        if not ids:
            return []
        with self._redis.pipeline(transaction=False) as pipe:
            for record_id, _ in ids:
                pipe.hget(self._key(kind, record_id), "summary")
            summaries = pipe.execute()
        return [
            OwnedRecord(record_id, owner, created_at, json.loads(summary))
            for (record_id, created_at), summary in zip(ids, summaries, strict=True)
            if summary is not None
        ]

    def delete(self, kind: RecordKind, record_id: str, owner: str) -> bool:
        key = self._key(kind, record_id)

        def remove(pipe: Any) -> bool:
            if pipe.hget(key, "owner") != owner:
                return False
            pipe.multi()
            pipe.delete(key)
            pipe.zrem(self._owned(kind, owner), record_id)
            return True

        deleted: bool = self._redis.transaction(remove, key, value_from_callable=True)
        return deleted

    def expire(self, kind: RecordKind, before: float) -> int:
        expired = 0
        for owned in self._redis.scan_iter(match=self._owned(kind, "*"), count=500):
            ids = self._redis.zrangebyscore(owned, "-inf", f"({before!r}")
            if ids:
                with self._redis.pipeline() as pipe:
                    pipe.delete(*(self._key(kind, record_id) for record_id in ids))
                    pipe.zrem(owned, *ids)
                    pipe.execute()
                expired += len(ids)
        return expired

    def close(self) -> None:
        self._redis.close()
