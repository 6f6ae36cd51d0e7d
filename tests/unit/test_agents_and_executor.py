"""The text and EDA agents on real files, and the DAG executor over a real registry."""

from __future__ import annotations

import asyncio
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from serve_app.agents import text
from serve_app.agents.base import ActionContext, ActionError, ActionResult
from serve_app.agents.eda import EdaAgent
from serve_app.agents.registry import AgentRegistry
from serve_app.config import EdaConfig
from serve_app.dsl.executor import WorkflowExecutor
from serve_app.dsl.validator import Workflow

SAMPLES = Path(EdaConfig().data_dir)


@pytest.fixture
def registry(tmp_path: Path) -> AgentRegistry:
    registry = AgentRegistry()
    registry.bind("text", text.HANDLERS)
    registry.bind("eda_agent", EdaAgent(SAMPLES, tmp_path / "out").handlers())
    return registry


def run(registry: AgentRegistry, tasks: list[dict[str, Any]], updates: list | None = None):
    async def on_update(snapshot: dict[str, Any]) -> bool:
        if updates is not None:
            updates.append(snapshot)
        return True

    workflow = Workflow.model_validate({"name": "t", "tasks": tasks})
    return asyncio.run(WorkflowExecutor(registry, default_timeout=10).run(workflow, "r", on_update))


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../secret.csv", "outside the data directory"),
        ("sub/../../secret.csv", "outside the data directory"),
        ("link.csv", "outside the data directory"),  # a symlink to the file outside
        ("/etc/passwd", "must be a relative name"),
        ("a\x00.csv", "must be a relative name"),
        ("notes.txt", "is not a .csv file"),
        ("missing.csv", "not found"),
    ],
)
def test_load_data_refuses_paths_outside_the_data_dir(
    name: str, reason: str, tmp_path: Path
) -> None:
    """A real CSV sits next to the data directory, and a symlink inside points at it: each way
    of reaching it is refused for the reason that applies, and the data directory's own
    files still load."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "ok.csv").write_text("a,b\n1,2\n")
    (data_dir / "notes.txt").write_text("not csv")
    secret = tmp_path / "secret.csv"
    secret.write_text("password,token\nhunter2,abc\n")
    (data_dir / "link.csv").symlink_to(secret)
    agent = EdaAgent(data_dir, tmp_path / "out")
    assert agent.resolve_file("ok.csv") == (data_dir / "ok.csv").resolve()
    with pytest.raises(ActionError, match=re.escape(reason)):
        agent.resolve_file(name)


def test_eda_seed_workflow_runs_and_writes_a_png(registry: AgentRegistry, tmp_path: Path) -> None:
    updates: list = []
    result = run(
        registry,
        [
            {
                "id": "load_data",
                "agent": "eda_agent",
                "action": "load_data",
                "params": {"file": "sales_data.csv"},
            },
            {
                "id": "missing",
                "agent": "eda_agent",
                "action": "missing_data_analysis",
                "depends_on": ["load_data"],
            },
            {
                "id": "summary",
                "agent": "eda_agent",
                "action": "statistical_summary",
                "depends_on": ["load_data"],
            },
            {
                "id": "histogram",
                "agent": "eda_agent",
                "action": "create_visualization",
                "params": {"type": "histogram", "column": "revenue"},
                "depends_on": ["load_data"],
            },
        ],
        updates,
    )
    assert result.status == "done", result.to_dict()
    tasks = result.tasks
    assert tasks["load_data"].output["rows"] == 240
    assert tasks["missing"].output["total_missing"] > 0
    assert (
        tasks["missing"].output["missing"]["units"] == tasks["missing"].output["missing"]["revenue"]
    )
    assert tasks["summary"].output["summary"]["units"]["count"] < 240
    chart = tasks["histogram"].output
    # The result names the chart and its URL, never a path on the server.
    assert "/" not in chart["image"]
    assert chart["image_url"] == f"/api/v1/artifacts/{chart['image']}"
    assert (tmp_path / "out" / chart["image"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert updates[-1]["progress"] == {"done": 4, "total": 4}


def test_scatter_matches_loose_column_names(registry: AgentRegistry) -> None:
    result = run(
        registry,
        [
            {
                "id": "load",
                "agent": "eda_agent",
                "action": "load_data",
                "params": {"file": "iris.csv"},
            },
            {
                "id": "plot",
                "agent": "eda_agent",
                "action": "create_visualization",
                "params": {"type": "scatter", "x": "sepal length", "y": "Sepal Width"},
                "depends_on": ["load"],
            },
        ],
    )
    assert result.status == "done", result.to_dict()
    assert (result.tasks["plot"].output["x"], result.tasks["plot"].output["y"]) == (
        "sepal_length",
        "sepal_width",
    )


def test_references_flow_between_text_tasks(registry: AgentRegistry) -> None:
    result = run(
        registry,
        [
            {
                "id": "parts",
                "agent": "text",
                "action": "split",
                "params": {"text": "One. Two. Three.", "by": "sentence"},
            },
            {
                "id": "joined",
                "agent": "text",
                "action": "join",
                "depends_on": ["parts"],
                "params": {"items": "${parts.items}", "separator": " | "},
            },
            {
                "id": "card",
                "agent": "text",
                "action": "template",
                "depends_on": ["parts", "joined"],
                "params": {
                    "template": "{n} parts: {body}",
                    "values": {"n": "${parts.count}", "body": "${joined.text}"},
                },
            },
        ],
    )
    assert result.tasks["card"].output["text"] == "3 parts: One. | Two. | Three."


def test_failure_skips_dependents_but_not_independent_branches(registry: AgentRegistry) -> None:
    result = run(
        registry,
        [
            {
                "id": "bad",
                "agent": "eda_agent",
                "action": "load_data",
                "params": {"file": "nope.csv"},
            },
            {"id": "after", "agent": "eda_agent", "action": "basic_info", "depends_on": ["bad"]},
            {"id": "other", "agent": "text", "action": "join", "params": {"items": ["a", "b"]}},
        ],
    )
    assert result.status == "error"
    assert result.tasks["bad"].status == "error"
    assert "not found" in result.tasks["bad"].error
    assert result.tasks["bad"].attempts == 1  # bad input is not retried
    assert result.tasks["after"].status == "skipped"
    assert result.tasks["other"].status == "done"


def test_parallel_branches_retries_and_timeouts() -> None:
    registry = AgentRegistry()
    calls: dict[str, int] = {"flaky": 0}
    running: list[int] = [0, 0]

    async def slow_split(params: BaseModel, context: ActionContext) -> ActionResult:
        running[0] += 1
        running[1] = max(running)
        await asyncio.sleep(0.2 if params.text != "hang" else 5)  # type: ignore[attr-defined]
        running[0] -= 1
        return ActionResult({"items": [], "count": 0})

    async def flaky_join(params: BaseModel, context: ActionContext) -> ActionResult:
        calls["flaky"] += 1
        if calls["flaky"] < 3:
            raise RuntimeError("transient")
        return ActionResult({"text": "ok"})

    registry.bind("text", {"split": slow_split, "join": flaky_join})
    result = run(
        registry,
        [
            {"id": "a", "agent": "text", "action": "split", "params": {"text": "x"}},
            {"id": "b", "agent": "text", "action": "split", "params": {"text": "y"}},
            {"id": "c", "agent": "text", "action": "join", "params": {"items": []}, "retries": 2},
            {
                "id": "d",
                "agent": "text",
                "action": "split",
                "params": {"text": "hang"},
                "timeout": 0.3,
            },
        ],
    )
    assert running[1] >= 2  # a and b ran at the same time
    assert result.tasks["c"].status == "done"
    assert result.tasks["c"].attempts == 3
    assert result.tasks["d"].status == "error"
    assert "timed out" in result.tasks["d"].error


def test_cancellation_stops_the_run(registry: AgentRegistry) -> None:
    async def stop(_: dict[str, Any]) -> bool:
        return False

    workflow = Workflow.model_validate(
        {
            "name": "t",
            "tasks": [{"id": "a", "agent": "text", "action": "join", "params": {"items": ["x"]}}],
        }
    )
    result = asyncio.run(WorkflowExecutor(registry).run(workflow, "r", stop))
    assert result.status == "cancelled"


def test_template_refuses_missing_values_and_attribute_access(registry: AgentRegistry) -> None:
    with pytest.raises(ActionError, match="without values: x"):
        asyncio.run(registry.run("text", "template", {"template": "{x}", "values": {}}))
    result = asyncio.run(
        registry.run("text", "template", {"template": "{a.__class__}", "values": {"a": "v"}})
    )
    assert result.output["text"] == "{a.__class__}"


def test_charts_older_than_the_job_ttl_are_pruned(tmp_path: Path) -> None:
    agent = EdaAgent(SAMPLES, tmp_path)
    old, fresh, other = tmp_path / "old.png", tmp_path / "fresh.png", tmp_path / "notes.txt"
    for path in (old, fresh, other):
        path.write_bytes(b"x")
    aged = time.time() - 7200
    os.utime(old, (aged, aged))
    os.utime(other, (aged, aged))
    assert agent.prune(older_than_s=3600) == 1
    assert not old.exists()
    assert fresh.exists()
    assert other.exists()
