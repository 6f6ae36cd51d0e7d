"""Quality signals: the rules on their own, then through the real engine, the real detector
and the text-translation job handler."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from serve_app.engines.cache import MemoryCache
from serve_app.engines.detector import Detection, LanguageDetector
from serve_app.engines.languages import LanguageDatabase
from serve_app.engines.quality import (
    LENGTH_RATIO,
    REPETITION,
    UNTRANSLATED,
    WRONG_LANGUAGE,
    Quality,
    SentenceSignals,
    check_output_languages,
    longest_loop,
    sentence_signals,
    text_quality,
    withheld,
)
from serve_app.engines.translator import TranslationRequest, Translator
from serve_app.jobs.handlers import JobHandlers, NeedsHumanError
from serve_app.jobs.model import Job, JobKind
from serve_app.testmodel.build import build_test_model
from tests.unit.service_fixtures import EngineService

SENTENCE = "Hello my dear friend, how are you today?"
LANGUAGES = LanguageDatabase.default()


def signals(source: str, output: str, *, same: bool = False, log_prob: float = -0.2) -> set[str]:
    return sentence_signals(
        log_prob=log_prob,
        source_text=source,
        output_text=output,
        source_pieces=source.split(),
        output_pieces=output.split(),
        same_language=same,
    ).flags


def test_longest_loop_finds_ngrams_repeated_back_to_back() -> None:
    assert longest_loop([]) == 1
    assert longest_loop("a b c d".split()) == 1
    assert longest_loop("a b b b c".split()) == 3
    assert longest_loop("x a b a b a b a b y".split()) == 4  # a bigram, at an odd offset
    assert longest_loop("p q r s p q r s p q r s".split()) == 3


def test_repetition_is_a_loop_the_source_does_not_have() -> None:
    source = "we went to the market and bought some bread"
    assert REPETITION in signals(source, "tulienda sokoni na na na na na mkate")
    assert REPETITION not in signals(source, "tulienda sokoni na tukanunua mkate")
    # The source's own "ha ha ha ha" may come back as it is.
    assert REPETITION not in signals("he said ha ha ha ha", "alisema ha ha ha ha")


def test_untranslated_needs_letters_and_another_language() -> None:
    assert UNTRANSLATED in signals(SENTENCE, "hello  my dear friend, HOW are you today?")
    assert UNTRANSLATED not in signals("Paris.", "Paris.")  # may be its own translation
    assert UNTRANSLATED not in signals(SENTENCE, SENTENCE, same=True)
    assert UNTRANSLATED not in signals(SENTENCE, "Habari rafiki yangu mpendwa, hujambo leo?")
    # Sentinels are not letters: "{0} {1}." is not eight letters of text.
    assert UNTRANSLATED not in signals("{0} and {1} ok.", "{0} and {1} ok.")


def test_length_ratio_flags_outputs_far_shorter_or_longer() -> None:
    source = "one two three four five six seven eight nine ten"
    assert LENGTH_RATIO in signals(source, "moja mbili")
    assert LENGTH_RATIO in signals(source, " ".join(f"w{i}" for i in range(30)))
    assert LENGTH_RATIO not in signals(source, "moja mbili tatu nne tano sita saba nane")
    assert LENGTH_RATIO not in signals("too short", "x")  # under eight tokens: not judged


def test_each_flag_starts_exactly_at_its_cut_off() -> None:
    """Each flag's boundary, from both sides: a mutant moving one by a step fails here."""
    ten = " ".join(f"s{i}" for i in range(10))
    # Repetition: 3 repeats more than the source has back to back.
    assert REPETITION in signals(ten, "a b c d e f g na na na na")  # 4 = 1 + 3
    assert REPETITION not in signals(ten, "a b c d e f g na na na")  # 3
    # Untranslated: 8 letters of text copied, not 7.
    assert UNTRANSLATED in signals("Abcdefgh.", "Abcdefgh.")
    assert UNTRANSLATED not in signals("Abcdefg.", "Abcdefg.")
    # Length ratio: from 0.4 to 2.5 of the source's pieces is fine; judged from 8 pieces.
    words = [f"w{i}" for i in range(60)]
    twenty = " ".join(words[:20])
    assert LENGTH_RATIO not in signals(twenty, " ".join(words[:8]))  # 0.4
    assert LENGTH_RATIO in signals(twenty, " ".join(words[:7]))  # 0.35
    assert LENGTH_RATIO not in signals(twenty, " ".join(words[:50]))  # 2.5
    assert LENGTH_RATIO in signals(twenty, " ".join(words[:51]))  # 2.55
    eight, seven = " ".join(words[:8]), " ".join(words[:7])
    assert LENGTH_RATIO in signals(eight, "x")  # 8 pieces: judged
    assert LENGTH_RATIO not in signals(seven, "x")  # 7: too few to judge
    # min_quality: a score equal to it is kept; only a lower one is withheld.
    assert not withheld(Quality(score=0.5, log_prob=0.0), 0.5)
    assert withheld(Quality(score=0.499, log_prob=0.0), 0.5)


def test_a_texts_score_is_its_weakest_sentence_halved_per_flag() -> None:
    good = SentenceSignals(math.log(0.8))
    bad = SentenceSignals(math.log(0.9), {UNTRANSLATED, REPETITION})
    quality = text_quality([good, bad])
    assert quality.flags == (REPETITION, UNTRANSLATED)  # in FLAGS order
    assert quality.score == pytest.approx(0.9 / 4)
    assert quality.log_prob == pytest.approx((math.log(0.8) + math.log(0.9)) / 2, abs=1e-6)
    assert text_quality([]) == Quality(score=1.0, log_prob=0.0)
    assert withheld(quality, 0.3)
    assert not withheld(quality, 0.2)
    assert not withheld(quality, None)
    assert not withheld(None, 0.9)


def test_same_language_knows_scripts_and_close_varieties() -> None:
    same = LANGUAGES.same_language
    assert same("swh_Latn", "swh_Latn")
    assert same("zho_Hans", "zho_Hant")
    assert same("zsm_Latn", "ind_Latn")
    assert same("arz_Arab", "arb_Arab")
    assert same("hrv_Latn", "srp_Cyrl")
    assert not same("eng_Latn", "fra_Latn")
    assert not same("swh_Latn", "zsm_Latn")


def test_the_copy_model_is_flagged_untranslated(translator: Translator) -> None:
    out = translator.translate(
        [
            TranslationRequest(SENTENCE, "eng_Latn", "fra_Latn", quality=True),
            TranslationRequest("Paris.", "eng_Latn", "fra_Latn", quality=True),
            TranslationRequest(SENTENCE, "eng_Latn", "fra_Latn"),  # not asked
            TranslationRequest("{name} 42", "eng_Latn", "fra_Latn", quality=True),
        ]
    )
    copied, paris, plain, spans = out.results
    # The copy model is certain of every token: log-probability 0, confidence 1.
    assert copied.quality == Quality(score=0.5, log_prob=0.0, flags=(UNTRANSLATED,))
    assert paris.quality == Quality(score=1.0, log_prob=0.0)
    assert plain.quality is None
    assert spans.quality == Quality(score=1.0, log_prob=0.0)  # nothing reached the model


def test_a_model_that_changes_the_text_is_not_flagged(tmp_path: Path) -> None:
    swapping = Translator(build_test_model(tmp_path / "m", swaps=(("at", "ar"),)))
    text = "The cat sat on the mat, and the rat sat with it."
    (result,) = swapping.translate(
        [TranslationRequest(text, "eng_Latn", "fra_Latn", quality=True)]
    ).results
    assert result.text == "The car sar on the mar, and the rar sar with it."
    assert result.quality == Quality(score=1.0, log_prob=0.0)


def test_cached_sentences_are_scored_as_fresh_ones(test_model_dir: Path) -> None:
    engine = Translator(test_model_dir, intra_threads=1)
    engine.cache = MemoryCache(2**20)
    request = TranslationRequest(f"{SENTENCE} Paris.", "eng_Latn", "fra_Latn", quality=True)
    fresh = engine.translate([request])
    again = engine.translate([request])
    assert again.timings.cached_sentences == 2
    assert again.results[0].quality == fresh.results[0].quality
    assert fresh.results[0].quality is not None
    assert fresh.results[0].quality.flags == (UNTRANSLATED,)
    assert again.results[0].input_tokens == 0  # scoring a hit decoded nothing


def detect_with(detector: LanguageDetector) -> Any:
    async def detect(texts: list[str]) -> Sequence[Detection]:
        return detector.detect(texts, 1)

    return detect


def test_the_output_language_is_checked_by_the_real_detector(detector: LanguageDetector) -> None:
    clean = Quality(score=0.8, log_prob=math.log(0.8))
    outputs = [
        "Bonjour mon cher ami, comment allez-vous aujourd'hui ?",
        "Hello my dear friend, how are you today?",
        "<p>Hello my <b>dear</b> friend, how are you today?</p>",
        "Ok",
    ]
    checked = asyncio.run(
        check_output_languages(
            [clean] * 4,
            outputs,
            ["fra_Latn"] * 4,
            detect_with(detector),
            LANGUAGES.same_language,
            "html",
        )
    )
    assert [q.output_language for q in checked[:3]] == ["fra_Latn", "eng_Latn", "eng_Latn"]
    assert [q.flags for q in checked] == [(), (WRONG_LANGUAGE,), (WRONG_LANGUAGE,), ()]
    assert checked[1].score == pytest.approx(0.4)
    # Too short to tell reliably: not called wrong.
    assert not detector.detect(["Ok"], 1)[0].reliable


def handlers(translator: Translator, detector: LanguageDetector) -> JobHandlers:
    async def unused(*_: Any) -> Any:
        raise AssertionError("not a workflow")

    def execute(*_: Any) -> AsyncIterator[dict[str, Any]]:
        raise AssertionError("not a workflow")

    service = EngineService(translator, detector).service
    return JobHandlers(service, unused, execute, chunk_texts=2)


async def no_progress(done: int, total: int, detail: dict[str, Any] | None) -> None:
    return None


def job(**payload: Any) -> Job:
    return Job(token="t" * 32, kind=JobKind.TEXT_TRANSLATION, payload=payload)


def test_a_job_below_min_quality_ends_needs_human_with_what_was_done(
    translator: Translator, detector: LanguageDetector
) -> None:
    run = handlers(translator, detector).run
    texts = [SENTENCE, "Paris.", "Good morning to all of you, my friends."]
    payload = {"texts": texts, "target_language": "fra_Latn", "source_language": "eng_Latn"}
    done = asyncio.run(run(job(**payload, quality=True), no_progress))
    assert done["translations"] == texts
    assert [q["flags"] for q in done["quality"]] == [
        (UNTRANSLATED, WRONG_LANGUAGE),
        (),
        (UNTRANSLATED, WRONG_LANGUAGE),
    ]
    assert "withheld" not in done
    with pytest.raises(NeedsHumanError, match="2 of 3 translations") as info:
        asyncio.run(run(job(**payload, min_quality=0.5), no_progress))
    details = info.value.details
    assert details is not None
    assert details["translations"] == [None, "Paris.", None]
    assert details["withheld"] == [0, 2]
    assert details["quality"][1]["score"] == 1.0
    # Without either option, nothing is measured (and the result has no quality).
    assert "quality" not in asyncio.run(run(job(**payload), no_progress))


def test_a_job_applies_the_glossary_terms_it_carries(
    translator: Translator, detector: LanguageDetector
) -> None:
    run = handlers(translator, detector).run
    payload = {
        "texts": ["Our cloud is up.", "No terms here.", "Cloud"],
        "target_language": "swh_Latn",
        "source_language": "eng_Latn",
        "glossary": [["eng_Latn", "swh_Latn", "cloud", "wingu"]],
        "glossary_mode": "enforce",
    }
    done = asyncio.run(run(job(**payload), no_progress))
    assert done["translations"] == ["Our wingu is up.", "No terms here.", "Wingu"]
    assert [[t["source"] for t in terms] for terms in done["glossary_terms"]] == [
        ["cloud"],
        [],
        ["cloud"],
    ]
    assert done["glossary_terms"][0][0] == {
        "source": "cloud",
        "target": "wingu",
        "found": 1,
        "honoured": 1,
        "method": "substituted",
        "applied": True,
    }
