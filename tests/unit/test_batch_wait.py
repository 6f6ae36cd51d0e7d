"""BatchWait: no wait while idle, a bounded gathering wait while a batch runs."""

from __future__ import annotations

import time

from deployments.batching import BatchWait


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
    assert batch.waits == [0.0]  # idle: the first request's batch leaves at once
    assert wait.idle
    with wait.running():
        assert not wait.idle
        # While it runs, the next batch gathers for about as long as batches take (the cap
        # before any has been timed).
        assert batch.waits[-1] == 0.05
        time.sleep(0.01)
    assert batch.waits[-1] == 0.0  # idle again
    with wait.running():
        # Now a running estimate between the measured 10 ms and the cap.
        assert 0.01 <= batch.waits[-1] <= 0.05
        assert wait.busy == 1
        with wait.running():  # a second batch running too: still gathering
            assert wait.busy == 2
        assert batch.waits[-1] != 0.0
    assert batch.waits[-1] == 0.0
    assert wait.busy == 0


def test_a_fixed_timer_when_not_work_conserving() -> None:
    batch = Recorded()
    wait = BatchWait(batch)
    wait.configure(0.05, work_conserving=False)
    assert not wait.idle  # a fixed timer: every request waits for its batch
    with wait.running():
        pass
    assert batch.waits == [0.05]
