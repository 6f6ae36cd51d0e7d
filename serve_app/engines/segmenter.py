"""Sentence splitting and faithful reassembly of text around the translated sentences."""

from __future__ import annotations

import re
from dataclasses import dataclass

from serve_app.engines.spans import SENTINEL

# What may follow a terminator inside its sentence: closing quotes and brackets, and masked
# spans (a closing inline tag, as in "<a>the end.</a> Next", is "{3}" by then; engines.spans).
_CLOSERS = r"(?:['\"”’»)\]」』]|\{\d+\})*"  # the sentinel as spans.SENTINEL, no group
# Terminators after which a sentence ends when whitespace follows.
_SPACED_END = rf"[.!?…؟۔]{_CLOSERS}"
# Terminators that end a sentence with or without following whitespace (CJK, Indic, Ethiopic).
_UNSPACED_END = rf"[。！？｡।॥።፧፨]{_CLOSERS}"
_BOUNDARY = re.compile(rf"(?<=\S)(?:({_SPACED_END})(\s+)|({_UNSPACED_END})(\s*))")
_ABBREVIATIONS = frozenset(
    (
        "mr mrs ms dr prof sr jr st vs etc e.g i.e no fig approx dept est inc ltd co "
        "jan feb mar apr jun jul aug sep sept oct nov dec"
    ).split()
)


@dataclass(frozen=True)
class Segmented:
    """``text == separators[0] + sentences[0] + separators[1] + ... + separators[-1]``."""

    sentences: list[str]
    separators: list[str]

    def join(self, translated: list[str]) -> str:
        if len(translated) != len(self.sentences):
            raise ValueError("one translation per sentence is needed to reassemble the text")
        parts = [self.separators[0]]
        for sentence, separator in zip(translated, self.separators[1:], strict=True):
            parts += [sentence, separator]
        return "".join(parts)


# How far back a full stop's word is looked for: longer than any abbreviation with its dots.
_WORD_WINDOW = 32


def _is_abbreviation(text: str, end: int) -> bool:
    """Whether the full stop ending at ``end`` closes an abbreviation or an initial.

    Only the last :data:`_WORD_WINDOW` characters are read (a copy of the text up to each
    full stop made long texts quadratic); a word longer than that is no abbreviation.
    """
    start = max(0, end - _WORD_WINDOW)
    words = text[start:end].split()
    if not words or (start > 0 and len(words) == 1 and not text[start - 1].isspace()):
        return False  # no word, or one that began before the window
    word = words[-1].rstrip(".").lower()
    return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def split_sentences(paragraph: str) -> list[tuple[str, str]]:
    """``(sentence, following whitespace)`` pairs for one paragraph without line breaks."""
    pieces: list[tuple[str, str]] = []
    start = 0
    for match in _BOUNDARY.finditer(paragraph):
        spaced = match.group(1) is not None
        end = match.end(1) if spaced else match.end(3)
        following = paragraph[match.end() : match.end() + 1]
        if spaced and (
            following.islower()
            or (match.group(1).startswith(".") and _is_abbreviation(paragraph, end))
        ):
            continue
        if end > start:
            pieces.append((paragraph[start:end], paragraph[end : match.end()]))
        start = match.end()
    if start < len(paragraph):
        pieces.append((paragraph[start:], ""))
    return pieces


def _chunk(sentence: str, max_chars: int) -> list[tuple[str, str]]:
    """Splits an over-long sentence at whitespace (or hard, where it has none)."""
    chunks: list[tuple[str, str]] = []
    start, length = 0, len(sentence)  # offsets, not copies of the rest: linear in the length
    while length - start > max_chars:
        limit = start + max_chars
        cut = sentence.rfind(" ", start + max_chars // 2, limit + 1)
        if cut <= start:
            # A hard cut, but never through a masked span's sentinel ("{12}").
            cut = limit
            for match in SENTINEL.finditer(sentence, start, limit + 16):
                if match.start() < cut < match.end():
                    cut = match.start() if match.start() > start else match.end()
            chunks.append((sentence[start:cut], ""))
            start = cut
            continue
        space_end = cut
        while space_end < length and sentence[space_end] == " ":
            space_end += 1
        chunks.append((sentence[start:cut], sentence[cut:space_end]))
        start = space_end
    if start < length:
        chunks.append((sentence[start:], ""))
    return chunks


# A whitespace run holding a line break, matched only from the run's first character (so a
# long run without one is read once, not once per character).
_LINE_BREAKS = re.compile(r"((?<![^\S\n])[^\S\n]*+\n\s*)")


def segment(text: str, max_chars: int = 400, *, line_breaks: bool = True) -> Segmented:
    """Splits ``text`` into sentences of at most ``max_chars`` characters.

    Line breaks, blank lines and the whitespace between sentences are kept verbatim in the
    separators, so paragraphs and layout survive translation. Without ``line_breaks`` (HTML
    text, where a line break is just a space) a line break does not end a sentence.
    """
    if max_chars < 16:
        raise ValueError(f"max_chars must be at least 16, got {max_chars}")
    stripped = text.strip()
    if not stripped:
        return Segmented([], [text])
    lead = text[: len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()) :]
    sentences: list[str] = []
    separators: list[str] = [lead]
    blocks = _LINE_BREAKS.split(stripped) if line_breaks else [stripped]
    for index, block in enumerate(blocks):
        if index % 2 == 1:  # a line-break run: glue it to the previous separator
            separators[-1] += block
            continue
        for sentence, space in split_sentences(block):
            for chunk, chunk_space in _chunk(sentence, max_chars):
                sentences.append(chunk)
                separators.append(chunk_space)
            separators[-1] += space
    separators[-1] += trail
    return Segmented(sentences, separators)
