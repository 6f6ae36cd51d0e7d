"""Jobs of the async token API: the record, its states and the rules between them."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from serve_app.priority import DEFAULT_PRIORITY


class JobStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    ERROR = "error"
    TIMEOUT = "timeout"
    NEEDS_HUMAN = "needs_human"


class JobKind(StrEnum):
    """What a job does. The stored values are the API's (``nl_to_dsl`` is planning natural
    language into a workflow: the contract calls it a "translation" to DSL)."""

    TEXT_TRANSLATION = "text_translation"
    WORKFLOW_PLANNING = "nl_to_dsl"
    WORKFLOW_RUN = "workflow_run"


TERMINAL = frozenset({JobStatus.DONE, JobStatus.ERROR, JobStatus.TIMEOUT, JobStatus.NEEDS_HUMAN})

# 128 bits from the OS CSPRNG, as 32 lowercase hex characters.
TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")


def new_token() -> str:
    return secrets.token_hex(16)


def is_token(value: str) -> bool:
    return bool(TOKEN_RE.match(value))


def owner_tag(owner: str | None) -> str:
    """A short, stable tag of a job's owner (an API key's id; None without auth): the files
    a job writes (charts) start with it, so only the owner's key can read them back."""
    return hashlib.sha256(f"owner:{owner or ''}".encode()).hexdigest()[:12]


def run_id_of(job: Job) -> str:
    """A workflow run's id: its owner's tag and the start of its token (in chart names)."""
    return f"{owner_tag(job.owner)}-{job.token[:12]}"


@dataclass
class Job:
    """One accepted job. ``retries`` counts failed attempts that were queued again."""

    token: str
    kind: str
    payload: dict[str, Any]
    client_id: str = "default"
    owner: str | None = None
    priority: int = DEFAULT_PRIORITY
    status: JobStatus = JobStatus.QUEUED
    created_at: float = field(default_factory=time.time)
    updated_at: float = 0.0
    completed_at: float | None = None
    # Past this the job answers `timeout`; past `expires_at` it is forgotten (404).
    deadline_at: float = 0.0
    expires_at: float = 0.0
    attempts: int = 0
    retries: int = 0
    max_retries: int = 3
    lease_id: str | None = None
    lease_owner: str | None = None
    lease_expires_at: float | None = None
    result: dict[str, Any] | None = None
    error_message: str | None = None
    error_details: dict[str, Any] | None = None
    progress_done: int = 0
    progress_total: int = 0
    # Live detail a worker publishes while running (per-task state of a workflow run).
    detail: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.status = JobStatus(self.status)
        if not self.updated_at:
            self.updated_at = self.created_at

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Job:
        return cls(**data)


@dataclass(frozen=True)
class Lease:
    """A job handed to a worker until ``expires_at``; only ``lease_id`` may settle it."""

    job: Job
    lease_id: str
    expires_at: float


@dataclass
class QueueStats:
    queue_depth: int
    processing: int
    by_status: dict[str, int]
    completed_last_minute: int
    oldest_queued_age_seconds: float
    totals: dict[str, int]
