"""The one translation service, on the real engines: every entry point's rules in one place."""

from __future__ import annotations

import asyncio
import threading
from contextlib import aclosing
from typing import Any

import pytest

from serve_app.config import ModelRoute, RegisteredModel, TranslatorConfig
from serve_app.engines.detector import Detection, LanguageDetector
from serve_app.engines.glossary import Glossary, GlossaryEntry
from serve_app.engines.languages import LanguageDatabase
from serve_app.engines.translator import Translator
from serve_app.jobs.payloads import TextJobPayload, TextJobResult
from serve_app.messages import DetectCall, DetectOutcome, TranslateCall, TranslateOutcome
from serve_app.routing import ModelRouter
from serve_app.translation.flight import in_order
from serve_app.translation.request import CorrectionOffer, TranslationRequest, found_terms
from serve_app.translation.service import (
    OFF_THE_LOOP_CHARS,
    StreamedSentence,
    Translated,
    TranslationError,
    TranslationService,
    off_the_loop,
)
from tests.unit.service_fixtures import EngineService

GERMAN = "Ich habe heute leider keine Zeit, weil ich arbeiten muss."
FRENCH = "Je voudrais réserver une table pour deux personnes ce soir."


@pytest.fixture
def engines(translator: Translator, detector: LanguageDetector) -> EngineService:
    return EngineService(translator, detector)


def run(engines: EngineService, **asked: Any) -> Translated:
    return asyncio.run(engines.service.translate(TranslationRequest(**asked)))


def test_each_text_is_translated_from_its_own_language_into_every_target(
    engines: EngineService,
) -> None:
    done = run(engines, texts=[GERMAN, FRENCH], targets=["eng_Latn", "swh_Latn"])
    assert done.sources.codes == ["deu_Latn", "fra_Latn"]
    # One Translator call for both targets (one batch), answered target by target.
    ((_, call),) = engines.calls
    assert call.targets == ("eng_Latn", "swh_Latn")
    assert call.source_languages == ["deu_Latn", "fra_Latn"]
    assert list(done.items) == ["eng_Latn", "swh_Latn"]
    # The copy model echoes its input: each item is its own text's.
    assert [item.text for item in done.items["swh_Latn"]] == [GERMAN, FRENCH]
    assert done.characters == 2 * (len(GERMAN) + len(FRENCH))


def test_texts_read_as_one_share_the_language_of_their_start(engines: EngineService) -> None:
    # A cell alone ("OK") is too short to tell; a document is read from its whole start.
    done = run(engines, texts=[GERMAN, "OK", "1234"], targets=["eng_Latn"], detect_as_one=True)
    assert done.sources.codes == ["deu_Latn"] * 3
    (detect,) = engines.detect_calls
    assert detect.texts == [f"{GERMAN}\nOK\n1234"]


def test_texts_read_as_one_are_read_from_their_first_4000_characters(
    engines: EngineService,
) -> None:
    run(engines, texts=[GERMAN * 80, "OK"], targets=["eng_Latn"], detect_as_one=True)
    (detect,) = engines.detect_calls
    assert detect.texts == [(GERMAN * 80)[:4000]]


def test_a_lone_text_without_a_detectable_language(engines: EngineService) -> None:
    with pytest.raises(TranslationError) as info:
        run(engines, texts=["1234"], targets=["eng_Latn"])
    assert (info.value.code, info.value.index) == ("DETECTION_FAILED", None)
    assert info.value.message == "Could not detect the source language; pass source_language"


def test_a_text_without_a_detectable_language_is_named(engines: EngineService) -> None:
    with pytest.raises(TranslationError) as info:
        run(engines, texts=[GERMAN, "1234"], targets=["eng_Latn"])
    assert (info.value.code, info.value.index) == ("DETECTION_FAILED", 1)
    assert not engines.calls


def test_a_correction_answers_its_text_and_pair_without_the_model(
    engines: EngineService,
) -> None:
    offers = (
        CorrectionOffer(text=0, target="eng_Latn", source="deu_Latn", id="c1", translation="Sorry"),
        # Another source than the text's: not this text's correction.
        CorrectionOffer(text=1, target="eng_Latn", source="deu_Latn", id="c2", translation="No"),
    )
    done = run(engines, texts=[GERMAN, FRENCH], targets=["eng_Latn"], corrections=offers)
    first, second = done.items["eng_Latn"]
    assert (first.text, first.correction and first.correction.id) == ("Sorry", "c1")
    assert (second.text, second.correction) == (FRENCH, None)
    ((_, call),) = engines.calls
    assert call.texts == [FRENCH]  # the corrected text never reached the Translator
    # Corrected into one target of two: the model translates it into the other only.
    engines.calls.clear()
    done = run(engines, texts=[GERMAN], targets=["eng_Latn", "fra_Latn"], corrections=offers[:1])
    assert [items[0].text for items in done.items.values()] == ["Sorry", GERMAN]
    # Corrected into every target: no call at all.
    engines.calls.clear()
    done = run(engines, texts=[GERMAN], targets=["eng_Latn"], corrections=offers[:1])
    assert done.outcome.model == "corrections"
    assert not engines.calls


def test_below_min_quality_a_translation_is_withheld_with_its_quality(
    engines: EngineService,
) -> None:
    # The copy model answers in the source's language: read as the wrong language, its
    # quality is halved, below 0.99 (and above 0).
    done = run(
        engines,
        texts=[GERMAN],
        targets=["eng_Latn"],
        min_quality=0.99,
        source="deu_Latn",
        alternatives=2,
    )
    (item,) = done.items["eng_Latn"]
    assert item.withheld
    assert item.text is None
    assert item.alternatives == []
    assert item.quality is not None
    assert "wrong_language" in item.quality.flags
    assert done.withheld == 1
    kept = run(engines, texts=[GERMAN], targets=["eng_Latn"], min_quality=0.0, source="deu_Latn")
    assert kept.withheld == 0
    assert kept.items["eng_Latn"][0].text == GERMAN


def test_options_reach_the_translator_call(engines: EngineService) -> None:
    run(
        engines,
        texts=["<p>Hello <b>world</b>.</p>"],
        targets=["fra_Latn"],
        source="eng_Latn",
        text_format="html",
        protect_spans=False,
        alternatives=2,
        beam_size=3,
        glossary=(("eng_Latn", "fra_Latn", "world", "monde"),),
        glossary_mode="prefer",
        owner="key-a",
    )
    ((name, call),) = engines.calls
    assert name == "default"
    assert (call.text_format, call.protect_spans, call.alternatives, call.beam_size) == (
        "html",
        False,
        2,
        3,
    )
    assert call.glossary == (("eng_Latn", "fra_Latn", "world", "monde"),)
    assert (call.glossary_mode, call.cache_scope, call.quality) == ("prefer", "key-a", False)


def test_refusals_name_their_code(engines: EngineService) -> None:
    def code(**asked: Any) -> tuple[str, int | None, str | None]:
        with pytest.raises(TranslationError) as info:
            run(engines, texts=["Hello there."], targets=["fra_Latn"], **asked)
        return info.value.code, info.value.index, info.value.field

    widest = engines.config.max_beam_size
    assert code(beam_size=widest + 1) == ("BEAM_SIZE_TOO_LARGE", None, "beam_size")
    assert code(model="nope", source="eng_Latn") == ("UNKNOWN_MODEL", None, "model")
    with pytest.raises(TranslationError) as info:
        run(engines, texts=["fine", "<p" + "<b>" * 600], targets=["fra_Latn"], text_format="html")
    assert (info.value.code, info.value.index) == ("INVALID_MARKUP", 1)


def test_chunks_report_progress_in_weights_and_keep_order(engines: EngineService) -> None:
    texts = [f"Sentence number {i} is here." for i in range(5)]
    told: list[tuple[int, int]] = []

    async def progress(done: int, total: int) -> None:
        told.append((done, total))

    done = asyncio.run(
        engines.service.translate(
            TranslationRequest(texts=texts, targets=["fra_Latn"], source="eng_Latn"),
            chunk_texts=2,
            chunks_ahead=2,
            weights=[1, 2, 3, 4, 5],
            progress=progress,
        )
    )
    assert [item.text for item in done.items["fra_Latn"]] == texts
    assert [call.texts for _, call in engines.calls] == [texts[0:2], texts[2:4], texts[4:]]
    assert told == [(0, 15), (3, 15), (10, 15), (15, 15)]


def test_progress_starts_with_what_corrections_answered(engines: EngineService) -> None:
    told: list[tuple[int, int]] = []

    async def progress(done: int, total: int) -> None:
        told.append((done, total))

    offer = CorrectionOffer(text=0, target="fra_Latn", source="eng_Latn", id="c", translation="A")
    asyncio.run(
        engines.service.translate(
            TranslationRequest(
                texts=["One here.", "Two here.", "Three here."],
                targets=["fra_Latn"],
                source="eng_Latn",
                corrections=(offer,),
            ),
            chunk_texts=1,
            weights=[5, 1, 1],
            progress=progress,
        )
    )
    assert told == [(5, 7), (6, 7), (7, 7)]


def test_glossary_terms_are_those_into_the_targets_found_in_the_texts() -> None:
    entries = (
        GlossaryEntry("eng_Latn", "fra_Latn", "cloud", "nuage"),
        GlossaryEntry("eng_Latn", "deu_Latn", "cloud", "Wolke"),
        GlossaryEntry("eng_Latn", "fra_Latn", "rain", "pluie"),
    )
    glossary = Glossary("g", "", "g", 0.0, list(entries))
    assert found_terms(glossary, ["Our cloud is up."], ["fra_Latn"]) == (
        ("eng_Latn", "fra_Latn", "cloud", "nuage"),
    )


def test_each_text_and_target_goes_to_the_model_routed_to_it() -> None:
    config = TranslatorConfig(
        models={"b": RegisteredModel(model="x")},
        routes=[ModelRoute(source="deu_Latn", target="swh_Latn", model="b")],
    )

    async def translate(name: str, call: TranslateCall) -> TranslateOutcome:
        texts = [f"{name}>{t}:{x}" for t in call.targets for x in call.texts]
        return TranslateOutcome(
            texts=texts, model=name, model_name=name, sentences=len(texts), cached_sentences=1
        )

    async def detect(call: DetectCall) -> DetectOutcome:
        found = [Detection("deu_Latn" if t == "de" else "fra_Latn", 0.99) for t in call.texts]
        return DetectOutcome(found)

    languages = LanguageDatabase.default()
    service = TranslationService(
        translate, detect, ModelRouter(config, languages), languages, max_beam_size=4
    )
    request = TranslationRequest(texts=["de", "fr"], targets=["eng_Latn", "swh_Latn"])
    done = asyncio.run(service.translate(request))
    assert {target: [item.text for item in items] for target, items in done.items.items()} == {
        "eng_Latn": ["default>eng_Latn:de", "default>eng_Latn:fr"],
        "swh_Latn": ["b>swh_Latn:de", "default>swh_Latn:fr"],
    }
    assert done.outcome.model_name == "default,b"
    assert (done.outcome.sentences, done.outcome.cached_sentences) == (4, 3)


def stream(engines: EngineService, **asked: Any) -> list[StreamedSentence]:
    async def collect() -> list[StreamedSentence]:
        pieces = engines.service.stream(
            TranslationRequest(**asked), max_sentence_chars=400, ahead=3
        )
        async with aclosing(pieces) as found:
            return [piece async for piece in found]

    return asyncio.run(collect())


def test_a_stream_joins_to_what_translate_gives(engines: EngineService) -> None:
    text = f"  {GERMAN}\n\nWir sehen uns morgen früh im Büro.  Bis dann!\n"
    pieces = stream(engines, texts=[text], targets=["eng_Latn", "fra_Latn"])
    assert [piece.index for piece in pieces] == [0, 1, 2]
    assert {piece.total for piece in pieces} == {3}
    whole = run(engines, texts=[text], targets=["eng_Latn", "fra_Latn"])
    for target in ("eng_Latn", "fra_Latn"):
        joined = "".join(
            piece.separator + (piece.translated.items[target][0].text or "") + piece.trailing
            for piece in pieces
        )
        assert joined == whole.items[target][0].text
    # Its language is read once, from its start: every sentence from German.
    assert {piece.translated.sources.codes[0] for piece in pieces} == {"deu_Latn"}
    assert len(engines.detect_calls) == 2  # the stream's one, and translate's


def test_html_and_a_corrected_text_stream_as_one_piece(engines: EngineService) -> None:
    html = "<p>Hello <b>world</b>. How are you?</p>"
    (piece,) = stream(
        engines, texts=[html], targets=["fra_Latn"], text_format="html", source="eng_Latn"
    )
    assert piece.translated.items["fra_Latn"][0].text == html
    offer = CorrectionOffer(text=0, target="eng_Latn", source="deu_Latn", id="c", translation="X")
    (piece,) = stream(
        engines, texts=[GERMAN + " Bis dann!"], targets=["eng_Latn"], corrections=(offer,)
    )
    assert piece.translated.items["eng_Latn"][0].text == "X"


def test_an_earlier_versions_job_payload_is_read_into_the_one_request() -> None:
    payload = TextJobPayload.model_validate(
        {
            "texts": ["a"],
            "target_language": "fra_Latn",
            "corrections": {"0": {"eng_Latn": ["c1", "A"]}},
            "glossary": [["eng_Latn", "fra_Latn", "a", "b"]],
        }
    )
    assert payload.request.targets == ["fra_Latn"]
    assert payload.request.corrections == (
        CorrectionOffer(text=0, target="fra_Latn", source="eng_Latn", id="c1", translation="A"),
    )
    assert payload.request.glossary == (("eng_Latn", "fra_Latn", "a", "b"),)
    assert TextJobPayload.model_validate(payload.model_dump(mode="json")) == payload
    every = TextJobPayload.model_validate(
        {
            "texts": ["<p>a</p>"],
            "target_language": "fra_Latn",
            "format": "html",
            "detect_as_one": True,
            "protect_spans": False,
            "glossary": [],
            "glossary_mode": "prefer",
            "quality": True,
            "min_quality": 0.3,
            "weights": [2],
            "document": {"id": "d", "filename": "a.html", "format": "html", "output": "html"},
        }
    )
    request = every.request
    assert (request.text_format, request.detect_as_one, request.protect_spans) == (
        "html",
        True,
        False,
    )
    assert (request.glossary, request.glossary_mode) == ((), "prefer")
    assert (request.quality, request.min_quality, every.weights) == (True, 0.3, [2])
    assert every.document is not None
    assert every.document.filename == "a.html"


def test_job_results_for_one_target_and_several(engines: EngineService) -> None:
    one = run(engines, texts=[GERMAN, FRENCH], targets=["eng_Latn"], alternatives=1)
    shaped = TextJobResult.of(one, several=False).dumped()
    assert shaped["translations"] == [GERMAN, FRENCH]
    assert shaped["target_language"] == "eng_Latn"
    assert "target_languages" not in shaped
    assert len(shaped["alternatives"]) == 2
    assert "corrections" not in shaped  # none offered
    assert "quality" not in shaped
    several = run(engines, texts=[GERMAN], targets=["eng_Latn", "fra_Latn"], quality=True)
    shaped = TextJobResult.of(several, several=True).dumped()
    assert shaped["translations"] == {"eng_Latn": [GERMAN], "fra_Latn": [GERMAN]}
    assert shaped["target_languages"] == ["eng_Latn", "fra_Latn"]
    assert set(shaped["quality"]) == {"eng_Latn", "fra_Latn"}
    assert shaped["character_count"] == 2 * len(GERMAN)


def test_calls_in_flight_are_bounded_ordered_and_cancelled_when_left() -> None:
    started: list[int] = []
    cancelled: list[int] = []

    def call(i: int, slow_after_first: bool) -> Any:
        async def work() -> int:
            started.append(i)
            try:
                # Later calls finish first; or, all but the first take long.
                await asyncio.sleep((10.0 if i else 0.0) if slow_after_first else 0.01 * (5 - i))
                return i
            except asyncio.CancelledError:
                cancelled.append(i)
                raise

        return work

    async def take(count: int) -> list[int]:
        got = []
        calls = [call(i, count < 5) for i in range(5)]
        async with aclosing(in_order(calls, 2)) as results:
            async for value in results:
                got.append(value)
                assert len(started) <= len(got) + 2
                if len(got) == count:
                    break
        await asyncio.sleep(0.01)  # (a cancelled call runs its handler)
        got.extend(-1 - i for i in cancelled)  # cancelled before asyncio.run's cleanup
        return got

    async def take_none() -> None:
        async with aclosing(in_order([call(0, False)], 0)) as results:
            async for _ in results:
                pass

    assert asyncio.run(take(5)) == [0, 1, 2, 3, 4]
    started.clear()
    with pytest.raises(ValueError, match="at least 1"):
        asyncio.run(take_none())
    # Left early: the call in flight is ended at once.
    assert asyncio.run(take(1)) == [0, -2]
    assert started == [0, 1]


def test_parsing_and_matching_large_texts_leaves_the_event_loop() -> None:
    # A large request's markup and glossary work runs in a worker thread, so the replica's
    # event loop keeps serving; a small one's stays inline (a thread hop costs more).
    async def where(texts: list[str]) -> bool:
        loop_thread = threading.get_ident()
        return await off_the_loop(texts, lambda: threading.get_ident() != loop_thread)

    assert asyncio.run(where(["x" * (OFF_THE_LOOP_CHARS + 1)])) is True
    assert asyncio.run(where(["x" * 100] * 3)) is False
