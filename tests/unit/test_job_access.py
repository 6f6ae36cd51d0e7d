"""Who may read a job: with auth on only its owner's key; another key, or none, finds nothing
(a 404 indistinguishable from a token never issued)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from serve_app.api.errors import ApiError
from serve_app.api.job_access import load_job
from serve_app.api.security import hash_key
from serve_app.api.services import Services
from serve_app.config import AppArgs
from serve_app.jobs.model import Job, new_token


class _JobManager:
    """The JobManager's ``get`` as the routes call it (``.remote`` gives an awaitable)."""

    def __init__(self, jobs: dict[str, Job]) -> None:
        async def get(token: str) -> Job | None:
            return jobs.get(token)

        self.get = type("Call", (), {"remote": staticmethod(get)})


def services(jobs: dict[str, Job], auth: bool) -> Services:
    settings: dict[str, Any] = {}
    if auth:
        keys = [{"id": who, "sha256": hash_key(who)} for who in ("alice", "bob")]
        settings["auth"] = {"enabled": True, "api_keys": keys}
    return Services(
        None, None, None, AppArgs.model_validate(settings), job_manager=_JobManager(jobs)
    )


def owned_by(owner: str | None) -> Job:
    now = time.time()
    return Job(
        token=new_token(),
        kind="text_translation",
        payload={},
        owner=owner,
        created_at=now,
        deadline_at=now + 60,
        expires_at=now + 600,
    )


def test_with_auth_only_the_owner_reads_a_job() -> None:
    job = owned_by("alice")
    store = services({job.token: job}, auth=True)
    assert asyncio.run(load_job(store, job.token, "alice", "job")) is job
    for stranger in ("bob", None):
        with pytest.raises(ApiError) as refused:
            asyncio.run(load_job(store, job.token, stranger, "job"))
        assert refused.value.status == 404
        # The same answer as for a token nobody was given.
        with pytest.raises(ApiError) as unknown:
            asyncio.run(load_job(store, new_token(), stranger, "job"))
        assert str(refused.value.detail) == str(unknown.value.detail)


def test_without_auth_every_client_reads_every_job() -> None:
    job = owned_by(None)
    store = services({job.token: job}, auth=False)
    assert asyncio.run(load_job(store, job.token, None, "job")) is job
