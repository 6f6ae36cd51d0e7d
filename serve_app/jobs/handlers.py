"""What each kind of job does, as plain async Python over injected capabilities."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict
from typing import Any, Protocol

from serve_app.engines.detector import Detection
from serve_app.engines.glossary import TermReport
from serve_app.engines.languages import LanguageDatabase
from serve_app.engines.markup import MarkupError, readable_text
from serve_app.engines.quality import Quality, Translations, check_output_languages, withheld
from serve_app.engines.source_language import (
    SourceLanguages,
    SourceNotDetectedError,
    source_languages,
)
from serve_app.engines.translator import UnsupportedLanguageError
from serve_app.jobs.model import Job, JobKind, run_id_of

# How much of a document its language is detected from.
DOCUMENT_DETECT_CHARS = 4000


class Translate(Protocol):
    """(texts, one source per text, target) -> translations (with the engine's quality
    signals when ``quality``); UnsupportedLanguageError if refused."""

    def __call__(
        self,
        texts: list[str],
        sources: list[str],
        target: str,
        *,
        text_format: str = "text",
        protect_spans: bool = True,
        quality: bool = False,
        glossary: tuple[tuple[str, str, str, str], ...] = (),
        glossary_mode: str = "enforce",
        cache_scope: str = "",
    ) -> Awaitable[Translations]: ...


Detect = Callable[[list[str]], Awaitable[Sequence[Detection]]]
# Natural language -> workflow DSL; raises NeedsHumanError when no valid plan exists.
Plan = Callable[[str], Awaitable[str]]
# Runs a validated workflow (the workflow, its run id, its owner's cache scope): yields run
# snapshots (``{"progress", "tasks"}``) while it runs, the run's result (``{"status", "tasks"}``)
# last.
Execute = Callable[[dict[str, Any], str, str], AsyncIterator[dict[str, Any]]]
# Reports progress (done, total) and, for workflow runs, the per-task snapshot.
Progress = Callable[[int, int, dict[str, Any] | None], Awaitable[None]]


class PermanentJobError(Exception):
    """Retrying cannot help (bad input discovered while running): settle as `error`."""

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details = details


class NeedsHumanError(Exception):
    """The job cannot be done automatically: settle as `needs_human` (with ``details``,
    e.g. what was done, for the human)."""

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details = details


class JobHandlers:
    def __init__(
        self,
        translate: Translate,
        detect: Detect,
        plan: Plan,
        execute: Execute,
        chunk_texts: int,
        languages: LanguageDatabase | None = None,
        chunks_ahead: int = 1,
    ) -> None:
        self._languages = languages or LanguageDatabase.default()
        self._translate = translate
        self._detect = detect
        self._plan = plan
        self._execute = execute
        self._chunk = chunk_texts
        self._ahead = chunks_ahead

    async def run(self, job: Job, progress: Progress) -> dict[str, Any]:
        if job.kind == JobKind.TEXT_TRANSLATION:
            return await self._text_translation(job, progress)
        if job.kind == JobKind.WORKFLOW_PLANNING:
            return {"dsl": await self._plan(job.payload["natural_language"])}
        if job.kind == JobKind.WORKFLOW_RUN:
            return await self._workflow_run(job, progress)
        raise PermanentJobError(f"unknown job kind {job.kind!r}")

    async def _workflow_run(self, job: Job, progress: Progress) -> dict[str, Any]:
        result: dict[str, Any] = {}
        run = self._execute(job.payload["workflow"], run_id_of(job), job.owner or "")
        async for update in run:
            if "progress" in update:
                done, total = update["progress"]["done"], update["progress"]["total"]
                await progress(done, total, update["tasks"])
            else:
                result = update
        if result.get("status") != "done":
            failed = {k: v["error"] for k, v in result.get("tasks", {}).items() if v["error"]}
            raise PermanentJobError(
                f"workflow tasks failed: {', '.join(failed) or result.get('status')}",
                {"tasks": result.get("tasks", {})},
            )
        return result

    async def _text_translation(self, job: Job, progress: Progress) -> dict[str, Any]:
        texts: list[str] = job.payload["texts"]
        target: str = job.payload["target_language"]
        # Jobs accepted before these options existed carry neither: plain text, protected.
        text_format: str = job.payload.get("format", "text")
        protect_spans: bool = job.payload.get("protect_spans", True)
        min_quality: float | None = job.payload.get("min_quality")
        measure = bool(job.payload.get("quality")) or min_quality is not None
        # The glossary's terms found in the texts at submission, as 4-item lists.
        glossary = tuple(tuple(term) for term in job.payload.get("glossary") or ())
        # The owner's corrections of these texts at submission: text index -> source -> [id,
        # translation]; the one for the text's (detected) source answers it.
        offered: dict[str, dict[str, list[str]]] = job.payload.get("corrections") or {}
        count = len(texts)
        # A document's segments weigh their sentences: progress counts sentences.
        weights: list[int] = job.payload.get("weights") or [1] * count
        total = sum(weights)
        translations: list[str] = [""] * count
        qualities: list[Quality | None] = [None] * count
        reports: list[list[TermReport]] = [[] for _ in texts]
        await progress(0, total, None)
        try:
            given = job.payload.get("source_language")
            readable = [readable_text(text, text_format) for text in texts]
            if job.payload.get("detect_as_one") and not given:
                # One document, one language: read from its text as a whole (a cell or a
                # heading alone is too short to tell).
                whole = await source_languages(
                    ["\n".join(readable)[:DOCUMENT_DETECT_CHARS]], None, self._detect
                )
                sources = SourceLanguages(whole.codes * count, whole.detections * count)
            else:
                sources = await source_languages(readable, given, self._detect)
            corrected = {
                i: offered[str(i)][code]
                for i, code in enumerate(sources.codes)
                if code in offered.get(str(i), {})
            }
            for i, (_, translation) in corrected.items():
                translations[i] = translation
            todo = [i for i in range(count) if i not in corrected]
            chunks = [
                todo[start : start + self._chunk] for start in range(0, len(todo), self._chunk)
            ]

            def send(chunk: list[int]) -> asyncio.Future[Translations]:
                return asyncio.ensure_future(
                    self._translate(
                        [texts[i] for i in chunk],
                        [sources.codes[i] for i in chunk],
                        target,
                        text_format=text_format,
                        protect_spans=protect_spans,
                        quality=measure,
                        glossary=glossary,
                        glossary_mode=job.payload.get("glossary_mode", "enforce"),
                        cache_scope=job.owner or "",
                    )
                )

            # Up to ``chunks_ahead`` chunks in flight; their results are taken in order.
            sent: deque[tuple[list[int], asyncio.Future[Translations]]] = deque()
            finished = sum(weights[i] for i in corrected)
            try:
                for position in range(len(chunks)):
                    while len(sent) < self._ahead and position + len(sent) < len(chunks):
                        chunk = chunks[position + len(sent)]
                        sent.append((chunk, send(chunk)))
                    chunk, pending = sent.popleft()
                    found = await pending
                    for k, i in enumerate(chunk):
                        translations[i], qualities[i] = found.texts[k], found.qualities[k]
                        reports[i] = found.glossary[k] if found.glossary else []
                    finished += sum(weights[i] for i in chunk)
                    await progress(finished, total, None)
            finally:
                for _, pending in sent:  # a failed chunk (or a cancelled job) ends the rest
                    pending.cancel()
        except (SourceNotDetectedError, UnsupportedLanguageError, MarkupError) as exc:
            raise PermanentJobError(str(exc)) from exc
        result: dict[str, Any] = {
            "translations": translations,
            "source_languages": sources.codes,
            "target_language": target,
            "character_count": sum(len(text) for text in texts),
        }
        if offered:
            result["corrections"] = [
                corrected[i][0] if i in corrected else None for i in range(count)
            ]
        if "glossary" in job.payload:
            result["glossary_terms"] = [
                [report.as_dict() for report in text_reports] for text_reports in reports
            ]
        if not measure:
            return result
        # Corrections are people's translations (no quality): not read, never withheld.
        qualities = await check_output_languages(
            qualities,
            translations,
            [target] * count,
            self._detect,
            self._languages.same_language,
            text_format,
        )
        result["quality"] = [None if q is None else asdict(q) for q in qualities]
        below = [i for i, quality in enumerate(qualities) if withheld(quality, min_quality)]
        if below:
            withheld_at = set(below)
            result["translations"] = [
                None if i in withheld_at else text for i, text in enumerate(translations)
            ]
            result["withheld"] = below
            raise NeedsHumanError(
                f"{len(below)} of {count} translations scored below min_quality "
                f"{min_quality}; they are withheld for a human to review",
                result,
            )
        return result
