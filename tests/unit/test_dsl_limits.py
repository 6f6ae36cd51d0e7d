"""A workflow run's limits: sizes refused before they are built, tasks at once, run time."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from typing import Any

import pytest
from pydantic import BaseModel

from serve_app.agents import text
from serve_app.agents.base import ActionContext, ActionResult
from serve_app.agents.registry import AgentRegistry
from serve_app.agents.translation import language_handlers, translation_handlers
from serve_app.config import TranslatorConfig
from serve_app.dsl.executor import RunResult, WorkflowExecutor
from serve_app.dsl.limits import RunLimits, size_of
from serve_app.dsl.validator import Workflow, validate
from serve_app.engines.languages import LanguageDatabase
from serve_app.messages import DetectCall, DetectOutcome, TranslateCall, TranslateOutcome
from serve_app.routing import ModelRouter
from serve_app.translation.service import TranslationService


@pytest.fixture
def registry() -> AgentRegistry:
    registry = AgentRegistry()
    registry.bind("text", text.HANDLERS)
    return registry


def run(
    registry: AgentRegistry, tasks: list[dict[str, Any]], limits: RunLimits | None = None
) -> tuple[RunResult, int]:
    """The run's result and the peak of memory it allocated (bytes)."""
    workflow = {"name": "t", "tasks": tasks}
    assert validate(workflow, LanguageDatabase.default()).valid
    executor = WorkflowExecutor(registry, default_timeout=10, limits=limits)
    tracemalloc.start()
    try:
        result = asyncio.run(executor.run(Workflow.model_validate(workflow), "r"))
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def doubling(tasks: int) -> list[dict[str, Any]]:
    """Each task joins the previous one's output with itself: 2 ** tasks times the seed."""
    chain = [{"id": "t0", "agent": "text", "action": "join", "params": {"items": ["ab" * 500]}}]
    for i in range(1, tasks):
        previous = f"${{t{i - 1}.text}}"
        chain.append(
            {
                "id": f"t{i}",
                "agent": "text",
                "action": "join",
                "params": {"items": [previous, previous], "separator": ""},
                "depends_on": [f"t{i - 1}"],
            }
        )
    return chain


def test_a_doubling_workflow_ends_at_the_output_limit_not_out_of_memory(
    registry: AgentRegistry,
) -> None:
    # 40 tasks: 2**40 KB unbounded. The task that would pass the limit is refused while its
    # parameters (twice the last output) are resolved; those after it are skipped.
    result, peak = run(registry, doubling(40))
    assert result.status == "error"
    errors = {task: state.error for task, state in result.tasks.items() if state.error}
    first = min(errors, key=lambda task: int(task[1:]))
    assert first == "t10"  # 1 kB * 2**10 = 1 MB
    assert errors[first] == (
        "the task's parameters (references resolved) is over the workflow limit "
        "workflows.max_param_bytes (1000000)"
    )
    assert result.tasks[first].attempts == 1  # never retried
    assert result.tasks["t39"].status == "skipped"
    assert peak < 16_000_000


def test_all_outputs_of_a_run_together_stay_under_the_run_limit(
    registry: AgentRegistry,
) -> None:
    # Five independent tasks of 600 kB each: each under the task limit, together over 2 MB.
    tasks = [
        {"id": f"t{i}", "agent": "text", "action": "join", "params": {"items": ["x" * 600_000]}}
        for i in range(5)
    ]
    result, _ = run(registry, tasks)
    assert result.status == "error"
    assert sum(state.status == "done" for state in result.tasks.values()) == 3
    errors = [state.error or "" for state in result.tasks.values() if state.status == "error"]
    assert len(errors) == 2
    assert all("workflows.max_run_bytes" in error for error in errors)
    kept = sum(size_of(state.output, 10**9) for state in result.tasks.values() if state.output)
    assert kept <= RunLimits().max_run_bytes


def test_a_template_that_repeats_a_large_value_is_refused_before_it_is_built(
    registry: AgentRegistry,
) -> None:
    tasks = [
        {
            "id": "bomb",
            "agent": "text",
            "action": "template",
            "params": {"template": "{a}" * 30_000, "values": {"a": "v" * 50_000}},
        }
    ]
    result, peak = run(registry, tasks)  # 1.5 GB if built
    assert result.tasks["bomb"].status == "error"
    assert "workflows.max_output_bytes" in (result.tasks["bomb"].error or "")
    assert peak < 16_000_000


def test_parameters_that_resolve_past_their_limit_are_refused_while_resolving(
    registry: AgentRegistry,
) -> None:
    tasks = [
        {"id": "seed", "agent": "text", "action": "join", "params": {"items": ["z" * 100_000]}},
        {
            "id": "many",
            "agent": "text",
            "action": "join",
            "params": {"items": ["${seed.text}"] * 5_000},  # 500 MB resolved
            "depends_on": ["seed"],
        },
    ]
    result, peak = run(registry, tasks)
    assert result.tasks["many"].status == "error"
    assert "workflows.max_param_bytes" in (result.tasks["many"].error or "")
    assert result.tasks["many"].attempts == 1
    assert peak < 16_000_000


def test_no_more_tasks_of_a_run_than_its_limit_run_at_once() -> None:
    registry = AgentRegistry()
    running = [0, 0]  # now, most

    async def slow(params: BaseModel, context: ActionContext) -> ActionResult:
        running[0] += 1
        running[1] = max(running)
        await asyncio.sleep(0.05)
        running[0] -= 1
        return ActionResult({"text": "ok"})

    registry.bind("text", {**text.HANDLERS, "join": slow})
    tasks = [
        {"id": f"t{i}", "agent": "text", "action": "join", "params": {"items": []}}
        for i in range(7)
    ]
    result, _ = run(registry, tasks, RunLimits(max_parallel_tasks=2))
    assert result.status == "done"
    assert running[1] == 2


async def hang(params: BaseModel, context: ActionContext) -> ActionResult:
    """An action that waits far past every time limit of the tests."""
    await asyncio.sleep(30)
    return ActionResult({"text": "late"})


def test_a_run_past_its_time_ends_with_an_error_naming_the_limit() -> None:
    registry = AgentRegistry()

    registry.bind("text", {**text.HANDLERS, "join": hang})
    tasks = [
        {"id": "a", "agent": "text", "action": "join", "params": {"items": []}},
        {"id": "b", "agent": "text", "action": "split", "params": {"text": "x"}},
        {
            "id": "c",
            "agent": "text",
            "action": "split",
            "params": {"text": "y"},
            "depends_on": ["a"],
        },
    ]
    started = time.monotonic()
    result, _ = run(registry, tasks, RunLimits(max_run_seconds=0.3))
    assert time.monotonic() - started < 5
    assert result.status == "error"
    assert "workflows.max_run_seconds" in (result.tasks["a"].error or "")
    assert result.tasks["b"].status == "done"
    assert result.tasks["c"].status == "skipped"


def burn(seconds: float) -> None:
    """Spends ``seconds`` of this thread's CPU time."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def test_a_run_past_its_cpu_time_ends_with_an_error_naming_the_limit() -> None:
    """CPU time is counted step by step on the loop and in an action's threads; a run
    past its limit is stopped at once (not at its tasks' time-outs); waiting costs none."""
    registry = AgentRegistry()

    async def spin(params: BaseModel, context: ActionContext) -> ActionResult:
        for _ in range(1000):  # 10 s of CPU, 10 ms at a time
            burn(0.01)
            await asyncio.sleep(0)
        return ActionResult({"text": "spun"})

    async def in_a_thread(params: BaseModel, context: ActionContext) -> ActionResult:
        await context.in_thread(burn, 0.4)
        return ActionResult({"text": "threaded"})

    async def wait(params: BaseModel, context: ActionContext) -> ActionResult:
        await asyncio.sleep(0.6)
        return ActionResult({"text": "waited"})

    handlers = {"join": spin, "split": in_a_thread, "template": wait, "chunk": hang}
    registry.bind("text", {**text.HANDLERS, **handlers})
    after = {"agent": "text", "action": "template", "params": {"template": "x"}}
    started = time.monotonic()
    result, _ = run(
        registry,
        [
            {"id": "a", "agent": "text", "action": "join", "params": {"items": []}},
            {"id": "b", "agent": "text", "action": "chunk", "params": {"text": "x"}},
            {"id": "c", **after, "depends_on": ["b"]},
        ],
        RunLimits(max_run_cpu_seconds=0.3),
    )
    assert time.monotonic() - started < 5
    assert result.status == "error"
    assert result.tasks["a"].error == (
        "the run's CPU time is over the workflow limit workflows.max_run_cpu_seconds (0.3)"
    )
    assert result.tasks["c"].status == "skipped"
    assert "max_run_cpu_seconds" in (result.tasks["c"].error or "")
    # A thread's CPU counts as much; a run that only waits spends none.
    threaded, _ = run(
        registry,
        [
            {"id": "t", "agent": "text", "action": "split", "params": {"text": "x"}},
            {"id": "u", **after, "depends_on": ["t"]},
        ],
        RunLimits(max_run_cpu_seconds=0.3),
    )
    assert threaded.status == "error"
    assert threaded.tasks["u"].status == "skipped"
    waited, _ = run(registry, [{"id": "w", **after}], RunLimits(max_run_cpu_seconds=0.3))
    assert waited.status == "done"


def test_a_thread_that_fails_still_counts_its_cpu_time() -> None:
    registry = AgentRegistry()

    async def fails_in_a_thread(params: BaseModel, context: ActionContext) -> ActionResult:
        def work() -> None:
            burn(0.4)
            raise ValueError("bad data, found late")

        await context.in_thread(work)
        return ActionResult({"text": "never"})

    registry.bind("text", {**text.HANDLERS, "split": fails_in_a_thread, "chunk": hang})
    started = time.monotonic()
    result, _ = run(
        registry,
        [
            {"id": "t", "agent": "text", "action": "split", "params": {"text": "x"}},
            {"id": "h", "agent": "text", "action": "chunk", "params": {"text": "x"}},
        ],
        RunLimits(max_run_cpu_seconds=0.3),
    )
    assert time.monotonic() - started < 5  # stopped for its CPU, not at the 10 s time-out
    assert result.tasks["t"].status == "error"  # its own error or the run's, whichever came first
    assert "max_run_cpu_seconds" in (result.tasks["h"].error or "")


def test_snapshots_are_published_at_most_every_interval_and_never_left_behind() -> None:
    """A snapshot is stored with the job each time: 40 quick tasks publish a few, not 80; a
    change before a long task is published while it runs, not after it. Snapshots carry
    each task's state, not its output (megabytes each time): outputs come with the result."""
    registry = AgentRegistry()

    async def quick(params: BaseModel, context: ActionContext) -> ActionResult:
        await asyncio.sleep(0.01)
        return ActionResult({"text": "x"})

    async def long(params: BaseModel, context: ActionContext) -> ActionResult:
        await asyncio.sleep(1.5)
        return ActionResult({"text": "y"})

    registry.bind("text", {**text.HANDLERS, "join": quick, "chunk": long})
    tasks: list[dict[str, Any]] = [
        {"id": "q0", "agent": "text", "action": "join", "params": {"items": []}}
    ]
    for i in range(1, 40):
        tasks.append({**tasks[0], "id": f"q{i}", "depends_on": [f"q{i - 1}"]})
    tasks.append(
        {
            "id": "long",
            "agent": "text",
            "action": "chunk",
            "params": {"text": "x"},
            "depends_on": ["q39"],
        }
    )
    snapshots: list[tuple[float, dict[str, Any]]] = []

    async def on_update(snapshot: dict[str, Any]) -> bool:
        snapshots.append((time.monotonic(), snapshot))
        return True

    workflow = Workflow.model_validate({"name": "t", "tasks": tasks})
    started = time.monotonic()
    result = asyncio.run(
        WorkflowExecutor(registry, limits=RunLimits()).run(workflow, "r", on_update)
    )
    assert result.status == "done"
    assert len(snapshots) <= 8  # ~1 s of quick tasks and 1.5 s of the long one, by 0.5 s
    assert snapshots[-1][1]["progress"] == {"done": 41, "total": 41}
    assert all(
        state["output"] is None for _, snapshot in snapshots for state in snapshot["tasks"].values()
    )
    assert result.tasks["long"].output == {"text": "y"}
    while_long = [
        at - started
        for at, snapshot in snapshots
        if snapshot["tasks"]["q39"]["status"] == "done"
        and snapshot["tasks"]["long"]["status"] == "running"
    ]
    assert while_long, "the last quick task's end was held back until the run ended"


def test_a_run_limit_past_the_message_limit_between_deployments_is_refused() -> None:
    with pytest.raises(ValueError, match="message limit"):
        RunLimits(max_run_bytes=4_000_000)
    assert size_of({"k": ["é" * 10, 1]}, 10**6) == 2 + 3 + 2 + 22 + 8


def test_each_action_knows_whose_run_it_is() -> None:
    """The run's owner reaches every action (the translation agent's part of the cache)."""
    registry = AgentRegistry()
    seen: list[str] = []

    async def record(params: BaseModel, context: ActionContext) -> ActionResult:
        seen.append(context.owner)
        return ActionResult({"text": "ok"})

    registry.bind("text", {**text.HANDLERS, "join": record})
    workflow = Workflow.model_validate(
        {
            "name": "t",
            "tasks": [{"id": "a", "agent": "text", "action": "join", "params": {"items": []}}],
        }
    )
    executor = WorkflowExecutor(registry)
    assert asyncio.run(executor.run(workflow, "r", owner="key-a")).status == "done"
    assert seen == ["key-a"]


def test_what_a_run_translates_is_charged_to_its_owner() -> None:
    """A run's translation tasks are charged to its owner's character budget before they
    translate; past it, a task ends naming the budget and nothing more is translated. A run
    without an owner (auth off) is not metered here."""
    budget = {"key-a": 30}
    charged: list[tuple[str, int]] = []
    translated: list[str] = []

    async def meter(owner: str, characters: int) -> bool:
        charged.append((owner, characters))
        if characters > budget[owner]:
            return False
        budget[owner] -= characters
        return True

    async def detect(call: DetectCall) -> DetectOutcome:
        raise AssertionError("sources are given")

    async def translate(name: str, call: TranslateCall) -> TranslateOutcome:
        translated.extend(call.texts)
        return TranslateOutcome(texts=[t.upper() for t in call.texts])

    languages = LanguageDatabase.default()
    service = TranslationService(
        translate, detect, ModelRouter(TranslatorConfig(), languages), languages, max_beam_size=4
    )
    registry = AgentRegistry()
    registry.bind("translation", translation_handlers(service, languages))
    task = {"agent": "translation", "action": "translate", "depends_on": []}
    params = {"source_language": "en", "target_language": "sw"}
    workflow = Workflow.model_validate(
        {
            "name": "t",
            "tasks": [
                {**task, "id": "a", "params": {**params, "text": "x" * 20}},
                {**task, "id": "b", "params": {**params, "text": "y" * 20}, "depends_on": ["a"]},
            ],
        }
    )
    result = asyncio.run(WorkflowExecutor(registry, meter=meter).run(workflow, "r", owner="key-a"))
    assert result.tasks["a"].status == "done"
    assert result.tasks["b"].status == "error"
    assert "over this key's character budget" in (result.tasks["b"].error or "")
    assert result.tasks["b"].attempts == 1  # not retried
    assert charged == [("key-a", 20), ("key-a", 20)]
    assert translated == ["x" * 20]
    anonymous = asyncio.run(WorkflowExecutor(registry, meter=meter).run(workflow, "r"))
    assert anonymous.status == "done"
    assert len(charged) == 2
    # Detection is charged as /detect-language is.
    registry.bind("language", language_handlers(detect))
    detecting = Workflow.model_validate(
        {
            "name": "d",
            "tasks": [
                {"id": "d", "agent": "language", "action": "detect", "params": {"text": "z" * 50}}
            ],
        }
    )
    refused = asyncio.run(
        WorkflowExecutor(registry, meter=meter).run(detecting, "r", owner="key-a")
    )
    assert "over this key's character budget" in (refused.tasks["d"].error or "")
    assert charged[-1] == ("key-a", 50)
