"""What each kind of job does, as plain async Python over injected capabilities."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from serve_app.documents.report import LOCALIZATION_FORMATS, integrity_report
from serve_app.jobs.model import Job, JobKind, run_id_of
from serve_app.jobs.payloads import (
    PlanningPayload,
    PlanningResult,
    TextJobPayload,
    TextJobResult,
    WorkflowRunPayload,
)
from serve_app.translation.service import (
    Translated,
    TranslationError,
    TranslationService,
    off_the_loop,
)

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
        translation: TranslationService,
        plan: Plan,
        execute: Execute,
        chunk_texts: int,
        chunks_ahead: int = 1,
    ) -> None:
        self._translation = translation
        self._plan = plan
        self._execute = execute
        self._chunk = chunk_texts
        self._ahead = chunks_ahead

    async def run(self, job: Job, progress: Progress) -> dict[str, Any]:
        if job.kind == JobKind.TEXT_TRANSLATION:
            return await self._text_translation(job, progress)
        if job.kind == JobKind.WORKFLOW_PLANNING:
            asked = PlanningPayload.model_validate(job.payload)
            return PlanningResult(dsl=await self._plan(asked.natural_language)).model_dump()
        if job.kind == JobKind.WORKFLOW_RUN:
            return await self._workflow_run(job, progress)
        raise PermanentJobError(f"unknown job kind {job.kind!r}")

    async def _workflow_run(self, job: Job, progress: Progress) -> dict[str, Any]:
        result: dict[str, Any] = {}
        workflow = WorkflowRunPayload.model_validate(job.payload).workflow
        run = self._execute(workflow, run_id_of(job), job.owner or "")
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
        payload = TextJobPayload.model_validate(job.payload)
        # The job's owner's part of the translation cache, whoever built the payload.
        request = payload.request.model_copy(update={"owner": job.owner or ""})

        async def told(done: int, total: int) -> None:
            await progress(done, total, None)

        try:
            done = await self._translation.translate(
                request,
                chunk_texts=self._chunk,
                chunks_ahead=self._ahead,
                weights=payload.weights,
                progress=told,
            )
        except TranslationError as exc:
            if exc.unavailable:  # a model that could not be had may be had on a retry
                raise
            raise PermanentJobError(exc.message) from exc
        result = TextJobResult.of(done, payload.several).dumped()
        if payload.document is not None and not payload.several:
            result["report"] = await off_the_loop(
                request.texts, lambda: document_report(payload, done, result)
            )
        if done.withheld:
            count = len(request.texts) * len(request.targets)
            raise NeedsHumanError(
                f"{done.withheld} of {count} translations scored below min_quality "
                f"{request.min_quality}; they are withheld for a human to review",
                result,
            )
        return result


def document_report(
    payload: TextJobPayload, done: Translated, result: dict[str, Any]
) -> dict[str, Any]:
    """The integrity report of a document job (one target) from its segments and its
    result (:mod:`serve_app.documents.report`). A translation memory's ``memory_matches``
    count where the result has them."""
    document = payload.document
    assert document is not None
    request = payload.request
    return integrity_report(
        request.texts,
        result["translations"],
        result.get("quality"),
        localization=document.format in LOCALIZATION_FORMATS,
        min_quality=request.min_quality if document.review_below is None else document.review_below,
        repaired_sentences=done.outcome.repaired_sentences,
        memory_matches=result.get("memory_matches"),
    ).as_dict()
