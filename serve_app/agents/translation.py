"""The `language` and `translation` agents, over injected detect and translate capabilities.

Plain Python: the Orchestrator deployment injects callables that reach the LanguageDetector
and Translator deployments; tests inject the engines directly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from pydantic import BaseModel

from serve_app.agents.base import ActionContext, ActionResult, Handler
from serve_app.agents.catalog import DetectParams, TranslateBatchParams, TranslateParams
from serve_app.engines.detector import Detection
from serve_app.engines.languages import LanguageDatabase
from serve_app.engines.source_language import SourceLanguages, source_languages

# (texts, top k) -> one detection per text.
DetectLanguages = Callable[[list[str], int], Awaitable[Sequence[Detection]]]
# (texts, one FLORES-200 source per text, FLORES-200 target, the cache part of the run's
# owner) -> one translation per text; raises ValueError for a language the model cannot
# translate.
TranslateTexts = Callable[[list[str], list[str], str, str], Awaitable[list[str]]]


def language_handlers(detect: DetectLanguages) -> dict[str, Handler]:
    async def detect_action(params: BaseModel, context: ActionContext) -> ActionResult:
        assert isinstance(params, DetectParams)
        await context.charge_characters(len(params.text))
        (found,) = await detect([params.text], params.top_k)
        return ActionResult(
            {
                "language": found.language,
                "confidence": found.confidence,
                "candidates": [
                    {"language": c.language, "confidence": c.confidence} for c in found.candidates
                ],
            }
        )

    return {"detect": detect_action}


def translation_handlers(
    detect: DetectLanguages, translate: TranslateTexts, languages: LanguageDatabase
) -> dict[str, Handler]:
    """Workflow params are the edge where language codes arrive: they are normalised here,
    once, and every text without a given source is detected on its own."""

    async def run(
        texts: list[str], source: str | None, target: str, context: ActionContext
    ) -> tuple[list[str], SourceLanguages, str]:
        target_code = languages.normalize(target)
        given = languages.normalize(source) if source else None
        await context.charge_characters(sum(map(len, texts)))
        sources = await source_languages(texts, given, lambda batch: detect(batch, 1))
        translated = await translate(texts, sources.codes, target_code, context.owner)
        return translated, sources, target_code

    async def translate_one(params: BaseModel, context: ActionContext) -> ActionResult:
        assert isinstance(params, TranslateParams)
        (text,), sources, target = await run(
            [params.text], params.source_language, params.target_language, context
        )
        return ActionResult(
            {
                "translated_text": text,
                "source_language": sources.codes[0],
                "target_language": target,
            }
        )

    async def translate_batch(params: BaseModel, context: ActionContext) -> ActionResult:
        assert isinstance(params, TranslateBatchParams)
        texts, sources, target = await run(
            params.texts, params.source_language, params.target_language, context
        )
        return ActionResult(
            {
                "translations": texts,
                "source_languages": sources.codes,
                # The one source all texts share; null for a mixed-language batch.
                "source_language": sources.common,
                "target_language": target,
            }
        )

    return {"translate": translate_one, "translate_batch": translate_batch}
