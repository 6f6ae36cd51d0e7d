"""Glossaries: entries checked, terms found, and applied through real CTranslate2 (the copy
model, so outputs are exact; a model that writes "ar" for "at" to tell the model's part from
the service's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from serve_app.engines.cache import MemoryCache
from serve_app.engines.glossary import (
    PREFER_HYPOTHESES,
    GlossaryError,
    GlossaryLimits,
    GlossaryTerms,
    Terms,
    check_entries,
    parse_csv,
)
from serve_app.engines.translator import TranslationOptions, TranslationRequest, Translator
from serve_app.testmodel.build import build_test_model

LIMITS = GlossaryLimits(max_entries=5, max_term_chars=20)
PAIRS = (("cloud", "wingu"), ("cloud server", "seva ya wingu"), ("Ray", "Ray"))


@pytest.fixture(scope="module")
def swapping(tmp_path_factory: pytest.TempPathFactory) -> Translator:
    path = build_test_model(tmp_path_factory.mktemp("swap-at") / "m", swaps=(("at", "ar"),))
    return Translator(path, intra_threads=1)


@pytest.fixture(scope="module")
def mangling(tmp_path_factory: pytest.TempPathFactory) -> Translator:
    path = build_test_model(tmp_path_factory.mktemp("swap-brace") / "m", swaps=(("<0x7B>", "("),))
    return Translator(path, intra_threads=1)


def rows(*pairs: tuple[object, object]) -> list[tuple[str, str, object, object]]:
    return [("eng_Latn", "swh_Latn", source, target) for source, target in pairs]


@pytest.mark.parametrize(
    ("entries", "field", "message"),
    [
        ([], "entries", "at least one entry"),
        ([("a", "b")] * 6, "entries", "at most 5"),
        ([("ok", "sawa"), ("  ", "x")], "entries.1.source", "empty"),
        ([("ok", "x" * 21)], "entries.0.target", "longer than 20"),
        ([("ok\x00", "sawa")], "entries.0.source", "control"),
        ([("ok", "sa\u200bwa")], "entries.0.target", "control"),
        ([("42", "arobaini")], "entries.0.source", "need a letter"),
        ([("Cloud", "wingu"), ("cloud ", "anga")], "entries.1", "listed twice"),
        ([(7, "saba")], "entries.0.source", "must be a string"),
    ],
)
def test_hostile_entries_are_refused_naming_the_entry(
    entries: list[tuple[object, object]], field: str, message: str
) -> None:
    with pytest.raises(GlossaryError, match=message) as refused:
        check_entries(rows(*entries), LIMITS)
    assert refused.value.field == field


def test_entries_are_normalised() -> None:
    (entry,) = check_entries(rows(("  Cafe\u0301 ", "mkahawa")), LIMITS)
    assert entry.source == "Café"  # NFC, stripped
    # The same term for another pair is another entry.
    both = check_entries(
        [("eng_Latn", "swh_Latn", "x-ray", "eksirei"), ("eng_Latn", "fra_Latn", "x-ray", "radio")],
        LIMITS,
    )
    assert len(both) == 2


def test_csv_with_two_or_four_columns_and_a_header() -> None:
    text = 'source,target\ncloud,wingu\n"server, big",seva kubwa\n\n'
    assert parse_csv(text, LIMITS) == [
        (None, None, "cloud", "wingu"),
        (None, None, "server, big", "seva kubwa"),
    ]
    four = "source_language,target_language,source,target\nen,sw,cloud,wingu\n"
    assert parse_csv(four, LIMITS) == [("en", "sw", "cloud", "wingu")]
    with pytest.raises(GlossaryError, match="line 2 has 3 columns"):
        parse_csv("a,b\nc,d,e\n", LIMITS)
    with pytest.raises(GlossaryError, match="more than 5"):
        parse_csv("a,b\n" * 7, LIMITS)


def test_terms_are_found_whole_word_case_insensitive_longest_first() -> None:
    terms = Terms(PAIRS)
    text = "The Cloud server and the cloud; cloudy skies, a ray of RAY."
    found = [(text[m.start : m.end], terms.pairs[m.term][1]) for m in terms.find(text)]
    assert found == [
        ("Cloud server", "seva ya wingu"),
        ("cloud", "wingu"),
        ("ray", "Ray"),
        ("RAY", "Ray"),
    ]
    # Nothing inside a blocked range (a sentinel), nor across one.
    assert terms.find("cloud {0}", [(0, 5)]) == []
    # Offsets hold where lower-casing changes a character's length ("İ" lowers to two).
    dotted = Terms((("istanbul", "Istanbul"),))
    assert [(m.start, m.end) for m in dotted.find("İİ istanbul")] == [(3, 11)]
    assert Terms(()).find("anything") == []


def request(text: str, mode: str = "enforce", **fields: object) -> TranslationRequest:
    return TranslationRequest(
        text,
        "eng_Latn",
        "swh_Latn",
        glossary=GlossaryTerms(PAIRS, mode),
        **fields,  # type: ignore[arg-type]
    )


def test_enforce_substitutes_every_term_letter_for_letter(translator: Translator) -> None:
    out = translator.translate(
        [
            request("The cloud server runs Ray. Cloud is big; cloudy today."),
            request("Cloud"),  # nothing but a term: no model call needed, still applied
            request("<p>Our <b>cloud</b> &amp; Ray</p>", text_format="html"),
        ]
    )
    text, alone, page = out.results
    assert text.text == "The seva ya wingu runs Ray. Wingu is big; cloudy today."
    assert {(r.source, r.found, r.honoured, r.method) for r in text.glossary} == {
        ("cloud server", 1, 1, "substituted"),
        ("cloud", 1, 1, "substituted"),
        ("Ray", 1, 1, "substituted"),
    }
    assert alone.text == "Wingu"
    assert page.text == "<p>Our <b>wingu</b> &amp; Ray</p>"
    assert all(report.applied for report in page.glossary)


def test_target_terms_are_escaped_in_html(translator: Translator) -> None:
    glossary = GlossaryTerms((("R and D", "R&D <team>"),))
    (result,) = translator.translate(
        [
            TranslationRequest(
                "<p>Our R and D group.</p>", "eng_Latn", "swh_Latn", "html", glossary=glossary
            )
        ]
    ).results
    assert result.text == "<p>Our R&amp;D &lt;team&gt; group.</p>"


def test_enforced_terms_survive_a_model_that_mangles_sentinels(mangling: Translator) -> None:
    (result,) = mangling.translate([request("We moved the cloud server to Ray today.")]).results
    assert result.text == "We moved the seva ya wingu to Ray today."
    assert result.repaired == 1  # the model lost the sentinels; the terms came back anyway
    assert all(report.applied for report in result.glossary)


def test_prefer_reports_what_the_model_did(translator: Translator, swapping: Translator) -> None:
    (copied,) = translator.translate([request("The cloud runs Ray.", "prefer")]).results
    assert copied.text == "The cloud runs Ray."  # the model's own output
    assert {(r.source, r.honoured) for r in copied.glossary} == {("cloud", 0), ("Ray", 1)}
    # Re-ranking: the "ar" model's best is "The car sar on the mar."; a glossary asking for a
    # word only a lower-ranked hypothesis has picks that hypothesis, and says the model
    # honoured it. Which runner-up has which word is up to the CPU's arithmetic (they score
    # within 0.02 of each other, and AVX2 and AVX-512 machines order them differently), so
    # the word is read from this machine's own n-best.
    plain = TranslationRequest("The cat sat on the mat.", "eng_Latn", "fra_Latn")
    (nbest,) = swapping.translate(
        [plain], TranslationOptions(num_alternatives=PREFER_HYPOTHESES)
    ).results
    assert nbest.text == "The car sar on the mar."
    hypothesis, word = next(
        (alternative.text, word)
        for alternative in nbest.alternatives[1:]
        for word in alternative.text.split()
        if word.isalpha() and word not in nbest.text.split()
    )
    prefer = GlossaryTerms((("cat", word),), "prefer")
    (best,) = swapping.translate([plain]).results
    (chosen,) = swapping.translate(
        [TranslationRequest(plain.text, "eng_Latn", "fra_Latn", glossary=prefer)]
    ).results
    assert best.text == nbest.text
    assert chosen.text.strip() == hypothesis.strip() != best.text
    assert [(r.honoured, r.method) for r in chosen.glossary] == [(1, "model")]


def test_two_glossaries_share_the_cached_decode_of_a_substituted_sentence(
    test_model_dir: Path,
) -> None:
    engine = Translator(test_model_dir, intra_threads=1)
    engine.cache = MemoryCache(2**20)
    first = GlossaryTerms((("cloud", "wingu"),))
    second = GlossaryTerms((("cloud", "anga"),))
    text = "Our cloud is fast today."
    one = engine.translate([TranslationRequest(text, "eng_Latn", "swh_Latn", glossary=first)])
    two = engine.translate([TranslationRequest(text, "eng_Latn", "swh_Latn", glossary=second)])
    assert one.results[0].text == "Our wingu is fast today."
    assert two.results[0].text == "Our anga is fast today."
    assert two.timings.cached_sentences == 1  # the model saw "Our {0} is fast today." once
    # Without the glossary the sentence is another entry (the model sees the word).
    plain = engine.translate([TranslationRequest(text, "eng_Latn", "swh_Latn")])
    assert plain.timings.cached_sentences == 0
    assert plain.results[0].glossary == []
