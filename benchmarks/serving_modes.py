"""Serving overhead: Ray Serve's own levers, side by side with the single-process baseline.

One run, rounds interleaved; each round serves the same app and model three ways:

- ``classic``: Ray Serve's defaults (HTTP through Serve's Python proxy actor, user code and
  handle routers on threads of their own, per-request log flushes);
- ``fast``: the mode ``tafsiri serve`` ships (``serve_app/serving.py``): HAProxy in front of
  the ingress replica's own HTTP server, ``RAY_SERVE_THROUGHPUT_OPTIMIZED``;
- ``baseline``: one FastAPI/uvicorn process calling CTranslate2 per request
  (``benchmarks/baseline_server.py``, the architecture Tafsiri replaces).

Each Serve mode runs in a child process with a Ray of its own (Serve reads these switches
when its processes start). Measured for each: the CPU the app's own processes use while
nobody calls (beside what a Serve replica and an actor that run nothing cost: Ray's floor);
one client on an idle service (p50 of translate with the source given, and the
model's own inference time; detect; a route with no handle call); then ``--clients``
concurrent clients translating (throughput, and the CPU milliseconds per request of the
ingress replica and of the proxy, read from the processes themselves).

    python -m benchmarks.serving_modes --repeat 2
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import psutil

from benchmarks.baseline_server import running_baseline, warm
from benchmarks.engine import letters, make_sentences
from benchmarks.local_app import local_app
from benchmarks.serve_throughput import drive
from serve_app.serving import serving_env
from serve_app.testmodel.build import build_test_model

MODES = ("classic", "fast")
# Substrings of process titles: Ray names its workers after the actor they host.
ROLES = {
    "ingress": ("ServeReplica:tafsiri:Ingress",),
    "proxy": ("ProxyActor", "haproxy"),
    "translator": ("ServeReplica:tafsiri:Translator",),
    # Every process of the app itself (replicas, job manager, rate limiter), not Ray's own.
    "app": ("ServeReplica:tafsiri:", "JobManager", "RateLimiter"),
    # Ray's floor, measured beside the app while idle: a Serve replica and a threaded actor
    # that run no code at all (``bare_processes``).
    "bare_replica": ("ServeReplica:floor:",),
    "bare_actor": ("BareActor",),
}


def p50_ms(values: list[float]) -> float:
    return round(1000 * statistics.median(values), 2)


def idle(base: str, requests: int, detect: bool = True) -> dict[str, float]:
    """One client, one request at a time."""
    translate, inference, detected, plain = [], [], [], []
    with httpx.Client(base_url=base, timeout=60) as http:
        for i in range(requests):
            # Words, not numbers: numbers are masked, so "number 7" and "number 8" would be
            # one sentence to the model, and every request after the first a cache hit.
            text = f"Sentence {letters(i)} on an idle service."
            started = time.perf_counter()
            body = http.post(
                "/api/v1/translate",
                json={"text": text, "source_language": "eng_Latn", "target_language": "swh_Latn"},
            ).json()
            translate.append(time.perf_counter() - started)
            assert body["translated_text"] == text, body
            if "inference_time" in body:
                inference.append(float(body["inference_time"]))
            if not detect:
                continue
            started = time.perf_counter()
            http.post("/api/v1/detect-language", json={"text": text}).raise_for_status()
            detected.append(time.perf_counter() - started)
            started = time.perf_counter()
            http.get("/api/v1/languages/swh").raise_for_status()
            plain.append(time.perf_counter() - started)
    result = {"translate_p50_ms": p50_ms(translate)}
    if inference:
        result["translate_inference_p50_ms"] = p50_ms(inference)
        result["translate_overhead_p50_ms"] = round(p50_ms(translate) - p50_ms(inference), 2)
    if detected:
        result["detect_p50_ms"] = p50_ms(detected)
        result["no_handle_route_p50_ms"] = p50_ms(plain)
    return result


def cpu_seconds_by_role() -> dict[str, float]:
    totals = dict.fromkeys(ROLES, 0.0)
    for process in psutil.process_iter(["name", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            title = " ".join(process.info["cmdline"] or []) or process.info["name"] or ""
            for role, marks in ROLES.items():
                if any(mark in title for mark in marks):
                    times = process.cpu_times()
                    totals[role] += times.user + times.system
    return totals


def idle_cpu(seconds: float) -> dict[str, float]:
    """Percent of one core each role uses while nobody calls the service."""
    before = cpu_seconds_by_role()
    time.sleep(seconds)
    after = cpu_seconds_by_role()
    return {role: round(100 * (after[role] - before[role]) / seconds, 2) for role in ROLES}


def app_processes() -> tuple[int, int]:
    """The app's Serve replicas and its plain actors (job manager, rate limiter)."""
    replicas = actors = 0
    for process in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            title = " ".join(process.info["cmdline"] or [])
            replicas += "ServeReplica:tafsiri:" in title
            actors += "JobManager" in title or "RateLimiter" in title
    return replicas, actors


@contextlib.contextmanager
def bare_processes() -> Iterator[None]:
    """A Serve replica (its own app, ``floor``) and a threaded actor that do nothing: what
    any process of a Serve app costs while idle, before its own code."""
    import ray
    from ray import serve
    from ray.serve import Deployment

    @serve.deployment(ray_actor_options={"num_cpus": 0})
    class Bare:
        async def __call__(self) -> str:
            return "ok"

    class BareActor:
        def ping(self) -> str:
            return "ok"

    serve.run(cast(Deployment, Bare).bind(), name="floor", route_prefix="/floor")
    actor = ray.remote(num_cpus=0, max_concurrency=4)(BareActor).remote()
    ray.get(actor.ping.remote())
    try:
        yield
    finally:
        ray.kill(actor)
        serve.delete("floor")


def idle_with_floor(seconds: float) -> dict[str, float]:
    """The idle CPU of each role, and of the app's processes had they Ray's floor only."""
    with bare_processes():
        time.sleep(3)
        cost = idle_cpu(seconds)
    replicas, actors = app_processes()
    floor = replicas * cost["bare_replica"] + actors * cost["bare_actor"]
    cost["app_processes"] = replicas + actors
    cost["app_at_ray_floor"] = round(floor, 2)
    cost["app_beyond_floor"] = round(cost["app"] - floor, 2)
    return cost


def loaded(url: str, sentences: list[str], clients: int) -> dict[str, Any]:
    before = cpu_seconds_by_role()
    result = asyncio.run(drive(url, sentences, clients))
    after = cpu_seconds_by_role()
    served = max(1, result["requests"] - result["errors"])
    result["cpu_ms_per_request"] = {
        role: round(1000 * (after[role] - before[role]) / served, 2) for role in ROLES
    }
    return result


def child(args: argparse.Namespace) -> dict[str, Any]:
    """One Serve mode, in this process's own Ray (its environment was set by the parent)."""
    with local_app(args.port, args.model, max_batch_items=1000) as base:
        warm(f"{base}/api/v1/translate")
        time.sleep(5)  # start-up work (health checks, first metrics pushes) settles
        idle_cost = idle_with_floor(args.idle_seconds)
        result: dict[str, Any] = idle(base, args.idle_requests)
        result["idle_cpu_percent"] = idle_cost
        sentences = make_sentences(args.requests)
        result["loaded"] = loaded(f"{base}/api/v1/translate", sentences, args.clients)
    return result


def run_mode(mode: str, args: argparse.Namespace, model: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_SERVE_")}
    env |= serving_env(mode)
    command = [sys.executable, "-m", "benchmarks.serving_modes", "--child", mode]
    command += ["--model", str(model), "--port", str(args.port)]
    command += ["--idle-requests", str(args.idle_requests), "--requests", str(args.requests)]
    command += ["--clients", str(args.clients), "--idle-seconds", str(args.idle_seconds)]
    run = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"{mode} failed:\n{run.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def run_baseline(args: argparse.Namespace, model: Path) -> dict[str, Any]:
    with running_baseline(model, args.port + 1, beam_size=2) as base:
        result: dict[str, Any] = idle(base, args.idle_requests, detect=False)
        sentences = make_sentences(args.requests)
        result["loaded"] = asyncio.run(drive(f"{base}/api/v1/translate", sentences, args.clients))
        return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", choices=["tiny", "base"], default="tiny")
    parser.add_argument("--idle-requests", type=int, default=100)
    parser.add_argument("--requests", type=int, default=512, help="under load")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--idle-seconds", type=float, default=20, help="idle CPU window")
    parser.add_argument("--repeat", type=int, default=2, help="interleaved rounds (median)")
    parser.add_argument("--port", type=int, default=8021)
    parser.add_argument("--models", default="models")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return 0

    model = build_test_model(Path(args.models) / f"{args.size}-nllb", size=args.size)
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in (*MODES, "baseline")}
    for _ in range(args.repeat):
        for mode in MODES:
            rounds[mode].append(run_mode(mode, args, model))
        rounds["baseline"].append(run_baseline(args, model))

    def median(name: str, key: str) -> float | None:
        values = [
            r["loaded"]["throughput_rps"] if key == "throughput_rps" else r.get(key)
            for r in rounds[name]
        ]
        present = [float(v) for v in values if v is not None]
        return round(statistics.median(present), 2) if present else None

    keys = (
        "translate_p50_ms",
        "translate_overhead_p50_ms",
        "detect_p50_ms",
        "no_handle_route_p50_ms",
        "throughput_rps",
    )
    summary: dict[str, dict[str, Any]] = {
        name: {key: median(name, key) for key in keys} for name in rounds
    }
    for mode in MODES:
        per_request = [r["loaded"]["cpu_ms_per_request"] for r in rounds[mode]]
        summary[mode]["cpu_ms_per_request"] = {
            role: round(statistics.median(p[role] for p in per_request), 2) for role in ROLES
        }
        idle_cost = [r["idle_cpu_percent"] for r in rounds[mode]]
        summary[mode]["idle_cpu_percent"] = {
            role: round(statistics.median(p[role] for p in idle_cost), 2) for role in idle_cost[0]
        }
    fast, classic, baseline = summary["fast"], summary["classic"], summary["baseline"]

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a is not None and b else None

    report = {
        "benchmark": "serving_modes",
        "size": args.size,
        "clients": args.clients,
        "rounds": args.repeat,
        "summary": summary,
        "ratios": {
            "idle_translate_fast_vs_classic": ratio(
                fast["translate_p50_ms"], classic["translate_p50_ms"]
            ),
            "idle_detect_fast_vs_classic": ratio(fast["detect_p50_ms"], classic["detect_p50_ms"]),
            "throughput_fast_vs_classic": ratio(fast["throughput_rps"], classic["throughput_rps"]),
            "throughput_fast_vs_baseline": ratio(
                fast["throughput_rps"], baseline["throughput_rps"]
            ),
            "throughput_classic_vs_baseline": ratio(
                classic["throughput_rps"], baseline["throughput_rps"]
            ),
        },
        "raw_rounds": rounds,
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
