"""The `language` and `translation` agents, over the TranslationService.

Plain Python: the Orchestrator deployment gives them a TranslationService over its handles;
tests give them one over the engines. A workflow's translate takes the options of the API's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict
from typing import Any

from pydantic import BaseModel

from serve_app.agents.base import ActionContext, ActionError, ActionResult, Handler
from serve_app.agents.catalog import (
    DetectParams,
    TranslateBatchParams,
    TranslateParams,
    TranslationOptionParams,
)
from serve_app.engines.detector import Detection
from serve_app.engines.languages import LanguageDatabase
from serve_app.translation.request import (
    CallerRecords,
    Term,
    TranslationRequest,
    correction_offers,
    found_terms,
)
from serve_app.translation.service import (
    Translated,
    TranslatedItem,
    TranslationError,
    TranslationService,
)

# (texts, top k) -> one detection per text.
DetectLanguages = Callable[[list[str], int], Awaitable[Sequence[Detection]]]


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


class GlossaryNotFoundError(ActionError):
    """A workflow named a glossary its owner does not have."""


def translation_handlers(
    translation: TranslationService,
    languages: LanguageDatabase,
    records: CallerRecords | None = None,
) -> dict[str, Handler]:
    """Workflow params are the edge where language codes arrive: they are normalised here,
    once; every text without a given source is detected on its own. With ``records``, a
    run's translations use its owner's glossaries (``glossary_id``) and corrections, as the
    API's do."""

    async def terms(
        texts: list[str], params: TranslationOptionParams, targets: list[str], owner: str
    ) -> tuple[Term, ...] | None:
        if params.glossary_id is None:
            return None
        glossary = await records.glossary(owner, params.glossary_id) if records else None
        if glossary is None:
            raise GlossaryNotFoundError(f"no glossary {params.glossary_id} of this run's owner")
        readable = await translation.readable(texts, params.format)
        return found_terms(glossary, readable, targets)

    async def run(
        texts: list[str], params: TranslationOptionParams, context: ActionContext
    ) -> tuple[Translated, bool]:
        asked = params.target_language
        several = isinstance(asked, list)
        targets = list(
            dict.fromkeys(
                languages.normalize(code)
                for code in (asked if isinstance(asked, list) else [asked])
            )
        )
        request = TranslationRequest(
            texts=texts,
            targets=targets,
            source=languages.normalize(params.source_language) if params.source_language else None,
            text_format=params.format,
            protect_spans=params.protect_spans,
            alternatives=params.alternatives,
            beam_size=params.beam_size,
            model=params.model,
            quality=params.quality,
            min_quality=params.min_quality,
            glossary=await terms(texts, params, targets, context.owner),
            glossary_mode=params.glossary_mode,
            corrections=correction_offers(
                await records.corrections(context.owner) if records else None, texts, targets
            ),
            owner=context.owner,
        )
        await context.charge_characters(request.characters)
        return await translation.translate(request), several

    async def refusing(
        texts: list[str], params: TranslationOptionParams, context: ActionContext
    ) -> tuple[Translated, bool]:
        """``run``, a refusal (bad language, markup, model, beam) ending the task at once:
        another attempt would fail the same way (a model that could not be had may not)."""
        try:
            return await run(texts, params, context)
        except TranslationError as exc:
            if exc.unavailable:
                raise
            raise ActionError(exc.message) from exc

    def shaped(
        done: Translated, several: bool, value: Callable[[list[TranslatedItem]], Any]
    ) -> Any:
        by_target = {target: value(items) for target, items in done.items.items()}
        return by_target if several else by_target[done.request.targets[0]]

    def extras(done: Translated, several: bool, one: bool) -> dict[str, Any]:
        """What the options asked for, beside the translations."""
        request, found = done.request, {}

        def each(pick: Callable[[TranslatedItem], Any]) -> Any:
            return shaped(
                done, several, lambda items: pick(items[0]) if one else [pick(i) for i in items]
            )

        if request.alternatives:
            found["alternatives"] = each(lambda item: item.alternatives)
        if request.measured:
            found["quality"] = each(lambda item: item.quality and asdict(item.quality))
        if request.glossary is not None:
            found["glossary_terms"] = each(
                lambda item: [report.as_dict() for report in item.glossary or ()]
            )
        if request.corrections:
            found["correction_id" if one else "corrections"] = each(
                lambda item: item.correction.id if item.correction else None
            )
        if one and request.min_quality is not None:
            found["status"] = each(lambda item: "withheld" if item.withheld else "ok")
        if not one and done.withheld:
            found["withheld"] = shaped(
                done, several, lambda items: [i for i, item in enumerate(items) if item.withheld]
            )
        if several:
            found["target_languages"] = request.targets
        else:
            found["target_language"] = request.targets[0]
        return found

    async def translate_one(params: BaseModel, context: ActionContext) -> ActionResult:
        assert isinstance(params, TranslateParams)
        done, several = await refusing([params.text], params, context)
        texts = shaped(done, several, lambda items: items[0].text)
        return ActionResult(
            {
                ("translations" if several else "translated_text"): texts,
                "source_language": done.sources.codes[0],
                **extras(done, several, one=True),
            }
        )

    async def translate_batch(params: BaseModel, context: ActionContext) -> ActionResult:
        assert isinstance(params, TranslateBatchParams)
        done, several = await refusing(params.texts, params, context)
        return ActionResult(
            {
                "translations": shaped(done, several, lambda items: [i.text for i in items]),
                "source_languages": done.sources.codes,
                # The one source all texts share; null for a mixed-language batch.
                "source_language": done.sources.common,
                **extras(done, several, one=False),
            }
        )

    return {"translate": translate_one, "translate_batch": translate_batch}
