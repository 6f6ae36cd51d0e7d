"""Translation memory at full size, in-process: importing a TMX file of ``--units`` units and
looking sentences up in it.

The memory is made here (seeded): English-like sentences of 6 to 20 words drawn from a
20,000-word vocabulary of made-up words with Zipf frequencies (so common bigrams are common,
as in real text), each with a "translation". The file is TMX 1.4b as a CAT tool writes it.

- ``import``: the upload's work on the file: :func:`read_tmx` (the XML guard, then the pull
  parser) and the stored record (JSON), and, apart, what a replica does on its first lookup:
  the record read back and the language pair's index built (exact keys and the fuzzy
  index). The goal: import of 100,000 units in 30 s or less.
- ``lookup``: :meth:`TranslationMemory.lookup` of one sentence (already normalised), per kind
  of sentence: ``exact`` (a unit's sentence, other whitespace), ``fuzzy`` (a unit's sentence
  with one word changed: a match at or above 0.85), ``miss`` (a sentence the memory holds
  nothing like: the whole fuzzy search, for nothing). Also ``offers``: what the ingress does
  for a request of one sentence (cut into sentences, normalised, looked up). The goal:
  p50 of 5 ms or less at 100,000 entries.

Prints one JSON object. Run: ``python -m benchmarks.memory [--units 100000] [--lookups 500]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any
from xml.sax.saxutils import escape

from serve_app.engines.languages import LanguageDatabase
from serve_app.engines.memory import MemoryLimits, TranslationMemory, memory_key
from serve_app.records import memory_of, memory_record
from serve_app.records.tmx import read_tmx
from serve_app.translation.request import memory_offers

SOURCE, TARGET = "eng_Latn", "swh_Latn"
THRESHOLD = 0.85
_CONSONANTS, _VOWELS = "bcdfghjklmnprstvwyz", "aeiou"


def vocabulary(rng: random.Random, size: int = 20_000) -> tuple[list[str], list[float]]:
    words: set[str] = set()
    while len(words) < size:
        syllables = rng.choice((1, 2, 2, 3, 3, 4))
        words.add("".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(syllables)))
    ordered = sorted(words)
    rng.shuffle(ordered)
    return ordered, [1 / (rank + 1) for rank in range(size)]  # Zipf


def sentences(count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    words, weights = vocabulary(rng)
    made: dict[str, None] = {}
    while len(made) < count:
        picked = rng.choices(words, weights, k=rng.randint(6, 20))
        made[" ".join(picked).capitalize() + rng.choice(".?!")] = None
    return list(made)


def translation(sentence: str) -> str:
    return " ".join(word[::-1] for word in sentence.split())


def tmx(units: list[str]) -> bytes:
    body = "".join(
        f'<tu><tuv xml:lang="en-US"><seg>{escape(s)}</seg></tuv>'
        f'<tuv xml:lang="sw"><seg>{escape(translation(s))}</seg></tuv></tu>\n'
        for s in units
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tmx SYSTEM "tmx14.dtd">\n'
        '<tmx version="1.4"><header creationtool="bench" creationtoolversion="1" '
        'datatype="plaintext" segtype="sentence" adminlang="en" srclang="en" o-tmf="bench"/>'
        f"<body>\n{body}</body></tmx>\n"
    ).encode()


def timed(action: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def percentiles(seconds: list[float]) -> dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    return {
        "p50_ms": round(statistics.median(ms), 3),
        "p95_ms": round(ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))], 3),
        "max_ms": round(ms[-1], 3),
        "count": len(ms),
    }


def edited(sentence: str, rng: random.Random, words: list[str]) -> str:
    """``sentence`` with one word (not the first) replaced: a near match."""
    parts = sentence[:-1].split()
    parts[rng.randrange(1, len(parts))] = rng.choice(words)
    return " ".join(parts) + sentence[-1]


def run(units: int, lookups: int) -> dict[str, Any]:
    languages = LanguageDatabase.default()
    made = sentences(units + lookups)
    stored, unseen = made[:units], made[units:]
    data = tmx(stored)

    read, read_seconds = timed(
        lambda: read_tmx(data, languages, MemoryLimits(max_units=units, max_segment_chars=5000))
    )
    assert len(read.units) == units
    assert not read.skipped
    memory = TranslationMemory("m" * 32, "", "bench", 0.0, read.units)
    record, record_seconds = timed(lambda: memory_record(memory))
    loaded, load_seconds = timed(lambda: memory_of(record))
    pair, pair_seconds = timed(lambda: loaded.pair(SOURCE, TARGET))
    _, fuzzy_seconds = timed(lambda: pair.fuzzy)

    rng = random.Random(5)
    words, _ = vocabulary(random.Random(11))
    exact = [memory_key(" " + s.replace(" ", "  ", 1)) for s in rng.sample(stored, lookups)]
    # A one-word change scores at or above the threshold on a long enough sentence; keep
    # those that do (the matched unit may be another, as close or closer).
    fuzzy: list[str] = []
    for sentence in rng.sample(stored, min(len(stored), lookups * 3)):
        if len(sentence) >= 60 and len(fuzzy) < lookups:
            fuzzy.append(edited(sentence, rng, words))
    miss = [memory_key(s) for s in unseen]

    def lookup_times(keys: list[str]) -> tuple[list[float], int]:
        times, found = [], 0
        for key in keys:
            match, seconds = timed(partial(loaded.lookup, key, SOURCE, TARGET, THRESHOLD))
            times.append(seconds)
            found += match is not None
        return times, found

    lookup_times(miss[:20])  # warm-up
    exact_times, exact_found = lookup_times(exact)
    fuzzy_times, fuzzy_found = lookup_times(fuzzy)
    miss_times, miss_found = lookup_times(miss)
    offer_times = []
    for text in fuzzy:
        _, seconds = timed(
            partial(
                memory_offers,
                loaded,
                [text],
                [TARGET],
                sources=[SOURCE],
                text_format="text",
                protect_spans=True,
                max_sentence_chars=400,
                threshold=THRESHOLD,
            )
        )
        offer_times.append(seconds)
    return {
        "units": units,
        "tmx_bytes": len(data),
        "mean_sentence_chars": round(statistics.fmean(map(len, stored)), 1),
        "import": {
            "read_tmx_s": round(read_seconds, 3),
            "record_s": round(record_seconds, 3),
            "upload_total_s": round(read_seconds + record_seconds, 3),
            "goal_s": 30,
            "first_lookup": {
                "record_read_s": round(load_seconds, 3),
                "exact_index_s": round(pair_seconds, 3),
                "fuzzy_index_s": round(fuzzy_seconds, 3),
            },
        },
        "lookup": {
            "threshold": THRESHOLD,
            "exact": {**percentiles(exact_times), "found": exact_found},
            "fuzzy": {**percentiles(fuzzy_times), "found": fuzzy_found},
            "miss": {**percentiles(miss_times), "found": miss_found},
            "offers_one_sentence": percentiles(offer_times),
            "goal_p50_ms": 5,
        },
        "machine": {"python": platform.python_version(), "processor": platform.machine()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=500)
    args = parser.parse_args()
    print(json.dumps(run(args.units, args.lookups), indent=2))


if __name__ == "__main__":
    main()
