"""The job store's state machine, identical over SQLite and a real redis-server."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from serve_app.jobs.model import Job, JobStatus, is_token, new_token
from serve_app.jobs.redis_store import RedisJobStore
from serve_app.jobs.sqlite_store import SQLiteJobStore
from serve_app.jobs.store import JobStore


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def make_store(kind: str, tmp_path: Path, redis_url: str, clock: FakeClock) -> JobStore:
    if kind == "sqlite":
        return SQLiteJobStore(tmp_path / f"jobs-{uuid.uuid4().hex}.db", clock=clock)
    return RedisJobStore(redis_url, prefix=f"test-{uuid.uuid4().hex}", clock=clock)


@pytest.fixture(params=["sqlite", "redis"])
def clock_and_store(
    request: pytest.FixtureRequest, tmp_path: Path, redis_url: str
) -> Iterator[tuple[FakeClock, JobStore]]:
    clock = FakeClock()
    store = make_store(request.param, tmp_path, redis_url, clock)
    yield clock, store
    store.close()


def job(
    clock: FakeClock,
    priority: int = 5,
    kind: str = "text_translation",
    timeout: float = 300,
    ttl: float = 3600,
    max_retries: int = 2,
) -> Job:
    return Job(
        token=new_token(),
        kind=kind,
        payload={"n": 1},
        priority=priority,
        created_at=clock.now,
        deadline_at=clock.now + timeout,
        expires_at=clock.now + ttl,
        max_retries=max_retries,
    )


def test_tokens_are_128_bit_hex() -> None:
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(is_token(t) and len(t) == 32 for t in tokens)
    assert not is_token("invalid-token")
    assert not is_token("A" * 32)


def test_priority_then_age_ordering(clock_and_store: tuple[FakeClock, JobStore]) -> None:
    clock, store = clock_and_store
    submitted = []
    for priority in (5, 9, 5, 1, 9):
        clock.now += 1
        submitted.append(store.submit(job(clock, priority)))
    order = [store.lease("w", 30).job.token for _ in range(5)]  # type: ignore[union-attr]
    expected = sorted(submitted, key=lambda j: (-j.priority, j.created_at))
    assert order == [j.token for j in expected]
    assert store.lease("w", 30) is None


def test_kinds_filter(clock_and_store: tuple[FakeClock, JobStore]) -> None:
    clock, store = clock_and_store
    store.submit(job(clock, kind="a"))
    wanted = store.submit(job(clock, kind="b", priority=1))
    lease = store.lease("w", 30, frozenset({"b"}))
    assert lease is not None
    assert lease.job.token == wanted.token


def test_complete_once_and_stale_worker_refused(
    clock_and_store: tuple[FakeClock, JobStore],
) -> None:
    clock, store = clock_and_store
    token = store.submit(job(clock)).token
    first = store.lease("worker-1", 10)
    assert first is not None
    clock.now += 11  # worker-1 dies silently; its lease runs out
    second = store.lease("worker-2", 10)
    assert second is not None
    assert second.job.token == token
    assert second.job.retries == 1
    assert second.job.attempts == 2
    assert store.complete(token, first.lease_id, {"by": 1}) is False
    assert store.complete(token, second.lease_id, {"by": 2}) is True
    assert store.complete(token, second.lease_id, {"by": 3}) is False
    done = store.get(token)
    assert done is not None
    assert done.status is JobStatus.DONE
    assert done.result == {"by": 2}


def test_retries_then_error(clock_and_store: tuple[FakeClock, JobStore]) -> None:
    clock, store = clock_and_store
    token = store.submit(job(clock, max_retries=2)).token
    statuses = []
    for _ in range(3):
        lease = store.lease("w", 30)
        assert lease is not None
        statuses.append(store.fail(token, lease.lease_id, "boom"))
    assert statuses == [JobStatus.QUEUED, JobStatus.QUEUED, JobStatus.ERROR]
    failed = store.get(token)
    assert failed is not None
    assert failed.error_message == "failed after 3 attempts: boom"
    assert failed.error_details == {"retries": 2, "last_error": "boom"}


def test_non_retryable_failure_and_needs_human(clock_and_store: tuple[FakeClock, JobStore]) -> None:
    clock, store = clock_and_store
    token = store.submit(job(clock)).token
    lease = store.lease("w", 30)
    assert lease is not None
    status = store.fail(
        token, lease.lease_id, "no valid plan", retryable=False, status=JobStatus.NEEDS_HUMAN
    )
    assert status is JobStatus.NEEDS_HUMAN
    assert store.get(token).status is JobStatus.NEEDS_HUMAN  # type: ignore[union-attr]


def test_deadline_gives_timeout(clock_and_store: tuple[FakeClock, JobStore]) -> None:
    clock, store = clock_and_store
    queued = store.submit(job(clock, timeout=5)).token
    running = store.submit(job(clock, timeout=5)).token
    lease = store.lease("w", 60)
    assert lease is not None
    clock.now += 6
    assert store.get(queued).status is JobStatus.TIMEOUT  # type: ignore[union-attr]
    assert store.sweep()["timed_out"] == 1
    assert store.get(running).status is JobStatus.TIMEOUT  # type: ignore[union-attr]
    assert store.complete(running, lease.lease_id, {}) is False


def test_ttl_forgets_jobs(clock_and_store: tuple[FakeClock, JobStore]) -> None:
    clock, store = clock_and_store
    token = store.submit(job(clock, ttl=100, timeout=50)).token
    clock.now += 101
    assert store.get(token) is None
    assert store.sweep()["expired"] == 1


def test_heartbeat_extends_lease_and_records_progress(
    clock_and_store: tuple[FakeClock, JobStore],
) -> None:
    clock, store = clock_and_store
    token = store.submit(job(clock)).token
    lease = store.lease("w", 10)
    assert lease is not None
    clock.now += 8
    assert store.heartbeat(token, lease.lease_id, 10, progress=(3, 7))
    clock.now += 8
    assert store.lease("other", 10) is None  # still held thanks to the heartbeat
    current = store.get(token)
    assert current is not None
    assert (current.progress_done, current.progress_total) == (3, 7)
    assert not store.heartbeat(token, "not-the-lease", 10)


def test_stats(clock_and_store: tuple[FakeClock, JobStore]) -> None:
    clock, store = clock_and_store
    for _ in range(3):
        store.submit(job(clock))
    clock.now += 10
    lease = store.lease("w", 30)
    assert lease is not None
    store.complete(lease.job.token, lease.lease_id, {})
    stats = store.stats()
    assert stats.queue_depth == 2
    assert stats.processing == 0
    assert stats.by_status["done"] == 1
    assert stats.completed_last_minute == 1
    assert stats.oldest_queued_age_seconds == pytest.approx(10)
    assert stats.totals["submitted"] == 3
    assert stats.totals["done"] == 1


def test_sqlite_state_survives_reopen(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "jobs.db"
    store = SQLiteJobStore(path, clock=clock)
    tokens = [store.submit(job(clock)).token for _ in range(5)]
    lease = store.lease("w", 30)
    assert lease is not None
    store.close()  # the owning process dies
    reopened = SQLiteJobStore(path, clock=clock)
    assert all(reopened.get(t) is not None for t in tokens)
    assert reopened.get(lease.job.token).status is JobStatus.PROCESSING  # type: ignore[union-attr]
    clock.now += 31
    assert reopened.sweep()["requeued"] == 1
    assert reopened.stats().queue_depth == 5


class JobStoreMachine(RuleBasedStateMachine):
    """Random sequences of operations against a model of what each job must be."""

    backend = "sqlite"
    tmp_root: Path
    redis_url = ""

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.store = make_store(self.backend, self.tmp_root, self.redis_url, self.clock)
        self.expected: dict[str, JobStatus] = {}
        self.leases: dict[str, str] = {}
        self.results: dict[str, int] = {}
        self.counter = itertools.count()

    @rule(priority=st.integers(1, 10))
    def submit(self, priority: int) -> None:
        new = self.store.submit(job(self.clock, priority, max_retries=1, timeout=10_000))
        self.expected[new.token] = JobStatus.QUEUED

    @rule()
    def lease(self) -> None:
        queued = [t for t, s in self.expected.items() if s is JobStatus.QUEUED]
        lease = self.store.lease("w", 30)
        if not queued:
            assert lease is None
            return
        assert lease is not None
        assert lease.job.token in queued
        top = max(self.store.get(t).priority for t in queued)  # type: ignore[union-attr]
        assert lease.job.priority == top
        self.expected[lease.job.token] = JobStatus.PROCESSING
        self.leases[lease.job.token] = lease.lease_id

    @precondition(lambda self: self.leases)
    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        token = data.draw(st.sampled_from(sorted(self.leases)))
        value = next(self.counter)
        assert self.store.complete(token, self.leases.pop(token), {"value": value})
        self.expected[token] = JobStatus.DONE
        self.results[token] = value

    @precondition(lambda self: self.leases)
    @rule(data=st.data())
    def fail(self, data: st.DataObject) -> None:
        token = data.draw(st.sampled_from(sorted(self.leases)))
        before = self.store.get(token)
        assert before is not None
        status = self.store.fail(token, self.leases.pop(token), "boom")
        assert status is (JobStatus.QUEUED if before.retries < 1 else JobStatus.ERROR)
        self.expected[token] = status

    @precondition(lambda self: self.leases)
    @rule()
    def leases_run_out(self) -> None:
        retries_before = {t: self.store.get(t).retries for t in self.leases}  # type: ignore[union-attr]
        self.clock.now += 31
        assert self.store.sweep()["requeued"] == len(self.leases)
        for token, retries in retries_before.items():
            # max_retries=1: a first lost lease queues the job again, a second one ends it.
            self.expected[token] = JobStatus.QUEUED if retries < 1 else JobStatus.ERROR
        self.leases.clear()

    @invariant()
    def every_job_is_where_the_model_says(self) -> None:
        for token, status in self.expected.items():
            current = self.store.get(token)
            assert current is not None
            assert current.status is status
            if status is JobStatus.DONE:
                assert current.result == {"value": self.results[token]}

    @invariant()
    def stats_agree(self) -> None:
        stats = self.store.stats()
        queued = sum(1 for s in self.expected.values() if s is JobStatus.QUEUED)
        processing = sum(1 for s in self.expected.values() if s is JobStatus.PROCESSING)
        assert (stats.queue_depth, stats.processing) == (queued, processing)

    def teardown(self) -> None:
        self.store.close()


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_state_machine(backend: str, tmp_path: Path, redis_url: str) -> None:
    machine = type(
        f"Machine_{backend}",
        (JobStoreMachine,),
        {"backend": backend, "tmp_root": tmp_path, "redis_url": redis_url},
    )
    # Each stateful step talks to a real store; under a loaded machine Hypothesis would count
    # that as slow data generation, which says nothing about the store.
    settings(
        max_examples=40,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )(machine).TestCase().runTest()
