"""The detection benchmark's own text handling: what it calls a word decides its snippets."""

from __future__ import annotations

from benchmarks.detection_accuracy import WORD


def test_a_word_keeps_its_combining_marks() -> None:
    """Snippets of two words, not of two letters between vowel signs ("য ব" for Bengali)."""
    assert WORD.findall("सभी मनुष्यों को गौरव") == ["सभी", "मनुष्यों", "को", "गौरव"]
    assert WORD.findall("সকল মানুষ স্বাধীনভাবে") == ["সকল", "মানুষ", "স্বাধীনভাবে"]
    assert WORD.findall("l'homme rock-n-roll 42 x2") == ["l'homme", "rock-n-roll", "x"]
