"""A text job's chunks: several in flight at once (``jobs.chunks_ahead``), taken in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from serve_app.config import TranslatorConfig
from serve_app.engines.languages import LanguageDatabase
from serve_app.jobs.handlers import JobHandlers, PermanentJobError
from serve_app.jobs.model import Job, JobKind
from serve_app.messages import DetectCall, DetectOutcome, TranslateCall, TranslateOutcome
from serve_app.routing import ModelRouter
from serve_app.translation.service import CallTranslator, TranslationError, TranslationService


class FakeTranslator:
    """Upper-cases texts after a delay that makes earlier chunks finish last (a text
    ``fail_on`` fails at once); records how many calls were in flight at once."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.in_flight = 0
        self.most_in_flight = 0
        self.calls: list[list[str]] = []
        self.cancelled = 0
        self.fail_on = fail_on

    async def __call__(self, name: str, call: TranslateCall) -> TranslateOutcome:
        texts = call.texts
        self.calls.append(texts)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.fail_on in texts:
                return TranslateOutcome(error=f"cannot translate {self.fail_on}")
            await asyncio.sleep(0.02 / len(self.calls))
            return TranslateOutcome(texts=[t.upper() for t in texts])
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1


def handlers(translate: CallTranslator, ahead: int) -> JobHandlers:
    async def detect(call: DetectCall) -> DetectOutcome:
        raise AssertionError("the source is given")

    async def unused(*_: Any) -> Any:
        raise AssertionError("not a workflow")

    def execute(*_: Any) -> AsyncIterator[dict[str, Any]]:
        raise AssertionError("not a workflow")

    config, languages = TranslatorConfig(), LanguageDatabase.default()
    service = TranslationService(
        translate, detect, ModelRouter(config, languages), languages, max_beam_size=4
    )
    return JobHandlers(service, unused, execute, chunk_texts=2, chunks_ahead=ahead)


def job(texts: list[str]) -> Job:
    # As an earlier version stored it: read as it was.
    payload = {"texts": texts, "source_language": "eng_Latn", "target_language": "fra_Latn"}
    return Job(token="c" * 32, kind=JobKind.TEXT_TRANSLATION, payload=payload)


@pytest.mark.parametrize("ahead", [1, 3])
def test_chunks_in_flight_are_bounded_and_results_keep_their_order(ahead: int) -> None:
    texts = [f"text {i}" for i in range(11)]
    fake = FakeTranslator()
    reported: list[tuple[int, int]] = []

    async def progress(done: int, total: int, _: dict[str, Any] | None) -> None:
        reported.append((done, total))

    result = asyncio.run(handlers(fake, ahead).run(job(texts), progress))
    assert result["translations"] == [t.upper() for t in texts]
    assert fake.calls == [texts[i : i + 2] for i in range(0, 11, 2)]
    assert fake.most_in_flight == ahead
    # Progress rises chunk by chunk, in order, to the whole job.
    assert reported == [(0, 11), (2, 11), (4, 11), (6, 11), (8, 11), (10, 11), (11, 11)]


def test_a_failing_chunk_fails_the_job_and_cancels_the_chunks_in_flight() -> None:
    texts = [f"text {i}" for i in range(10)]
    fake = FakeTranslator(fail_on="text 0")

    async def progress(done: int, total: int, _: dict[str, Any] | None) -> None:
        return None

    with pytest.raises(PermanentJobError, match="cannot translate text 0"):
        asyncio.run(handlers(fake, 3).run(job(texts), progress))
    assert fake.cancelled == 2  # the two chunks sent ahead of the failed one
    assert fake.in_flight == 0


def test_a_job_translates_in_its_owners_cache_and_retries_an_unavailable_model() -> None:
    scopes: list[str] = []

    async def translate(name: str, call: TranslateCall) -> TranslateOutcome:
        scopes.append(call.cache_scope)
        if call.texts == ["down"]:
            return TranslateOutcome(
                error="model 'b' is unavailable", error_code="MODEL_UNAVAILABLE"
            )
        return TranslateOutcome(texts=call.texts)

    async def progress(done: int, total: int, _: dict[str, Any] | None) -> None:
        return None

    owned = job(["a", "b", "c"])
    owned.owner = "key-a"
    asyncio.run(handlers(translate, 2).run(owned, progress))
    assert scopes == ["key-a", "key-a"]
    # A model that could not be had may be had on the next attempt: not a permanent error.
    with pytest.raises(TranslationError) as info:
        asyncio.run(handlers(translate, 1).run(job(["down"]), progress))
    assert info.value.unavailable
