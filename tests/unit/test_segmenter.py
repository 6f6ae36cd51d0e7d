import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from serve_app.engines.segmenter import segment


@given(st.text(max_size=600))
@settings(max_examples=300, deadline=None)
def test_any_text_reassembles_exactly(text: str) -> None:
    parts = segment(text, max_chars=40)
    assert parts.join(parts.sentences) == text
    assert all(0 < len(sentence) <= 40 for sentence in parts.sentences)
    assert all(sentence.strip() for sentence in parts.sentences)


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Hello there. How are you? Fine!", ["Hello there.", "How are you?", "Fine!"]),
        ("Dr. Smith met J. Doe at 3.5 p.m. today.", ["Dr. Smith met J. Doe at 3.5 p.m. today."]),
        ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
        ("Use e.g. this one. Next.", ["Use e.g. this one.", "Next."]),
        ("你好。世界！再见", ["你好。", "世界！", "再见"]),
        ("नमस्ते। आप कैसे हैं?", ["नमस्ते।", "आप कैसे हैं?"]),
        ("ሰላም። እንዴት ነህ?", ["ሰላም።", "እንዴት ነህ?"]),
        ("مرحبا. كيف حالك؟ بخير.", ["مرحبا.", "كيف حالك؟", "بخير."]),
        ("First line\nSecond line", ["First line", "Second line"]),
    ],
)
def test_sentence_boundaries(text: str, sentences: list[str]) -> None:
    assert segment(text).sentences == sentences


def test_layout_is_kept_in_separators() -> None:
    parts = segment("  Title\n\nPara one. Para two.\n")
    assert parts.sentences == ["Title", "Para one.", "Para two."]
    assert parts.separators == ["  ", "\n\n", " ", "\n"]


def test_long_sentence_is_chunked_at_whitespace() -> None:
    text = " ".join(["word"] * 300)
    parts = segment(text, max_chars=100)
    assert len(parts.sentences) > 1
    assert all(len(s) <= 100 and not s.startswith(" ") for s in parts.sentences)
    assert parts.join(parts.sentences) == text


def test_join_needs_one_translation_per_sentence() -> None:
    with pytest.raises(ValueError, match="one translation per sentence"):
        segment("One. Two.").join(["only one"])


def test_a_sentence_ends_after_the_closing_tags_and_spans_that_follow_its_full_stop() -> None:
    # "<a>the end.</a> Next" reaches the segmenter as "{0}the end.{1} Next".
    text = "Read {0}the end.{1} Next {2}one!{3}{4} Last."
    assert segment(text).sentences == ["Read {0}the end.{1}", "Next {2}one!{3}{4}", "Last."]


def test_a_hard_cut_never_splits_a_masked_span() -> None:
    # 400 characters without a space: the cut would fall inside "{12}".
    text = "x" * 398 + "{12}" + "y" * 50
    sentences = segment(text, 400).sentences
    assert "".join(sentences) == text
    assert any("{12}" in sentence for sentence in sentences)
