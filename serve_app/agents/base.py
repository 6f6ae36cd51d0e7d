"""What an action handler receives and returns."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

R = TypeVar("R")


@dataclass
class ActionContext:
    """The outputs (JSON) and artifacts (in-memory objects) of the task's dependencies."""

    task_id: str
    dependencies: list[str] = field(default_factory=list)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)
    run_id: str = "run"
    # The most a task's output may hold (bytes; None: no limit), so that an action which can
    # multiply its input (join, template) refuses before building what would be refused.
    max_output_bytes: int | None = None
    # Whose run this is (an API key's id, "" for none): the part of the translation cache
    # its actions read and write, so no key learns from another's translations.
    owner: str = ""
    # Charges the run's owner characters (True: within its budget); None: not metered.
    meter: Callable[[int], Awaitable[bool]] | None = None
    # Told the CPU seconds an action spends in threads of its own (the run's CPU budget).
    on_thread_cpu: Callable[[float], None] | None = None

    async def charge_characters(self, characters: int) -> None:
        """Charges what an action is about to translate to the run's owner, as the API
        charges its requests; ActionError (never retried) when the budget is spent."""
        if self.meter is not None and not await self.meter(characters):
            raise ActionError(
                f"translating {characters} characters is over this key's character budget "
                "(rate_limits.characters_per_minute / _per_hour); try again later"
            )

    async def in_thread(self, function: Callable[..., R], *args: Any) -> R:
        """``function(*args)`` in a worker thread, its CPU time counted to the run however
        it ends: returned, raised, or still running after the task was cancelled."""
        loop = asyncio.get_running_loop()
        count = self.on_thread_cpu

        def timed() -> R:
            started = time.thread_time()
            try:
                return function(*args)
            finally:
                if count is not None:
                    with contextlib.suppress(RuntimeError):  # the loop is gone: the run too
                        loop.call_soon_threadsafe(count, time.thread_time() - started)

        return await asyncio.to_thread(timed)

    def check_output_size(self, size: int) -> None:
        """Raises :class:`ActionError` when an output of ``size`` would pass the limit."""
        if self.max_output_bytes is not None and size > self.max_output_bytes:
            raise ActionError(
                f"the output would be {size} characters, over the workflow limit "
                f"workflows.max_output_bytes ({self.max_output_bytes})"
            )

    def artifact_of(self, kind: type) -> Any:
        """The nearest dependency's artifact of ``kind`` (e.g. a DataFrame)."""
        for task_id in self.dependencies:
            if isinstance(self.artifacts.get(task_id), kind):
                return self.artifacts[task_id]
        for artifact in self.artifacts.values():
            if isinstance(artifact, kind):
                return artifact
        return None


@dataclass
class ActionResult:
    output: dict[str, Any]
    artifact: Any = None


Handler = Callable[[BaseModel, ActionContext], Awaitable[ActionResult]]


class ActionError(ValueError):
    """A task failed for a reason retrying will not change (bad file, bad column)."""
