"""Table-driven: every validation error code, the YAML limits, warnings and references."""

from __future__ import annotations

import time

import pytest
import yaml

from serve_app.dsl.validator import MAX_DSL_BYTES, load_yaml, resolve, validate


def task(task_id: str, agent: str = "language", action: str = "detect", **extra: object) -> dict:
    body: dict = {
        "id": task_id,
        "agent": agent,
        "action": action,
        "params": {"text": "Habari za asubuhi"},
    }
    body.update(extra)
    return body


def wf(*tasks: dict) -> str:
    return yaml.safe_dump({"name": "t", "tasks": list(tasks)}, sort_keys=False)


SEED_DSL = (
    "name: 'Data Analysis'\ntasks:\n  - id: load_data\n    agent: eda_agent\n"
    "    action: load_data\n    params:\n      file: sales_data.csv\n  - id: missing_analysis\n"
    "    agent: eda_agent\n    action: missing_data_analysis\n    depends_on: [load_data]\n"
    "  - id: histogram\n    agent: eda_agent\n    action: create_visualization\n    params:\n"
    "      type: histogram\n    depends_on: [load_data]"
)


def test_the_seed_dsl_is_valid_with_the_contract_warning() -> None:
    report = validate(SEED_DSL)
    assert report.valid, report.errors
    assert report.warnings == ["Task 'load_data' has no dependencies"]
    parsed = report.to_dict()["parsed_workflow"]
    assert [t["id"] for t in parsed["tasks"]] == ["load_data", "missing_analysis", "histogram"]


CASES = [
    ("name: [unclosed", "dsl_yaml", "YAML_ERROR"),
    ("- just\n- a list", "dsl_yaml", "SCHEMA_ERROR"),
    ("tasks: []", "workflow.name", "SCHEMA_ERROR"),
    ("name: x\ntasks: []", "workflow.tasks", "SCHEMA_ERROR"),
    (
        "name: x\ntasks: [{id: a, agent: language, action: detect, extra: 1}]",
        "workflow.tasks.0.extra",
        "SCHEMA_ERROR",
    ),
    (
        "name: x\ntasks: [{id: '1bad id', agent: language, action: detect}]",
        "workflow.tasks.0.id",
        "SCHEMA_ERROR",
    ),
    (wf(task("a", agent="nope")), "tasks[0].agent", "UNKNOWN_AGENT"),
    (wf(task("a", action="nope")), "tasks[0].action", "UNKNOWN_ACTION"),
    (
        wf({"id": "a", "agent": "language", "action": "detect", "params": {}}),
        "tasks[0].params.text",
        "INVALID_PARAMS",
    ),
    (wf(task("a", params={"text": "x", "bogus": 1})), "tasks[0].params.bogus", "INVALID_PARAMS"),
    (
        wf(
            task(
                "a",
                agent="translation",
                action="translate",
                params={"text": "x", "target_language": "klingon"},
            )
        ),
        "tasks[0].params.target_language",
        "INVALID_PARAMS",
    ),
    (wf(task("a"), task("a")), "tasks[1].id", "DUPLICATE_ID"),
    (wf(task("a", depends_on=["ghost"])), "tasks[0].depends_on[0]", "UNKNOWN_DEPENDENCY"),
    (wf(task("a", depends_on=["a"])), "tasks[0].depends_on[0]", "CYCLE"),
    (wf(task("a", depends_on=["b"]), task("b", depends_on=["a"])), "tasks", "CYCLE"),
    (
        wf(
            task("a"),
            task(
                "b",
                agent="translation",
                action="translate",
                params={"text": "${a.language}", "target_language": "fra_Latn"},
            ),
        ),
        "tasks[1].params.text",
        "UNRESOLVED_REFERENCE",
    ),  # no depends_on
    (
        wf(
            task("a"),
            task(
                "b",
                agent="translation",
                action="translate",
                depends_on=["a"],
                params={"text": "${a.nothing}", "target_language": "fra_Latn"},
            ),
        ),
        "tasks[1].params.text",
        "UNRESOLVED_REFERENCE",
    ),
    (
        wf(task("a", params={"text": "${ghost.language}"})),
        "tasks[0].params.text",
        "UNRESOLVED_REFERENCE",
    ),
    (
        wf({"id": "m", "agent": "eda_agent", "action": "missing_data_analysis"}),
        "tasks[0].depends_on",
        "MISSING_DATASET",
    ),
    ("a: &x 1\nb: *x", "dsl_yaml", "ALIAS_NOT_ALLOWED"),
    ("!!python/object/apply:os.system ['echo pwned']", "dsl_yaml", "TAG_NOT_ALLOWED"),
    ("name: !custom x", "dsl_yaml", "TAG_NOT_ALLOWED"),
    ("x: " + "[" * 40 + "]" * 40, "dsl_yaml", "TOO_DEEP"),
    ("x: '" + "a" * (MAX_DSL_BYTES + 1) + "'", "dsl_yaml", "TOO_LARGE"),
    (
        "name: x\ntasks:\n"
        + "".join(
            f"  - {{id: t{i}, agent: language, action: detect, params: {{text: hi}}}}\n"
            for i in range(101)
        ),
        "workflow.tasks",
        "SCHEMA_ERROR",
    ),
]


@pytest.mark.parametrize(("dsl", "path", "code"), CASES)
def test_validation_errors_name_field_and_code(dsl: str, path: str, code: str) -> None:
    report = validate(dsl)
    assert not report.valid
    assert (path, code) in [(e["field"], e["code"]) for e in report.errors], report.errors
    assert report.to_dict()["parsed_workflow"] is None


def test_alias_bomb_is_rejected_fast() -> None:
    bomb = (
        "a: &a ["
        + ",".join(["lol"] * 9)
        + "]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [" + ",".join([f"*{chr(97 + i)}"] * 9) + "]\n"
            for i in range(8)
        )
    )
    started = time.perf_counter()
    report = validate(bomb)
    assert time.perf_counter() - started < 0.1
    assert report.errors[0]["code"] == "ALIAS_NOT_ALLOWED"


def test_reference_in_valid_dag_and_warnings() -> None:
    report = validate(
        wf(
            {"id": "parts", "agent": "text", "action": "split", "params": {"text": "A. B."}},
            {
                "id": "load",
                "agent": "eda_agent",
                "action": "load_data",
                "params": {"file": "x.csv"},
            },
            task("d", params={"text": "Intro: ${parts.count} parts"}, depends_on=["parts"]),
        )
    )
    assert report.valid, report.errors
    assert "Output of task 'load' is not used by any other task" in report.warnings
    assert "Output of task 'parts' is not used by any other task" not in report.warnings


def test_resolve_whole_and_embedded_references() -> None:
    outputs = {"a": {"language": "swh_Latn", "items": ["x", "y"], "n": 2}}
    assert resolve("${a.items}", outputs) == ["x", "y"]
    assert resolve("${a.items.1}", outputs) == "y"
    assert resolve({"k": ["n=${a.n}", "${a.language}"]}, outputs) == {"k": ["n=2", "swh_Latn"]}
    with pytest.raises(KeyError, match="no 'missing'"):
        resolve("${a.missing}", outputs)


def test_load_yaml_plain_documents() -> None:
    assert load_yaml("a: [1, 2]\nb: {c: true}") == {"a": [1, 2], "b": {"c": True}}
