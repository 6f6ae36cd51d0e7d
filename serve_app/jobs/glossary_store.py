"""Glossaries in the job store's database: the same SQLite file or the same Redis, so every
replica (and, with Redis, every node) sees the same glossaries.

A glossary is written once (create) and deleted once; there is no update, so a reader may
keep one it read for a while (the ingress does, ``glossaries.cache_seconds``).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from serve_app.config import JobsConfig
from serve_app.engines.glossary import Glossary, GlossaryEntry


class TooManyGlossariesError(Exception):
    """The owner keeps as many glossaries as allowed already."""


@dataclass(frozen=True)
class GlossarySummary:
    id: str
    name: str
    created_at: float
    entry_count: int
    language_pairs: list[tuple[str, str]]


def _summary(glossary: Glossary) -> GlossarySummary:
    return GlossarySummary(
        glossary.id,
        glossary.name,
        glossary.created_at,
        len(glossary.entries),
        glossary.language_pairs,
    )


def _entries_json(glossary: Glossary) -> str:
    return json.dumps([asdict(entry) for entry in glossary.entries], ensure_ascii=False)


def _entries(raw: str) -> list[GlossaryEntry]:
    return [GlossaryEntry(**entry) for entry in json.loads(raw)]


class GlossaryStore(Protocol):
    def create(self, glossary: Glossary, max_per_owner: int) -> None: ...

    def get(self, glossary_id: str) -> Glossary | None: ...

    def list(self, owner: str) -> list[GlossarySummary]: ...

    def delete(self, glossary_id: str, owner: str) -> bool: ...

    def close(self) -> None: ...


class SQLiteGlossaryStore:
    """A table beside the jobs in the SQLite file (its own connection, WAL mode)."""

    _SCHEMA = """
    CREATE TABLE IF NOT EXISTS glossaries (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at REAL NOT NULL,
        entry_count INTEGER NOT NULL,
        pairs TEXT NOT NULL,
        entries TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS glossaries_owner ON glossaries (owner, created_at);
    """

    def __init__(self, path: str | Path) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(self._SCHEMA)

    def create(self, glossary: Glossary, max_per_owner: int) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                (count,) = self._db.execute(
                    "SELECT COUNT(*) FROM glossaries WHERE owner = ?", (glossary.owner,)
                ).fetchone()
                if count >= max_per_owner:
                    raise TooManyGlossariesError(glossary.owner)
                self._db.execute(
                    "INSERT INTO glossaries VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        glossary.id,
                        glossary.owner,
                        glossary.name,
                        glossary.created_at,
                        len(glossary.entries),
                        json.dumps(glossary.language_pairs),
                        _entries_json(glossary),
                    ),
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def get(self, glossary_id: str) -> Glossary | None:
        with self._lock:
            row = self._db.execute(
                "SELECT owner, name, created_at, entries FROM glossaries WHERE id = ?",
                (glossary_id,),
            ).fetchone()
        if row is None:
            return None
        owner, name, created_at, entries = row
        return Glossary(glossary_id, owner, name, created_at, _entries(entries))

    def list(self, owner: str) -> list[GlossarySummary]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, name, created_at, entry_count, pairs FROM glossaries "
                "WHERE owner = ? ORDER BY created_at",
                (owner,),
            ).fetchall()
        return [
            GlossarySummary(id_, name, created, count, [tuple(p) for p in json.loads(pairs)])
            for id_, name, created, count, pairs in rows
        ]

    def delete(self, glossary_id: str, owner: str) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM glossaries WHERE id = ? AND owner = ?", (glossary_id, owner)
            )
        return cursor.rowcount > 0

    def close(self) -> None:
        with self._lock:
            self._db.close()


class RedisGlossaryStore:
    """``{prefix}:glossary:{id}`` (a hash: owner, name, created_at, summary, entries) and
    ``{prefix}:glossaries:{owner}`` (a sorted set of ids by creation), no TTL."""

    def __init__(self, url: str, *, prefix: str = "tafsiri", client: Any = None) -> None:
        import redis

        self._redis: Any = client or redis.Redis.from_url(url, decode_responses=True)
        self._prefix = prefix

    def _key(self, glossary_id: str) -> str:
        return f"{self._prefix}:glossary:{glossary_id}"

    def _owned(self, owner: str) -> str:
        return f"{self._prefix}:glossaries:{owner}"

    def create(self, glossary: Glossary, max_per_owner: int) -> None:
        owned = self._owned(glossary.owner)
        summary = json.dumps(asdict(_summary(glossary)), ensure_ascii=False)

        def add(pipe: Any) -> None:
            if pipe.zcard(owned) >= max_per_owner:  # read under WATCH: a race retries
                raise TooManyGlossariesError(glossary.owner)
            pipe.multi()
            pipe.hset(
                self._key(glossary.id),
                mapping={
                    "owner": glossary.owner,
                    "summary": summary,
                    "entries": _entries_json(glossary),
                },
            )
            pipe.zadd(owned, {glossary.id: glossary.created_at})

        self._redis.transaction(add, owned)

    def get(self, glossary_id: str) -> Glossary | None:
        found = self._redis.hgetall(self._key(glossary_id))
        if not found:
            return None
        summary = json.loads(found["summary"])
        return Glossary(
            glossary_id,
            found["owner"],
            summary["name"],
            summary["created_at"],
            _entries(found["entries"]),
        )

    def list(self, owner: str) -> list[GlossarySummary]:
        ids = self._redis.zrange(self._owned(owner), 0, -1)
        if not ids:
            return []
        with self._redis.pipeline(transaction=False) as pipe:
            for glossary_id in ids:
                pipe.hget(self._key(glossary_id), "summary")
            summaries = pipe.execute()
        return [
            GlossarySummary(
                **{**summary, "language_pairs": [tuple(p) for p in summary["language_pairs"]]}
            )
            for raw in summaries
            if raw is not None and (summary := json.loads(raw))
        ]

    def delete(self, glossary_id: str, owner: str) -> bool:
        key = self._key(glossary_id)

        def remove(pipe: Any) -> bool:
            if pipe.hget(key, "owner") != owner:
                return False
            pipe.multi()
            pipe.delete(key)
            pipe.zrem(self._owned(owner), glossary_id)
            return True

        deleted: bool = self._redis.transaction(remove, key, value_from_callable=True)
        return deleted

    def close(self) -> None:
        self._redis.close()


def open_glossaries(config: JobsConfig) -> GlossaryStore:
    """The glossary store in the job store's database."""
    if config.backend == "sqlite":
        return SQLiteGlossaryStore(config.sqlite_path)
    return RedisGlossaryStore(config.redis_url, prefix=config.redis_prefix)
