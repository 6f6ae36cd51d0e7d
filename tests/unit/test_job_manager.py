"""The job manager's long polling, on the real SQLite store without Ray: an idle worker's
lease call waits in the manager and takes a job the moment one becomes leasable."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from serve_app.jobs import actors
from serve_app.jobs.actors import JobManager, QueueSignal
from serve_app.jobs.model import Job, JobStatus, Lease, new_token


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[JobManager]:
    manager = JobManager({"sqlite_path": str(tmp_path / "jobs.db"), "max_retries": 2})
    yield manager
    manager._stop.set()
    manager.store.close()


def new_job() -> Job:
    now = time.time()
    return Job(
        token=new_token(),
        kind="text_translation",
        payload={"texts": ["x"]},
        priority=5,
        created_at=now,
        deadline_at=now + 300,
        expires_at=now + 3600,
        max_retries=2,
    )


def lease_in_thread(manager: JobManager, wait_s: float) -> tuple[threading.Thread, dict]:
    """A worker slot's long-poll on a thread: its lease and how long it waited."""
    outcome: dict = {}

    def poll() -> None:
        started = time.monotonic()
        outcome["lease"] = manager.lease("worker-1", wait_s=wait_s)
        outcome["waited"] = time.monotonic() - started

    thread = threading.Thread(target=poll)
    thread.start()
    return thread, outcome


def test_a_waiting_lease_takes_a_job_submitted_meanwhile_at_once(manager: JobManager) -> None:
    thread, outcome = lease_in_thread(manager, wait_s=20)
    time.sleep(0.3)  # the call is waiting in the manager by now
    job = new_job()
    manager.submit(job)
    thread.join(timeout=10)
    assert not thread.is_alive()
    lease: Lease = outcome["lease"]
    assert lease.job.token == job.token
    assert 0.3 <= outcome["waited"] < 5  # woken by the submit, not by its 20 s wait ending


def test_an_idle_lease_call_returns_nothing_when_its_wait_ends(manager: JobManager) -> None:
    started = time.monotonic()
    assert manager.lease("worker-1", wait_s=0.4) is None
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    assert manager.lease("worker-1") is None  # no wait asked: an immediate answer
    assert time.monotonic() - started < 0.2


@pytest.mark.parametrize("back", ["failed with retries left", "handed back"])
def test_a_job_back_in_the_queue_wakes_a_waiting_worker(manager: JobManager, back: str) -> None:
    job = new_job()
    manager.submit(job)
    first = manager.lease("worker-0")
    assert first is not None
    thread, outcome = lease_in_thread(manager, wait_s=20)
    time.sleep(0.3)
    if back == "handed back":
        assert manager.release(job.token, first.lease_id)
    else:
        assert manager.fail(job.token, first.lease_id, "boom") is JobStatus.QUEUED
    thread.join(timeout=10)
    assert outcome["lease"].job.token == job.token
    assert outcome["waited"] < 5


def test_no_call_waits_longer_than_the_cap(
    manager: JobManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(actors, "MAX_LEASE_WAIT_S", 0.3)
    started = time.monotonic()
    assert manager.lease("worker-1", wait_s=600) is None
    assert time.monotonic() - started < 3


def test_a_change_between_looking_and_waiting_is_not_missed() -> None:
    signal = QueueSignal()
    seen = signal.version
    signal.notify()  # lands after the caller looked at the queue, before it waits
    started = time.monotonic()
    assert signal.wait_past(seen, timeout=10)
    assert time.monotonic() - started < 1
    assert not signal.wait_past(signal.version, timeout=0.1)
