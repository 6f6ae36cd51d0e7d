"""Translation memory: translations people made, sentence by sentence, found again.

A memory holds units, each one segment in several languages (a TMX ``<tu>``). Any language
of a unit may be the source of a lookup and any other its target. A sentence is looked up
by its text after the normalisation corrections use (:func:`memory_key`: NFC, whitespace
collapsed, case kept):

- an **exact** match (the same key) is the translation, served without the model;
- a **fuzzy** match scores ``fuzz.ratio`` (RapidFuzz: the normalised Indel similarity,
  0..1) at or above the request's threshold; it is offered beside the model's translation,
  or served instead of it in ``prefer`` mode.

The fuzzy search of one language pair is :class:`FuzzyIndex`: a bigram count filter over
every entry at once (NumPy), that can only drop entries which cannot reach the threshold,
then RapidFuzz on the few that are left.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from serve_app.engines.corrections import correction_key
from serve_app.engines.markup import prepare
from serve_app.engines.segmenter import segment
from serve_app.engines.spans import SENTINEL, Unit

MODES = ("suggest", "prefer")
DEFAULT_THRESHOLD = 0.85
# What "the same text" is for a memory: what it is for a correction.
memory_key = correction_key


@dataclass(frozen=True)
class MemoryLimits:
    max_units: int = 100_000
    max_segment_chars: int = 5000


class MemoryFileError(ValueError):
    """A memory file this service refuses; ``too_large`` when a limit (not the content)
    refused it."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


@dataclass(frozen=True)
class MemoryUnit:
    """One segment in several languages: ``(FLORES-200 code, text)``, each language once."""

    variants: tuple[tuple[str, str], ...]

    def text(self, language: str) -> str | None:
        for code, text in self.variants:
            if code == language:
                return text
        return None


@dataclass(frozen=True)
class MemoryMatch:
    """A memory's translation of one sentence (its key) from one language into another."""

    source_language: str
    target_language: str
    key: str  # the sentence looked up, normalised
    segment: str  # the memory's source segment that matched
    translation: str
    score: float  # 1.0: exact

    @property
    def exact(self) -> bool:
        return self.score >= 1.0


@dataclass(frozen=True)
class MemoryReport:
    """A memory match of one sentence of a text, as answered: ``served`` when its
    translation stands in the output (exact, or fuzzy in ``prefer`` mode)."""

    sentence: int  # the sentence's index in its text
    text: str  # the sentence
    source: str  # the memory's segment
    translation: str
    score: float
    served: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _codes(text: str) -> np.ndarray[Any, np.dtype[np.uint64]]:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)


# A bigram is two code points (21 bits each); a token is a bigram and its occurrence.
_GRAM_BITS, _OWNER_BITS, _OCCURRENCE_BITS = 42, 22, 20
MAX_ENTRIES = 2**_OWNER_BITS
# Tokens counted past the least any entry needs (see FuzzyIndex.candidates): fewer read
# fewer postings and leave more candidates to RapidFuzz. 12 was the fastest at 100,000
# entries (benchmarks/memory.py).
COUNTED_MARGIN = 12


def _tokens(
    codes: np.ndarray[Any, Any], owners: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Each bigram of the texts as a token numbered by its occurrence in its text (the
    second "ab" of a text is another token than the first), so that the tokens two texts
    share count the bigrams they share as multisets; sorted by token, with the text of
    each. ``codes``: the texts' code points one after another; ``owners``: the text of each
    code point (fewer than :data:`MAX_ENTRIES` texts)."""
    same = owners[:-1] == owners[1:]
    grams = ((codes[:-1] << np.uint64(21)) | codes[1:])[same]
    # Sorted by (bigram, text): each run is one bigram's occurrences in one text.
    combined = np.sort((grams << np.uint64(_OWNER_BITS)) | owners[:-1][same].astype(np.uint64))
    grams = combined >> np.uint64(_OWNER_BITS)
    texts = (combined & np.uint64(MAX_ENTRIES - 1)).astype(np.int32)
    positions = np.arange(len(combined))
    starts = np.ones(len(combined), dtype=bool)
    starts[1:] = combined[1:] != combined[:-1]
    occurrence = positions - np.maximum.accumulate(np.where(starts, positions, 0))
    occurrence = np.minimum(occurrence, 2**_OCCURRENCE_BITS - 1).astype(np.uint64)
    tokens = (grams << np.uint64(_OCCURRENCE_BITS)) | occurrence
    order = np.argsort(tokens, kind="stable")  # nearly sorted already: by bigram
    return tokens[order], texts[order]


def _shared_bound(
    query_length: int, lengths: np.ndarray[Any, Any], threshold: float
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Per entry length: the fewest bigrams an entry must share with the query to score
    ``threshold`` or more, and whether its length allows that score at all.

    A ratio ``r`` allows an Indel distance ``d <= (1 - r)(la + lb)``, so a longest common
    subsequence of ``L >= (la + lb - d) / 2``. Deleting ``la - L`` characters destroys at
    most two bigrams each, and inserting ``lb - L`` breaks at most one each: of the query's
    ``la - 1`` bigrams, ``la - 1 - 2(la - L) - (lb - L)`` at least are shared (and the same
    the other way round; the larger bound holds)."""
    total = lengths + query_length
    distance = np.floor((1.0 - threshold) * total + 1e-9)
    common = np.ceil((total - distance) / 2)
    one_way = (query_length - 1) - 2 * (query_length - common) - (lengths - common)
    other_way = (lengths - 1) - 2 * (lengths - common) - (query_length - common)
    return np.maximum(one_way, other_way), np.abs(lengths - query_length) <= distance


class FuzzyIndex:
    """The keys of one language pair, searched for the best match at or above a threshold."""

    def __init__(self, keys: Sequence[str]) -> None:
        self.keys = list(keys)
        if len(self.keys) >= MAX_ENTRIES:
            raise ValueError(f"a fuzzy index holds fewer than {MAX_ENTRIES} keys")
        self._lengths = np.fromiter(map(len, self.keys), dtype=np.int64, count=len(self.keys))
        self._longest = int(self._lengths.max()) if len(self.keys) else 0
        codes = _codes("".join(self.keys))
        owners = np.repeat(np.arange(len(self.keys), dtype=np.int64), self._lengths)
        # Postings: each distinct token, and the entries holding it.
        tokens, self._entries = _tokens(codes, owners)
        firsts = np.ones(len(tokens), dtype=bool)
        firsts[1:] = tokens[1:] != tokens[:-1]
        self._distinct = tokens[firsts]
        self._starts = np.append(np.flatnonzero(firsts), len(tokens))

    def __len__(self) -> int:
        return len(self.keys)

    def candidates(self, key: str, threshold: float) -> np.ndarray[Any, Any]:
        """The entries that may score ``threshold`` or more against ``key`` (every one that
        does, and few others).

        Counting every shared token would read most postings: a Latin-script text has a few
        hundred bigrams, each held by most entries. An entry that shares ``needed`` tokens
        shares at least ``needed - s`` of the query's tokens once its ``s`` commonest are
        left out, so those are not counted, down to :data:`COUNTED_MARGIN` tokens above the
        least any entry needs: a count filter as sound, over a fraction of the postings."""
        if not self.keys:
            return np.empty(0, dtype=np.int64)
        # The bound per length (few distinct ones), then per entry.
        needed, possible = _shared_bound(len(key), np.arange(self._longest + 1), threshold)
        if not possible.any():
            return np.empty(0, dtype=np.int64)
        codes = _codes(key)
        # A text's tokens are distinct (each bigram numbered by its occurrence).
        tokens, _ = _tokens(codes, np.zeros(len(codes), dtype=np.int64))
        where = np.searchsorted(self._distinct, tokens)
        inside = where < len(self._distinct)
        where, tokens = where[inside], tokens[inside]
        where = where[self._distinct[where] == tokens]
        sizes = self._starts[where + 1] - self._starts[where]
        skipped = int(min(len(where), max(0, needed[possible].min() - COUNTED_MARGIN)))
        counted = where[np.argsort(sizes, kind="stable")[: len(where) - skipped]]
        found = [self._entries[self._starts[i] : self._starts[i + 1]] for i in counted.tolist()]
        shared = np.bincount(
            np.concatenate(found) if found else np.empty(0, dtype=np.int64),
            minlength=len(self.keys),
        )
        least = np.where(possible, needed - skipped, len(key) + self._longest + 1)
        return np.flatnonzero(shared >= least[self._lengths])

    def best(self, key: str, threshold: float) -> tuple[int, float] | None:
        """The entry scoring highest against ``key`` (the newest of equals), if one scores
        ``threshold`` or more: ``(index, score 0..1)``."""
        found = self.candidates(key, threshold)[::-1]
        if not len(found):
            return None
        hit = process.extractOne(
            key,
            [self.keys[i] for i in found],
            scorer=fuzz.ratio,
            processor=None,
            score_cutoff=threshold * 100,
        )
        if hit is None:
            return None
        _, score, position = hit
        return int(found[position]), score / 100


class PairIndex:
    """A memory's entries from one language into another: exact keys and the fuzzy index."""

    def __init__(self, entries: Iterable[tuple[str, str]]) -> None:
        self.segments: list[str] = []
        self.translations: list[str] = []
        self._exact: dict[str, int] = {}
        for source, target in entries:
            key = memory_key(source)
            self._exact[key] = len(self.segments)  # the newest unit of a key wins
            self.segments.append(source)
            self.translations.append(target)
        self._fuzzy: FuzzyIndex | None = None
        self._keys = [memory_key(segment) for segment in self.segments]

    @property
    def fuzzy(self) -> FuzzyIndex:
        if self._fuzzy is None:
            self._fuzzy = FuzzyIndex(self._keys)
        return self._fuzzy

    def find(self, key: str, threshold: float) -> tuple[int, float] | None:
        """``(entry, score)`` of the best match of ``key``: exact, else fuzzy at or above
        ``threshold`` (None below it)."""
        exact = self._exact.get(key)
        if exact is not None:
            return exact, 1.0
        if threshold >= 1.0 or not key:
            return None
        return self.fuzzy.best(key, threshold)


@dataclass
class TranslationMemory:
    id: str
    owner: str
    name: str
    created_at: float
    units: list[MemoryUnit] = field(default_factory=list)
    # The corrections filed under it, as units: the last of ``units`` (not in its record).
    filed: tuple[MemoryUnit, ...] = ()
    # Indexes per language pair, built on first use (a reader keeps the memory a while).
    _pairs: dict[tuple[str, str], PairIndex] = field(default_factory=dict, repr=False)

    @cached_property
    def languages(self) -> list[str]:
        return sorted({code for unit in self.units for code, _ in unit.variants})

    def pair(self, source_language: str, target_language: str) -> PairIndex:
        """The index of this memory's entries from ``source_language`` into
        ``target_language`` (every unit holding both)."""
        pair = (source_language, target_language)
        if pair not in self._pairs:
            entries = []
            for unit in self.units:
                source, target = unit.text(source_language), unit.text(target_language)
                if source is not None and target is not None:
                    entries.append((source, target))
            self._pairs[pair] = PairIndex(entries)
        return self._pairs[pair]

    def with_filed(self, filed: tuple[MemoryUnit, ...]) -> TranslationMemory:
        """This memory with ``filed`` as the corrections filed under it (itself, indexes and
        all, when they are the same)."""
        if filed == self.filed:
            return self
        units = self.units[: len(self.units) - len(self.filed)] + list(filed)
        return TranslationMemory(self.id, self.owner, self.name, self.created_at, units, filed)

    def sources_into(self, target_language: str) -> list[str]:
        """The languages this memory translates into ``target_language`` from."""
        return [code for code in self.languages if code != target_language]

    def lookup(
        self, key: str, source_language: str, target_language: str, threshold: float
    ) -> MemoryMatch | None:
        """The best match of the sentence ``key`` (already :func:`memory_key`'d)."""
        index = self.pair(source_language, target_language)
        found = index.find(key, threshold)
        if found is None:
            return None
        entry, score = found
        return MemoryMatch(
            source_language,
            target_language,
            key,
            index.segments[entry],
            index.translations[entry],
            round(score, 4),
        )

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_pairs": {}}  # indexes are rebuilt where they are used


def unmasked(sentence: str, unit: Unit) -> str:
    """A sentence of ``unit`` with its protected spans (numbers, placeholders, inline tags)
    put back as they stood: what a memory looks up."""
    if not unit.spans:  # nothing was masked: braces in it are the text's own
        return sentence
    return SENTINEL.sub(lambda match: unit.spans[int(match.group(1))].raw, sentence)


def sentence_keys(
    text: str, text_format: str, *, protect: bool, max_sentence_chars: int
) -> list[str]:
    """The keys of ``text``'s sentences, cut as the translator cuts them."""
    keys = []
    for part in prepare(text, text_format, protect=protect):
        if isinstance(part, Unit):
            pieces = segment(part.text, max_sentence_chars, line_breaks=part.line_breaks)
            keys += [memory_key(unmasked(sentence, part)) for sentence in pieces.sentences]
    return keys


def by_pair(
    matches: Iterable[MemoryMatch],
) -> dict[tuple[str, str], dict[str, MemoryMatch]]:
    """Matches per language pair, by sentence key."""
    pairs: dict[tuple[str, str], dict[str, MemoryMatch]] = {}
    for match in matches:
        pairs.setdefault((match.source_language, match.target_language), {})[match.key] = match
    return pairs
