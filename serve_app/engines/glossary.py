"""Glossaries: terms a client wants translated its way, checked, found and applied.

A glossary holds entries per language pair (``source`` term -> ``target`` term). Terms are
found whole-word and case-insensitively, leftmost and longest first, with one Aho-Corasick
pass however many terms there are (linear in the text). CTranslate2 cannot force a word into
the output, so two modes:

- ``enforce`` (default): each term found becomes a protected span whose output is the
  target term (see :mod:`serve_app.engines.spans`), so it survives whatever the model does;
  the model sees a placeholder instead of the word, which may cost the sentence fluency.
- ``prefer``: the model sees the sentence as it is, decodes :data:`PREFER_HYPOTHESES`
  hypotheses, and the one with the most target terms wins (then the model's score). A term
  counts as honoured only if the chosen output really holds it.

Every term found is reported, honoured or not: nothing is claimed that did not happen.
"""

from __future__ import annotations

import bisect
import csv
import io
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import ahocorasick_rs

# Hypotheses decoded for a sentence with glossary terms in `prefer` mode (re-ranked).
PREFER_HYPOTHESES = 4
MODES = ("enforce", "prefer")


@dataclass(frozen=True)
class GlossaryLimits:
    max_entries: int = 5000
    max_term_chars: int = 256


class GlossaryError(ValueError):
    """A glossary that cannot be accepted; ``field`` names the offending part."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


class GlossaryTooLargeError(GlossaryError):
    """More entries (or bytes) than a glossary may hold."""


@dataclass(frozen=True)
class GlossaryEntry:
    source_language: str
    target_language: str
    source: str
    target: str


@dataclass
class Glossary:
    id: str
    owner: str
    name: str
    created_at: float
    entries: list[GlossaryEntry] = field(default_factory=list)
    # Matchers per language pair, built on first use (a reader keeps the glossary a while).
    _terms: dict[tuple[str, str], Terms] = field(default_factory=dict, repr=False, compare=False)

    @property
    def language_pairs(self) -> list[tuple[str, str]]:
        return sorted({(e.source_language, e.target_language) for e in self.entries})

    def terms(self, source_language: str, target_language: str) -> Terms:
        """The matcher of this glossary's entries for one language pair."""
        pair = (source_language, target_language)
        if pair not in self._terms:
            self._terms[pair] = Terms(
                tuple(
                    (entry.source, entry.target)
                    for entry in self.entries
                    if (entry.source_language, entry.target_language) == pair
                )
            )
        return self._terms[pair]

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_terms": {}}  # matchers are rebuilt where they are used


def _clean(value: Any, what: str, where: str, limits: GlossaryLimits) -> str:
    """A term as stored: NFC, outer space stripped; refused when empty, too long, without a
    letter, or holding control characters (nothing a translation could show)."""
    if not isinstance(value, str):
        raise GlossaryError(f"{what} must be a string", where)
    term = unicodedata.normalize("NFC", value).strip()
    if not term:
        raise GlossaryError(f"{what} is empty", where)
    if len(term) > limits.max_term_chars:
        raise GlossaryError(f"{what} is longer than {limits.max_term_chars} characters", where)
    if any(unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co") for char in term):
        raise GlossaryError(f"{what} holds control or invisible characters", where)
    if what == "source" and not any(char.isalpha() for char in term):
        raise GlossaryError("source terms need a letter (numbers are kept as they are)", where)
    return term


def check_entries(
    rows: Sequence[tuple[str, str, Any, Any]], limits: GlossaryLimits, field: str = "entries"
) -> list[GlossaryEntry]:
    """Entries from ``(source_language, target_language, source, target)`` rows (codes
    already normalised); raises :class:`GlossaryError` naming the first bad one."""
    if not rows:
        raise GlossaryError("a glossary needs at least one entry", field)
    check_size(len(rows), limits, field)
    entries: list[GlossaryEntry] = []
    seen: dict[tuple[str, str, str], int] = {}
    for index, (source_language, target_language, source, target) in enumerate(rows):
        where = f"{field}.{index}"
        entry = GlossaryEntry(
            source_language,
            target_language,
            _clean(source, "source", f"{where}.source", limits),
            _clean(target, "target", f"{where}.target", limits),
        )
        key = (source_language, target_language, fold(entry.source))
        if key in seen:
            raise GlossaryError(
                f"source term {entry.source!r} is listed twice for {source_language} -> "
                f"{target_language} (entries {seen[key]} and {index}); which one applies?",
                where,
            )
        seen[key] = index
        entries.append(entry)
    return entries


def check_size(count: int, limits: GlossaryLimits, field: str = "entries") -> None:
    """Raises :class:`GlossaryTooLargeError` for more than ``limits.max_entries``."""
    if count > limits.max_entries:
        raise GlossaryTooLargeError(
            f"{count} entries; a glossary holds at most {limits.max_entries}", field
        )


def parse_csv(text: str, limits: GlossaryLimits) -> list[tuple[str | None, str | None, str, str]]:
    """Rows of a CSV glossary: ``source,target`` or
    ``source_language,target_language,source,target`` per line; a header row naming those
    columns is skipped. Languages are None where the CSV has none (the request gives them)."""
    if len(text) > limits.max_entries * (2 * limits.max_term_chars + 64):
        raise GlossaryTooLargeError("the CSV is larger than the entry limits allow", "entries_csv")
    rows: list[tuple[str | None, str | None, str, str]] = []
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise GlossaryError(f"not valid CSV: {exc}", "entries_csv") from exc
    for number, line in enumerate(lines, start=1):
        if not any(cell.strip() for cell in line):
            continue
        cells = [cell.strip() for cell in line]
        if not rows and [c.casefold() for c in cells[-2:]] == ["source", "target"]:
            continue  # header
        if len(cells) == 2:
            rows.append((None, None, cells[0], cells[1]))
        elif len(cells) == 4:
            rows.append((cells[0], cells[1], cells[2], cells[3]))
        else:
            raise GlossaryError(
                f"line {number} has {len(cells)} columns; expected source,target or "
                "source_language,target_language,source,target",
                "entries_csv",
            )
        if len(rows) > limits.max_entries:
            raise GlossaryTooLargeError(
                f"more than {limits.max_entries} entries; that is the limit", "entries_csv"
            )
    return rows


def fold(text: str) -> str:
    """Lower case with the length kept, so offsets in the folded text are offsets in
    ``text`` (a few characters lower to two, e.g. "İ"; those stay as they are)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(low if len(low := char.lower()) == 1 else char for char in text)


# Positions where a term may start or end: anywhere but between two word characters.
_EDGE = re.compile(r"(?<!\w)|(?!\w)")
# Each edge is marked as "end here" then "start here", so two adjacent matches share none.
_END, _START = "\x01", "\x02"
# What stands for text no term may touch (a sentinel, a marker character in the text).
_OPAQUE = "\x03"
_MARKERS = str.maketrans({_END: _OPAQUE, _START: _OPAQUE})


def _marked(text: str) -> str:
    return _EDGE.sub(_END + _START, text)


@dataclass(frozen=True)
class Match:
    start: int
    end: int
    term: int  # index into the terms


class Terms:
    """Source terms of one language pair, found whole-word and case-insensitively.

    Matching is one linear pass: the text's word edges are marked, each term is searched
    with its own edges marked (so it can only match whole words), and the automaton takes
    the leftmost-longest matches, none overlapping. Terms hold no control characters
    (:func:`check_entries`), so markers never match a term's own text.
    """

    def __init__(self, pairs: tuple[tuple[str, str], ...]) -> None:
        self.pairs = pairs
        self._automaton: ahocorasick_rs.AhoCorasick | None = None
        if pairs:
            self._automaton = ahocorasick_rs.AhoCorasick(
                [_START + _marked(fold(source))[2:-2] + _END for source, _ in pairs],
                matchkind=ahocorasick_rs.MatchKind.LeftmostLongest,
            )

    def find(self, text: str, blocked: Sequence[tuple[int, int]] = ()) -> list[Match]:
        """Whole-word occurrences in ``text``, leftmost and longest first, none overlapping
        each other or a ``blocked`` range (a protected span's sentinel)."""
        if self._automaton is None or not text:
            return []
        folded = fold(text).translate(_MARKERS)
        # Word edges of the text as it is (the first is 0, the last its length), then the
        # blocked ranges made opaque, then each edge marked.
        edges = [m.start() for m in _EDGE.finditer(folded)]
        if blocked:
            pieces, position = [], 0
            for start, end in sorted(blocked):
                start = max(start, position)
                pieces += [folded[position:start], _OPAQUE * max(0, end - start)]
                position = max(position, end)
            folded = "".join(pieces) + folded[position:]
        edge = _END + _START
        marked = edge + edge.join(folded[a:b] for a, b in itertools.pairwise(edges)) + edge
        # Where edge k's end marker stands in the marked text: each edge before it adds two.
        marks = [position + 2 * k for k, position in enumerate(edges)]
        return [
            Match(
                edges[bisect.bisect_left(marks, start - 1)],
                edges[bisect.bisect_left(marks, end - 1)],
                index,
            )
            for index, start, end in self._automaton.find_matches_as_indexes(marked)
        ]


@lru_cache(maxsize=1024)
def terms_of(pairs: tuple[tuple[str, str], ...]) -> Terms:
    return Terms(pairs)


@lru_cache(maxsize=1024)
def _target_terms_of(pairs: tuple[tuple[str, str], ...]) -> Terms:
    return Terms(tuple((target, source) for source, target in pairs))


def targets_present(pairs: tuple[tuple[str, str], ...], text: str) -> set[int]:
    """Indices of the ``(source, target)`` pairs whose *target* occurs whole-word in
    ``text`` (an output checked for its terms)."""
    return {m.term for m in _target_terms_of(pairs).find(text)}


def cased(target: str, found: str) -> str:
    """``target`` capitalised like ``found`` at a sentence's start ("Cloud" -> "Wingu")."""
    if found[:1].isupper() and target[:1].islower():
        return target[:1].upper() + target[1:]
    return target


@dataclass(frozen=True)
class GlossaryTerms:
    """The terms a request applies (those of its language pair found in its texts)."""

    pairs: tuple[tuple[str, str], ...]
    mode: str = "enforce"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"glossary mode must be one of {', '.join(MODES)}, not {self.mode!r}")

    @cached_property
    def terms(self) -> Terms:
        """The matcher, once per instance: looked up in terms_of's cache per sentence, the
        whole tuple of pairs was hashed each time (56 us a sentence with 5,000 terms)."""
        return terms_of(self.pairs)


def by_pair(
    terms: Iterable[Sequence[str]], mode: str = "enforce"
) -> dict[tuple[str, str], GlossaryTerms]:
    """``(source_language, target_language, source, target)`` terms, per language pair."""
    pairs: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for source_language, target_language, source, target in terms:
        pairs.setdefault((source_language, target_language), []).append((source, target))
    return {pair: GlossaryTerms(tuple(found), mode) for pair, found in pairs.items()}


@dataclass
class TermReport:
    """What became of one glossary term in one translation."""

    source: str
    target: str
    # Sentences the term was found in, and in how many its target is in the output.
    found: int = 0
    honoured: int = 0
    method: str = ""  # "substituted" (enforce) or "model" (prefer)

    @property
    def applied(self) -> bool:
        return self.found > 0 and self.honoured == self.found

    def as_dict(self) -> dict[str, Any]:
        """As the API and a job's result show it."""
        return {**asdict(self), "applied": self.applied}


def reports(items: Iterable[tuple[str, str, bool, str]]) -> list[TermReport]:
    """Per term, from ``(source, target, honoured, method)`` per sentence it was found in."""
    by_term: dict[tuple[str, str], TermReport] = {}
    for source, target, honoured, method in items:
        report = by_term.setdefault((source, target), TermReport(source, target, method=method))
        report.found += 1
        report.honoured += honoured
    return list(by_term.values())
