"""Deterministic natural-language planner: requests to workflow DSL over the catalog's cues.

It recognises what the registered agents can do — language detection, translation of quoted
text into named languages, exploratory analysis of a named CSV file — and refuses, with
:class:`PlanningError`, anything it cannot map: the job then ends in ``needs_human`` rather
than in a made-up plan. Quoted text is data and never a cue, so text to translate cannot smuggle
in actions. Every plan is validated; an invalid one is repaired (invalid tasks and their
dependents dropped) up to three times before giving up.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from serve_app.dsl.validator import validate
from serve_app.engines.languages import LanguageDatabase

MAX_REPAIRS = 3


class PlanningError(ValueError):
    """No valid plan for the request."""


_QUOTED = re.compile(r"[\"“”«»]([^\"“”«»]{1,4000})[\"“”«»]|(?<!\w)'([^']{1,4000})'(?!\w)")
_DETECT = re.compile(r"\b(detect|identify|which language|what language)\b", re.I)
_TRANSLATE = re.compile(r"\b(translate|translation|render)\b", re.I)
_TARGETS = re.compile(r"\b(?:to|into|in)\s+([A-Za-z][A-Za-z ,]+(?:and\s+[A-Za-z ]+)?)", re.I)
_SOURCE = re.compile(r"\bfrom\s+([A-Za-z]+)", re.I)
# From the start of a name only (not re-read from each of its characters: quadratic).
_CSV = re.compile(r"(?<![\w\-./])([\w\-./]+\.csv)\b", re.I)
_ANALYSES = (
    ("missing_data_analysis", re.compile(r"\b(missing|null|nan|incomplete)\b", re.I)),
    ("basic_info", re.compile(r"\b(basic info\w*|overview|shape|columns|structure)\b", re.I)),
    (
        "statistical_summary",
        re.compile(
            r"\b(summary statistics|statistical summary|statistics|describe|summar\w+)\b", re.I
        ),
    ),
)
# Asks for analysis without saying which: a statistical summary, unless something specific is.
_GENERIC_ANALYSIS = re.compile(
    r"\b(analy[sz]e|analysis|explore|patterns?|trends?|insights?)\b", re.I
)
_CHARTS = (
    ("scatter", re.compile(r"\bscatter", re.I)),
    ("histogram", re.compile(r"\bhistogram|distribution", re.I)),
    ("bar", re.compile(r"\bbar (?:chart|plot|graph)", re.I)),
    ("box", re.compile(r"\bbox ?plot", re.I)),
    ("line", re.compile(r"\bline (?:chart|plot|graph)", re.I)),
    ("histogram", re.compile(r"\b(plot|chart|graph|visuali[sz]\w*)\b", re.I)),
)
# A column's name: a letter, then at most 63 word characters or spaces. The bound keeps each
# attempt short: unbounded, every "plot of" re-read the rest of the request (quadratic).
_NAME = r"([a-z][\w ]{0,63}?)"
_PAIR = re.compile(
    rf"\bof\s+(?:the\s+)?{_NAME}\s+(?:vs\.?|versus|against)\s+{_NAME}(?:$|[,.;]|\s+and\b)",
    re.I,
)
_COLUMN = re.compile(
    r"\b(?:histogram|distribution|chart|plot|graph)\s+(?:of|for)\s+(?:the\s+)?"
    rf"{_NAME}(?:$|[,.;]|\s+(?:and|then|column)\b)",
    re.I,
)


def _language_names(fragment: str, languages: LanguageDatabase) -> list[str]:
    found: list[str] = []
    for word in re.split(r",|\band\b|\s+", fragment):
        word = word.strip().lower()
        if len(word) < 3:
            continue
        for lang in languages.all():
            if lang.name.split(" (")[0].lower() == word:
                if lang.code not in found:
                    found.append(lang.code)
                break
    return found


def _language_tasks(
    instructions: str, subject: str | None, languages: LanguageDatabase
) -> list[dict[str, Any]]:
    wants_detect = bool(_DETECT.search(instructions))
    wants_translate = bool(_TRANSLATE.search(instructions))
    if not (wants_detect or wants_translate):
        return []
    if subject is None:
        raise PlanningError('put the text to work on in quotes, e.g. translate "Habari" to French')
    targets: list[str] = []
    for fragment in _TARGETS.findall(instructions):
        targets += [code for code in _language_names(fragment, languages) if code not in targets]
    if wants_translate and not targets:
        raise PlanningError("name the target language(s), e.g. 'to French and Swahili'")
    source_match = _SOURCE.search(instructions)
    source = _language_names(source_match.group(1), languages) if source_match else []
    tasks: list[dict[str, Any]] = []
    if wants_detect or (wants_translate and not source):
        tasks.append(
            {"id": "detect", "agent": "language", "action": "detect", "params": {"text": subject}}
        )
    if wants_translate:
        for code in targets:
            tasks.append(
                {
                    "id": f"translate_{code.split('_')[0]}",
                    "agent": "translation",
                    "action": "translate",
                    "params": {
                        "text": subject,
                        "target_language": code,
                        "source_language": source[0] if source else "${detect.language}",
                    },
                    "depends_on": [] if source else ["detect"],
                }
            )
    return tasks


def _chart(instructions: str) -> dict[str, Any] | None:
    for chart, pattern in _CHARTS:
        if not pattern.search(instructions):
            continue
        params: dict[str, Any] = {"type": chart}
        pair = _PAIR.search(instructions)
        if chart == "scatter" and pair:
            x, y = pair.group(1).strip(), pair.group(2).strip()
            # "sepal length vs width": the second column shares the first one's qualifier.
            if " " in x and " " not in y:
                y = f"{x.rsplit(' ', 1)[0]} {y}"
            params |= {"x": x, "y": y}
        elif chart != "scatter":
            column = _COLUMN.search(instructions)
            if column:
                params["column"] = column.group(1).strip()
        return params
    return None


def _dataset_named(instructions: str, datasets: list[str]) -> list[str]:
    """A known CSV the request names without its extension ("customer data" → customers.csv)."""
    words = {w.lower().rstrip("s") for w in re.findall(r"[A-Za-z]{4,}", instructions)}
    for name in datasets:
        stem_words = {w.lower().rstrip("s") for w in re.split(r"[_\-.\s]+", name[:-4]) if w}
        if stem_words and stem_words <= words | {"data"}:
            return [name]
    return []


def csv_files_named(instructions: str, datasets: list[str]) -> list[str]:
    """The CSV files a request names: by file name, else a known dataset by its words."""
    return _CSV.findall(instructions) or _dataset_named(instructions, datasets)


def _eda_tasks(instructions: str, datasets: list[str]) -> list[dict[str, Any]]:
    files = csv_files_named(instructions, datasets)
    analyses = [action for action, pattern in _ANALYSES if pattern.search(instructions)]
    chart = _chart(instructions)
    if not analyses and not chart and _GENERIC_ANALYSIS.search(instructions):
        analyses = ["statistical_summary"]
    if not files:
        if chart or "missing_data_analysis" in analyses:
            raise PlanningError("name the CSV file to analyse, e.g. 'Load sales_data.csv'")
        return []
    load = {
        "id": "load_data",
        "agent": "eda_agent",
        "action": "load_data",
        "params": {"file": files[0]},
    }
    names = {
        "missing_data_analysis": "missing_analysis",
        "basic_info": "basic_info",
        "statistical_summary": "summary",
    }
    tasks = [load]
    if not analyses and not chart:
        analyses = ["basic_info"]
    for action in analyses:
        tasks.append(
            {
                "id": names[action],
                "agent": "eda_agent",
                "action": action,
                "depends_on": ["load_data"],
            }
        )
    if chart:
        tasks.append(
            {
                "id": chart["type"],
                "agent": "eda_agent",
                "action": "create_visualization",
                "params": chart,
                "depends_on": ["load_data"],
            }
        )
    return tasks


def _draft(request: str, languages: LanguageDatabase, datasets: list[str]) -> dict[str, Any]:
    quoted = _QUOTED.search(request)
    subject = (quoted.group(1) or quoted.group(2)) if quoted else None
    instructions = _QUOTED.sub(" ", request)  # quoted text is data, never a cue
    tasks = _eda_tasks(instructions, datasets) + _language_tasks(instructions, subject, languages)
    if not tasks:
        raise PlanningError(
            "no registered agent matches this request; supported: language detection, "
            "translation (quote the text, name the target languages) and analysis of a named "
            "CSV file (missing values, statistics, histogram/scatter/bar charts)"
        )
    if any(task["agent"] == "eda_agent" for task in tasks):
        name = f"Analyse {tasks[0]['params']['file']}"
    elif any(task["agent"] == "translation" for task in tasks):
        name = "Translate text"
    else:
        name = "Detect language"
    return {"name": name, "tasks": tasks}


def _repair(workflow: dict[str, Any], errors: list[dict[str, Any]]) -> dict[str, Any]:
    """Drops the tasks an error points at, and every task that depends on them."""
    bad = {int(m.group(1)) for e in errors if (m := re.match(r"tasks\[(\d+)\]", e["field"] or ""))}
    dropped = {workflow["tasks"][i]["id"] for i in bad if i < len(workflow["tasks"])}
    changed = True
    while changed:
        changed = False
        for task in workflow["tasks"]:
            if task["id"] not in dropped and set(task.get("depends_on", [])) & dropped:
                dropped.add(task["id"])
                changed = True
    return {**workflow, "tasks": [t for t in workflow["tasks"] if t["id"] not in dropped]}


def plan(
    request: str, languages: LanguageDatabase | None = None, datasets: list[str] | None = None
) -> dict[str, Any]:
    """A valid workflow (``name``, ``tasks``) for ``request``; raises :class:`PlanningError`.

    ``datasets`` are the CSV files of the data directory, so a request may name one loosely.
    """
    database = languages or LanguageDatabase.default()
    workflow = _draft(request, database, datasets or [])
    for _ in range(MAX_REPAIRS):
        report = validate(workflow, database)
        if report.valid:
            return workflow
        workflow = _repair(workflow, report.errors)
        if not workflow["tasks"]:
            break
    reasons = (
        "; ".join(e["message"] for e in validate(workflow, database).errors)
        if workflow["tasks"]
        else "every planned task was invalid"
    )
    raise PlanningError(f"no valid plan after {MAX_REPAIRS} repairs: {reasons}")


def to_yaml(workflow: dict[str, Any]) -> str:
    """One-line flow-style YAML: still YAML, and it survives shells that collapse whitespace
    (the seed's Example 1 does ``echo $dsl`` unquoted before posting it back)."""
    return yaml.safe_dump(
        workflow, default_flow_style=True, sort_keys=False, allow_unicode=True, width=1_000_000
    ).strip()


def plan_yaml(
    request: str, languages: LanguageDatabase | None = None, datasets: list[str] | None = None
) -> str:
    return to_yaml(plan(request, languages, datasets))
