"""The hand-rolled baseline: one FastAPI/uvicorn process, one CTranslate2 call per request.

This is the architecture of the Sema seed; ``benchmarks.serve_throughput`` runs it as (d).
Run: ``python -m benchmarks.baseline_server MODEL_DIR PORT``.
"""

from __future__ import annotations

import sys

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


if __name__ == "__main__":
    model, port, beam = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    uvicorn.run(create_app(model, beam), host="127.0.0.1", port=port, log_level="warning")
