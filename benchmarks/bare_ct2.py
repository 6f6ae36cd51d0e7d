"""The bare process of ``benchmarks/true_size.py``: CTranslate2 holding a model, nothing else.

Its memory while holding the model is what a Translator replica's is compared with, so
nothing but the standard library, CTranslate2 and ``serve_app.engines.heap`` (ctypes) is
imported before it is measured: the benchmark's own modules (httpx, FastAPI, pydantic) add
~46 MiB. Then, for the same work the replica did, the tokenizer and the sentences.

Run by ``true_size.run_bare``: ``python -m benchmarks.bare_ct2 MODEL INTER INTRA BEAM COUNT``;
prints one JSON object.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import ctranslate2

from serve_app.engines.heap import release_freed_memory


def memory_mib(pid: int) -> dict[str, float]:
    """A process's resident memory now (``rss``) and its peak since it started (``hwm``)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mib": fields["VmRSS"], "peak_rss_mib": fields["VmHWM"]}


def main(argv: list[str]) -> int:
    model_dir, inter, intra, beam, count = argv[0], *map(int, argv[1:5])
    started = time.perf_counter()
    model = ctranslate2.Translator(
        model_dir, device="cpu", compute_type="int8", inter_threads=inter, intra_threads=intra
    )
    load_seconds = time.perf_counter() - started
    # As the Translator does after loading: the conversion's freed buffers go back to the
    # system (else glibc keeps a varying share of them resident).
    release_freed_memory()
    loaded = memory_mib(os.getpid())
    # Only now what the work needs (the replica did the same work).
    from benchmarks.true_size import work_sources

    sources, prefix, batch_tokens = work_sources(Path(model_dir), count)
    model.translate_batch(
        sources,
        target_prefix=[prefix] * len(sources),
        beam_size=beam,
        max_batch_size=batch_tokens,
        batch_type="tokens",
    )
    print(
        json.dumps(
            {
                "load_seconds": round(load_seconds, 2),
                "after_load": loaded,
                "after_work": memory_mib(os.getpid()),
                "inter_threads": inter,
                "intra_threads": intra,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
