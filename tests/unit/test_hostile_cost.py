"""Hostile cost: inputs well inside the request limits that were quadratic (minutes to hours
of CPU at a megabyte) go through every path over user text in linear time.

Each test feeds its path a 1,000,000-character input crafted against that path. Linear, each
takes well under a few seconds here; the quadratic code took from minutes to hours. The
timeout is generous on purpose (a loaded CI machine must not fail a linear path), and ends
the run with a stack dump instead of hanging it. ``benchmarks/hostile_input.py`` prints each
path's time at n, 4n and 16n.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from serve_app.documents.text_formats import walk_markdown, walk_vtt
from serve_app.dsl.planner import PlanningError, plan
from serve_app.engines.cache import MemoryCache
from serve_app.engines.detector import without_no_language_words
from serve_app.engines.glossary import GlossaryTerms, Terms
from serve_app.engines.markup import parse_html
from serve_app.engines.segmenter import segment
from serve_app.engines.spans import mask
from serve_app.engines.translator import TranslationRequest, Translator
from serve_app.testmodel.build import build_test_model

MEGABYTE = 1_000_000
# Generous: each path takes ~0.1-3 s here; the quadratic versions took minutes to hours.
BUDGET = pytest.mark.timeout(60, method="thread")


def megabyte(piece: str, suffix: str = "") -> str:
    return piece * ((MEGABYTE - len(suffix)) // len(piece)) + suffix


@BUDGET
def test_masking_a_text_of_dotted_words_is_linear() -> None:
    # The mail-address pattern re-read the rest of the text from every word.
    unit = mask(megabyte("a."))
    assert unit.text == unit.raw  # no address, nothing masked


@BUDGET
def test_masking_keeps_a_mail_address_found_among_hostile_words() -> None:
    unit = mask(megabyte("a.", " write to someone@example.org today"))
    assert [span.raw for span in unit.spans] == ["someone@example.org"]


@BUDGET
@pytest.mark.parametrize(
    "piece",
    [
        "<a",  # start tags never closed: html.parser's EOF handling, one scan each
        "<!--a>",  # comments never closed
        "<a b='",  # quoted attribute values never closed
        "<b><i></b></u>",  # inline elements left open, then a closing tag for none
        "<",
    ],
)
def test_parsing_hostile_html_is_linear(piece: str) -> None:
    source = megabyte(piece)
    document = parse_html(source)
    assert "".join(p if isinstance(p, str) else p.raw for p in document) == source


@BUDGET
def test_a_subtitle_cue_of_unclosed_tags_is_linear() -> None:
    # The cue's tags were stripped with <[^>]*>, which re-read the cue from every "<".
    cue = megabyte("<")
    vtt = f"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n{cue}\n"
    assert walk_vtt(vtt, lambda html: html.upper()) == vtt  # nothing with letters: untouched


@BUDGET
def test_a_markdown_paragraph_of_unclosed_tags_is_linear() -> None:
    source = megabyte("<") + "\n"
    assert walk_markdown(source, lambda html: html.upper()) == source


@BUDGET
def test_matching_nested_glossary_terms_is_linear() -> None:
    terms = Terms(tuple((" ".join(["a"] * k), f"t{k}") for k in range(1, 129)))
    text = megabyte("a ")
    found = terms.find(text)
    # Leftmost-longest: runs of 128 words, none overlapping.
    assert len(found) == -(-(len(text) // 2) // 128)
    assert {match.term for match in found[:-1]} == {127}


@BUDGET
def test_splitting_many_short_sentences_is_linear() -> None:
    text = megabyte("a. B ")
    segmented = segment(text)
    assert segmented.join(segmented.sentences) == text


@BUDGET
@pytest.mark.parametrize("text", [megabyte(" ", "x"), megabyte("\t \t", "\nx")])
def test_splitting_long_whitespace_runs_is_linear(text: str) -> None:
    segmented = segment(text)
    assert segmented.join(segmented.sentences) == text


@BUDGET
@pytest.mark.parametrize("piece", ["a.", "a-", "1-"])
def test_dropping_words_of_no_language_is_linear(piece: str) -> None:
    # A run of letters, hyphens and digits that fails at its end ("é") was re-read from
    # every hyphen, with backtracking over each of its digits.
    assert without_no_language_words(megabyte(piece, "1é")).endswith("é")


@BUDGET
@pytest.mark.parametrize("piece", ["plot of ", "histogram of ", "scatter of a vs "])
def test_planning_a_hostile_request_is_linear(piece: str) -> None:
    with pytest.raises(PlanningError):
        plan(megabyte(piece))


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Translator:
    translator = Translator(build_test_model(tmp_path_factory.mktemp("hostile") / "m"))
    translator.cache = MemoryCache(1 << 20)
    return translator


@BUDGET
@pytest.mark.parametrize(
    ("piece", "text_format"),
    [
        ("Ona {x} i {y}. ", "text"),  # many sentences, each with spans of one unit
        ("<b>Ona</b> {x}. ", "html"),
        ("a b a. ", "text"),  # glossary terms in every sentence
    ],
)
def test_the_engine_plans_a_megabyte_of_sentences_with_spans_in_linear_time(
    engine: Translator, piece: str, text_format: str
) -> None:
    # Everything the engine does before decoding (masking, splitting, each sentence's spans,
    # glossary terms, cache keys), through its own entry point: nothing is cached, so it
    # answers None without decoding. Each sentence looked at every span of its unit before.
    glossary = GlossaryTerms((("a", "x"), ("a b", "y"), ("a b a", "z")))
    request = TranslationRequest(
        megabyte(piece), "eng_Latn", "fra_Latn", text_format=text_format, glossary=glossary
    )
    assert engine.translate_from_cache([request]) is None


# The glossary's linear matcher answers what the old one did: every whole-word occurrence,
# leftmost first and then longest, none overlapping each other or a blocked range.
def _brute_force(
    terms: list[str], text: str, blocked: list[tuple[int, int]]
) -> list[tuple[int, int, str]]:
    def word(char: str) -> bool:
        return char.isalnum() or char == "_"

    found = []
    for term, start in itertools.product(terms, range(len(text))):
        end = start + len(term)
        if text[start:end].lower() != term.lower():
            continue
        if start > 0 and word(text[start - 1]) and word(text[start]):
            continue
        if end < len(text) and word(text[end]) and word(text[end - 1]):
            continue
        if any(start < b_end and b_start < end for b_start, b_end in blocked):
            continue
        found.append((start, end, term))
    found.sort(key=lambda m: (m[0], -(m[1] - m[0])))
    chosen: list[tuple[int, int, str]] = []
    for match in found:
        if not chosen or match[0] >= chosen[-1][1]:
            chosen.append(match)
    return [(start, end, text[start:end].lower()) for start, end, _ in chosen]


@given(
    st.lists(st.text("ab -é", min_size=1, max_size=4).map(str.strip).filter(bool), min_size=1),
    st.text("aAb -é_\x01\x02", max_size=16),
    st.lists(st.tuples(st.integers(0, 16), st.integers(1, 3)), max_size=2),
)
def test_glossary_matches_are_leftmost_longest_whole_words(
    terms: list[str], text: str, blocked_at: list[tuple[int, int]]
) -> None:
    terms = list(dict.fromkeys(terms))
    blocked = [(start, start + length) for start, length in blocked_at]
    matcher = Terms(tuple((term, "x") for term in terms))
    found = [(m.start, m.end, text[m.start : m.end].lower()) for m in matcher.find(text, blocked)]
    assert found == _brute_force(terms, text, blocked)
    for match in matcher.find(text, blocked):
        assert text[match.start : match.end].lower() == terms[match.term].lower()
