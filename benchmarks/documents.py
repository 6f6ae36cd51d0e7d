"""Document throughput against plain batched translation of the same sentences, in one run.

One local Serve app (2 CPUs, the built copy model). A Word file of ``--paragraphs`` paragraphs
(three sentences each, every paragraph in three runs of two styles, plus a table) goes
through the document path: upload, parse, one text job in the markup format, the translated
file written and downloaded. The same paragraphs' plain text then goes through:

- ``text_job``: ``POST /api/v1/jobs/translate`` (the same job path, plain text);
- ``sync_batches``: ``POST /api/v1/translate`` with ``--batch`` texts per request, 4 clients.

Every set-up of every round gets sentences of its own (another seed, the same length
distribution), so no answer comes from the translation cache. Rounds alternate. Prints JSON:
sentences/s of each (median round, every round beside it) and ``document / text_job`` and
``document / sync_batches`` (goal: at least 0.8).

    python -m benchmarks.documents --paragraphs 200 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import docx
import httpx

from benchmarks.engine import make_sentences
from benchmarks.local_app import local_app
from serve_app.documents.formats import segments
from serve_app.testmodel.build import build_test_model


def make_document(paragraphs: int, seed: int = 7) -> tuple[bytes, list[str]]:
    """A docx and its paragraphs' plain text (what the plain set-ups translate)."""
    sentences = make_sentences(paragraphs * 3, seed)
    document = docx.Document()
    texts = []
    for i in range(paragraphs):
        first, second, third = sentences[3 * i : 3 * i + 3]
        paragraph = document.add_paragraph(first + " ")
        paragraph.add_run(second).bold = True
        paragraph.add_run(" " + third)
        texts.append(f"{first} {second} {third}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue(), texts


def wait_done(http: httpx.Client, token: str) -> None:
    while True:
        status = http.get(f"/api/v1/jobs/{token}").json()["status"]
        if status == "done":
            return
        if status in ("error", "timeout", "needs_human"):
            raise RuntimeError(f"job {token} ended {status}")
        time.sleep(0.05)


def document_round(http: httpx.Client, data: bytes) -> float:
    started = time.perf_counter()
    response = http.post(
        "/api/v1/documents",
        files={"file": ("bench.docx", data)},
        data={"target_language": "sw", "source_language": "en", "client_id": "bench-doc"},
    )
    response.raise_for_status()
    token = response.json()["token"]
    wait_done(http, token)
    result = http.get(f"/api/v1/documents/{token}/result")
    result.raise_for_status()
    elapsed = time.perf_counter() - started
    # The copy model: the file comes back with the same segments (checked, not timed).
    assert segments(result.content, "docx") == segments(data, "docx")
    return elapsed


def text_job_round(http: httpx.Client, texts: list[str]) -> float:
    started = time.perf_counter()
    response = http.post(
        "/api/v1/jobs/translate",
        json={
            "texts": texts,
            "source_language": "en",
            "target_language": "sw",
            "client_id": "bench-text",
        },
    )
    response.raise_for_status()
    wait_done(http, response.json()["token"])
    return time.perf_counter() - started


async def sync_round(url: str, texts: list[str], batch: int, clients: int) -> float:
    chunks = [texts[i : i + batch] for i in range(0, len(texts), batch)]
    started = time.perf_counter()

    async def worker(http: httpx.AsyncClient) -> None:
        while chunks:
            chunk = chunks.pop()
            response = await http.post(
                "/api/v1/translate",
                json={"text": chunk, "source_language": "en", "target_language": "sw"},
            )
            response.raise_for_status()

    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        await asyncio.gather(*(worker(http) for _ in range(clients)))
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--paragraphs", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--port", type=int, default=8795)
    args = parser.parse_args(argv)
    sentences = 3 * args.paragraphs
    rounds: dict[str, list[float]] = {"document": [], "text_job": [], "sync_batches": []}
    with tempfile.TemporaryDirectory() as root:
        model = build_test_model(Path(root) / "tiny-nllb")
        with (
            local_app(args.port, model, max_batch_items=args.batch) as url,
            httpx.Client(base_url=url, timeout=300) as http,
        ):
            text_job_round(http, make_document(5, seed=1)[1])  # warm every path once
            document_round(http, make_document(5, seed=2)[0])
            for r in range(args.repeat):
                data = make_document(args.paragraphs, seed=1000 + r)[0]
                rounds["document"].append(sentences / document_round(http, data))
                texts = make_document(args.paragraphs, seed=2000 + r)[1]
                rounds["text_job"].append(sentences / text_job_round(http, texts))
                texts = make_document(args.paragraphs, seed=3000 + r)[1]
                seconds = asyncio.run(sync_round(url, texts, args.batch, 4))
                rounds["sync_batches"].append(sentences / seconds)
    median = {name: statistics.median(values) for name, values in rounds.items()}
    report: dict[str, Any] = {
        "paragraphs": args.paragraphs,
        "sentences": sentences,
        "sentences_per_second": {name: round(value, 1) for name, value in median.items()},
        "rounds": {name: [round(v, 1) for v in values] for name, values in rounds.items()},
        "document_vs_text_job": round(median["document"] / median["text_job"], 3),
        "document_vs_sync_batches": round(median["document"] / median["sync_batches"], 3),
    }
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
