"""Throughput and latency of four ways to serve the same model, side by side in one run.

(a) the Tafsiri Serve app as shipped (serve mode ``fast``, the Translator's default workers),
(b) the same with batching disabled, (c) raw in-process batched CTranslate2 on all cores of
the machine, in every split of them into parallel workers (``inter_threads``) and threads per
worker (``intra_threads``), then every sub-batch budget (source tokens) on the best split; the
best of all is the ceiling, (d) one FastAPI/uvicorn process calling
CTranslate2 per request. Prints one JSON object.
Run: ``python -m benchmarks.serve_throughput [--size base] [--requests 128]``.
Traffic goes to 127.0.0.1 only; every loop is bounded by the request count.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.baseline_server import running_baseline, warm
from benchmarks.engine import make_sentences
from serve_app.config import AppArgs, TranslatorConfig
from serve_app.engines.device import available_cores
from serve_app.engines.translator import Translator, split_evenly
from serve_app.loading import decoding_options
from serve_app.serving import serving_env
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
    mode: str,
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
                # The clients are this benchmark's, on loopback: no limits to meter them by.
                "rate_limits": {"enabled": False},
            }
        )

    results: dict[str, Any] = {}
    # Serve reads its mode when its processes start: set it for the Ray started here (this
    # process only calls the app over HTTP, so it may carry the mode's variables too).
    saved = dict(os.environ)
    os.environ.update(serving_env(mode))
    # Ray prints shutdown chatter on stdout; keep stdout for the JSON result alone.
    with contextlib.redirect_stdout(sys.stderr):
        ray.init(num_cpus=available_cores(), include_dashboard=False, log_to_driver=False)
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
            os.environ.clear()
            os.environ.update(saved)
    return results


# Sub-batch budgets (source tokens) the ceiling is searched over.
BATCH_TOKENS = (512, 1024, 2048, 4096)


def thread_splits(cores: int) -> list[tuple[int, int]]:
    """(inter_threads, intra_threads) pairs that use all ``cores``, and one thread alone."""
    splits = {(1, 1)} | {(cores // intra, intra) for intra in range(1, cores + 1)}
    return sorted(split for split in splits if split[0] * split[1] in {1, cores})


def run_raw(
    model_dir: Path, sentences: list[str], beam: int, batch_tokens: int, inter: int, intra: int
) -> dict[str, Any]:
    """CTranslate2 alone, in this process, given every sentence at once: sorted by length,
    cut into one call per worker, each decoded in sub-batches of at most ``batch_tokens``
    source tokens, on ``inter`` parallel workers of ``intra`` threads each (no HTTP, no
    queueing: the ceiling). Every output is checked against the input."""
    import ctranslate2

    tokenizer = Translator(model_dir, intra_threads=1).tokenizer
    sources = [tokenizer.source_tokens(tokenizer.encode(s), "eng_Latn") for s in sentences]
    prefix = tokenizer.target_prefix("swh_Latn")
    model = ctranslate2.Translator(
        str(model_dir), compute_type="int8", inter_threads=inter, intra_threads=intra
    )
    model.translate_batch(sources[:4], target_prefix=[prefix] * 4, beam_size=beam)
    outputs, seconds = decode_in_shares(model, sources, prefix, beam, batch_tokens, inter)
    texts = [tokenizer.decode(outputs[i].hypotheses[0][1:]) for i in range(len(sentences))]
    errors = sum(text != sentence for text, sentence in zip(texts, sentences, strict=True))
    return summarize([seconds] * (len(sentences) - errors), seconds, errors)


def decode_in_shares(
    model: Any,
    sources: list[list[str]],
    prefix: list[str] | None,
    beam: int,
    batch_tokens: int,
    inter: int,
) -> tuple[dict[int, Any], float]:
    """``sources`` sorted by length, cut into one call per worker, each decoded in sub-batches
    of at most ``batch_tokens`` source tokens: the outputs by index, and the seconds taken."""
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    shares = split_evenly(order, [len(sources[i]) for i in order], inter)
    started = time.perf_counter()
    pending = [
        model.translate_batch(
            [sources[i] for i in share],
            target_prefix=[prefix] * len(share),
            max_batch_size=batch_tokens,
            batch_type="tokens",
            beam_size=beam,
            asynchronous=True,
        )
        for share in shares
    ]
    outputs: dict[int, Any] = {}
    for share, results in zip(shares, pending, strict=True):
        for i, result in zip(share, results, strict=True):
            outputs[i] = result.result()
    return outputs, time.perf_counter() - started


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
    parser.add_argument("--mode", choices=["fast", "classic"], default="fast", help="serve mode")
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
                    args.mode,
                )
            )
        if "c" in configs:
            # Every split of the cores at the Translator's sub-batch budget, then every
            # budget on the split that did best: the ceiling is the best of all.
            shipped = decoding_options(TranslatorConfig(), "cpu").max_batch_tokens
            splits = {
                (inter, intra): run_raw(model_dir, sentences, args.beam_size, shipped, inter, intra)
                for inter, intra in thread_splits(available_cores())
            }
            inter, intra = max(splits, key=lambda split: splits[split]["throughput_rps"])
            for (i, j), result in splits.items():
                rounds[f"c_raw_ct2_inter{i}_intra{j}_tokens{shipped}"] = result
            for tokens in BATCH_TOKENS:
                if tokens != shipped:
                    rounds[f"c_raw_ct2_inter{inter}_intra{intra}_tokens{tokens}"] = run_raw(
                        model_dir, sentences, args.beam_size, tokens, inter, intra
                    )
        if "d" in configs:
            rounds["d_fastapi_per_request"] = run_baseline(
                model_dir, sentences, args.concurrency, args.beam_size, args.port + 1
            )
        for label, result in rounds.items():
            runs.setdefault(label, []).append(result)
    results = {label: median_round(rounds) for label, rounds in runs.items()}
    raw = {label: r for label, r in results.items() if label.startswith("c_raw_ct2_")}
    best_raw = max(raw, key=lambda label: float(raw[label]["throughput_rps"]), default=None)
    if best_raw is not None:
        results["c_raw_best"] = {"config": best_raw, **raw[best_raw]}

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
                "serve_mode": args.mode,
                "cores": available_cores(),
                "results": results,
                "ratios": {
                    "a_over_c_raw_best": ratio("c_raw_best"),
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
