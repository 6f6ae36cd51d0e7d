"""Work-conserving dynamic batching with Serve's own ``@serve.batch``.

A fixed ``batch_wait_timeout_s`` makes a lone request wait for company that never comes (a
one-sentence translate waited 50 ms for 4 ms of work). Setting it to 0 is not enough: Serve
forms the next batch *before* waiting for the running one, so under load it would split the
queue into many small batches. ``BatchWait`` changes the timeout with the engine's state:
0 while idle (a request's batch leaves at once); while a batch runs, the batch forming
behind it waits about as long as batches take (never more than the configured timeout),
gathering the requests that arrive meanwhile, and then runs as soon as the engine is free.

"0 while idle" is 1% of how long batches take, capped the same way: nothing for a small
model (a 5 ms batch waits 50 µs), but on an NLLB-sized one, whose batches take seconds, a
batch that just finished sends all its callers back at once, and the first of them must not
leave alone and split the rest into a second, concurrent batch: at 32 clients that halved the
throughput of the 600M (benchmarks/true_size.py, docs/benchmarks.md). 50 ms of gathering is
1% of one sentence's 5 s there.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Weight of the latest batch in the running estimate of how long batches take.
_RECENT_WEIGHT = 0.3
# While idle, a batch gathers for this share of how long batches take (capped).
IDLE_SHARE = 0.01


class BatchWait:
    def __init__(self, batch_method: Any) -> None:
        self._batch = batch_method  # the bound @serve.batch method
        self._running = 0
        self._recent_s = 0.0
        self._cap_s = 0.0
        self._work_conserving = True

    def configure(self, max_wait_s: float, work_conserving: bool) -> None:
        """``max_wait_s``: the longest a batch waits; a fixed timer unless work-conserving."""
        self._cap_s, self._work_conserving = max_wait_s, work_conserving
        self._recent_s = self._recent_s or max_wait_s
        self._set(self._idle_wait() if work_conserving and not self._running else max_wait_s)

    @property
    def idle(self) -> bool:
        """Work-conserving and no batch running: a request has nothing to wait for."""
        return self._work_conserving and not self._running

    @property
    def busy(self) -> int:
        """Batches running now."""
        return self._running

    @contextmanager
    def running(self) -> Iterator[None]:
        """Wraps the processing of one batch."""
        self._running += 1
        if self._work_conserving:
            self._set(min(self._recent_s, self._cap_s))
        started = time.perf_counter()
        try:
            yield
        finally:
            self._running -= 1
            elapsed = time.perf_counter() - started
            self._recent_s += _RECENT_WEIGHT * (elapsed - self._recent_s)
            if self._work_conserving and not self._running:
                self._set(self._idle_wait())

    def _idle_wait(self) -> float:
        return min(IDLE_SHARE * self._recent_s, self._cap_s)

    def _set(self, seconds: float) -> None:
        self._batch.set_batch_wait_timeout_s(seconds)
