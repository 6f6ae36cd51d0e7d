"""Several models in one service: a mixed-model workload against the same requests to one.

One Serve app with ``default`` and three registered copy models (each writes '~' as its own
character, so every answer is checked for the model that served it), on one Translator
replica. Rounds interleave, each ``--clients`` concurrent clients sending ``--requests``
one-sentence translations back to back:

- ``one_model``: every request to ``default``;
- ``mixed``: the same requests spread round-robin over the four models (``model`` named),
  with ``--max-models`` registered models held per replica (3: all stay loaded; 2: the LRU
  loads and unloads as they take turns).

Prints JSON: req/s and p50/p95 per set-up (median round), ``mixed / one_model`` and the load
and unload counts the replica reports (``GET /api/v1/models``).

    python -m benchmarks.multiplexing --repeat 2
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

from benchmarks.baseline_server import warm
from benchmarks.engine import make_sentences
from benchmarks.serve_throughput import median_round, summarize
from serve_app.config import AppArgs
from serve_app.testmodel.build import build_test_model

MARKS = {"default": "~", "mux-b": "`", "mux-c": "|", "mux-d": "^"}
SWAPS = {"mux-b": "<0x60>", "mux-c": "<0x7C>", "mux-d": "<0x5E>"}


async def drive(
    url: str, sentences: list[str], concurrency: int, models: list[str]
) -> dict[str, Any]:
    """``concurrency`` clients; request ``i`` names ``models[i % len(models)]``."""
    latencies: list[float] = []
    errors = 0
    queue = list(reversed(list(enumerate(sentences))))

    async def client_loop(http: httpx.AsyncClient) -> None:
        nonlocal errors
        while queue:
            index, text = queue.pop()
            model = models[index % len(models)]
            started = time.perf_counter()
            response = await http.post(
                url,
                json={
                    "text": text.replace(" ", " ~ ", 1),
                    "source_language": "eng_Latn",
                    "target_language": "swh_Latn",
                    "model": model,
                },
            )
            expected = text.replace(" ", f" {MARKS[model]} ", 1)
            if response.status_code == 200 and response.json()["translated_text"] == expected:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=300, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*[client_loop(http) for _ in range(concurrency)])
        return summarize(latencies, time.perf_counter() - started, errors)


def model_counts(base: str) -> dict[str, dict[str, Any]]:
    body = httpx.get(f"{base}/api/v1/models", timeout=60).json()
    return {m["name"]: m["replica"] for m in body["models"] if m["name"] != "default"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=512)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=2, help="interleaved rounds (median)")
    parser.add_argument("--max-models", type=int, default=3, help="per replica, LRU")
    parser.add_argument("--port", type=int, default=8012)
    parser.add_argument("--models", default="models")
    args = parser.parse_args(argv)

    import ray
    from ray import serve

    from serve_app.app import build_app

    root = Path(args.models)
    default = build_test_model(root / "tiny-nllb")
    registered = {
        name: str(build_test_model(root / f"tiny-{name}", swaps=(("<0x7E>", swap),)))
        for name, swap in SWAPS.items()
    }
    sentences = make_sentences(args.requests)
    base = f"http://127.0.0.1:{args.port}"
    url = f"{base}/api/v1/translate"
    setups = {"one_model": ["default"], "mixed": list(MARKS)}
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in setups}
    with contextlib.redirect_stdout(sys.stderr):
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            serve.start(http_options={"host": "127.0.0.1", "port": args.port})
            app_args = AppArgs.model_validate(
                {
                    "models": "hub",
                    "detector": {"model": "lid.176"},
                    "translator": {
                        "model": str(default),
                        "models": {name: {"model": path} for name, path in registered.items()},
                        "max_models_per_replica": args.max_models,
                        "cache": {"backend": "off"},
                        "bulk": {"enabled": False},
                    },
                    "rate_limits": {"enabled": False},
                }
            )
            serve.run(build_app(app_args), name="tafsiri", route_prefix="/")
            warm(url)
            asyncio.run(drive(url, sentences[:16], 4, list(MARKS)))  # every model loaded once
            before = model_counts(base)
            for _ in range(args.repeat):
                for name, models in setups.items():
                    rounds[name].append(asyncio.run(drive(url, sentences, args.clients, models)))
            after = model_counts(base)
        finally:
            serve.shutdown()
            ray.shutdown()
    result = {name: median_round(runs) for name, runs in rounds.items()}
    report = {
        "benchmark": "multiplexing",
        "requests": args.requests,
        "clients": args.clients,
        "max_models_per_replica": args.max_models,
        "registered_models": len(registered),
        "setups": result,
        "ratio_mixed_over_one_model": round(
            result["mixed"]["throughput_rps"] / result["one_model"]["throughput_rps"], 3
        ),
        "rounds_ratio": [
            round(m["throughput_rps"] / o["throughput_rps"], 3)
            for m, o in zip(rounds["mixed"], rounds["one_model"], strict=True)
        ],
        "loads_during_rounds": sum(
            after[n]["loads"] - before.get(n, {}).get("loads", 0) for n in after
        ),
        "unloads_during_rounds": sum(
            after[n]["unloads"] - before.get(n, {}).get("unloads", 0) for n in after
        ),
        "replica_counts": after,
        "errors": sum(r["errors"] for runs in rounds.values() for r in runs),
    }
    report["median_p50_ms"] = {
        name: statistics.median(r["p50_ms"] for r in runs) for name, runs in rounds.items()
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
