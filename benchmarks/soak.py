"""Soak/load run: mixed traffic against the Serve app for a bounded time, loopback only.

Clients send a mix of synchronous translations (70 %), detections (20 %) and async jobs
(10 %) for ``--seconds``; every ``--interval`` seconds a sample of throughput, latency
percentiles, errors and the resident memory of the Ray worker processes is taken. Prints one
JSON object with the samples and totals. Run: ``python -m benchmarks.soak --seconds 60``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from benchmarks.engine import letters
from serve_app.config import AppArgs
from serve_app.testmodel.build import build_test_model


def ray_rss_mb() -> float:
    """Resident memory of this machine's Ray worker and Serve processes, in MiB."""
    total = 0
    for process in psutil.process_iter(["name", "cmdline", "memory_info"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if "ray::" in (process.info["name"] or "") or "ray/_private" in cmdline:
            total += process.info["memory_info"].rss if process.info["memory_info"] else 0
    return round(total / 2**20, 1)


async def soak(url: str, seconds: float, clients: int, interval: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, int] = {}
    samples: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    rng = random.Random(7)

    async def client(http: httpx.AsyncClient, index: int) -> None:
        n = 0
        while time.monotonic() < deadline:
            roll, n = rng.random(), n + 1
            started = time.perf_counter()
            try:
                if roll < 0.7:
                    response = await http.post(
                        "/api/v1/translate",
                        json={
                            "text": f"Soak sentence {letters(index)} {letters(n)}. It keeps going.",
                            "source_language": "eng_Latn",
                            "target_language": "swh_Latn",
                        },
                    )
                elif roll < 0.9:
                    response = await http.post(
                        "/api/v1/detect-language", json={"text": "Bonjour tout le monde"}
                    )
                else:
                    response = await http.post(
                        "/api/v1/jobs/translate",
                        json={
                            "texts": [f"Async soak {letters(index)} {letters(n)}."],
                            "source_language": "en",
                            "target_language": "fr",
                            "client_id": f"soak-{index}",
                        },
                    )
                ok = response.status_code in (200, 202)
                key = str(response.status_code)
            except httpx.HTTPError as exc:
                ok, key = False, type(exc).__name__
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                errors[key] = errors.get(key, 0) + 1

    async def sampler() -> None:
        last = 0
        while time.monotonic() < deadline:
            await asyncio.sleep(interval)
            window = latencies[last:]
            last = len(latencies)
            ordered = sorted(window) or [0.0]
            samples.append(
                {
                    "t": round(seconds - max(0.0, deadline - time.monotonic()), 1),
                    "requests_per_second": round(len(window) / interval, 1),
                    "p50_ms": round(1000 * statistics.median(ordered), 1),
                    "p99_ms": round(1000 * ordered[int(0.99 * (len(ordered) - 1))], 1),
                    "errors": sum(errors.values()),
                    "ray_rss_mb": ray_rss_mb(),
                }
            )

    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        await asyncio.gather(sampler(), *[client(http, i) for i in range(clients)])
    ordered = sorted(latencies) or [0.0]
    rss = [s["ray_rss_mb"] for s in samples]
    return {
        "requests_ok": len(latencies),
        "errors": errors,
        "throughput_rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(1000 * statistics.median(ordered), 1),
        "p99_ms": round(1000 * ordered[int(0.99 * (len(ordered) - 1))], 1),
        "rss_first_mb": rss[0] if rss else None,
        "rss_last_mb": rss[-1] if rss else None,
        "samples": samples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--port", type=int, default=8785)
    args = parser.parse_args(argv)

    import ray
    from ray import serve

    from serve_app.app import build_app

    workdir = Path(tempfile.mkdtemp(prefix="tafsiri-soak-"))
    model = build_test_model(workdir / "tiny")
    config = AppArgs.model_validate(
        {
            "translator": {"model": str(model)},
            "detector": {"model": "lid.176"},
            "rate_limits": {
                "requests_per_minute": 100_000,
                "requests_per_hour": 1_000_000,
                "burst": 10_000,
            },
            "jobs": {"sqlite_path": str(workdir / "jobs.db"), "manager_name": "soak-jobs"},
        }
    )
    with contextlib.redirect_stdout(sys.stderr):
        ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
        try:
            serve.start(http_options={"host": "127.0.0.1", "port": args.port})
            serve.run(build_app(config), name="tafsiri", route_prefix="/")
            url = f"http://127.0.0.1:{args.port}"
            httpx.get(f"{url}/health", timeout=60)
            result = asyncio.run(soak(url, args.seconds, args.clients, args.interval))
        finally:
            serve.shutdown()
            ray.shutdown()
    print(
        json.dumps(
            {"benchmark": "soak", "seconds": args.seconds, "clients": args.clients, **result},
            indent=2,
        )
    )
    return 0 if not result["errors"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
