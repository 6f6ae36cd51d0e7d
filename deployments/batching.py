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

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


# A flush that is not full leaves no sooner than this share of how long flushes take (at
# most _GATHER_CAP_S) after its first caller arrived or workers were last freed: the callers
# a finished flush answered come straight back, and a burst's callers arrive over a few
# hundred milliseconds; neither should be split into a small flush and a long wait behind
# it. Nothing for a small model (2% of a 20 ms flush); 0.5 s on the 600M, whose flushes of
# 32 sentences take 24 s on two cores.
GATHER_SHARE = 0.02
_GATHER_CAP_S = 1.0
# A flush's share of the workers is one per this many characters of text (at least one):
# a one-sentence request takes one worker and leaves the others to the next flush.
CHARS_PER_WORKER = 200


@dataclass(eq=False)
class _Group:
    """Calls one ``@serve.batch`` flush handed over, and the future their outcomes go to."""

    calls: list[Any]
    chars: int
    done: asyncio.Future[list[Any]]
    arrived: float


# Decodes calls on so many workers: their outcomes, in order.
Work = Callable[[list[Any], int], Awaitable[list[Any]]]


@dataclass(eq=False)
class _Queue:
    """The flushes waiting for one model, and how to decode them."""

    groups: list[_Group]
    work: Work


class WorkerPool:
    """A replica's CTranslate2 workers, lent to the flushes Serve's batcher forms.

    Serve forms a flush as soon as its wait ends, whether a worker is free or not. Alone,
    that kept the callers of each flush together for good: they came back together and
    formed a flush of their own, and at 32 clients the 600M ran as three fixed groups of 7,
    12 and 13 sentences, one worker each, where one flush of 32 over both workers decodes
    far more per second (a big model's decoding step costs nearly the same for 12 sentences
    as for 32: it reads every weight either way). Here a flush that finds free workers runs
    at once on as many as it can use; one that finds none waits, and every flush waiting for
    the same model runs as one when workers free up, after a short gathering
    (``GATHER_SHARE`` of a flush) for the callers the finished flush just answered.
    """

    def __init__(
        self,
        workers: int = 1,
        max_calls: int = 32,
        gather_share: float = GATHER_SHARE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.workers, self.max_calls = workers, max_calls
        self._gather_share, self._clock = gather_share, clock
        self._busy = 0
        self._waiting: dict[Hashable, _Queue] = {}
        self._recent_s = 0.0
        self._released_at = -math.inf
        self._timer: asyncio.TimerHandle | None = None
        self._flushes: set[asyncio.Task[None]] = set()

    @property
    def busy(self) -> int:
        """Workers lent now."""
        return self._busy

    async def run(self, key: Hashable, calls: list[Any], chars: int, work: Work) -> list[Any]:
        """The outcomes of ``calls`` (for the model ``key``, ``chars`` characters of text),
        decoded by ``work(calls, workers)``, perhaps together with other flushes' calls."""
        group = _Group(calls, chars, asyncio.get_running_loop().create_future(), self._clock())
        queue = self._waiting.setdefault(key, _Queue([], work))
        queue.groups.append(group)
        self._dispatch()
        return await group.done

    def _gathering_s(self, queue: _Queue) -> float:
        """How much longer ``queue`` waits for company (0: it need not)."""
        window = min(self._gather_share * self._recent_s, _GATHER_CAP_S)
        since = max(self._released_at, queue.groups[0].arrived)
        return max(0.0, since + window - self._clock())

    def _dispatch(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._waiting and self._busy < self.workers:
            key = next(iter(self._waiting))
            queue = self._waiting[key]
            gathering = self._gathering_s(queue)
            if gathering > 0 and sum(len(g.calls) for g in queue.groups) < self.max_calls:
                loop = asyncio.get_running_loop()
                self._timer = loop.call_later(gathering, self._dispatch)
                return
            del self._waiting[key]
            chars = sum(group.chars for group in queue.groups)
            lent = min(self.workers - self._busy, max(1, chars // CHARS_PER_WORKER))
            self._busy += lent
            flush = asyncio.ensure_future(self._flush(queue, lent))
            self._flushes.add(flush)
            flush.add_done_callback(self._flushes.discard)

    async def _flush(self, queue: _Queue, lent: int) -> None:
        calls = [call for group in queue.groups for call in group.calls]
        started = self._clock()
        try:
            outcomes = await queue.work(calls, lent)
        except BaseException as exc:  # every caller of the flush hears of it
            for group in queue.groups:
                if not group.done.done():
                    group.done.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        else:
            start = 0
            for group in queue.groups:
                end = start + len(group.calls)
                if not group.done.done():  # its caller may have gone
                    group.done.set_result(outcomes[start:end])
                start = end
        finally:
            self._busy -= lent
            now = self._clock()
            self._recent_s += _RECENT_WEIGHT * (now - started - self._recent_s)
            self._released_at = now
            self._dispatch()
