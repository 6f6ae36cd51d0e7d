"""Interactive users beside bulk work: what a long job does to one user's latency.

One run: the app (serve mode ``fast``, the offline model of ``--size``) with its bulk lane
on and with it off (``translator.bulk.enabled``: jobs' sentences then join the interactive
batches), and in the same process raw batched CTranslate2 on the same sentences. For each app:

- ``interactive_idle``: one client translating one sentence at a time, nothing else running;
- ``bulk_alone``: one text job of ``--bulk-sentences`` sentences (texts of 16 sentences,
  through the token API), sentences per second from submission to ``done``;
- ``interactive_under_bulk``: the same client while another such job runs, and that job's
  throughput under the interactive load;
- ``raw``: CTranslate2 alone on the bulk sentences (sorted, one call per worker, the best of
  every inter/intra split of the cores), the ceiling for bulk throughput.

Every translation is checked against its input (the copy model). Goals (issue #17):
interactive p95 under bulk <= 1.5 x idle p95; bulk alone >= 0.9 x raw.
Run: ``python -m benchmarks.bulk_lanes [--size tiny] [--bulk-sentences 2048] [--lanes on,off]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.engine import make_sentences
from benchmarks.local_app import local_app
from benchmarks.serve_throughput import run_raw, thread_splits
from serve_app.engines.device import available_cores
from serve_app.serving import apply_serving_env
from serve_app.testmodel.build import build_test_model

SENTENCES_PER_TEXT = 16


def percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p95_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
    }


async def interactive(
    http: httpx.AsyncClient, sentences: list[str], until: asyncio.Event | None = None
) -> list[float]:
    """One user: a sentence at a time, the next as soon as the last is answered (all of
    ``sentences``, or until ``until`` is set)."""
    latencies = []
    for sentence in sentences:
        if until is not None and until.is_set():
            break
        started = time.perf_counter()
        response = await http.post(
            "/api/v1/translate",
            json={"text": sentence, "source_language": "eng_Latn", "target_language": "swh_Latn"},
        )
        latencies.append(time.perf_counter() - started)
        response.raise_for_status()
        if response.json()["translated_text"] != sentence:
            raise AssertionError(f"wrong translation of {sentence!r}")
    return latencies


async def bulk_job(http: httpx.AsyncClient, sentences: list[str]) -> float:
    """Runs one text job of ``sentences`` (grouped into texts); its seconds to ``done``."""
    texts = [
        " ".join(sentences[i : i + SENTENCES_PER_TEXT])
        for i in range(0, len(sentences), SENTENCES_PER_TEXT)
    ]
    started = time.perf_counter()
    response = await http.post(
        "/api/v1/jobs/translate",
        json={
            "texts": texts,
            "source_language": "eng_Latn",
            "target_language": "swh_Latn",
            "client_id": f"bulk-{time.monotonic_ns()}",
        },
    )
    response.raise_for_status()
    token = response.json()["token"]
    while True:
        body = (await http.get(f"/api/v1/jobs/{token}")).json()
        if body["status"] in {"done", "error", "timeout", "needs_human"}:
            break
        await asyncio.sleep(0.05)
    seconds = time.perf_counter() - started
    if body["status"] != "done":
        raise AssertionError(f"bulk job ended {body['status']}: {body.get('error')}")
    if body["result"]["translations"] != texts:
        raise AssertionError("the bulk job's translations differ from its texts")
    return seconds


async def scenario(base: str, args: argparse.Namespace) -> dict[str, Any]:
    size = args.bulk_sentences
    async with httpx.AsyncClient(base_url=base, timeout=300) as http:
        # Distinct sentences in every phase: the translation cache must serve none of them.
        await interactive(http, make_sentences(20, seed=101))
        idle = await interactive(http, make_sentences(args.interactive, seed=102))
        alone = await bulk_job(http, make_sentences(size, seed=103))
        done = asyncio.Event()

        async def timed_bulk() -> float:
            try:
                return await bulk_job(http, make_sentences(size, seed=104))
            finally:
                done.set()

        bulk = asyncio.create_task(timed_bulk())
        await asyncio.sleep(0.5)  # the job is leased and its first chunks are decoding
        loaded = await interactive(http, make_sentences(100_000, seed=105), until=done)
        under = await bulk
    return {
        "interactive_idle": percentiles(idle),
        "interactive_under_bulk": percentiles(loaded),
        "bulk_alone": {"seconds": round(alone, 2), "sentences_per_s": round(size / alone, 1)},
        "bulk_under_interactive": {
            "seconds": round(under, 2),
            "sentences_per_s": round(size / under, 1),
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", choices=["tiny", "base"], default="tiny")
    parser.add_argument("--bulk-sentences", type=int, default=2048)
    parser.add_argument("--interactive", type=int, default=100, help="idle requests")
    parser.add_argument("--port", type=int, default=8041)
    parser.add_argument("--models", default="models")
    parser.add_argument("--lanes", default="on,off", help="bulk lane settings to run")
    args = parser.parse_args(argv)
    args.bulk_sentences -= args.bulk_sentences % SENTENCES_PER_TEXT
    model = build_test_model(Path(args.models) / f"{args.size}-nllb", size=args.size)
    apply_serving_env()
    served: dict[str, dict[str, Any]] = {}
    for lane in args.lanes.split(","):
        bulk = {"bulk": {"enabled": lane == "on"}}
        with local_app(args.port, model, max_batch_items=1000, translator=bulk) as base:
            served[lane] = asyncio.run(scenario(base, args))
    with contextlib.redirect_stdout(sys.stderr):
        sentences = make_sentences(args.bulk_sentences, seed=103)
        raw = {
            f"{inter}x{intra}": run_raw(model, sentences, 2, 1024, inter, intra)
            for inter, intra in thread_splits(available_cores())
        }
    best = max(raw, key=lambda split: raw[split]["throughput_rps"])
    ceiling = raw[best]["throughput_rps"]

    def ratios(run: dict[str, Any]) -> dict[str, float]:
        return {
            "interactive_p95_under_bulk_vs_idle": round(
                run["interactive_under_bulk"]["p95_ms"] / run["interactive_idle"]["p95_ms"], 2
            ),
            "bulk_alone_vs_raw": round(run["bulk_alone"]["sentences_per_s"] / ceiling, 3),
            "bulk_under_interactive_vs_raw": round(
                run["bulk_under_interactive"]["sentences_per_s"] / ceiling, 3
            ),
        }

    report = {
        "benchmark": "bulk_lanes",
        "size": args.size,
        "bulk_sentences": args.bulk_sentences,
        "lanes": served,
        "raw": {"best_split": best, "sentences_per_s": ceiling, "splits": raw},
        "ratios": {lane: ratios(run) for lane, run in served.items()},
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
