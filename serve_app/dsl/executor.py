"""Runs a validated workflow as a DAG: independent tasks in parallel, retries, timeouts,
within the run's limits (:mod:`serve_app.dsl.limits`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from serve_app.agents.base import ActionContext, ActionError
from serve_app.agents.registry import AgentRegistry
from serve_app.dsl.limits import CpuAccount, LimitExceededError, RunLimits, metered, size_of
from serve_app.dsl.validator import Task, Workflow, resolve

# Called with a snapshot after state changes (at most every SNAPSHOT_INTERVAL_S, and once
# at the end); False means stop (cancelled, lease lost).
OnUpdate = Callable[[dict[str, Any]], Awaitable[bool]]
# A snapshot (each task's state; outputs come with the result) is streamed to the job's worker
# and stored with the job: at most this often, the last change never left unpublished.
SNAPSHOT_INTERVAL_S = 0.5


@dataclass
class TaskState:
    status: str = "pending"  # pending, running, done, error, skipped, cancelled
    attempts: int = 0
    seconds: float = 0.0
    output: dict[str, Any] | None = None
    error: str | None = None


@dataclass
class RunResult:
    status: str  # done, error, cancelled
    tasks: dict[str, TaskState] = field(default_factory=dict)

    def to_dict(self, outputs: bool = True) -> dict[str, Any]:
        """The run as JSON; without ``outputs``, each task's state only (a snapshot, built
        without copying the outputs)."""
        if outputs:
            tasks = {k: asdict(v) for k, v in self.tasks.items()}
        else:
            tasks = {k: asdict(replace(v, output=None)) for k, v in self.tasks.items()}
        return {"status": self.status, "tasks": tasks}


class WorkflowExecutor:
    def __init__(
        self,
        registry: AgentRegistry,
        default_timeout: float = 120.0,
        limits: RunLimits | None = None,
        meter: Callable[[str, int], Awaitable[bool]] | None = None,
    ) -> None:
        """``meter(owner, characters)`` charges what a run's actions translate to its owner's
        budget (False: spent); without it, or for a run without an owner, nothing is."""
        self.registry = registry
        self.default_timeout = default_timeout
        self.limits = limits or RunLimits()
        self.meter = meter

    async def run(
        self,
        workflow: Workflow,
        run_id: str,
        on_update: OnUpdate | None = None,
        *,
        owner: str = "",
    ) -> RunResult:
        """Runs ``workflow``; ``owner`` (the run's API key, "" for none) is the part of the
        translation cache its actions read and write."""
        states = {task.id: TaskState() for task in workflow.tasks}
        outputs: dict[str, dict[str, Any]] = {}
        artifacts: dict[str, Any] = {}
        running: dict[asyncio.Task[None], str] = {}
        by_id = {task.id: task for task in workflow.tasks}
        limits = self.limits
        run_bytes = 0  # all outputs so far
        cpu = CpuAccount(limits.max_run_cpu_seconds)
        charge = None
        if self.meter is not None and owner:
            meter = self.meter

            async def charge(characters: int) -> bool:
                return await meter(owner, characters)

        loop = asyncio.get_running_loop()
        published_at = -SNAPSHOT_INTERVAL_S
        unpublished = False  # a change since the last snapshot

        async def publish(final: bool = False) -> bool:
            nonlocal published_at, unpublished
            if on_update is None:
                return True
            if not final and loop.time() - published_at < SNAPSHOT_INTERVAL_S:
                unpublished = True
                return True
            published_at, unpublished = loop.time(), False
            snapshot = RunResult("running", states).to_dict(outputs=False)
            done = sum(1 for s in states.values() if s.status in ("done", "error", "skipped"))
            snapshot["progress"] = {"done": done, "total": len(states)}
            return await on_update(snapshot)

        async def execute(task: Task) -> None:
            nonlocal run_bytes
            state = states[task.id]
            state.status = "running"
            started = time.perf_counter()
            for attempt in range(task.retries + 1):
                state.attempts = attempt + 1
                try:
                    params = resolve(task.params, outputs, limits.max_param_bytes)
                    context = ActionContext(
                        task.id,
                        list(task.depends_on),
                        outputs,
                        artifacts,
                        run_id,
                        max_output_bytes=limits.max_output_bytes,
                        on_thread_cpu=cpu.add,
                        owner=owner,
                        meter=charge,
                    )
                    # In this task (asyncio.timeout, not wait_for's task of its own), so
                    # the action's steps are counted to the run's CPU time with the rest.
                    async with asyncio.timeout(task.timeout or self.default_timeout):
                        result = await self.registry.run(task.agent, task.action, params, context)
                    size = size_of(result.output, limits.max_output_bytes)
                    if size > limits.max_output_bytes:
                        raise LimitExceededError(
                            "the task's output", "max_output_bytes", limits.max_output_bytes
                        )
                    if run_bytes + size > limits.max_run_bytes:
                        raise LimitExceededError(
                            "the run's outputs together", "max_run_bytes", limits.max_run_bytes
                        )
                    run_bytes += size
                except (ActionError, ValueError, KeyError) as exc:
                    state.error = str(exc)
                    break  # bad input: another attempt would fail the same way
                except TimeoutError:
                    state.error = f"timed out after {task.timeout or self.default_timeout} s"
                except Exception as exc:
                    state.error = f"{type(exc).__name__}: {exc}"
                else:
                    outputs[task.id] = result.output
                    if result.artifact is not None:
                        artifacts[task.id] = result.artifact
                    state.output, state.error, state.status = result.output, None, "done"
                    break
            if state.status != "done":
                state.status = "error"
            state.seconds = round(time.perf_counter() - started, 4)

        def launch_ready() -> None:
            for task in workflow.tasks:
                state = states[task.id]
                if state.status != "pending":
                    continue
                parents = [states[d].status for d in task.depends_on]
                if any(p in ("error", "skipped") for p in parents):
                    state.status = "skipped"
                    state.error = "a dependency failed"
                elif all(p == "done" for p in parents) and len(running) < limits.max_parallel_tasks:
                    state.status = "running"
                    job = asyncio.create_task(metered(execute(by_id[task.id]), cpu))
                    running[job] = task.id

        deadline = loop.time() + limits.max_run_seconds
        over_cpu: asyncio.Task[Any] = asyncio.create_task(cpu.over.wait())
        try:
            launch_ready()
            while running:
                if not await publish():
                    await self._stop(running, states, "cancelled", "cancelled")
                    return RunResult("cancelled", states)
                wake = deadline
                if unpublished:  # the snapshot held back is published when its time comes
                    wake = min(wake, published_at + SNAPSHOT_INTERVAL_S)
                try:
                    finished, _ = await asyncio.wait(
                        [*running, over_cpu],
                        timeout=max(0.0, wake - loop.time()),
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                except asyncio.CancelledError:  # the run was stopped from outside
                    await self._stop(running, states, "cancelled", "cancelled")
                    raise
                if not finished and loop.time() < deadline:
                    continue  # the held-back snapshot is due: published at the top
                over = None
                if not finished:
                    over = LimitExceededError(
                        "the run's time", "max_run_seconds", limits.max_run_seconds
                    )
                elif cpu.over.is_set():
                    over = LimitExceededError(
                        "the run's CPU time", "max_run_cpu_seconds", limits.max_run_cpu_seconds
                    )
                if over is not None:  # what runs is stopped, the rest skipped
                    await self._stop(running, states, "error", "skipped", str(over), str(over))
                    return RunResult("error", states)
                for job in finished:
                    running.pop(job)
                launch_ready()
                # A newly skipped task can make further tasks skippable.
                while any(s.status == "pending" for s in states.values()) and not running:
                    before = [s.status for s in states.values()]
                    launch_ready()
                    if before == [s.status for s in states.values()]:
                        break
            await publish(final=True)
            status = "done" if all(s.status == "done" for s in states.values()) else "error"
            return RunResult(status, states)
        finally:
            over_cpu.cancel()

    @staticmethod
    async def _stop(
        running: dict[asyncio.Task[None], str],
        states: dict[str, TaskState],
        running_to: str,
        pending_to: str,
        running_error: str | None = None,
        pending_error: str | None = None,
    ) -> None:
        """Cancels the tasks running (their state ``running_to``, with ``running_error``)
        and gives the tasks not started ``pending_to`` (with ``pending_error``)."""
        for job, task_id in running.items():
            job.cancel()
            states[task_id].status = running_to
            states[task_id].error = running_error or states[task_id].error
        await asyncio.gather(*running, return_exceptions=True)
        for state in states.values():
            if state.status == "pending":
                state.status, state.error = pending_to, pending_error or state.error
