"""The translation cache through the whole Serve app: cache off against the in-process LRU.

Same Ray, same model, set-ups one after the other (rounds interleaved), all over HTTP:

- one client on an idle service, sentences never seen (the cost of looking up and missing)
  and one sentence seen before (a hit: answered before batching, no model);
- ``--clients`` concurrent clients on a workload where 90% of the requests repeat sentences
  sent before (primed untimed) and 10% are new: throughput.

Prints JSON with the ratios. ``python -m benchmarks.serve_cache --size base --repeat 2``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.baseline_server import warm
from benchmarks.engine import make_sentences
from benchmarks.serve_throughput import drive
from benchmarks.serving_modes import p50_ms
from serve_app.config import AppArgs
from serve_app.serving import apply_serving_env
from serve_app.testmodel.build import build_test_model

SETUPS = ("off", "memory")


def idle(base: str, sentences: list[str]) -> list[float]:
    latencies = []
    with httpx.Client(base_url=base, timeout=60) as http:
        for text in sentences:
            started = time.perf_counter()
            body = http.post(
                "/api/v1/translate",
                json={"text": text, "source_language": "eng_Latn", "target_language": "swh_Latn"},
            ).json()
            latencies.append(time.perf_counter() - started)
            assert body["translated_text"] == text, body
    return latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", choices=["tiny", "base"], default="tiny")
    parser.add_argument("--idle-requests", type=int, default=40)
    parser.add_argument("--requests", type=int, default=320, help="under load")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=1, help="interleaved rounds (median)")
    parser.add_argument("--port", type=int, default=8012)
    parser.add_argument("--models", default="models")
    args = parser.parse_args(argv)
    # The serve mode the service ships with (TAFSIRI_SERVE_MODE picks another), set before
    # Ray starts and Serve is imported: both read it once.
    mode = apply_serving_env()

    import ray
    from ray import serve

    from serve_app.app import build_app

    model = build_test_model(Path(args.models) / f"{args.size}-nllb", size=args.size)
    base = f"http://127.0.0.1:{args.port}"
    rounds: dict[str, list[dict[str, Any]]] = {setup: [] for setup in SETUPS}
    pool = iter(make_sentences(100_000, seed=11))
    with contextlib.redirect_stdout(sys.stderr):  # Ray's chatter; stdout is the JSON
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            serve.start(http_options={"host": "127.0.0.1", "port": args.port})
            for _ in range(args.repeat):
                # Both set-ups get the same sentences (so the same model work); each round new
                # ones, so nothing is cached from a round before.
                unseen = [next(pool) for _ in range(args.idle_requests)]
                seen = [next(pool) for _ in range(args.requests * 9 // 10)]
                fresh = [next(pool) for _ in range(args.requests - len(seen))]
                workload = seen + fresh
                random.Random(3).shuffle(workload)
                for setup in SETUPS:
                    app_args = AppArgs.model_validate(
                        {
                            "models": "hub",
                            "detector": {"model": "lid.176"},
                            "translator": {"model": str(model), "cache": {"backend": setup}},
                        }
                    )
                    serve.run(build_app(app_args), name="tafsiri", route_prefix="/")
                    warm(f"{base}/api/v1/translate")
                    miss = idle(base, unseen)
                    hit = idle(base, [unseen[0]] * args.idle_requests)
                    asyncio.run(drive(f"{base}/api/v1/translate", seen, args.clients))  # primed
                    loaded = asyncio.run(drive(f"{base}/api/v1/translate", workload, args.clients))
                    rounds[setup].append(
                        {
                            "idle_miss_p50_ms": p50_ms(miss),
                            "idle_hit_p50_ms": p50_ms(hit),
                            "throughput_rps": loaded["throughput_rps"],
                            "errors": loaded["errors"],
                        }
                    )
        finally:
            serve.shutdown()
            ray.shutdown()

    def median(setup: str, key: str) -> float:
        return round(float(statistics.median(r[key] for r in rounds[setup])), 2)

    keys = ("idle_miss_p50_ms", "idle_hit_p50_ms", "throughput_rps")
    setups = {setup: {key: median(setup, key) for key in keys} for setup in SETUPS}
    off, memory = setups["off"], setups["memory"]
    report = {
        "size": args.size,
        "serve_mode": mode,
        "clients": args.clients,
        "rounds": args.repeat,
        "setups": setups,
        "ratios": {
            "idle_miss_latency_memory_vs_off": round(
                memory["idle_miss_p50_ms"] / off["idle_miss_p50_ms"], 3
            ),
            "idle_repeat_latency_memory_vs_off": round(
                memory["idle_hit_p50_ms"] / off["idle_hit_p50_ms"], 3
            ),
            "throughput_90pct_repeats_memory_vs_off": round(
                memory["throughput_rps"] / off["throughput_rps"], 3
            ),
        },
        "raw_rounds": rounds,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
