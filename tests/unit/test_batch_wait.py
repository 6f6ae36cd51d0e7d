"""BatchWait: next to no wait while idle, a bounded gathering wait while a batch runs;
WorkerPool: flushes lent the free workers, merged while none is free."""

from __future__ import annotations

import asyncio
import time

import pytest

from deployments import batching
from deployments.batching import IDLE_SHARE, BatchWait, WorkerPool


class Recorded:
    """Stands in for a bound ``@serve.batch`` method: records the waits it is given."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def set_batch_wait_timeout_s(self, seconds: float) -> None:
        self.waits.append(seconds)


def test_idle_batches_leave_at_once_busy_ones_gather_up_to_the_cap() -> None:
    batch = Recorded()
    wait = BatchWait(batch)
    wait.configure(0.05, work_conserving=True)
    # Idle: the first request's batch leaves at once, but for 1% of a batch's time.
    assert batch.waits == [pytest.approx(IDLE_SHARE * 0.05)]
    assert wait.idle
    with wait.running():
        assert not wait.idle
        # While it runs, the next batch gathers for about as long as batches take (the cap
        # before any has been timed).
        assert batch.waits[-1] == 0.05
        time.sleep(0.01)
    assert 0.0 < batch.waits[-1] < IDLE_SHARE * 0.05  # idle again: 1% of ~38 ms
    with wait.running():
        # Now a running estimate between the measured 10 ms and the cap.
        assert 0.01 <= batch.waits[-1] <= 0.05
        assert wait.busy == 1
        with wait.running():  # a second batch running too: still gathering
            assert wait.busy == 2
        assert batch.waits[-1] >= 0.01
    assert batch.waits[-1] < IDLE_SHARE * 0.05
    assert wait.busy == 0


def test_after_long_batches_an_idle_batch_gathers_up_to_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An NLLB-sized model's batches take seconds: the callers a batch answers come back
    together, and the first must wait (up to the cap) for the others."""
    clock = iter([0.0, 30.0])
    monkeypatch.setattr(batching.time, "perf_counter", lambda: next(clock))
    batch = Recorded()
    wait = BatchWait(batch)
    wait.configure(0.05, work_conserving=True)
    with wait.running():
        pass  # "took" 30 s
    assert batch.waits[-1] == 0.05


def test_a_fixed_timer_when_not_work_conserving() -> None:
    batch = Recorded()
    wait = BatchWait(batch)
    wait.configure(0.05, work_conserving=False)
    assert not wait.idle  # a fixed timer: every request waits for its batch
    with wait.running():
        pass
    assert batch.waits == [0.05]


# --- WorkerPool: flushes lent the free workers, merged while they wait -------------------


class Engine:
    """Stands in for the decoding: records each flush (its calls and workers) and finishes
    it when the test says so."""

    def __init__(self) -> None:
        self.flushes: list[tuple[list[str], int]] = []
        self.release: dict[int, asyncio.Event] = {}

    async def work(self, calls: list[str], workers: int) -> list[str]:
        index = len(self.flushes)
        self.flushes.append((list(calls), workers))
        self.release[index] = asyncio.Event()
        await self.release[index].wait()
        if "boom" in calls:
            raise RuntimeError("decoding failed")
        return [call.upper() for call in calls]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_flushes_that_find_no_free_worker_wait_and_run_as_one() -> None:
    async def scenario() -> None:
        engine, pool = Engine(), WorkerPool(workers=2, gather_share=0.0)
        first = asyncio.ensure_future(pool.run("m", ["a", "b"], 1000, engine.work))
        await settle()
        assert engine.flushes == [(["a", "b"], 2)]  # alone: every worker
        second = asyncio.ensure_future(pool.run("m", ["c"], 1000, engine.work))
        third = asyncio.ensure_future(pool.run("m", ["d", "e"], 1000, engine.work))
        await settle()
        assert len(engine.flushes) == 1  # no worker free: they wait
        engine.release[0].set()
        await settle()
        assert engine.flushes[1] == (["c", "d", "e"], 2)  # merged, on both workers
        engine.release[1].set()
        assert await first == ["A", "B"]
        assert await second == ["C"]  # each caller gets its own outcomes back
        assert await third == ["D", "E"]
        assert pool.busy == 0

    asyncio.run(scenario())


def test_a_short_flush_takes_one_worker_and_leaves_the_other() -> None:
    async def scenario() -> None:
        engine, pool = Engine(), WorkerPool(workers=2, gather_share=0.0)
        one = asyncio.ensure_future(pool.run("m", ["a"], 40, engine.work))
        two = asyncio.ensure_future(pool.run("m", ["b"], 40, engine.work))
        await settle()
        assert engine.flushes == [(["a"], 1), (["b"], 1)]  # side by side
        assert pool.busy == 2
        for event in engine.release.values():
            event.set()
        assert await one == ["A"]
        assert await two == ["B"]

    asyncio.run(scenario())


def test_models_are_never_merged() -> None:
    async def scenario() -> None:
        engine, pool = Engine(), WorkerPool(workers=1, gather_share=0.0)
        first = asyncio.ensure_future(pool.run("m", ["a"], 10, engine.work))
        await settle()
        others = [
            asyncio.ensure_future(pool.run(key, [text], 10, engine.work))
            for key, text in (("n", "b"), ("m", "c"), ("n", "d"))
        ]
        await settle()
        engine.release[0].set()
        await settle()
        assert engine.flushes[1] == (["b", "d"], 1)  # the oldest waiting model first
        engine.release[1].set()
        await settle()
        assert engine.flushes[2] == (["c"], 1)
        engine.release[2].set()
        assert await first == ["A"]
        assert [await other for other in others] == [["B"], ["C"], ["D"]]

    asyncio.run(scenario())


def test_a_failed_flush_fails_every_caller_in_it_and_returns_its_workers() -> None:
    async def scenario() -> None:
        engine, pool = Engine(), WorkerPool(workers=1, gather_share=0.0)
        first = asyncio.ensure_future(pool.run("m", ["a"], 10, engine.work))
        await settle()
        second = asyncio.ensure_future(pool.run("m", ["boom"], 10, engine.work))
        third = asyncio.ensure_future(pool.run("m", ["c"], 10, engine.work))
        await settle()
        engine.release[0].set()
        await settle()
        engine.release[1].set()
        for failed in (second, third):
            with pytest.raises(RuntimeError, match="decoding failed"):
                await failed
        assert await first == ["A"]
        assert pool.busy == 0
        later = asyncio.ensure_future(pool.run("m", ["z"], 10, engine.work))
        await settle()
        engine.release[2].set()
        assert await later == ["Z"]  # the worker came back

    asyncio.run(scenario())


def test_after_a_flush_the_callers_it_answered_are_gathered_back() -> None:
    """At 32 clients on a big model, the callers a flush answers come back within a moment:
    a straggler waiting for a worker must not leave alone just before them."""

    async def scenario() -> None:
        now = [0.0]
        engine = Engine()
        pool = WorkerPool(workers=2, max_calls=4, gather_share=0.5, clock=lambda: now[0])
        first = asyncio.ensure_future(pool.run("m", ["a", "b", "c"], 1000, engine.work))
        await settle()
        straggler = asyncio.ensure_future(pool.run("m", ["d"], 1000, engine.work))
        await settle()
        now[0] = 1.0  # the flush took 1 s: gather for up to half of a (recent) flush
        engine.release[0].set()
        assert await first == ["A", "B", "C"]
        await settle()
        assert len(engine.flushes) == 1  # the straggler waits for them ...
        back = asyncio.ensure_future(pool.run("m", ["a2", "b2", "c2"], 1000, engine.work))
        await settle()
        # ... and leaves with them: full (max_calls), it need not wait out the gathering.
        assert engine.flushes[1] == (["d", "a2", "b2", "c2"], 2)
        engine.release[1].set()
        assert await straggler == ["D"]
        assert await back == ["A2", "B2", "C2"]

    asyncio.run(scenario())


def test_the_gathering_ends_on_its_own() -> None:
    async def scenario() -> None:
        skipped = [0.0]  # the flush "takes" a second without the test waiting for it
        engine = Engine()
        pool = WorkerPool(workers=1, gather_share=1.0, clock=lambda: skipped[0] + time.monotonic())
        first = asyncio.ensure_future(pool.run("m", ["a"], 10, engine.work))
        await settle()
        straggler = asyncio.ensure_future(pool.run("m", ["b"], 10, engine.work))
        await settle()
        skipped[0] = 1.0
        engine.release[0].set()
        await first
        await settle()
        assert len(engine.flushes) == 1  # gathering: 0.3 s (all of the recent flush's time)
        await asyncio.sleep(0.6)
        assert engine.flushes[1] == (["b"], 1)  # nobody came: it left anyway
        engine.release[1].set()
        assert await straggler == ["B"]

    asyncio.run(scenario())


def test_a_burst_on_an_idle_pool_leaves_as_one_flush() -> None:
    """A burst's callers arrive over a moment: the first must not leave alone with the
    workers while the rest wait a whole flush behind it."""

    async def scenario() -> None:
        skipped = [0.0]
        engine = Engine()
        pool = WorkerPool(workers=2, gather_share=1.0, clock=lambda: skipped[0] + time.monotonic())
        first = asyncio.ensure_future(pool.run("m", ["a"], 1000, engine.work))
        await settle()
        skipped[0] = 1.0  # it "took" a second: flushes now gather for 0.3 s
        engine.release[0].set()
        await first
        skipped[0] = 100.0  # long idle since
        burst = [asyncio.ensure_future(pool.run("m", ["b"], 1000, engine.work))]
        await settle()
        assert len(engine.flushes) == 1  # the first of the burst waits for the others
        burst.append(asyncio.ensure_future(pool.run("m", ["c"], 1000, engine.work)))
        await asyncio.sleep(0.6)
        assert engine.flushes[1] == (["b", "c"], 2)
        engine.release[1].set()
        assert [await one for one in burst] == [["B"], ["C"]]

    asyncio.run(scenario())
