"""BatchWait: next to no wait while idle, a bounded gathering wait while a batch runs."""

from __future__ import annotations

import time

import pytest

from deployments import batching
from deployments.batching import IDLE_SHARE, BatchWait


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
