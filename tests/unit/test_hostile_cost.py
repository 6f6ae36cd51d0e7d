"""Hostile cost: inputs well inside the request limits that were quadratic (minutes to hours
of CPU at a megabyte) go through every path over user text in linear time.

Each test feeds its path a 1,000,000-character input crafted against that path. Linear, each
takes well under a few seconds here; the quadratic code took from minutes to hours. The
limit is generous on purpose (a loaded CI machine must not fail a linear path). A regex
holds the GIL while it runs, so no timer thread or signal can stop one: each path runs in a
forked child, killed at the limit. ``benchmarks/hostile_input.py`` prints each path's time at
n, 4n and 16n.
"""

from __future__ import annotations

import functools
import itertools
import multiprocessing
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from serve_app.documents.office import _paragraph_runs
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
# Generous: each path takes ~0.1-4 s here; the quadratic versions took minutes to hours.
LIMIT_SECONDS = 60


def bounded(test: Callable[..., None]) -> Callable[..., None]:
    """Runs ``test`` in a forked child (its assertions there), failing when it outlives
    :data:`LIMIT_SECONDS` or fails."""

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        child = multiprocessing.get_context("fork").Process(target=test, args=args, kwargs=kwargs)
        child.start()
        child.join(LIMIT_SECONDS)
        if child.is_alive():
            child.kill()
            child.join()
            pytest.fail(f"{test.__name__} ran over {LIMIT_SECONDS} s: the path is not linear")
        assert child.exitcode == 0, f"{test.__name__} failed in its child (see its stderr)"

    return run


def megabyte(piece: str, suffix: str = "") -> str:
    return piece * ((MEGABYTE - len(suffix)) // len(piece)) + suffix


@bounded
def test_masking_a_text_of_dotted_words_is_linear() -> None:
    # The mail-address pattern re-read the rest of the text from every word.
    unit = mask(megabyte("a."))
    assert unit.text == unit.raw  # no address, nothing masked


@bounded
def test_masking_keeps_a_mail_address_found_among_hostile_words() -> None:
    unit = mask(megabyte("a.", " write to someone@example.org today"))
    assert [span.raw for span in unit.spans] == ["someone@example.org"]


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
@bounded
def test_parsing_hostile_html_is_linear(piece: str) -> None:
    source = megabyte(piece)
    document = parse_html(source)
    assert "".join(p if isinstance(p, str) else p.raw for p in document) == source


@bounded
def test_a_subtitle_cue_of_unclosed_tags_is_linear() -> None:
    # The cue's tags were stripped with <[^>]*>, which re-read the cue from every "<".
    cue = megabyte("<")
    vtt = f"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n{cue}\n"
    assert walk_vtt(vtt, lambda html: html.upper()) == vtt  # nothing with letters: untouched


@bounded
def test_a_markdown_paragraph_of_unclosed_tags_is_linear() -> None:
    source = megabyte("<") + "\n"
    assert walk_markdown(source, lambda html: html.upper()) == source


@bounded
def test_a_markdown_paragraph_of_autolinks_is_linear() -> None:
    # Each autolink joined the text of the whole paragraph.
    source = megabyte("<http://a.b> x ", "\n")
    assert walk_markdown(source, lambda html: html) == source


@bounded
def test_text_runs_of_deeply_nested_office_paragraphs_are_linear() -> None:
    # Every paragraph walked all the text elements below it, climbing to each one's
    # paragraph: depth times texts (~150 s a megabyte at 120 deep).
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    root = inner = etree.Element(f"{w}body")
    for tag in ["p"] * 120 + ["r"] * 120:
        inner = etree.SubElement(inner, f"{w}{tag}")
    for _ in range(MEGABYTE // 12):  # "<w:t>1</w:t>"
        etree.SubElement(inner, f"{w}t").text = "1"
    runs = list(_paragraph_runs(root, f"{w}p", f"{w}t"))
    assert len(runs) == 1  # all of them are the innermost paragraph's
    assert len(runs[0][1]) == MEGABYTE // 12


@bounded
def test_matching_nested_glossary_terms_is_linear() -> None:
    terms = Terms(tuple((" ".join(["a"] * k), f"t{k}") for k in range(1, 129)))
    text = megabyte("a ")
    found = terms.find(text)
    # Leftmost-longest: runs of 128 words, none overlapping.
    assert len(found) == -(-(len(text) // 2) // 128)
    assert {match.term for match in found[:-1]} == {127}


@bounded
def test_splitting_many_short_sentences_is_linear() -> None:
    text = megabyte("a. B ")
    segmented = segment(text)
    assert segmented.join(segmented.sentences) == text


@pytest.mark.parametrize("text", [megabyte(" ", "x"), megabyte("\t \t", "\nx")])
@bounded
def test_splitting_long_whitespace_runs_is_linear(text: str) -> None:
    segmented = segment(text)
    assert segmented.join(segmented.sentences) == text


@pytest.mark.parametrize("piece", ["a.", "a-", "1-"])
@bounded
def test_dropping_words_of_no_language_is_linear(piece: str) -> None:
    # A run of letters, hyphens and digits that fails at its end ("é") was re-read from
    # every hyphen, with backtracking over each of its digits.
    assert without_no_language_words(megabyte(piece, "1é")).endswith("é")


@pytest.mark.parametrize("piece", ["plot of ", "histogram of ", "scatter of a vs ", "a"])
@bounded
def test_planning_a_hostile_request_is_linear(piece: str) -> None:
    with pytest.raises(PlanningError):
        plan(megabyte(piece))


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Translator:
    translator = Translator(build_test_model(tmp_path_factory.mktemp("hostile") / "m"))
    translator.cache = MemoryCache(1 << 20)
    return translator


@pytest.mark.timeout(LIMIT_SECONDS, method="thread")
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
    # (Pure Python loops, which a timer thread can stop; and no fork beside CTranslate2's
    # threads.)
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
