"""Honest clients beside hostile ones: what hostile input costs everyone else.

The app runs with auth on, one API key per client (so each is metered as itself), the
default rate limits and budgets, the offline copy model. 16 honest clients translate short
sentences for ``--seconds``, alone, then again beside 4 hostile clients sending what used to
cost minutes (#37), each within the API's limits:

* ``html``: 64 texts of ``"<a" * 2500`` as HTML (html.parser's quadratic end-of-input case);
* ``masking``: 64 texts of ``"a." * 2500`` (the mail-address pattern's quadratic case);
* ``detect``: 64 texts of ``"1-" * 2499 + "é"`` to /detect-language (the no-language filter);
* ``workflow``: a 30-task workflow doubling its text task after task (gigabytes unbounded).

After a warm-up (a third of ``--seconds``, honest clients only, not reported), prints one JSON
object: the honest clients' p50/p95/p99 and throughput alone and beside the hostile ones
(``--hostile`` picks which), the ratio of their p95 (the goal: at most 1.5), and what the
hostile requests were answered. Run: ``python -m benchmarks.hostile_soak [--seconds 30]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from benchmarks.engine import letters
from benchmarks.local_app import local_app
from serve_app.api.security import hash_key, new_api_key
from serve_app.testmodel.build import build_test_model

HONEST, HOSTILE = 16, 4


def doubling_workflow(chains: dict[str, int]) -> str:
    """Chains of join tasks from a 1,000-character seed, each task the previous output
    with itself: chain "a" of 10 tasks ends in 512,000 characters (a9), 2**tasks kB
    unbounded, in a few kB of YAML. (Also the serve tests' workflow past its limits.)"""
    lines = ["name: doubling", "tasks:"]
    for chain, tasks in chains.items():
        seed = "ab" * 500
        lines.append(
            f"  - {{id: {chain}0, agent: text, action: join, params: {{items: [{seed}]}}}}"
        )
        for i in range(1, tasks):
            ref = f"'${{{chain}{i - 1}.text}}'"
            lines.append(
                f"  - {{id: {chain}{i}, agent: text, action: join, params: {{items: [{ref}, "
                f"{ref}], separator: ''}}, depends_on: [{chain}{i - 1}]}}"
            )
    return "\n".join(lines) + "\n"


HOSTILE_REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "html",
        "/api/v1/translate",
        {
            "text": ["<a" * 2500] * 64,
            "format": "html",
            "source_language": "eng_Latn",
            "target_language": "swh_Latn",
        },
    ),
    (
        "masking",
        "/api/v1/translate",
        {"text": ["a." * 2500] * 64, "source_language": "eng_Latn", "target_language": "swh_Latn"},
    ),
    ("detect", "/api/v1/detect-language", {"text": ["1-" * 2499 + "é"] * 64}),
    ("workflow", "/api/v1/workflows/dsl", {"dsl_yaml": doubling_workflow({"t": 30})}),
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


async def phase(
    url: str, keys: list[str], seconds: float, hostile: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    latencies: list[float] = []
    honest_errors: Counter[str] = Counter()
    hostile_answers: dict[str, Counter[str]] = {name: Counter() for name, _, _ in HOSTILE_REQUESTS}
    deadline = time.monotonic() + seconds

    async def honest(index: int) -> None:
        headers = {"Authorization": f"Bearer {keys[index]}"}
        async with httpx.AsyncClient(base_url=url, timeout=120, headers=headers) as http:
            n = 0
            while time.monotonic() < deadline:
                n += 1
                started = time.perf_counter()
                response = await http.post(
                    "/api/v1/translate",
                    json={
                        "text": f"Honest sentence {letters(index)} {letters(n)}.",
                        "source_language": "eng_Latn",
                        "target_language": "swh_Latn",
                    },
                )
                if response.status_code == 200:
                    latencies.append(time.perf_counter() - started)
                else:
                    honest_errors[str(response.status_code)] += 1

    async def attacker(index: int) -> None:
        name, path, body = HOSTILE_REQUESTS[index]
        headers = {"Authorization": f"Bearer {keys[HONEST + index]}"}
        async with httpx.AsyncClient(base_url=url, timeout=300, headers=headers) as http:
            while time.monotonic() < deadline:
                try:
                    response = await http.post(path, json=body)
                    hostile_answers[name][str(response.status_code)] += 1
                except httpx.HTTPError as exc:
                    hostile_answers[name][type(exc).__name__] += 1
                await asyncio.sleep(0)

    clients = [honest(i) for i in range(HONEST)]
    clients += [attacker(i) for i, (name, _, _) in enumerate(HOSTILE_REQUESTS) if name in hostile]
    await asyncio.gather(*clients)
    summary = {
        "requests": len(latencies),
        "per_second": round(len(latencies) / seconds, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "errors": dict(honest_errors),
    }
    return summary, {name: dict(answers) for name, answers in hostile_answers.items() if answers}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--port", type=int, default=8017)
    parser.add_argument(
        "--hostile",
        default=",".join(name for name, _, _ in HOSTILE_REQUESTS),
        help="which hostile clients run (comma-separated; all by default)",
    )
    args = parser.parse_args(argv)
    keys = [new_api_key() for _ in range(HONEST + HOSTILE)]
    settings = {
        "auth": {
            "enabled": True,
            "api_keys": [{"id": f"c{i}", "sha256": hash_key(k)} for i, k in enumerate(keys)],
        }
    }
    with tempfile.TemporaryDirectory() as work:
        model = build_test_model(Path(work) / "tiny")
        with local_app(args.port, model, 64, settings=settings) as url:
            hostile = args.hostile.split(",")
            asyncio.run(phase(url, keys, args.seconds / 3, []))  # warm-up, not reported
            alone, _ = asyncio.run(phase(url, keys, args.seconds, []))
            beside, answers = asyncio.run(phase(url, keys, args.seconds, hostile))
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "seconds_per_phase": args.seconds,
        "honest_alone": alone,
        "honest_beside_hostile": beside,
        "p95_ratio": round(beside["p95_ms"] / alone["p95_ms"], 2) if alone["p95_ms"] else None,
        "hostile_answers": answers,
    }
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
