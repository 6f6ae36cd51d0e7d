"""What the short-text stage (Lingua) adds to a detector's process, loaded and after work.

In this process: fastText and the word stage first, then the stage, then every held-out text
of ``benchmarks.detection_accuracy`` (Lingua's test set and UDHR's even articles) through the
whole detector, 128 at a time. Prints JSON with the stage's load time and what it added to the
process's resident memory (all of it, and the anonymous part: the page cache holds the rest,
Lingua's library, shared by the replicas of a node) when built and after the texts.

    python -m benchmarks.detector_memory --lingua-testdata PATH   # a lingua-py checkout
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import psutil

from benchmarks.detection_accuracy import lingua_testdata, udhr
from serve_app.engines.detector import LanguageDetector, bundled_lid176_path
from serve_app.engines.languages import LanguageDatabase
from serve_app.engines.lexicon import Lexicon
from serve_app.engines.short_text import ShortTextStage


def resident_mib() -> dict[str, float]:
    memory = psutil.Process().memory_info()
    return {"rss": memory.rss / 2**20, "anonymous": (memory.rss - memory.shared) / 2**20}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--lingua-testdata", type=Path, help="a lingua-py checkout (else fetched)")
    parser.add_argument("--udhr-per-language", type=int, default=100)
    args = parser.parse_args(argv)
    db = LanguageDatabase.default()
    texts = [
        text
        for sets in (
            lingua_testdata(db, args.lingua_testdata, "test"),
            udhr(db, "test", args.udhr_per_language),
        )
        for per_language in sets.values()
        for found in per_language.values()
        for text in found
    ]
    detector = LanguageDetector(bundled_lid176_path(), db, lexicon=Lexicon.ensure())
    detector.detect(["Habari yako?"])
    before = resident_mib()
    started = time.perf_counter()
    detector.short_text = ShortTextStage(db)
    load_seconds = time.perf_counter() - started
    built = resident_mib()
    for i in range(0, len(texts), 128):
        detector.detect(texts[i : i + 128])
    after = resident_mib()

    def added(now: dict[str, float]) -> dict[str, float]:
        return {kind: round(now[kind] - before[kind]) for kind in now}

    report = {
        "texts": len(texts),
        "load_seconds": round(load_seconds, 1),
        "stage_mib_built": added(built),
        "stage_mib_after_texts": added(after),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
