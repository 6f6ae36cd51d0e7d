"""The web-text stage: CLD2's opinion, weighed over the languages it knows only.

The sentences are from the UDHR's even-numbered articles (held out from the breadth stage).
"""

from __future__ import annotations

import dataclasses

import pytest

from serve_app.engines.detector import (
    DEFAULT_TUNING,
    DetectionTuning,
    LanguageDetector,
    weigh_web_text,
)
from serve_app.engines.web_text import WebTextStage

KINYARWANDA = "Abantu bashobora guterana na kwiremamo amashyaka mu mahoro."
WARAY = "An kada tagsa may katadungan hin mamingawon nga pagtitirok ug paguurosa;"


@pytest.fixture(scope="module")
def stage() -> WebTextStage:
    return WebTextStage()


def test_its_languages_are_those_cld2_has_tables_for(stage: WebTextStage) -> None:
    # African languages the breadth stage learnt from one declaration each.
    assert {"kin_Latn", "run_Latn", "lin_Latn", "tsn_Latn", "hau_Latn", "wol_Latn"} <= (
        stage.languages
    )
    # CLD2 lists codes for Luo and Ewe but has no tables for them: it cannot answer them.
    assert not {"luo_Latn", "ewe_Latn", "bam_Latn"} & stage.languages


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (KINYARWANDA, "kin_Latn"),
        ("כל אדם זכאי לחירות המחשבה, המצפון והדת.", "heb_Hebr"),  # CLD2's "iw"
        ("Saben uwong darbe hak bebas duwe panemu, kalbu lan agama.", "jav_Latn"),  # "jw"
        ("人人有權享有生命、自由和人身安全。", "zho_Hant"),  # "zh-Hant"
        ("人人有权享有生命、自由和人身安全。", "zho_Hans"),
        ("Каждый человек имеет право на свободу мысли, совести и религии.", "rus_Cyrl"),
    ],
)
def test_cld2_answers_in_flores_codes(stage: WebTextStage, text: str, expected: str) -> None:
    (read,) = stage.probabilities([text])
    assert max(read, key=read.__getitem__) == expected
    assert 0.5 < read[expected] <= 1.0


def test_its_akan_is_twi_as_well(stage: WebTextStage) -> None:
    (read,) = stage.probabilities(["Wɔremfa obiara nkɔ nkoasom anaa nkoayɛ mu."])
    assert read.get("aka_Latn", 0.0) > 0.5
    assert read.get("twi_Latn") == read["aka_Latn"]


def test_text_it_cannot_read_gives_no_opinion(stage: WebTextStage) -> None:
    assert stage.probabilities(["", "12345 67"]) == [{}, {}]
    # A lone surrogate is not UTF-8 (all CLD2 reads), and CLD2 refuses control characters
    # (a C1 control of text decoded as Latin-1) and noncharacters: dropped, the rest read.
    for odd in ("\ud800", "\x8d", "\x00", "\ufffe", "\ufdd0", "\U0010ffff"):
        (read,) = stage.probabilities([f"{KINYARWANDA[:20]}{odd}{KINYARWANDA[20:]}"])
        assert max(read, key=read.__getitem__) == "kin_Latn", odd


def test_weighing_reshares_only_the_mass_of_languages_it_knows() -> None:
    known = frozenset({"kin_Latn", "run_Latn", "aka_Latn"})
    distribution = {"run_Latn": 0.5, "kin_Latn": 0.2, "bam_Latn": 0.3}
    weighed = weigh_web_text(distribution, {"kin_Latn": 0.97}, known)
    # Bambara, which CLD2 cannot name, keeps its share; the rest goes mostly to Kinyarwanda.
    assert weighed["bam_Latn"] == 0.3
    assert weighed["kin_Latn"] > weighed["run_Latn"]
    assert sum(weighed.values()) == pytest.approx(1.0)
    # A Bambara text CLD2 reads as Akan is not pulled to Akan beyond Akan's own share.
    bambara = weigh_web_text({"bam_Latn": 0.9, "aka_Latn": 0.1}, {"aka_Latn": 0.99}, known)
    assert bambara == {"bam_Latn": 0.9, "aka_Latn": 0.1}
    # No opinion, or none on what the text could be: unchanged.
    assert weigh_web_text(distribution, {}, known) is distribution
    assert weigh_web_text({"bam_Latn": 1.0}, {"kin_Latn": 0.9}, known) == {"bam_Latn": 1.0}


def test_the_product_is_softened_by_its_temperature() -> None:
    known = frozenset({"eng_Latn", "sco_Latn"})
    distribution = {"eng_Latn": 0.8, "sco_Latn": 0.2}

    def ratio(temperature: float) -> float:
        tuning = DetectionTuning(web_temperature=temperature)
        weighed = weigh_web_text(distribution, {"eng_Latn": 0.9}, known, tuning)
        return weighed["eng_Latn"] / weighed["sco_Latn"]

    sharp = 0.8 * (0.9 + DEFAULT_TUNING.web_floor) / (0.2 * DEFAULT_TUNING.web_floor)
    assert ratio(1.0) == pytest.approx(sharp)
    assert ratio(2.0) == pytest.approx(sharp**0.5)
    # The weight is CLD2's exponent in the product.
    tuning = DetectionTuning(web_weight=2.0, web_temperature=1.0)
    weighed = weigh_web_text(distribution, {"eng_Latn": 0.9}, known, tuning)
    squared = 0.8 * (0.9 + tuning.web_floor) ** 2 / (0.2 * tuning.web_floor**2)
    assert weighed["eng_Latn"] / weighed["sco_Latn"] == pytest.approx(squared)


def test_the_stage_changes_answers_the_others_got_wrong(detector: LanguageDetector) -> None:
    """Waray read as Tagalog and Kinyarwanda as Kirundi by the stages before it."""
    assert detector.web_text is not None
    without = LanguageDetector(
        detector.model_path,
        detector.languages,
        detector.short_text,
        detector.tuning,
        detector.lexicon,
        detector.breadth,
    )
    assert [d.language for d in without.detect([WARAY, KINYARWANDA])] != [
        "war_Latn",
        "kin_Latn",
    ]
    assert [d.language for d in detector.detect([WARAY, KINYARWANDA])] == [
        "war_Latn",
        "kin_Latn",
    ]


def test_it_cannot_vouch_for_an_answer_on_its_own(detector: LanguageDetector) -> None:
    """An answer it made sure of is reliable only if it was as sure before it weighed in."""
    scripts = {"Latn": 40}
    sure = {"eng_Latn": 0.999, "sco_Latn": 0.001}
    unsure = {"eng_Latn": 0.9, "sco_Latn": 0.1}
    web = {"eng_Latn": 0.95}
    assert detector._answer(sure, 40, scripts, 3, web_read=web, before_web=sure).reliable
    assert not detector._answer(sure, 40, scripts, 3, web_read=web, before_web=unsure).reliable
    # With candidates, both are judged among them.
    allowed = frozenset({"eng_Latn", "fra_Latn"})
    assert detector._answer(
        sure, 40, scripts, 3, allowed=allowed, web_read=web, before_web=unsure
    ).reliable


def test_through_detect_an_answer_it_made_sure_of_is_not_reliable(
    detector: LanguageDetector,
) -> None:
    """Basque and Kyrgyz, below the reliable threshold before CLD2 weighed in and above it
    after: answered, not vouched for. (With Lingua: the breadth stage's agreement with CLD2,
    which spares Lingua, is a second opinion besides CLD2's.)"""
    texts = [
        "Pertsona orok du hezkuntza-eskubidea.",
        "Башталгыч билим берүү милдеттүү болууга тийиш.",
    ]

    def detecting(**tuning: float) -> LanguageDetector:
        return LanguageDetector(
            detector.model_path,
            detector.languages,
            detector.short_text,
            dataclasses.replace(detector.tuning, agreed_share=1.01, **tuning),  # type: ignore[arg-type]
            detector.lexicon,
            detector.breadth,
            detector.web_text,
        )

    unweighed, weighed = detecting(web_weight=0.0), detecting()
    threshold = detector.tuning.reliable_confidence
    for before, after in zip(unweighed.detect(texts), weighed.detect(texts), strict=True):
        assert before.language == after.language
        assert before.confidence < threshold <= after.confidence
        assert not after.reliable


def test_traditional_chinese_is_reliable_with_the_stage(detector: LanguageDetector) -> None:
    """The answer is moved to the script of its characters before CLD2 weighs in (which
    names the two scripts apart): after it, Traditional Chinese was never reliable."""
    found = detector.detect(
        ["我們今天去學校上課，老師說這個問題很重要。", "我们今天去学校上课，老师说这个问题很重要。"]
    )
    assert [d.language for d in found] == ["zho_Hant", "zho_Hans"]
    assert all(d.reliable for d in found)


def test_an_answer_it_reads_as_another_language_is_not_reliable(
    detector: LanguageDetector,
) -> None:
    """Luo, which no stage knows, answered Swahili: CLD2, which knows Swahili, reads the
    text as English or Kinyarwanda."""
    sure = {"swh_Latn": 0.999, "luo_Latn": 0.001}
    scripts = {"Latn": 40}
    assert not detector._answer(sure, 40, scripts, 3, web_read={"eng_Latn": 0.9}).reliable
    assert detector._answer(sure, 40, scripts, 3, web_read={"swh_Latn": 0.9}).reliable
    # Where it has no opinion, or does not know the answer, it is not asked.
    assert detector._answer(sure, 40, scripts, 3, web_read={}).reliable
    bambara = {"bam_Latn": 0.999, "dyu_Latn": 0.001}
    assert detector._answer(bambara, 40, scripts, 3, web_read={"aka_Latn": 0.9}).reliable
    # A close variety of the answer counts as it (Standard Malay read as Indonesian).
    assert not detector._web_text_disagrees("zsm_Latn", {"ind_Latn": 0.9})
    assert detector._web_text_disagrees("zsm_Latn", {"eng_Latn": 0.9})


def test_the_stage_can_be_turned_off() -> None:
    detector = LanguageDetector.from_config(
        short_text_stage=False, lexicon_stage=False, breadth_stage=False, web_text_stage=False
    )
    assert detector.web_text is None
    assert detector.stages == ["fasttext"]


def test_the_setting_reaches_the_engine_and_a_change_of_it_a_new_one() -> None:
    from deployments.detector import _ENGINE_FIELDS
    from serve_app.config import DetectorConfig
    from serve_app.loading import load_detector

    # Every setting but those applied to the running engine builds a new one.
    assert set(DetectorConfig.model_fields) - set(_ENGINE_FIELDS) == {
        "top_k",
        "max_memory_mib",
        "batching",
    }
    others_off = {"short_text_stage": False, "lexicon_stage": False, "breadth_stage": False}
    for on in (True, False):
        config = DetectorConfig(model="lid.176", web_text_stage=on, **others_off)
        assert (load_detector(config).engine.web_text is not None) is on
