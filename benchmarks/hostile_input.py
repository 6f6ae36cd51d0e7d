"""What hostile input costs each path over user text, at n, 4n and 16n characters.

Every path that reads user text (masking, HTML, subtitle cues, Markdown, glossary terms,
sentence splitting, the detector's filter, the workflow planner) gets the input crafted
against it, at three sizes. ``growth`` is the time at 16n over the time at n: about 16 for a
linear path, about 256 for a quadratic one. Prints one JSON object.

Run: ``python -m benchmarks.hostile_input [--chars 16384] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import time
from collections.abc import Callable
from typing import Any

from serve_app.documents.text_formats import walk_markdown, walk_vtt
from serve_app.dsl.planner import PlanningError, plan
from serve_app.engines.detector import without_no_language_words
from serve_app.engines.glossary import Terms
from serve_app.engines.markup import parse_html
from serve_app.engines.segmenter import segment
from serve_app.engines.spans import mask

NESTED_TERMS = Terms(tuple((" ".join(["a"] * k), f"t{k}") for k in range(1, 129)))


def _plan(text: str) -> None:
    with contextlib.suppress(PlanningError):
        plan(text)


def _vtt(text: str) -> None:
    walk_vtt(f"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n{text}\n", str.upper)


# (path, the piece repeated to the size, what reads it)
PATHS: list[tuple[str, str, Callable[[str], object]]] = [
    ("mask: dotted words (mail-address pattern)", "a.", mask),
    ("html: start tags never closed", "<a", parse_html),
    ("html: comments never closed", "<!--a>", parse_html),
    ("html: inline elements left open", "<b><i></b></u>", parse_html),
    ("html: lone <", "<", parse_html),
    ("vtt: a cue of <", "<", _vtt),
    ("markdown: a paragraph of <", "<", lambda text: walk_markdown(text + "\n", str.upper)),
    ("glossary: 128 nested terms", "a ", NESTED_TERMS.find),
    ("segment: short sentences", "a. B ", segment),
    ("segment: a whitespace run", " ", lambda text: segment(text + "x")),
    ("detector filter: hyphenated digits", "1-", lambda t: without_no_language_words(t + "é")),
    ("planner: 'plot of' repeated", "plot of ", _plan),
    ("planner: 'scatter of a vs' repeated", "scatter of a vs ", _plan),
]


def timed(function: Callable[[str], object], text: str, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        function(text)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=16_384, help="n, the smallest size")
    parser.add_argument("--rounds", type=int, default=3, help="best of this many per size")
    args = parser.parse_args(argv)
    sizes = [args.chars, 4 * args.chars, 16 * args.chars]
    paths = []
    for name, piece, function in PATHS:
        seconds = [timed(function, piece * (size // len(piece)), args.rounds) for size in sizes]
        paths.append(
            {
                "path": name,
                "seconds": dict(zip([str(size) for size in sizes], seconds, strict=True)),
                "growth_16x": round(seconds[2] / max(seconds[0], 1e-9), 1),
                "us_per_char_at_16n": round(seconds[2] / sizes[2] * 1e6, 3),
            }
        )
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "sizes": sizes,
        "paths": paths,
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
