"""What each kind of job carries and answers, as models: a job's payload is stored as JSON
when it is accepted and read back by the worker that runs it, perhaps after a restart or
an upgrade, so every payload is checked when read (and older ones are read as they were)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from serve_app.translation.request import TranslationRequest
from serve_app.translation.service import Translated


class DocumentRef(BaseModel):
    """The stored file a document job translates, and what it is written back as."""

    model_config = ConfigDict(extra="forbid")

    id: str
    filename: str
    format: str
    output: str
    # A localization file's segments scoring below this are marked for review in the file
    # (the request's min_quality, which then withholds nothing).
    review_below: float | None = None


class TextJobPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request: TranslationRequest
    # The target was asked as a list: the result is keyed by target (as /translate's).
    several: bool = False
    # A document's segments weigh their sentences: progress counts sentences.
    weights: list[int] | None = None
    document: DocumentRef | None = None

    @property
    def target(self) -> str:
        return self.request.targets[0]

    @model_validator(mode="before")
    @classmethod
    def _earlier_form(cls, data: Any) -> Any:
        """A job accepted by an earlier version carries its options flat, one target, and
        its corrections as ``{text index: {source: [id, translation]}}``."""
        if not isinstance(data, dict) or "request" in data:
            return data
        target = data["target_language"]
        offers = [
            {"text": int(i), "target": target, "source": source, "id": id_, "translation": text}
            for i, by_source in (data.get("corrections") or {}).items()
            for source, (id_, text) in by_source.items()
        ]
        glossary = data.get("glossary")
        request = {
            "texts": data["texts"],
            "targets": [target],
            "source": data.get("source_language"),
            "detect_as_one": bool(data.get("detect_as_one")),
            "text_format": data.get("format", "text"),
            "protect_spans": data.get("protect_spans", True),
            "quality": bool(data.get("quality")),
            "min_quality": data.get("min_quality"),
            "glossary": None if glossary is None else [tuple(term) for term in glossary],
            "glossary_mode": data.get("glossary_mode", "enforce"),
            "corrections": offers,
        }
        return {
            "request": request,
            "weights": data.get("weights"),
            "document": data.get("document"),
        }


class TextJobResult(BaseModel):
    """A text job's answer, shaped as ``/translate``'s: with one target, a list per text;
    with several, those lists keyed by target. Optional parts only when asked for."""

    translations: list[str | None] | dict[str, list[str | None]]
    source_languages: list[str]
    target_language: str | None = None
    target_languages: list[str] | None = None
    character_count: int
    model: str = ""
    model_name: str = ""
    model_is_fallback: bool = False
    alternatives: list[list[str]] | dict[str, list[list[str]]] | None = None
    quality: list[dict[str, Any] | None] | dict[str, list[dict[str, Any] | None]] | None = None
    glossary_terms: list[list[dict[str, Any]]] | dict[str, list[list[dict[str, Any]]]] | None = None
    # Per text: the translation memory's matches of its sentences (with a memory).
    memory_matches: list[list[dict[str, Any]]] | dict[str, list[list[dict[str, Any]]]] | None = None
    # Per text: the id of the caller's correction that answered it, if one did.
    corrections: list[str | None] | dict[str, list[str | None]] | None = None
    # Indexes of the texts withheld under min_quality.
    withheld: list[int] | dict[str, list[int]] | None = None
    # A document job's integrity report (serve_app.documents.report; one target).
    report: dict[str, Any] | None = None

    @classmethod
    def of(cls, done: Translated, several: bool) -> TextJobResult:
        request = done.request

        def per_target(value: Any) -> dict[str, Any]:
            return {
                target: [value(item, i) for i, item in enumerate(items)]
                for target, items in done.items.items()
            }

        def shaped(table: dict[str, Any]) -> Any:
            return table if several else table[request.targets[0]]

        parts: dict[str, Any] = {
            "translations": shaped(per_target(lambda item, _: item.text)),
        }
        if request.alternatives:
            parts["alternatives"] = shaped(per_target(lambda item, _: item.alternatives))
        if request.measured:
            parts["quality"] = shaped(
                per_target(lambda item, _: None if item.quality is None else asdict(item.quality))
            )
        if request.glossary is not None:
            parts["glossary_terms"] = shaped(
                per_target(lambda item, _: [report.as_dict() for report in item.glossary or ()])
            )
        if request.memory is not None:
            parts["memory_matches"] = shaped(
                per_target(lambda item, _: [report.as_dict() for report in item.memory or ()])
            )
        if request.corrections:
            parts["corrections"] = shaped(
                per_target(lambda item, _: item.correction.id if item.correction else None)
            )
        if done.withheld:
            parts["withheld"] = shaped(
                {
                    target: [i for i, item in enumerate(items) if item.withheld]
                    for target, items in done.items.items()
                }
            )
        targets = (
            {"target_languages": request.targets}
            if several
            else {"target_language": request.targets[0]}
        )
        outcome = done.outcome
        return cls(
            **parts,
            **targets,
            source_languages=done.sources.codes,
            character_count=request.characters,
            model=outcome.model,
            model_name=outcome.model_name,
            model_is_fallback=outcome.model_is_fallback,
        )

    def dumped(self) -> dict[str, Any]:
        """As stored and answered: parts not asked for are left out."""
        return self.model_dump(exclude_none=True)


class PlanningPayload(BaseModel):
    natural_language: str = Field(min_length=1)


class PlanningResult(BaseModel):
    dsl: str


class WorkflowRunPayload(BaseModel):
    # The validated workflow (the DSL's document), run as submitted.
    workflow: dict[str, Any]
