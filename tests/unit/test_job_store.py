"""The job store's state machine, identical over SQLite and a real redis-server."""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from serve_app.config import JobsConfig
from serve_app.jobs.actors import open_store
from serve_app.jobs.model import Job, JobStatus, is_token, new_token
from serve_app.jobs.redis_store import LockLostError, RedisJobStore
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
    owner: str | None = None,
) -> Job:
    return Job(
        owner=owner,
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


def test_one_owner_cannot_fill_every_slot(
    clock_and_store: tuple[FakeClock, JobStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An owner with ``running_per_owner`` (2) jobs running is passed over while anyone
    else's job waits, however far ahead its own jobs queue; nobody else waiting, it gets
    every slot."""
    monkeypatch.setattr("serve_app.jobs.redis_store.SCAN_CHUNK", 3)  # scans past a chunk
    clock, store = clock_and_store
    heavy = []
    for _ in range(8):
        clock.now += 1
        heavy.append(store.submit(job(clock, priority=10, owner="heavy")).token)
    anonymous = store.submit(job(clock, priority=1)).token
    clock.now += 1
    light = store.submit(job(clock, priority=1, owner="light")).token

    def next_token() -> str:
        lease = store.lease("w", 30)
        assert lease is not None
        return lease.job.token

    assert [next_token(), next_token()] == heavy[:2]
    assert [next_token(), next_token()] == [anonymous, light]  # others first, however queued
    assert next_token() == heavy[2]  # nobody else waits: no slot idles
    heavy_lease = store.lease("w", 30)
    assert heavy_lease is not None
    assert heavy_lease.job.token == heavy[3]
    # One of heavy's four finishes: three still run, so another owner's job goes first.
    assert store.complete(heavy[3], heavy_lease.lease_id, {"ok": True})
    clock.now += 1
    later = store.submit(job(clock, priority=1, owner="light")).token
    assert next_token() == later
    assert next_token() == heavy[4]  # nobody else waits again


def two_of_heavys_running(store: JobStore, clock: FakeClock) -> tuple[list[str], str]:
    """Three jobs of "heavy" queued ahead of one of "light", and two of heavy's leased."""
    heavy = []
    for _ in range(3):
        clock.now += 1
        heavy.append(store.submit(job(clock, priority=10, owner="heavy")).token)
    light = store.submit(job(clock, priority=1, owner="light")).token
    assert store.lease("w", 30) is not None
    assert store.lease("w", 30) is not None
    return heavy, light


def test_redis_jobs_from_before_the_owners_hash_are_counted(
    redis_url: str,
) -> None:
    """Jobs queued or running under a release that kept no owners: read back on open."""
    clock = FakeClock()
    prefix = f"test-{uuid.uuid4().hex}"
    store = RedisJobStore(redis_url, prefix=prefix, clock=clock)
    _, light = two_of_heavys_running(store, clock)
    store._redis.delete(f"{prefix}:owners")  # as an older release left it
    store.close()
    reopened = RedisJobStore(redis_url, prefix=prefix, clock=clock)
    lease = reopened.lease("w", 30)
    assert lease is not None
    assert lease.job.token == light
    reopened.close()


def test_sqlite_file_before_owners_is_read_fairly(tmp_path: Path) -> None:
    """A job file written before the owner column: owners are read back from the jobs."""
    clock = FakeClock()
    path = tmp_path / "jobs.db"
    store = SQLiteJobStore(path, clock=clock)
    heavy, light = two_of_heavys_running(store, clock)
    store._db.execute("ALTER TABLE jobs DROP COLUMN owner")  # as an older release left it
    store.close()
    reopened = SQLiteJobStore(path, clock=clock)
    lease = reopened.lease("w", 30)
    assert lease is not None
    assert lease.job.token == light
    lease = reopened.lease("w", 30)
    assert lease is not None
    assert lease.job.token == heavy[2]
    reopened.close()


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
        self.expires: dict[str, float] = {}
        self.counter = itertools.count()

    @rule(priority=st.integers(1, 10))
    def submit(self, priority: int) -> None:
        new = self.store.submit(
            job(self.clock, priority, max_retries=1, timeout=10_000, ttl=20_000)
        )
        self.expected[new.token] = JobStatus.QUEUED
        self.expires[new.token] = new.expires_at

    @rule()
    def lease(self) -> None:
        queued = [t for t, s in self.expected.items() if s is JobStatus.QUEUED]
        lease = self.store.lease("w", 30)
        if not queued:
            assert lease is None
            return
        assert lease is not None
        assert lease.job.token in queued
        # Priority with aging: the smallest queue key goes first.
        first = min(self.store.queue_key(self.store.get(t)) for t in queued)  # type: ignore[arg-type]
        assert self.store.queue_key(lease.job) == first
        self.expected[lease.job.token] = JobStatus.PROCESSING
        self.leases[lease.job.token] = lease.lease_id

    @precondition(lambda self: self.leases)
    @rule(data=st.data())
    def complete(self, data: st.DataObject) -> None:
        token = data.draw(st.sampled_from(list(self.leases)))
        value = next(self.counter)
        assert self.store.complete(token, self.leases.pop(token), {"value": value})
        self.expected[token] = JobStatus.DONE
        self.results[token] = value

    @precondition(lambda self: self.leases)
    @rule(data=st.data())
    def fail(self, data: st.DataObject) -> None:
        token = data.draw(st.sampled_from(list(self.leases)))
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

    @precondition(lambda self: self.expected)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        token = data.draw(st.sampled_from(list(self.expected)))
        before = self.expected[token]
        cancelled = self.store.cancel(token)
        assert cancelled is not None
        if before in (JobStatus.QUEUED, JobStatus.PROCESSING):
            self.expected[token] = JobStatus.ERROR
            self.leases.pop(token, None)
            assert cancelled.error_details
            assert cancelled.error_details["cancelled"] is True
        assert cancelled.status is self.expected[token]

    @precondition(lambda self: self.expected)
    @rule(data=st.data())
    def stale_heartbeat_is_refused(self, data: st.DataObject) -> None:
        token = data.draw(st.sampled_from(list(self.expected)))
        assert not self.store.heartbeat(token, uuid.uuid4().hex, 30, (1, 2))
        assert self.store.get(token).status is self.expected[token]  # type: ignore[union-attr]

    @precondition(lambda self: self.leases)
    @rule(data=st.data())
    def complete_while_sweeps_run_in_another_thread(self, data: st.DataObject) -> None:
        token = data.draw(st.sampled_from(list(self.leases)))
        stop = threading.Event()

        def sweep() -> None:
            while not stop.is_set():
                self.store.sweep()

        sweeper = threading.Thread(target=sweep)
        sweeper.start()
        try:
            value = next(self.counter)
            assert self.store.complete(token, self.leases.pop(token), {"value": value})
        finally:
            stop.set()
            sweeper.join()
        self.expected[token] = JobStatus.DONE
        self.results[token] = value

    @rule()
    def deadlines_pass(self) -> None:
        """Past every deadline: whatever had not finished is `timeout` (leases included)."""
        self.clock.now += 10_001
        self.store.sweep()
        for token, status in self.expected.items():
            if status in (JobStatus.QUEUED, JobStatus.PROCESSING):
                self.expected[token] = JobStatus.TIMEOUT
        self.leases.clear()
        self._forget_expired()

    def _forget_expired(self) -> None:
        for token in [t for t, at in self.expires.items() if at <= self.clock.now]:
            assert self.store.get(token) is None
            del self.expected[token], self.expires[token]
            self.results.pop(token, None)

    @rule()
    def lifetimes_end(self) -> None:
        """Past every TTL: every token is forgotten."""
        self.clock.now += 20_001
        self.store.sweep()
        self._forget_expired()
        assert not self.expected
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


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_atomic_sections_exclude_other_threads(
    backend: str, tmp_path: Path, redis_url: str
) -> None:
    """A second thread (the job manager's sweeper beside an actor call) waits for the first
    to leave its atomic section, and re-entry within one thread still works."""
    store = make_store(backend, tmp_path, redis_url, FakeClock())
    inside, release, entered = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with store._atomic(), store._atomic():  # re-entrant within the thread
            inside.set()
            release.wait(10)

    def second() -> None:
        with store._atomic():
            entered.set()

    holder = threading.Thread(target=first)
    holder.start()
    assert inside.wait(10)
    other = threading.Thread(target=second)
    other.start()
    assert not entered.wait(0.5), "a second thread entered while the first was inside"
    release.set()
    holder.join()
    assert entered.wait(10)
    other.join()
    # Both sections left cleanly: a third one still excludes (nothing is stuck or skipped).
    with store._atomic():
        pass
    store.close()


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_concurrent_workers_and_sweeps_keep_one_result_per_job(
    backend: str, tmp_path: Path, redis_url: str
) -> None:
    """Real time, short leases: workers in threads lease, heartbeat and complete while a
    sweeper thread requeues lapsed leases. A job whose complete() was accepted stays done
    with that result; no job ends with two results or back in the queue."""
    store = make_store(backend, tmp_path, redis_url, time.time)  # type: ignore[arg-type]
    submitted_at = FakeClock()
    submitted_at.now = time.time()
    tokens = [store.submit(job(submitted_at, timeout=600, max_retries=20)).token for _ in range(40)]
    accepted: dict[str, str] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def sweeper() -> None:
        while not stop.is_set():
            store.sweep()

    def worker(name: str) -> None:
        while not stop.is_set():
            lease = store.lease(name, 0.05)
            if lease is None:
                stats = store.stats()
                if stats.queue_depth == stats.processing == 0:
                    return
                time.sleep(0.01)  # a lapsed lease may come back to the queue
                continue
            time.sleep(0.01 * (hash(lease.lease_id) % 4))  # some leases lapse
            store.heartbeat(lease.job.token, lease.lease_id, 0.05)
            if store.complete(lease.job.token, lease.lease_id, {"by": lease.lease_id}):
                with lock:
                    assert lease.job.token not in accepted, "two results accepted"
                    accepted[lease.job.token] = lease.lease_id

    threads = [threading.Thread(target=sweeper)]
    threads += [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads[1:]:
        thread.join(60)
    stop.set()
    threads[0].join(60)
    for token in tokens:
        final = store.get(token)
        assert final is not None
        assert final.status is JobStatus.DONE, final
        assert final.result == {"by": accepted[token]}
    store.close()


def test_redis_writes_after_the_lock_expired_are_refused(redis_url: str) -> None:
    """Fencing: a holder that stalled past the lock's expiry (simulated: the lock now holds
    another owner's token) cannot overwrite what the new owner wrote."""
    store = RedisJobStore(redis_url, prefix=f"test-{uuid.uuid4().hex}", clock=FakeClock())
    queued = store.submit(job(FakeClock()))
    queued.status = JobStatus.DONE
    with store._atomic():
        store._redis.set(store._lock_key, "another-holder")
        with pytest.raises(LockLostError):
            store._save(queued)
    assert store.get(queued.token).status is JobStatus.QUEUED  # type: ignore[union-attr]
    store._redis.delete(store._lock_key)
    store.close()


def test_a_retried_submit_returns_the_stored_job(
    clock_and_store: tuple[FakeClock, JobStore],
) -> None:
    clock, store = clock_and_store
    first = job(clock)
    stored = store.submit(first)
    again = store.submit(Job.from_dict(first.to_dict()))  # the same job, sent again
    assert again.token == stored.token
    assert store.stats().queue_depth == 1
    other = job(clock)
    other.token = first.token
    other.payload = {"n": 2}
    with pytest.raises(ValueError, match="already exists"):
        store.submit(other)


def test_a_retried_lease_returns_the_same_job(clock_and_store: tuple[FakeClock, JobStore]) -> None:
    """Ray retries a call whose actor died before answering: the same lease id gets the same
    job back, instead of leasing a second one whose lease then lapses and burns a retry."""
    clock, store = clock_and_store
    store.submit(job(clock, priority=5))
    clock.now += 1
    store.submit(job(clock, priority=5))
    first = store.lease("w", 30, lease_id="attempt-1")
    again = store.lease("w", 30, lease_id="attempt-1")
    assert first is not None
    assert again is not None
    assert (again.job.token, again.lease_id) == (first.job.token, "attempt-1")
    assert store.stats().queue_depth == 1
    other = store.lease("w", 30, lease_id="attempt-2")
    assert other is not None
    assert other.job.token != first.job.token


def test_old_low_priority_jobs_are_not_starved(
    clock_and_store: tuple[FakeClock, JobStore],
) -> None:
    """Aging (60 s per level by default): a priority-1 job that has waited more than 9 levels'
    worth overtakes a new priority-10 job; one that has waited less does not."""
    clock, store = clock_and_store
    old = store.submit(job(clock, priority=1, timeout=3000))
    clock.now += 9 * 60 - 5
    newer = store.submit(job(clock, priority=10, timeout=3000))
    assert store.lease("w", 30).job.token == newer.token  # type: ignore[union-attr]
    clock.now += 10
    newest = store.submit(job(clock, priority=10, timeout=3000))
    assert store.lease("w", 30).job.token == old.token  # type: ignore[union-attr]
    assert store.lease("w", 30).job.token == newest.token  # type: ignore[union-attr]


def test_redis_durability_is_checked_at_start(redis_url: str, tmp_path: Path) -> None:
    """The test server runs without AOF: the check names it, and `require` refuses."""
    store = RedisJobStore(redis_url, prefix=f"test-{uuid.uuid4().hex}")
    problems = store.durability_problems()
    assert any("appendonly is off" in problem for problem in problems)
    store.close()
    config = JobsConfig(backend="redis", redis_url=redis_url, redis_durability="require")
    with pytest.raises(RuntimeError, match="appendonly is off"):
        open_store(config)
    warned = open_store(config.model_copy(update={"redis_durability": "warn"}))
    warned.close()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"ttl_seconds": 60, "timeout_seconds": 300}, "ttl_seconds may not be shorter"),
        ({"lease_seconds": 600, "timeout_seconds": 300}, "lease_seconds may not exceed"),
    ],
)
def test_job_time_settings_that_contradict_each_other_are_refused(
    settings: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        JobsConfig.model_validate(settings)


def test_release_hands_a_job_back_without_counting_a_retry(
    clock_and_store: tuple[FakeClock, JobStore],
) -> None:
    """A worker shutting down gives its job back: queued at once, no retry spent; a stale
    lease cannot release it."""
    clock, store = clock_and_store
    submitted = store.submit(job(clock, max_retries=0))
    lease = store.lease("w1", 30)
    assert lease is not None
    store.heartbeat(submitted.token, lease.lease_id, 30, (3, 10))
    assert not store.release(submitted.token, "stale-lease")
    assert store.release(submitted.token, lease.lease_id)
    back = store.get(submitted.token)
    assert back is not None
    assert (back.status, back.retries, back.progress_done) == (JobStatus.QUEUED, 0, 0)
    again = store.lease("w2", 30)
    assert again is not None
    assert again.job.token == submitted.token
    assert store.complete(submitted.token, again.lease_id, {"ok": True})
