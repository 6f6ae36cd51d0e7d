"""The hand-rolled baseline: one FastAPI/uvicorn process, one CTranslate2 call per request.

This is the architecture of the Sema seed; ``benchmarks.serve_throughput`` runs it as (d).
Run: ``python -m benchmarks.baseline_server MODEL_DIR PORT``.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from serve_app.engines.translator import TranslationOptions, TranslationRequest, Translator


class Body(BaseModel):
    text: str
    source_language: str
    target_language: str


def create_app(model_dir: str, beam_size: int) -> FastAPI:
    translator = Translator(model_dir, intra_threads=1)
    options = TranslationOptions(beam_size=beam_size)
    app = FastAPI()

    @app.post("/api/v1/translate")
    def translate(body: Body) -> dict[str, str]:
        request = TranslationRequest(body.text, body.source_language, body.target_language)
        (result,) = translator.translate([request], options).results
        return {"translated_text": result.text}

    return app


def warm(url: str) -> None:
    """Three translations through ``url`` (a server's first calls are slower)."""
    for _ in range(3):
        httpx.post(
            url,
            json={"text": "Warm up.", "source_language": "eng_Latn", "target_language": "swh_Latn"},
            timeout=120,
        )


@contextlib.contextmanager
def running_baseline(model_dir: Path, port: int, beam_size: int) -> Iterator[str]:
    """This server in a process of its own, answering (warmed up):
    yields its base URL, and stops it afterwards."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmarks.baseline_server",
            str(model_dir),
            str(port),
            str(beam_size),
        ]
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                warm(f"{base}/api/v1/translate")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    model, port, beam = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    uvicorn.run(create_app(model, beam), host="127.0.0.1", port=port, log_level="warning")
