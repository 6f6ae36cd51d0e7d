"""The word stage of detection: simplemma's word lists in memory-mapped tries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from serve_app.engines.detector import (
    DEFAULT_TUNING,
    LanguageDetector,
    bundled_lid176_path,
    rerank_by_lexicon,
)
from serve_app.engines.lexicon import (
    MANIFEST,
    MAX_WORDS,
    Lexicon,
    _build_one,
    lexicon_languages,
    words,
)


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.ensure()


def test_languages_are_nllb_codes_with_serbo_croatian_shared() -> None:
    languages = lexicon_languages()
    assert languages["nn"] == ("nno_Latn",)
    assert languages["nb"] == ("nob_Latn",)
    assert languages["ms"] == ("zsm_Latn",)
    assert languages["hbs"] == ("bos_Latn", "hrv_Latn", "srp_Cyrl")
    # Latin, Middle English, Ancient Greek, Manx, Northern Sami: no NLLB-200 language.
    assert not {"la", "enm", "grc", "gv", "se"} & set(languages)


def test_words_are_lower_cased_letters_and_bounded() -> None:
    assert words("Eg veit IKKJE, 42 gonger!") == ["eg", "veit", "ikkje", "gonger"]
    assert len(words("ord " * 100)) == MAX_WORDS


def test_words_keep_their_combining_marks(lexicon: Lexicon) -> None:
    """Devanagari's vowel signs and virama are part of a word: "हिन्दी" is one, which Hindi's
    word list knows, not "ह", "न", "द" (single letters it knows too)."""
    assert words("हिन्दी भाषा") == ["हिन्दी", "भाषा"]
    assert lexicon.known_share("hin_Deva", words("हिन्दी भाषा")) == 1.0


def test_known_share_tells_nynorsk_from_bokmal(lexicon: Lexicon) -> None:
    nynorsk = words("eg veit ikkje korleis")
    assert lexicon.known_share("nno_Latn", nynorsk) == 1.0
    share = lexicon.known_share("nob_Latn", nynorsk)
    assert share is not None
    assert share < 0.5
    assert lexicon.known_share("oci_Latn", nynorsk) is None  # no lexicon for Occitan
    assert lexicon.known_share("nno_Latn", []) is None


def test_rerank_moves_the_leaders_and_keeps_their_mass(lexicon: Lexicon) -> None:
    distribution = {"nob_Latn": 0.5, "nno_Latn": 0.3, "dan_Latn": 0.15, "swe_Latn": 0.05}
    out, foreign = rerank_by_lexicon(distribution, words("eg veit ikkje"), lexicon)
    assert foreign == 1.0  # the words overturned the n-grams' answer: not reliable
    assert max(out, key=out.__getitem__) == "nno_Latn"
    leaders = ("nob_Latn", "nno_Latn", "dan_Latn")
    assert sum(out[c] for c in leaders) == pytest.approx(sum(distribution[c] for c in leaders))
    assert out["swe_Latn"] == distribution["swe_Latn"]  # not among the three leaders
    # Confirmed, not overturned: Bokmål/Danish know no word here that Nynorsk does not.
    confirmed = {"nno_Latn": 0.5, "nob_Latn": 0.3, "dan_Latn": 0.2}
    out, foreign = rerank_by_lexicon(confirmed, words("eg veit ikkje"), lexicon)
    assert foreign == 0.0
    assert out["nno_Latn"] > confirmed["nno_Latn"]


def test_rerank_leaves_languages_without_a_lexicon_and_sure_answers_alone(
    lexicon: Lexicon,
) -> None:
    text = words("eg veit ikkje")
    # Occitan has no word list: judging it against Nynorsk's would penalise it for that.
    with_occitan = {"nob_Latn": 0.5, "oci_Latn": 0.3, "nno_Latn": 0.2}
    assert rerank_by_lexicon(with_occitan, text, lexicon) == (with_occitan, 0.0)
    # Only one candidate above the floor: nothing to choose between.
    sure = {"nob_Latn": 0.97, "nno_Latn": 0.03}
    assert DEFAULT_TUNING.lexicon_min_probability > 0.03
    assert rerank_by_lexicon(sure, text, lexicon) == (sure, 0.0)
    even = {"nob_Latn": 0.6, "nno_Latn": 0.4}
    assert rerank_by_lexicon(even, [], lexicon) == (even, 0.0)


def test_code_switching_is_measured_as_foreign_words(lexicon: Lexicon) -> None:
    mixed = words("Ninapenda sana kusoma vitabu especially on weekends with my friends")
    _, foreign = rerank_by_lexicon({"eng_Latn": 0.6, "swh_Latn": 0.4}, mixed, lexicon)
    assert foreign >= DEFAULT_TUNING.reliable_foreign_words  # the Swahili words


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kva heiter du", "nno_Latn"),  # n-grams alone: German
        ("jeg vet ikke", "nob_Latn"),  # n-grams alone: Danish
        ("quero ir", "por_Latn"),  # n-grams alone: Spanish
    ],
)
def test_the_word_stage_tells_near_twins_apart(
    detector: LanguageDetector, text: str, expected: str
) -> None:
    assert detector.lexicon is not None
    assert detector.stages == ["fasttext", "lingua", "lexicon", "udhr", "cld2"]
    # The n-gram stages with and without the word stage (CLD2, which reads these three
    # right on its own, left out of both so the test sees the word stage alone).
    with_words = LanguageDetector(
        bundled_lid176_path(),
        short_text=detector.short_text,
        lexicon=detector.lexicon,
        breadth=detector.breadth,
    )
    without = LanguageDetector(
        bundled_lid176_path(), short_text=detector.short_text, breadth=detector.breadth
    )
    (found,) = with_words.detect([text])
    (before,) = without.detect([text])
    assert found.language == expected
    assert before.language != expected


def test_a_missing_language_file_names_the_command(tmp_path: Path) -> None:
    assert _build_one("nn", str(tmp_path)) == "nn"
    assert (tmp_path / "nn.marisa").stat().st_size > 100_000
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left
    with pytest.raises(FileNotFoundError, match="tafsiri build-lexicon"):
        Lexicon(tmp_path)


def test_the_built_lexicon_has_a_manifest(lexicon: Lexicon) -> None:
    manifest = json.loads((lexicon.directory / MANIFEST).read_text())
    assert manifest["source"].startswith("simplemma ")
    assert set(manifest["languages"]) == set(lexicon_languages())
    assert lexicon.languages >= {"nno_Latn", "nob_Latn", "ind_Latn", "zsm_Latn", "hin_Deva"}
