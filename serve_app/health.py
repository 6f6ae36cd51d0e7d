"""Replica self-checks shared by the deployments' ``check_health``."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psutil


def resident_mib() -> float:
    """This process's resident memory in MiB."""
    return float(psutil.Process().memory_info().rss) / 2**20


def replica_details() -> dict[str, Any]:
    """Which Serve replica this is and its resident memory, for the components' ``info``."""
    from ray import serve

    return {
        "replica": serve.get_replica_context().replica_id.unique_id,
        "resident_mib": round(resident_mib()),
    }


def check_memory(limit_mib: int | None, component: str) -> None:
    """Fails the health check of a replica grown past ``limit_mib``, so that Serve replaces it
    (a fresh process) before the node's OOM killer picks a victim mid-batch."""
    if limit_mib is None:
        return
    used = resident_mib()
    if used > limit_mib:
        raise RuntimeError(
            f"{component} replica resident memory {used:.0f} MiB is over max_memory_mib="
            f"{limit_mib}; failing the health check so that Serve replaces the replica"
        )


class WorkEvidence:
    """What a replica's own decoding shows about its engine, so that its health check need
    not probe it: a decode (or probe) that succeeded within ``proven_for_s``, or one running
    now. An idle replica is then probed once a minute rather than at every check (every 10 s
    by default): a probe of the 600M costs half a second of a core.

    A probe waits in CTranslate2's queue behind the running flushes, and at the 3.3B on two
    cores one flush of 32 sentences outlasts the probe's timeout: a replica probed under load
    would be declared dead for being busy, and its requests lost. A decode running for more
    than ``busy_for_at_most_s`` is taken for a hung engine."""

    def __init__(
        self,
        proven_for_s: float = 60.0,
        busy_for_at_most_s: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._proven_for_s, self._busy_for_at_most_s = proven_for_s, busy_for_at_most_s
        self._clock = clock
        self._proven_at = -math.inf
        self._running: list[float] = []  # when each decode running now started

    @contextmanager
    def decoding(self) -> Iterator[None]:
        """Wraps one decode; its success is evidence."""
        started = self._clock()
        self._running.append(started)
        try:
            yield
        finally:
            self._running.remove(started)
        self._proven_at = self._clock()

    def needs_probe(self, component: str) -> bool:
        """False when the work shows the engine working; fails if a decode seems hung."""
        now = self._clock()
        if self._running:
            if now - min(self._running) > self._busy_for_at_most_s:
                raise RuntimeError(
                    f"{component} has been decoding for over {self._busy_for_at_most_s:.0f} s"
                )
            return False
        return now - self._proven_at > self._proven_for_s
