"""What one workflow run may cost: bytes of parameters and outputs, tasks at once, seconds,
CPU seconds.

A workflow of a few kilobytes can ask for gigabytes: each task joining the previous output
with itself doubles it (18 tasks made 131 MB in 3 s; 25 would be tens of GB, in the shared
Orchestrator), and a template repeats its values as often as it names them. So sizes are
measured as the run goes, each against its limit, before a value that passes it is built,
and a run over a limit ends with an error naming that limit (never retried: the same
workflow would pass it again). The limit on all of a run's outputs together also keeps
every snapshot, and the result, under the 4 MiB message limit of gRPC between deployments.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Generator
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from serve_app.config import WorkflowConfig
from serve_app.serving import GRPC_MESSAGE_BYTES

T = TypeVar("T")
# The settings' own defaults (workflows.*, described there), written once.
_DEFAULTS = WorkflowConfig()


@dataclass(frozen=True)
class RunLimits:
    """Limits of one run; each is named in the error of a run that passes it."""

    max_param_bytes: int = _DEFAULTS.max_param_bytes
    max_output_bytes: int = _DEFAULTS.max_output_bytes
    max_run_bytes: int = _DEFAULTS.max_run_bytes
    max_parallel_tasks: int = _DEFAULTS.max_parallel_tasks
    max_run_seconds: float = _DEFAULTS.max_run_seconds
    max_run_cpu_seconds: float = _DEFAULTS.max_run_cpu_seconds

    @classmethod
    def from_config(cls, config: WorkflowConfig) -> RunLimits:
        """The limits the ``workflows.*`` settings give."""
        return cls(
            max_param_bytes=config.max_param_bytes,
            max_output_bytes=config.max_output_bytes,
            max_run_bytes=config.max_run_bytes,
            max_parallel_tasks=config.max_parallel_tasks,
            max_run_seconds=config.max_run_seconds,
            max_run_cpu_seconds=config.max_run_cpu_seconds,
        )

    def __post_init__(self) -> None:
        if self.max_run_bytes > GRPC_MESSAGE_BYTES * 3 // 4:
            raise ValueError(
                f"max_run_bytes {self.max_run_bytes} leaves no room under the "
                f"{GRPC_MESSAGE_BYTES} byte message limit between deployments"
            )
        if self.max_parallel_tasks < 1:
            raise ValueError("max_parallel_tasks must be at least 1")


class LimitExceededError(ValueError):
    """A run passed one of its :class:`RunLimits`; ``limit`` names it."""

    def __init__(self, what: str, limit: str, value: float) -> None:
        shown = f"{int(value)}" if float(value).is_integer() else f"{value:g}"
        super().__init__(f"{what} is over the workflow limit workflows.{limit} ({shown})")
        self.limit = limit


class CpuAccount:
    """The CPU seconds a run has spent, against its limit: ``over`` is set once past it."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.seconds = 0.0
        self.over = asyncio.Event()

    def add(self, seconds: float) -> None:
        self.seconds += seconds
        if self.seconds > self.limit:
            self.over.set()


class _Metered:
    """Awaits a coroutine step by step, each step's CPU time (on this thread) counted."""

    def __init__(self, coroutine: Coroutine[Any, Any, T], account: CpuAccount) -> None:
        self.coroutine = coroutine
        self.account = account

    def __await__(self) -> Generator[Any, Any, T]:
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            started = time.thread_time()
            try:
                if thrown is not None:
                    yielded = self.coroutine.throw(thrown)
                else:
                    yielded = self.coroutine.send(sent)
            except StopIteration as stop:
                return cast(T, stop.value)
            finally:
                self.account.add(time.thread_time() - started)
            try:
                sent, thrown = (yield yielded), None
            except BaseException as exc:  # a cancellation, passed on where it was waiting
                sent, thrown = None, exc


async def metered(coroutine: Coroutine[Any, Any, T], account: CpuAccount) -> T:
    """``coroutine``'s result, the CPU time of its steps counted to ``account``."""
    return await _Metered(coroutine, account)


def text_bytes(text: str) -> int:
    """``text``'s UTF-8 size (its length when ASCII, which CPython knows at no cost)."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def size_of(value: Any, limit: int) -> int:
    """About the bytes of ``value`` as JSON (strings by their UTF-8 size, a few bytes per
    other item); stops counting past ``limit`` and then returns a number above it."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            total += text_bytes(item) + 2
        elif isinstance(item, dict):
            total += 2
            for key, inner in item.items():
                stack += [key, inner]
        elif isinstance(item, list | tuple):
            total += 2
            stack += item
        else:
            total += 8
        if total > limit:
            return total
    return total
