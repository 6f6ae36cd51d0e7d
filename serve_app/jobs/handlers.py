"""What each kind of job does, as plain async Python over injected capabilities."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from serve_app.jobs.model import Job

Translate = Callable[[list[str], list[str], str], Awaitable[list[str]]]
Detect = Callable[[list[str]], Awaitable[list[str]]]
Plan = Callable[[str], Awaitable[str]]
# Runs a validated workflow for (token, lease id); returns the run's result.
Execute = Callable[[dict[str, Any], str, str], Awaitable[dict[str, Any]]]
Progress = Callable[[int, int], Awaitable[None]]

TEXT_TRANSLATION = "text_translation"
NL_TO_DSL = "nl_to_dsl"
WORKFLOW_RUN = "workflow_run"
KINDS = (TEXT_TRANSLATION, NL_TO_DSL, WORKFLOW_RUN)


class PermanentJobError(Exception):
    """Retrying cannot help (bad input discovered while running): settle as `error`."""

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.details = details


class NeedsHumanError(Exception):
    """The job cannot be done automatically: settle as `needs_human`."""


class JobHandlers:
    def __init__(
        self,
        translate: Translate,
        detect: Detect,
        plan: Plan,
        execute: Execute,
        chunk_texts: int,
    ) -> None:
        self._translate = translate
        self._detect = detect
        self._plan = plan
        self._execute = execute
        self._chunk = chunk_texts

    async def run(self, job: Job, progress: Progress, lease_id: str = "") -> dict[str, Any]:
        if job.kind == TEXT_TRANSLATION:
            return await self._text_translation(job, progress)
        if job.kind == NL_TO_DSL:
            return {"dsl": await self._plan(job.payload["natural_language"])}
        if job.kind == WORKFLOW_RUN:
            result = await self._execute(job.payload["workflow"], job.token, lease_id)
            if result["status"] != "done":
                failed = {k: v["error"] for k, v in result["tasks"].items() if v["error"]}
                raise PermanentJobError(
                    f"workflow tasks failed: {', '.join(failed) or result['status']}",
                    {"tasks": result["tasks"]},
                )
            return result
        raise PermanentJobError(f"unknown job kind {job.kind!r}")

    async def _text_translation(self, job: Job, progress: Progress) -> dict[str, Any]:
        texts: list[str] = job.payload["texts"]
        target: str = job.payload["target_language"]
        source: str | None = job.payload.get("source_language")
        await progress(0, len(texts))
        if source:
            sources = [source] * len(texts)
        else:
            sources = await self._detect(texts)
            unknown = [i for i, code in enumerate(sources) if code == "und"]
            if unknown:
                raise PermanentJobError(
                    f"could not detect the source language of texts {unknown[:10]}; "
                    "pass source_language"
                )
        translations: list[str] = []
        for start in range(0, len(texts), self._chunk):
            end = start + self._chunk
            translations += await self._translate(texts[start:end], sources[start:end], target)
            await progress(len(translations), len(texts))
        return {
            "translations": translations,
            "source_languages": sources,
            "target_language": target,
            "character_count": sum(len(text) for text in texts),
        }
