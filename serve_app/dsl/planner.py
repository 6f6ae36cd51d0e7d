"""Deterministic natural-language planner: requests to workflow DSL over registry cues.

It recognises what the registered agents can do (detect, translate into named languages)
and refuses, with :class:`PlanningError`, anything it cannot map; the job then ends in
``needs_human`` rather than in a made-up plan. Text inside quotes is data, never instructions.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from serve_app.engines.languages import LanguageDatabase


class PlanningError(ValueError):
    """No valid plan for the request."""


_QUOTED = re.compile(r"[\"“”«»']([^\"“”«»']{1,4000})[\"“”«»']")
_DETECT = re.compile(r"\b(detect|identify|which language|what language)\b", re.I)
_TRANSLATE = re.compile(r"\b(translate|translation|render)\b", re.I)
_TARGETS = re.compile(r"\b(?:to|into|in)\s+([A-Za-z][A-Za-z ,]+(?:and\s+[A-Za-z ]+)?)", re.I)
_SOURCE = re.compile(r"\bfrom\s+([A-Za-z]+)", re.I)


def _language_names(fragment: str, languages: LanguageDatabase) -> list[str]:
    found: list[str] = []
    for word in re.split(r",|\band\b|\s+", fragment):
        word = word.strip()
        if len(word) < 3:
            continue
        matches = [
            lang for lang in languages.all() if lang.name.split(" (")[0].lower() == word.lower()
        ]
        for lang in matches[:1]:
            if lang.code not in found:
                found.append(lang.code)
    return found


def plan(request: str, languages: LanguageDatabase | None = None) -> dict[str, Any]:
    """A workflow (``name``, ``tasks``) for ``request``; raises :class:`PlanningError`."""
    database = languages or LanguageDatabase.default()
    quoted = _QUOTED.search(request)
    subject = quoted.group(1) if quoted else None
    instructions = _QUOTED.sub(" ", request)  # quoted text is data, never a cue
    wants_detect = bool(_DETECT.search(instructions))
    wants_translate = bool(_TRANSLATE.search(instructions))
    targets: list[str] = []
    for fragment in _TARGETS.findall(instructions):
        targets += [code for code in _language_names(fragment, database) if code not in targets]
    source_match = _SOURCE.search(instructions)
    source = _language_names(source_match.group(1), database) if source_match else []

    if subject is None and (wants_detect or wants_translate):
        raise PlanningError('put the text to work on in quotes, e.g. translate "Habari" to French')
    tasks: list[dict[str, Any]] = []
    if wants_translate and not targets:
        raise PlanningError("name the target language(s), e.g. 'to French and Swahili'")
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
    if not tasks:
        raise PlanningError(
            "no registered agent matches this request; supported: language detection and "
            "translation (name the text in quotes and the target languages)"
        )
    name = "Translate text" if wants_translate else "Detect language"
    return {"name": name, "tasks": tasks}


def plan_yaml(request: str, languages: LanguageDatabase | None = None) -> str:
    return yaml.safe_dump(plan(request, languages), sort_keys=False, allow_unicode=True)
