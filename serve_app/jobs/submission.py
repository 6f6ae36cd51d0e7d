"""The rules of a new job: its deadline, lifetime and retries, and when it should be done."""

from __future__ import annotations

import time
from typing import Any

from serve_app.config import JobsConfig
from serve_app.jobs.model import Job, JobKind, QueueStats, new_token

# Rough cost of one job of each kind on one worker, for estimates before any job finished.
DEFAULT_SECONDS = {
    JobKind.WORKFLOW_PLANNING: 2.0,
    JobKind.TEXT_TRANSLATION: 5.0,
    JobKind.WORKFLOW_RUN: 10.0,
}


def new_job(
    config: JobsConfig,
    kind: JobKind,
    payload: dict[str, Any],
    *,
    client_id: str,
    owner: str | None,
    priority: int,
    metadata: dict[str, Any],
) -> Job:
    """A queued job under ``config``'s time limit, lifetime and retry budget."""
    now = time.time()
    return Job(
        token=new_token(),
        kind=kind,
        payload=payload,
        client_id=client_id,
        owner=owner,
        priority=priority,
        created_at=now,
        deadline_at=now + config.timeout_seconds,
        expires_at=now + config.ttl_seconds,
        max_retries=config.max_retries,
        metadata=metadata,
    )


def estimated_seconds(stats: QueueStats | None, kind: JobKind) -> int:
    """When a job submitted now should be done: the jobs ahead of it at the recent rate, or
    at a rough per-kind cost before any job has finished (or when no stats are at hand)."""
    if stats is None:
        return max(1, round(DEFAULT_SECONDS[kind]))
    ahead = stats.queue_depth + stats.processing
    if stats.completed_last_minute:
        return max(1, round((ahead + 1) * 60 / stats.completed_last_minute))
    return max(1, round((ahead + 1) * DEFAULT_SECONDS[kind]))
