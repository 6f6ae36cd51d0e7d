"""Engine benchmark: batched vs one-by-one translation on the built copy model.

Prints one JSON object. Run: ``python -m benchmarks.engine [--size base] [--sentences 128]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from pathlib import Path
from typing import Any

from serve_app.engines.translator import TranslationOptions, TranslationRequest, Translator
from serve_app.testmodel.build import build_test_model

WORDS = (
    "the market opens early in morning and closes late evening children play football field "
    "while teachers watch water is life every village needs clean safe source doctors nurses "
    "worked through night help injured travellers habari asubuhi rafiki watoto wanacheza"
).split()


def letters(number: int) -> str:
    """``number`` written in letters (0: "a", 25: "z", 26: "ba"): distinct words."""
    word = ""
    while True:
        number, digit = divmod(number, 26)
        word = chr(ord("a") + digit) + word
        if not number:
            return word


def make_sentences(count: int, seed: int = 7) -> list[str]:
    """Distinct sentences of 6 to 30 words, so dedup does not flatter the batched path."""
    rng = random.Random(seed)
    return [
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 30))).capitalize() + f" {i}."
        for i in range(count)
    ]


def run(
    size: str, count: int, beam_size: int, intra_threads: int, model_root: Path
) -> dict[str, Any]:
    model_dir = build_test_model(model_root / f"copy-{size}", size=size)
    translator = Translator(model_dir, intra_threads=intra_threads)
    options = TranslationOptions(beam_size=beam_size)
    sentences = make_sentences(count)
    requests = [TranslationRequest(s, "eng_Latn", "swh_Latn") for s in sentences]
    translator.translate(requests[:4], options)  # warm-up: allocator and caches

    started = time.perf_counter()
    batched = translator.translate(requests, options)
    batched_seconds = time.perf_counter() - started

    started = time.perf_counter()
    single = [translator.translate([request], options).results[0] for request in requests]
    single_seconds = time.perf_counter() - started

    correct = all(
        a.text == b.text == s for a, b, s in zip(batched.results, single, sentences, strict=True)
    )
    return {
        "benchmark": "engine",
        "model": f"copy-{size}",
        "sentences": count,
        "beam_size": beam_size,
        "intra_threads": intra_threads,
        "input_tokens": batched.timings.input_tokens,
        "outputs_correct": correct,
        "batched": {
            "seconds": round(batched_seconds, 4),
            "sentences_per_second": round(count / batched_seconds, 2),
            "tokens_per_second": round(batched.timings.output_tokens / batched_seconds, 1),
        },
        "one_by_one": {
            "seconds": round(single_seconds, 4),
            "sentences_per_second": round(count / single_seconds, 2),
        },
        "speedup_batched_vs_one_by_one": round(single_seconds / batched_seconds, 2),
        "machine": {"python": platform.python_version(), "processor": platform.processor()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", choices=["tiny", "base"], default="base")
    parser.add_argument("--sentences", type=int, default=128)
    parser.add_argument("--beam-size", type=int, default=2)
    parser.add_argument("--intra-threads", type=int, default=1)
    parser.add_argument("--model-root", type=Path, default=Path("models"))
    args = parser.parse_args(argv)
    result = run(args.size, args.sentences, args.beam_size, args.intra_threads, args.model_root)
    print(json.dumps(result, indent=2))
    return 0 if result["outputs_correct"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
