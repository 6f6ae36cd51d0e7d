"""Throughput and latency of four ways to serve the same model, side by side in one run.

(a) the Tafsiri Serve app, (b) the same with batching disabled, (c) raw in-process batched
CTranslate2 (the ceiling), (d) one FastAPI/uvicorn process calling CTranslate2 per request.
Prints one JSON object. Run: ``python -m benchmarks.serve_throughput [--requests 128]``.
Traffic goes to 127.0.0.1 only; every loop is bounded by the request count.
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

from benchmarks.baseline_server import running_baseline, warm
from benchmarks.engine import make_sentences
from serve_app.config import AppArgs
from serve_app.engines.translator import TranslationOptions, TranslationRequest, Translator
from serve_app.testmodel.build import build_test_model


def summarize(latencies: list[float], seconds: float, errors: int) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "requests": len(latencies) + errors,
        "errors": errors,
        "seconds": round(seconds, 3),
        "throughput_rps": round(len(latencies) / seconds, 2),
        "p50_ms": round(1000 * statistics.median(ordered), 1),
        "p95_ms": round(1000 * ordered[int(0.95 * (len(ordered) - 1))], 1),
    }


async def drive(url: str, sentences: list[str], concurrency: int) -> dict[str, Any]:
    """``concurrency`` clients each send their share of requests back to back."""
    latencies: list[float] = []
    errors = 0
    queue = list(reversed(sentences))

    async def client_loop(http: httpx.AsyncClient) -> None:
        nonlocal errors
        while queue:
            text = queue.pop()
            started = time.perf_counter()
            response = await http.post(
                url,
                json={"text": text, "source_language": "eng_Latn", "target_language": "swh_Latn"},
            )
            if response.status_code == 200 and response.json()["translated_text"] == text:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=300, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*[client_loop(http) for _ in range(concurrency)])
        return summarize(latencies, time.perf_counter() - started, errors)


def median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round of median throughput, with every round's throughput beside it."""
    ordered = sorted(rounds, key=lambda r: float(r["throughput_rps"]))
    return {
        **ordered[len(ordered) // 2],
        "throughput_rps_rounds": [r["throughput_rps"] for r in rounds],
    }


def run_serve(
    model_dir: Path,
    sentences: list[str],
    concurrency: int,
    beam: int,
    max_batch_size: int,
    batch_wait_s: float,
    port: int,
    configs: set[str],
) -> dict[str, Any]:
    import ray
    from ray import serve

    from serve_app.app import build_app

    def args(batching: bool) -> AppArgs:
        return AppArgs.model_validate(
            {
                "detector": {"model": "lid.176"},
                "translator": {
                    "model": str(model_dir),
                    "beam_size": beam,
                    "batching": {
                        "enabled": batching,
                        "max_batch_size": max_batch_size,
                        "batch_wait_timeout_s": batch_wait_s,
                    },
                },
                "api": {"max_batch_items": 1000},
            }
        )

    results: dict[str, Any] = {}
    # Ray prints shutdown chatter on stdout; keep stdout for the JSON result alone.
    with contextlib.redirect_stdout(sys.stderr):
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            serve.start(http_options={"host": "127.0.0.1", "port": port})
            url = f"http://127.0.0.1:{port}/api/v1/translate"
            for label, batching in (("a_serve_batched", True), ("b_serve_unbatched", False)):
                if label[0] not in configs:
                    continue
                serve.run(build_app(args(batching)), name="tafsiri", route_prefix="/")
                warm(url)
                results[label] = asyncio.run(drive(url, sentences, concurrency))
        finally:
            serve.shutdown()
            ray.shutdown()
    return results


def run_raw(model_dir: Path, sentences: list[str], beam: int, batch: int) -> dict[str, Any]:
    translator = Translator(model_dir, intra_threads=1)
    options = TranslationOptions(beam_size=beam)
    requests = [TranslationRequest(s, "eng_Latn", "swh_Latn") for s in sentences]
    translator.translate(requests[:4], options)
    latencies: list[float] = []
    started = time.perf_counter()
    for start in range(0, len(requests), batch):
        chunk_started = time.perf_counter()
        translator.translate(requests[start : start + batch], options)
        latencies += [time.perf_counter() - chunk_started] * len(requests[start : start + batch])
    return summarize(latencies, time.perf_counter() - started, 0)


def run_baseline(
    model_dir: Path, sentences: list[str], concurrency: int, beam: int, port: int
) -> dict[str, Any]:
    with running_baseline(model_dir, port, beam) as base:
        return asyncio.run(drive(f"{base}/api/v1/translate", sentences, concurrency))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", choices=["tiny", "base"], default="base")
    parser.add_argument("--requests", type=int, default=128)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--beam-size", type=int, default=2)
    parser.add_argument("--max-batch-size", type=int, default=32)
    parser.add_argument("--batch-wait", type=float, default=0.05, help="batch_wait_timeout_s")
    parser.add_argument("--configs", default="a,b,c,d", help="which of a,b,c,d to run")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--model-root", type=Path, default=Path("models"))
    parser.add_argument("--repeat", type=int, default=1, help="rounds; the median is reported")
    args = parser.parse_args(argv)

    model_dir = build_test_model(args.model_root / f"copy-{args.size}", size=args.size)
    sentences = make_sentences(args.requests)
    configs = set(args.configs.split(","))
    runs: dict[str, list[dict[str, Any]]] = {}
    # Rounds interleave the set-ups, so that a slow stretch of a shared machine hits all of
    # them rather than one; each set-up reports its median round.
    for _ in range(args.repeat):
        rounds: dict[str, Any] = {}
        if configs & {"a", "b"}:
            rounds.update(
                run_serve(
                    model_dir,
                    sentences,
                    args.concurrency,
                    args.beam_size,
                    args.max_batch_size,
                    args.batch_wait,
                    args.port,
                    configs,
                )
            )
        if "c" in configs:
            rounds["c_raw_batched_ct2"] = run_raw(
                model_dir, sentences, args.beam_size, args.max_batch_size
            )
        if "d" in configs:
            rounds["d_fastapi_per_request"] = run_baseline(
                model_dir, sentences, args.concurrency, args.beam_size, args.port + 1
            )
        for label, result in rounds.items():
            runs.setdefault(label, []).append(result)
    results = {label: median_round(rounds) for label, rounds in runs.items()}

    def ratio(key: str) -> float | None:
        if "a_serve_batched" not in results or key not in results:
            return None
        a = float(results["a_serve_batched"]["throughput_rps"])
        return round(a / float(results[key]["throughput_rps"]), 2)

    print(
        json.dumps(
            {
                "benchmark": "serve_throughput",
                "model": f"copy-{args.size}",
                "requests": args.requests,
                "concurrency": args.concurrency,
                "beam_size": args.beam_size,
                "max_batch_size": args.max_batch_size,
                "batch_wait_timeout_s": args.batch_wait,
                "repeat": args.repeat,
                "results": results,
                "ratios": {
                    "a_over_c_raw": ratio("c_raw_batched_ct2"),
                    "a_over_b_unbatched": ratio("b_serve_unbatched"),
                    "a_over_d_fastapi": ratio("d_fastapi_per_request"),
                },
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
