"""Property tests (hypothesis) for the DSL parser and validator.

Any text or any YAML document gets a report, never an exception, and every error carries a
field path and a known code; generated DAGs are valid, and a cycle, an unknown dependency or a
duplicate id planted in one is reported where it was planted.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from serve_app.dsl.validator import validate

CODES = {
    "ALIAS_NOT_ALLOWED",
    "CYCLE",
    "DUPLICATE_ID",
    "INVALID_PARAMS",
    "MISSING_DATASET",
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
