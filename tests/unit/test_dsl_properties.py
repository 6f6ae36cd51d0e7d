"""Property tests (hypothesis) for the DSL parser and validator.

Any text or any YAML document gets a report, never an exception, and every error carries a
field path and a known code; generated DAGs are valid, and a cycle, an unknown dependency or a
duplicate id planted in one is reported where it was planted.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from typing import Any

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from serve_app.agents import text as text_agent
from serve_app.agents.registry import AgentRegistry
from serve_app.dsl.executor import WorkflowExecutor
from serve_app.dsl.validator import validate
from serve_app.jobs.model import Job, new_token
from serve_app.jobs.sqlite_store import SQLiteJobStore

CODES = {
    "ALIAS_NOT_ALLOWED",
    "CYCLE",
    "DUPLICATE_ID",
    "INVALID_PARAMS",
    "MISSING_DATASET",
    "NOT_JSON",
    "SCHEMA_ERROR",
    "TAG_NOT_ALLOWED",
    "TOO_DEEP",
    "TOO_LARGE",
    "UNKNOWN_ACTION",
    "UNKNOWN_AGENT",
    "UNKNOWN_DEPENDENCY",
    "UNRESOLVED_REFERENCE",
    "YAML_ERROR",
}
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def well_formed(errors: list[dict[str, Any]]) -> bool:
    return all(
        isinstance(e["field"], str) and e["field"] and e["message"] and e["code"] in CODES
        for e in errors
    )


@SETTINGS
@given(st.text(max_size=3000))
def test_any_text_gets_a_report(text: str) -> None:
    report = validate(text)
    assert well_formed(report.errors)
    assert report.valid == (report.errors == [])


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=40)
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.text(max_size=12), children, max_size=5),
    ),
    max_leaves=40,
)
task_like = st.fixed_dictionaries(
    {
        "id": st.one_of(st.text(max_size=10), st.integers()),
        "agent": st.sampled_from(["language", "translation", "eda_agent", "text", "nope"]),
        "action": st.sampled_from(["detect", "translate", "load_data", "split", "x"]),
    },
    optional={"params": documents, "depends_on": st.lists(st.text(max_size=6), max_size=3)},
)


@SETTINGS
@given(st.one_of(documents, st.fixed_dictionaries({"name": scalars, "tasks": st.lists(task_like)})))
def test_any_yaml_document_gets_a_report(document: Any) -> None:
    report = validate(yaml.safe_dump(document))
    assert well_formed(report.errors)
    if not isinstance(document, dict):
        assert [e["code"] for e in report.errors] == ["SCHEMA_ERROR"]


@st.composite
def dags(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Tasks t0..tn, each depending on a random subset of the earlier ones."""
    size = draw(st.integers(1, 12))
    tasks = []
    for i in range(size):
        deps = draw(st.lists(st.integers(0, i - 1), unique=True, max_size=3)) if i else []
        tasks.append(
            {
                "id": f"t{i}",
                "agent": "language",
                "action": "detect",
                "params": {"text": f"Habari za asubuhi {i}"},
                "depends_on": [f"t{d}" for d in deps],
            }
        )
    return tasks


def dump(tasks: list[dict[str, Any]]) -> str:
    return yaml.safe_dump({"name": "generated", "tasks": tasks}, sort_keys=False)


@SETTINGS
@given(dags())
def test_generated_dags_are_valid(tasks: list[dict[str, Any]]) -> None:
    report = validate(dump(tasks))
    assert report.valid, report.errors
    roots = [t["id"] for t in tasks if not t["depends_on"]]
    assert report.warnings == [f"Task '{r}' has no dependencies" for r in roots]


@SETTINGS
@given(dags(), st.data())
def test_a_planted_back_edge_is_a_cycle(tasks: list[dict[str, Any]], data: st.DataObject) -> None:
    edges = [(t["id"], d) for t in tasks for d in t["depends_on"]]
    assume(edges)
    later, earlier = data.draw(st.sampled_from(edges))
    index = int(earlier[1:])
    tasks[index]["depends_on"].append(later)
    report = validate(dump(tasks))
    assert [e["code"] for e in report.errors] == ["CYCLE"]
    assert later in report.errors[0]["message"]
    assert earlier in report.errors[0]["message"]


@SETTINGS
@given(dags(), st.data())
def test_unknown_dependency_and_duplicate_id_are_reported_where_planted(
    tasks: list[dict[str, Any]], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(tasks) - 1))
    tasks[index]["depends_on"].append("ghost")
    position = len(tasks[index]["depends_on"]) - 1
    tasks.append({**copy.deepcopy(tasks[0]), "depends_on": []})  # the same id again, last
    report = validate(dump(tasks))
    found = {(e["code"], e["field"]) for e in report.errors}
    assert found == {
        ("UNKNOWN_DEPENDENCY", f"tasks[{index}].depends_on[{position}]"),
        ("DUPLICATE_ID", f"tasks[{len(tasks) - 1}].id"),
    }


# Unquoted YAML spellings that are not plain strings: dates and timestamps (not JSON),
# NaN/inf, numbers in other bases, nulls and booleans, next to references and plain text.
RAW_SCALARS = [
    "2020-01-01",
    "2001-12-14t21:59:43.10-05:00",
    ".nan",
    "-.inf",
    "0x1F",
    "0o17",
    "1_000",
    "~",
    "null",
    "yes",
    "3.5",
    "'${t0.count}'",
    "'${t0.items}'",
    "'Found ${t0.count} parts'",
    "plain words",
    "'2020-01-01'",
]
raw = st.sampled_from(RAW_SCALARS)


@st.composite
def workflows_with_implicit_types(draw: st.DrawFn) -> str:
    first, second, third, fourth = (draw(raw) for _ in range(4))
    return (
        "name: implicit\n"
        "tasks:\n"
        f"  - {{id: t0, agent: text, action: split, params: {{text: {first}}}}}\n"
        f"  - {{id: t1, agent: text, action: join, depends_on: [t0],"
        f" params: {{items: [{second}, {third}]}}}}\n"
        f"  - {{id: t2, agent: text, action: template, depends_on: [t0],"
        f" params: {{template: 'n={{a}}', values: {{a: {fourth}}}}}}}\n"
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflows_with_implicit_types())
def test_every_accepted_workflow_can_be_stored_and_run(tmp_path_factory: Any, dsl: str) -> None:
    """Whatever the validator accepts is JSON all the way down: it is stored as a job (the
    path that raised TypeError -> 500 for a YAML date) and runs to a result in which no task
    failed for a reason other than its input."""
    report = validate(dsl)
    assert well_formed(report.errors)
    if not report.valid:
        return
    assert report.workflow is not None
    workflow = report.workflow.model_dump()
    json.dumps(workflow, allow_nan=False)
    store = SQLiteJobStore(tmp_path_factory.mktemp("jobs") / "jobs.db", synchronous="OFF")
    now = time.time()
    stored = store.submit(
        Job(
            token=new_token(),
            kind="workflow_run",
            payload={"workflow": workflow},
            created_at=now,
            deadline_at=now + 60,
            expires_at=now + 60,
        )
    )
    loaded = store.get(stored.token)
    assert loaded is not None
    assert loaded.payload == {"workflow": workflow}
    store.close()
    registry = AgentRegistry()
    registry.bind("text", text_agent.HANDLERS)
    result = asyncio.run(WorkflowExecutor(registry).run(report.workflow, "prop"))
    for task_id, state in result.tasks.items():
        # Bad input is reported as such; a Python error type would be our bug.
        assert state.error is None or not state.error.split(":")[0].endswith("Error"), (
            task_id,
            state.error,
        )


def test_a_yaml_date_is_refused_with_its_path() -> None:
    report = validate(
        "name: x\ntasks:\n  - {id: a, agent: text, action: join,"
        " params: {items: ['${b.text}', 2020-01-01]}}\n"
    )
    assert {(e["field"], e["code"]) for e in report.errors} == {
        ("workflow.tasks.0.params.items.1", "NOT_JSON")
    }
