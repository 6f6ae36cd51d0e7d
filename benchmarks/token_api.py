"""Token API benchmark: submit latency at a sustained rate and jobs completed per minute.

Runs the Serve app twice in one run, once per job-store backend (SQLite, then Redis when a
``redis-server`` binary is available), and prints one JSON object with both and their ratio.
Then ``--burst`` jobs at once (32 in flight) time how fast the queue drains them.
Run: ``python -m benchmarks.token_api [--rate 20] [--seconds 15] [--burst 2000]``. Loopback
only; bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.engine import letters
from serve_app.config import AppArgs
from serve_app.serving import apply_serving_env
from serve_app.testmodel.build import build_test_model

TERMINAL = {"done", "error", "timeout", "needs_human"}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def submit(
    http: httpx.AsyncClient, text: str, client_id: str | None = None
) -> httpx.Response:
    """One text job, English to Swahili."""
    body = {"texts": [text], "source_language": "eng_Latn", "target_language": "swh_Latn"}
    if client_id is not None:
        body["client_id"] = client_id
    return await http.post("/api/v1/jobs/translate", json=body)


async def sustained_submits(url: str, rate: float, seconds: float) -> tuple[list[float], list[str]]:
    """Submits ``rate`` jobs per second for ``seconds``; returns latencies and tokens."""
    latencies: list[float] = []
    tokens: list[str] = []
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:

        async def one(index: int) -> None:
            started = time.perf_counter()
            text = f"Benchmark job {letters(index)}. Two sentences."
            response = await submit(http, text, client_id=f"bench-{index % 50}")
            latencies.append(time.perf_counter() - started)
            if response.status_code == 202:
                tokens.append(response.json()["token"])

        pending = []
        total = int(rate * seconds)
        begin = time.perf_counter()
        for index in range(total):
            await asyncio.sleep(max(0.0, begin + index / rate - time.perf_counter()))
            pending.append(asyncio.create_task(one(index)))
        await asyncio.gather(*pending)
    return latencies, tokens


async def drain(url: str, count: int, in_flight: int = 32) -> dict[str, Any]:
    """Submits ``count`` trivial jobs at once (``in_flight`` at a time) and times how long
    the queue takes to finish them all, read from ``/stats`` (not one poll per job)."""

    async def done(http: httpx.AsyncClient) -> int:
        body = (await http.get("/stats")).json()
        return int(body["translation_queue"]["by_status"].get("done", 0))

    gate = asyncio.Semaphore(in_flight)
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        before = await done(http)

        async def one(index: int) -> None:
            async with gate:
                (await submit(http, f"Job {letters(index)}.")).raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(count)))
        submitted = time.perf_counter() - started
        deadline = time.monotonic() + 600
        finished = 0
        while time.monotonic() < deadline:
            finished = await done(http) - before
            if finished >= count:
                break
            await asyncio.sleep(0.1)
        elapsed = time.perf_counter() - started
    return {
        "burst_jobs": count,
        "burst_finished": finished,
        "burst_submit_seconds": round(submitted, 2),
        "drain_seconds": round(elapsed, 2),
        "drain_jobs_per_minute": round(60 * finished / elapsed, 1),
    }


async def wait_all(url: str, tokens: list[str], timeout: float) -> int:
    remaining = set(tokens)
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        while remaining and time.monotonic() < deadline:
            for token in list(remaining):
                body = (await http.get(f"/api/v1/jobs/{token}")).json()
                if body.get("status") in TERMINAL:
                    remaining.discard(token)
            await asyncio.sleep(0.2)
    return len(tokens) - len(remaining)


def run_backend(
    backend: str,
    model: Path,
    port: int,
    rate: float,
    seconds: float,
    redis_url: str | None,
    workdir: Path,
    burst_jobs: int = 0,
) -> dict[str, Any]:
    from ray import serve

    from serve_app.app import build_app

    args = AppArgs.model_validate(
        {
            "translator": {"model": str(model)},
            "detector": {"model": "lid.176"},
            "rate_limits": {"enabled": False},
            "jobs": {
                "backend": backend,
                "sqlite_path": str(workdir / "jobs.db"),
                "redis_url": redis_url or "redis://127.0.0.1:1/0",
                "manager_name": f"bench-{backend}-jobs",
                "lease_wait_seconds": 2,
            },
        }
    )
    serve.run(build_app(args), name="tafsiri", route_prefix="/")
    url = f"http://127.0.0.1:{port}"
    httpx.get(f"{url}/health", timeout=60)
    started = time.perf_counter()
    latencies, tokens = asyncio.run(sustained_submits(url, rate, seconds))
    finished = asyncio.run(wait_all(url, tokens, timeout=300))
    elapsed = time.perf_counter() - started
    burst = asyncio.run(drain(url, burst_jobs)) if burst_jobs else {}
    serve.delete("tafsiri")
    return {
        "backend": backend,
        "submitted": len(latencies),
        "accepted": len(tokens),
        "finished": finished,
        "submit_p50_ms": round(1000 * percentile(latencies, 0.50), 2),
        "submit_p99_ms": round(1000 * percentile(latencies, 0.99), 2),
        "jobs_per_minute": round(60 * finished / elapsed, 1),
        **burst,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rate", type=float, default=20.0, help="submits per second")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--port", type=int, default=8775)
    parser.add_argument(
        "--burst", type=int, default=2000, help="jobs submitted at once to time the drain (0: no)"
    )
    args = parser.parse_args(argv)
    # The serve mode the service ships with (TAFSIRI_SERVE_MODE picks another), set before
    # Ray starts and Serve is imported: both read it once.
    mode = apply_serving_env()

    import ray
    from ray import serve

    workdir = Path(tempfile.mkdtemp(prefix="tafsiri-bench-"))
    model = build_test_model(workdir / "tiny")
    redis = None
    results = []
    redis_binary = shutil.which("redis-server")
    with contextlib.redirect_stdout(sys.stderr):
        ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
        try:
            serve.start(http_options={"host": "127.0.0.1", "port": args.port})
            results.append(
                run_backend(
                    "sqlite", model, args.port, args.rate, args.seconds, None, workdir, args.burst
                )
            )
            if redis_binary:
                redis = subprocess.Popen(
                    [
                        redis_binary,
                        "--port",
                        str(args.port + 1),
                        "--bind",
                        "127.0.0.1",
                        "--save",
                        "",
                        "--dir",
                        str(workdir),
                    ],
                    stdout=subprocess.DEVNULL,
                )
                time.sleep(0.5)
                results.append(
                    run_backend(
                        "redis",
                        model,
                        args.port,
                        args.rate,
                        args.seconds,
                        f"redis://127.0.0.1:{args.port + 1}/0",
                        workdir,
                        args.burst,
                    )
                )
        finally:
            serve.shutdown()
            ray.shutdown()
            if redis:
                redis.terminate()
    report: dict[str, Any] = {
        "benchmark": "token_api",
        "serve_mode": mode,
        "rate_per_second": args.rate,
        "seconds": args.seconds,
        "results": results,
    }
    if len(results) == 2:
        report["ratios"] = {
            "redis_over_sqlite_jobs_per_minute": round(
                results[1]["jobs_per_minute"] / results[0]["jobs_per_minute"], 2
            ),
            "redis_over_sqlite_submit_p50": round(
                results[1]["submit_p50_ms"] / results[0]["submit_p50_ms"], 2
            ),
        }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
