"""The Python SDK, sync and async, against the running service."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest

from serve_app.config import RateLimitConfig
from tafsiri_client import (
    AsyncClient,
    BadRequestError,
    Client,
    JobFailedError,
    NotFoundError,
    RateLimitError,
    StreamEvent,
    ValidationFailedError,
)

pytestmark = pytest.mark.serve


def client_for(base_url: str, **kwargs: object) -> Client:
    return Client(base_url, client_id=f"sdk-{uuid.uuid4().hex[:8]}", **kwargs)  # type: ignore[arg-type]


def test_sync_endpoints_return_typed_results(base_url: str) -> None:
    with client_for(base_url) as tafsiri:
        single = tafsiri.translate("Habari za asubuhi, rafiki yangu.", "eng_Latn")
        assert single.translated_text == "Habari za asubuhi, rafiki yangu."
        assert single.source_language_detected is True
        batch = tafsiri.translate(["One text.", "Two texts."], "fra_Latn", "eng_Latn")
        assert [t.translated_text for t in batch.translations] == ["One text.", "Two texts."]
        assert batch.translations[0].alternatives == []
        three = tafsiri.translate("Pick one.", "fra_Latn", "eng_Latn", alternatives=3)
        assert len(three.alternatives) == 3
        several = tafsiri.translate("Two targets.", ["fra_Latn", "de"], "eng_Latn")
        assert list(several.translations) == ["fra_Latn", "deu_Latn"]
        assert several.translations["deu_Latn"].translated_text == "Two targets."
        both = tafsiri.translate(["A.", "B."], ["fra_Latn", "deu_Latn"], "eng_Latn")
        assert [i.translated_text for i in both.translations["fra_Latn"]] == ["A.", "B."]
        greedy = tafsiri.translate("Quickly.", "fra_Latn", "eng_Latn", beam_size=1)
        assert (greedy.translated_text, greedy.beam_size) == ("Quickly.", 1)
        assert tafsiri.detect("Bonjour tout le monde, comment allez-vous?").language == "fra_Latn"
        assert tafsiri.languages(region="Oceania").total == 4
        assert tafsiri.language("sw").name == "Swahili"
        assert tafsiri.health().status == "healthy"


def test_errors_carry_the_error_format(base_url: str) -> None:
    with client_for(base_url) as tafsiri:
        with pytest.raises(BadRequestError) as bad:
            tafsiri.translate("Hello there", "klingon")
        assert bad.value.status == 400
        assert bad.value.errors[0].field == "target_language"
        assert bad.value.request_id
        with pytest.raises(NotFoundError):
            tafsiri.language("xx")
        with pytest.raises(ValidationFailedError):
            tafsiri.submit_workflow_translation("short")


def test_html_and_span_options_reach_the_service(base_url: str) -> None:
    deep = "<div>" * 300 + "Habari"
    with client_for(base_url) as tafsiri:
        page = tafsiri.translate("<p>Habari <b>{name}</b>!</p>", "en", "sw", format="html")
        assert (page.translated_text, page.repaired_sentences) == (
            "<p>Habari <b>{name}</b>!</p>",
            0,
        )
        # The format is what the service was told: the same text is refused only as HTML.
        assert tafsiri.translate(deep, "en", "sw", protect_spans=False).translated_text == deep
        with pytest.raises(BadRequestError) as refused:
            tafsiri.translate(deep, "en", "sw", format="html")
        assert refused.value.errors[0].code == "INVALID_MARKUP"
        with pytest.raises(BadRequestError):
            tafsiri.submit_text_job([deep], "en", "sw", format="html")
        accepted = tafsiri.submit_text_job(["<i>Habari</i>"], "en", "sw", format="html")
        assert tafsiri.wait_job(accepted.token).result["translations"] == ["<i>Habari</i>"]

    async def scenario() -> None:
        async with AsyncClient(base_url, client_id=f"async-{uuid.uuid4().hex[:8]}") as tafsiri:
            page = await tafsiri.translate("<b>Karibu</b>", "en", "sw", format="html")
            assert page.translated_text == "<b>Karibu</b>"
            with pytest.raises(BadRequestError):
                await tafsiri.translate(deep, "en", "sw", format="html")

    asyncio.run(scenario())


def test_translate_workflow_and_job_waiting(base_url: str) -> None:
    with client_for(base_url) as tafsiri:
        dsl = tafsiri.translate_workflow("Load iris.csv and show missing values", poll_interval=0.1)
        assert "missing_data_analysis" in dsl
        seen: list[str] = []
        accepted = tafsiri.submit_text_job(["Line one.", "Line two."], "swh_Latn", "eng_Latn")
        job = tafsiri.wait_job(
            accepted.token, poll_interval=0.1, on_progress=lambda j: seen.append(j.status)
        )
        assert job.result["translations"] == ["Line one.", "Line two."]
        assert seen[-1] == "done"
        with pytest.raises(JobFailedError, match="needs_human"):
            tafsiri.translate_workflow("Compose a symphony about the sea", poll_interval=0.1)
        run = tafsiri.wait_workflow(tafsiri.run_dsl(dsl)["workflow_id"], poll_interval=0.1)
        assert run["status"] == "done"


def test_429_is_retried_after_retry_after(base_url: str) -> None:
    with client_for(base_url, max_retries=0) as impatient:
        for _ in range(RateLimitConfig().burst):  # the default burst: a second's submissions
            impatient.submit_text_job(["x y z"], "fra_Latn", "eng_Latn")
        with pytest.raises(RateLimitError) as limited:
            impatient.submit_text_job(["x y z"], "fra_Latn", "eng_Latn")
        assert limited.value.retry_after >= 1
    with client_for(base_url, max_retries=3) as patient:
        patient.client_id = impatient.client_id
        started = time.monotonic()
        accepted = patient.submit_text_job(["x y z"], "fra_Latn", "eng_Latn")
        assert accepted.status == "queued"
        assert time.monotonic() - started >= 0.5  # it waited for the window to move


def test_async_client(base_url: str) -> None:
    async def scenario() -> None:
        async with AsyncClient(base_url, client_id=f"async-{uuid.uuid4().hex[:8]}") as tafsiri:
            results = await asyncio.gather(
                *[
                    tafsiri.translate(f"Async request {i}.", "deu_Latn", "eng_Latn")
                    for i in range(8)
                ]
            )
            assert [r.translated_text for r in results] == [f"Async request {i}." for i in range(8)]
            other = await tafsiri.translate("Async.", "deu_Latn", "eng_Latn", alternatives=1)
            assert len(other.alternatives) == 1
            dsl = await tafsiri.translate_workflow(
                'Translate "Karibu" to English', poll_interval=0.1
            )
            assert "eng_Latn" in dsl
            assert (await tafsiri.validate_dsl(dsl))["valid"] is True

    asyncio.run(scenario())


def test_quality_and_min_quality_reach_the_service(base_url: str) -> None:
    text = "Hello my dear friend, how are you today?"
    with client_for(base_url) as tafsiri:
        kept = tafsiri.translate(text, "en", "en", quality=True)
        assert kept.quality is not None
        assert (kept.status, kept.quality.score, kept.quality.flags) == ("ok", 1.0, [])
        held = tafsiri.translate([text, "Paris."], "fr", "en", min_quality=0.3)
        assert [item.status for item in held.translations] == ["withheld", "ok"]
        assert held.translations[0].translated_text is None
        accepted = tafsiri.submit_text_job([text], "fr", "en", min_quality=0.3)
        with pytest.raises(JobFailedError, match="needs_human") as failed:
            tafsiri.wait_job(accepted.token, poll_interval=0.1)
        assert failed.value.job.error_details is not None
        assert failed.value.job.error_details["withheld"] == [0]

    async def scenario() -> None:
        async with AsyncClient(base_url, client_id=f"async-{uuid.uuid4().hex[:8]}") as tafsiri:
            held = await tafsiri.translate(text, "fr", "en", min_quality=0.3)
            assert held.status == "withheld"
            assert held.quality.flags == ["untranslated", "wrong_language"]

    asyncio.run(scenario())


def test_glossaries_through_the_sdk(base_url: str) -> None:
    with client_for(base_url) as tafsiri:
        created = tafsiri.create_glossary(
            "sdk terms",
            [{"source": "cloud", "target": "wingu"}],
            source_language="en",
            target_language="sw",
        )
        from_csv = tafsiri.create_glossary("csv", entries_csv="en,sw,server,seva\n")
        assert [e.target for e in tafsiri.glossary(from_csv.id).entries] == ["seva"]
        assert {created.id, from_csv.id} <= {g.id for g in tafsiri.glossaries()}
        done = tafsiri.translate("Our cloud server.", "sw", "en", glossary_id=created.id)
        assert done.translated_text == "Our wingu server."
        assert done.glossary_terms is not None
        assert [(t.source, t.applied) for t in done.glossary_terms] == [("cloud", True)]
        accepted = tafsiri.submit_text_job(["The cloud."], "sw", "en", glossary_id=created.id)
        job = tafsiri.wait_job(accepted.token, poll_interval=0.1)
        assert job.result is not None
        assert job.result["translations"] == ["The wingu."]
        tafsiri.delete_glossary(from_csv.id)
        with pytest.raises(NotFoundError):
            tafsiri.glossary(from_csv.id)
        with pytest.raises(BadRequestError):
            tafsiri.create_glossary(
                "bad", [{"source": "x", "target": "y"}], source_language="xx", target_language="sw"
            )

    async def scenario() -> None:
        async with AsyncClient(base_url, client_id=f"async-{uuid.uuid4().hex[:8]}") as tafsiri:
            made = await tafsiri.create_glossary("async", entries_csv="en,fr,cloud,nuage\n")
            out = await tafsiri.translate(
                "The cloud.", "fr", "en", glossary_id=made.id, glossary_mode="prefer"
            )
            assert out.translated_text == "The cloud."  # prefer: the copy model's own words
            assert out.glossary_terms[0].honoured == 0
            await tafsiri.delete_glossary(made.id)
            assert made.id not in {g.id for g in await tafsiri.glossaries()}

    asyncio.run(scenario())


def test_corrections_through_the_sdk(base_url: str) -> None:
    text = f"Habari {uuid.uuid4().hex[:8]} yako."
    with client_for(base_url) as tafsiri:
        made = tafsiri.correct(text, "How are you?", "sw", "en", original=text)
        assert made.original == text
        served = tafsiri.translate(text, "en", "sw")
        assert (served.translated_text, served.correction_id) == ("How are you?", made.id)
        assert made.id in {c.id for c in tafsiri.corrections()}
        tafsiri.delete_correction(made.id)
        with pytest.raises(NotFoundError):
            tafsiri.delete_correction(made.id)

    async def scenario() -> None:
        async with AsyncClient(base_url, client_id=f"async-{uuid.uuid4().hex[:8]}") as tafsiri:
            again = await tafsiri.correct(text, "Hi there?", "sw", "en")
            assert (await tafsiri.translate(text, "en", "sw")).correction_id == again.id
            await tafsiri.delete_correction(again.id)
            assert again.id not in {c.id for c in await tafsiri.corrections()}

    asyncio.run(scenario())


def test_documents_and_streams_sync_and_async(base_url: str, tmp_path: Path) -> None:
    from serve_app.documents.formats import segments
    from tests.document_files import make_pptx

    deck = tmp_path / "deck.pptx"
    deck.write_bytes(make_pptx())
    seen: list[int] = []
    with Client(base_url, client_id="sdk-docs") as client:
        written = client.translate_document(
            deck,
            "sw",
            source_language="en",
            on_progress=lambda j: seen.append(j.progress.done if j.progress else 0),
        )
        assert written == tmp_path / "deck.sw.pptx"
        assert segments(written.read_bytes(), "pptx") == segments(deck.read_bytes(), "pptx")
        assert seen
        events = list(client.translate_stream("Hello there. Goodbye now.", "sw", "en"))
        assert [e.event for e in events] == ["sentence", "sentence", "done"]
        assert events[-1].data["translated_text"] == "Hello there. Goodbye now."

    async def run() -> tuple[Path, list[StreamEvent]]:
        async with AsyncClient(base_url, client_id="sdk-docs") as client:
            path = await client.translate_document(
                deck, "sw", source_language="en", output=tmp_path / "async.pptx"
            )
            got = [e async for e in client.translate_stream("One. Two.", "sw", "en")]
            return path, got

    path, got = asyncio.run(run())
    assert segments(path.read_bytes(), "pptx") == segments(deck.read_bytes(), "pptx")
    assert "".join(e.data["delta"] for e in got if e.event == "sentence") == "One. Two."
