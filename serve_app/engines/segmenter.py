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


def _is_abbreviation(text: str, end: int) -> bool:
    """Whether the full stop ending at ``end`` closes an abbreviation or an initial."""
    word = text[:end].rsplit(None, 1)[-1].rstrip(".").lower()
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
    rest = sentence
    while len(rest) > max_chars:
        cut = rest.rfind(" ", max_chars // 2, max_chars + 1)
        if cut <= 0:
            # A hard cut, but never through a masked span's sentinel ("{12}").
            cut = max_chars
            for match in SENTINEL.finditer(rest, 0, max_chars + 16):
                if match.start() < cut < match.end():
                    cut = match.start() or match.end()
            chunks.append((rest[:cut], ""))
            rest = rest[cut:]
            continue
        space_end = cut
        while space_end < len(rest) and rest[space_end] == " ":
            space_end += 1
        chunks.append((rest[:cut], rest[cut:space_end]))
        rest = rest[space_end:]
    if rest:
        chunks.append((rest, ""))
    return chunks


_LINE_BREAKS = re.compile(r"(\s*\n\s*)")


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
