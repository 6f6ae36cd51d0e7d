"""The embedded job-store backend: one SQLite file in WAL mode, fsync'd on every commit."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from serve_app.jobs.model import Job
from serve_app.jobs.store import (
    DEFAULT_AGING_SECONDS,
    DEFAULT_RUNNING_PER_OWNER,
    Clock,
    JobStore,
)


class SQLiteJobStore(JobStore):
    """The embedded default: one SQLite file in WAL mode, fsync'd on every commit."""

    _SCHEMA = """
    CREATE TABLE IF NOT EXISTS jobs (
        token TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        status TEXT NOT NULL,
        priority INTEGER NOT NULL,
        created_at REAL NOT NULL,
        completed_at REAL,
        deadline_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        lease_expires_at REAL,
        data TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS jobs_expiry ON jobs (expires_at);
    CREATE TABLE IF NOT EXISTS totals (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    """
    _CONDITIONS: ClassVar[dict[str, str]] = {
        "lease_expired": "status = 'processing' AND lease_expires_at <= ?",
        "past_deadline": "status IN ('queued', 'processing') AND deadline_at <= ?",
        "past_ttl": "expires_at <= ?",
    }

    # Columns added after the first release, created on open when an older file lacks them.
    _ADDED_COLUMNS: ClassVar[dict[str, str]] = {
        "queue_key": "REAL",
        "lease_id": "TEXT",
        "owner": "TEXT",  # "" for none: the fair share of worker slots (JobStore.lease)
    }

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: str = "FULL",
        clock: Clock = time.time,
        aging_seconds: float = DEFAULT_AGING_SECONDS,
        running_per_owner: int = DEFAULT_RUNNING_PER_OWNER,
    ):
        super().__init__(clock, aging_seconds, running_per_owner)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous}")
        self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._db.executescript(self._SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        for name, kind in self._ADDED_COLUMNS.items():
            if name not in columns:
                self._db.execute(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")
        self._db.execute("CREATE INDEX IF NOT EXISTS jobs_queue_key ON jobs (status, queue_key)")
        self._db.execute("CREATE INDEX IF NOT EXISTS jobs_lease ON jobs (lease_id)")
        self._db.execute(
            "UPDATE jobs SET owner = IFNULL(json_extract(data, '$.owner'), '') WHERE owner IS NULL"
        )
        # The aging setting may have changed since these jobs were queued.
        self._db.execute(
            "UPDATE jobs SET queue_key = created_at - priority * ? WHERE status = 'queued'",
            (self.aging_seconds,),
        )

    @contextmanager
    def _atomic(self) -> Iterator[None]:
        with self._lock:
            if self._db.in_transaction:  # re-entrant: get() may finish a job inside lease()
                yield
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _load(self, token: str) -> Job | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM jobs WHERE token = ?", (token,)).fetchone()
        return Job.from_dict(json.loads(row[0])) if row else None

    def _save(self, job: Job) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO jobs (token, kind, status, priority, created_at, "
            "completed_at, deadline_at, expires_at, lease_expires_at, queue_key, lease_id, owner, "
            "data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                job.token,
                job.kind,
                job.status.value,
                job.priority,
                job.created_at,
                job.completed_at,
                job.deadline_at,
                job.expires_at,
                job.lease_expires_at,
                self.queue_key(job),
                job.lease_id,
                job.owner or "",
                json.dumps(job.to_dict()),
            ),
        )

    def _delete(self, tokens: list[str]) -> None:
        self._db.executemany("DELETE FROM jobs WHERE token = ?", [(token,) for token in tokens])

    def _token_of_lease(self, lease_id: str) -> str | None:
        row = self._db.execute("SELECT token FROM jobs WHERE lease_id = ?", (lease_id,)).fetchone()
        return row[0] if row else None

    def _next_queued(
        self, kinds: frozenset[str] | None, passed_over: frozenset[str] = frozenset()
    ) -> str | None:
        query = "SELECT token FROM jobs WHERE status = 'queued'"
        params: list[Any] = []
        if kinds is not None:
            query += f" AND kind IN ({','.join('?' * len(kinds))})"
            params += sorted(kinds)
        if passed_over:
            query += f" AND owner NOT IN ({','.join('?' * len(passed_over))})"
            params += sorted(passed_over)
        row = self._db.execute(
            query + " ORDER BY queue_key ASC, created_at ASC LIMIT 1", params
        ).fetchone()
        return row[0] if row else None

    def _running_owners(self) -> Counter[str]:
        rows = self._db.execute(
            "SELECT owner, COUNT(*) FROM jobs WHERE status = 'processing' GROUP BY owner"
        )
        return Counter({owner or "": n for owner, n in rows})

    def _tokens_where(self, condition: str, now: float) -> list[str]:
        sql = f"SELECT token FROM jobs WHERE {self._CONDITIONS[condition]}"  # noqa: S608 - fixed
        return [row[0] for row in self._db.execute(sql, (now,))]

    def _count_by_status(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status"))

    def _completed_since(self, since: float) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM jobs WHERE completed_at >= ? AND status = 'done'", (since,)
            ).fetchone()
        return int(row[0])

    def _oldest_queued_created_at(self) -> float | None:
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(created_at) FROM jobs WHERE status = 'queued'"
            ).fetchone()
        return None if row[0] is None else float(row[0])

    def _add_total(self, status: str) -> None:
        self._db.execute(
            "INSERT INTO totals (name, value) VALUES (?, 1) "
            "ON CONFLICT(name) DO UPDATE SET value = value + 1",
            (status,),
        )

    def _totals(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT name, value FROM totals"))

    def close(self) -> None:
        with self._lock:
            self._db.close()
