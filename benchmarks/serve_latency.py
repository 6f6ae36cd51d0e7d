"""Batching that costs nothing when there is nothing to batch with: one run, two set-ups.

Both serve the same model through the whole Serve app (HTTP, ingress, Translator and
LanguageDetector replicas), one after the other in the same Ray, rounds interleaved:

- ``timer``: ``@serve.batch`` with a fixed wait (every batch waits ``--wait-ms`` to fill),
  the behaviour before work-conserving batching;
- ``work_conserving``: the same cap, but a batch leaves at once when the engine is idle and
  only gathers while another batch runs (``deployments/batching.py``).

For each: one client on an idle service (translate with the source given, and detect; p50
latency, and for translate the model's own inference time, so ``overhead = latency -
inference``), and ``--clients`` concurrent clients (throughput). Prints JSON with the ratios.

    python -m benchmarks.serve_latency --repeat 2
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from benchmarks.baseline_server import warm
from benchmarks.engine import make_sentences
from benchmarks.serve_throughput import drive
from benchmarks.serving_modes import idle
from serve_app.config import AppArgs
from serve_app.testmodel.build import build_test_model

SETUPS = ("timer", "work_conserving")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", choices=["tiny", "base"], default="tiny")
    parser.add_argument("--wait-ms", type=float, default=50.0, help="the batch wait (cap)")
    parser.add_argument("--idle-requests", type=int, default=60)
    parser.add_argument("--requests", type=int, default=256, help="under load")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=1, help="interleaved rounds (median)")
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--models", default="models")
    args = parser.parse_args(argv)

    import ray
    from ray import serve

    from serve_app.app import build_app

    model = build_test_model(Path(args.models) / f"{args.size}-nllb", size=args.size)
    sentences = make_sentences(args.requests)
    rounds: dict[str, list[dict[str, Any]]] = {setup: [] for setup in SETUPS}
    base = f"http://127.0.0.1:{args.port}"
    with contextlib.redirect_stdout(sys.stderr):  # Ray's chatter; stdout is the JSON
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            serve.start(http_options={"host": "127.0.0.1", "port": args.port})
            for _ in range(args.repeat):
                for setup in SETUPS:
                    batching = {
                        "batch_wait_timeout_s": args.wait_ms / 1000,
                        "work_conserving": setup == "work_conserving",
                    }
                    app_args = AppArgs.model_validate(
                        {
                            "models": "hub",
                            "detector": {"model": "lid.176", "batching": batching},
                            "translator": {"model": str(model), "batching": batching},
                        }
                    )
                    serve.run(build_app(app_args), name="tafsiri", route_prefix="/")
                    warm(f"{base}/api/v1/translate")
                    result = idle(base, args.idle_requests)
                    loaded = asyncio.run(drive(f"{base}/api/v1/translate", sentences, args.clients))
                    rounds[setup].append({**result, "loaded": loaded})
        finally:
            serve.shutdown()
            ray.shutdown()

    def median(setup: str, key: str) -> float:
        values = [r[key] if key != "throughput_rps" else r["loaded"][key] for r in rounds[setup]]
        return round(float(statistics.median(values)), 2)

    keys = ("translate_p50_ms", "translate_overhead_p50_ms", "detect_p50_ms", "throughput_rps")
    report: dict[str, Any] = {
        "size": args.size,
        "wait_ms": args.wait_ms,
        "clients": args.clients,
        "rounds": args.repeat,
        "setups": {setup: {key: median(setup, key) for key in keys} for setup in SETUPS},
        "raw_rounds": rounds,
    }
    timer, conserving = report["setups"]["timer"], report["setups"]["work_conserving"]
    report["ratios"] = {
        "idle_translate_latency_work_conserving_vs_timer": round(
            conserving["translate_p50_ms"] / timer["translate_p50_ms"], 3
        ),
        "idle_detect_latency_work_conserving_vs_timer": round(
            conserving["detect_p50_ms"] / timer["detect_p50_ms"], 3
        ),
        "throughput_work_conserving_vs_timer": round(
            conserving["throughput_rps"] / timer["throughput_rps"], 3
        ),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
