"""Workflow suggestions from context, domain and complexity; every suggestion validates."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from serve_app.agents.catalog import find_action
from serve_app.dsl.planner import csv_files_named, to_yaml
from serve_app.dsl.validator import validate

COMPLEXITY_TASKS = {"simple": 2, "medium": 4, "complex": 6}


@dataclass(frozen=True)
class Suggestion:
    title: str
    description: str
    workflow: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        minutes = sum(
            spec.minutes
            for task in self.workflow["tasks"]
            if (spec := find_action(task["agent"], task["action"]))
        )
        return {
            "title": self.title,
            "description": self.description,
            "dsl": to_yaml(self.workflow),
            "estimated_minutes": max(1, math.ceil(minutes)),
        }


def _eda(name: str, file: str, steps: list[tuple[str, str, dict[str, Any]]]) -> dict[str, Any]:
    tasks: list[dict[str, Any]] = [
        {"id": "load_data", "agent": "eda_agent", "action": "load_data", "params": {"file": file}}
    ]
    for task_id, action, params in steps:
        task: dict[str, Any] = {
            "id": task_id,
            "agent": "eda_agent",
            "action": action,
            "depends_on": ["load_data"],
        }
        if params:
            task["params"] = params
        tasks.append(task)
    return {"name": name, "tasks": tasks}


def suggest(
    context: str,
    domain: str = "data-science",
    complexity: str = "medium",
    datasets: list[str] | None = None,
) -> list[dict[str, Any]]:
    size = COMPLEXITY_TASKS.get(complexity, 4)
    if domain in {"translation", "localization", "language"}:
        quoted = re.findall(r"\"([^\"]+)\"", context)
        text = quoted[0] if quoted else context[:500] or "Hello"
        targets = ["fra_Latn", "swh_Latn", "spa_Latn", "arb_Arab", "zho_Hans"][: max(1, size - 1)]
        options = [
            Suggestion(
                "Detect and translate",
                "Identify the language of the text, then translate it",
                {
                    "name": "Detect and translate",
                    "tasks": [
                        {
                            "id": "detect",
                            "agent": "language",
                            "action": "detect",
                            "params": {"text": text},
                        },
                        *[
                            {
                                "id": f"translate_{code[:3]}",
                                "agent": "translation",
                                "action": "translate",
                                "depends_on": ["detect"],
                                "params": {
                                    "text": text,
                                    "target_language": code,
                                    "source_language": "${detect.language}",
                                },
                            }
                            for code in targets
                        ],
                    ],
                },
            ),
            Suggestion(
                "Chunk and translate a long text",
                "Split long text into chunks and translate them all",
                {
                    "name": "Chunk and translate",
                    "tasks": [
                        {
                            "id": "chunks",
                            "agent": "text",
                            "action": "chunk",
                            "params": {"text": text, "max_chars": 500},
                        },
                        {
                            "id": "translated",
                            "agent": "translation",
                            "action": "translate_batch",
                            "depends_on": ["chunks"],
                            "params": {"texts": "${chunks.items}", "target_language": targets[0]},
                        },
                        {
                            "id": "joined",
                            "agent": "text",
                            "action": "join",
                            "depends_on": ["translated"],
                            "params": {"items": "${translated.translations}", "separator": " "},
                        },
                    ],
                },
            ),
        ]
    else:
        # Suggestions need a file to show: the one named, else the first known dataset.
        named = csv_files_named(context, datasets or [])
        file = named[0] if named else (datasets[0] if datasets else "data.csv")
        analyses: list[tuple[str, str, dict[str, Any]]] = [
            ("basic_info", "basic_info", {}),
            ("summary", "statistical_summary", {}),
            ("missing_analysis", "missing_data_analysis", {}),
            ("histogram", "create_visualization", {"type": "histogram"}),
            ("scatter", "create_visualization", {"type": "scatter"}),
        ]
        options = [
            Suggestion(
                f"Exploratory overview of {file}",
                "Structure, descriptive statistics and distributions",
                _eda(f"Overview of {file}", file, analyses[: size - 1]),
            ),
            Suggestion(
                f"Data quality check of {file}",
                "Missing values per column and the distribution of the data",
                _eda(f"Quality of {file}", file, [analyses[2], analyses[3]]),
            ),
            Suggestion(
                f"Relationships in {file}",
                "Summary statistics and a scatter plot of the first numeric columns",
                _eda(f"Relationships in {file}", file, [analyses[1], analyses[4]]),
            ),
        ]
    results = []
    for option in options:
        report = validate(option.workflow)
        if report.valid:  # never offer a suggestion that would not run
            results.append(option.to_dict())
    return results
