"""The one source-language rule and the translation agent over it, on the real engines."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from serve_app.agents.base import ActionContext, ActionError
from serve_app.agents.catalog import TranslateBatchParams, TranslateParams
from serve_app.agents.translation import translation_handlers
from serve_app.engines.detector import Detection, LanguageDetector
from serve_app.engines.languages import LanguageDatabase
from serve_app.engines.source_language import SourceNotDetectedError, source_languages
from serve_app.engines.translator import Translator
from tests.unit.service_fixtures import EngineService

MIXED = {
    "deu_Latn": "Ich habe heute leider keine Zeit, weil ich arbeiten muss.",
    "fra_Latn": "Je voudrais réserver une table pour deux personnes ce soir.",
    "swh_Latn": "Mimi ni mwalimu wa shule ya msingi katika kijiji chetu.",
}


def test_each_text_gets_its_own_language(detector: LanguageDetector) -> None:
    async def detect(texts: list[str]) -> Sequence[Detection]:
        return detector.detect(texts, 1)

    found = asyncio.run(source_languages(list(MIXED.values()), None, detect))
    assert found.codes == list(MIXED)
    assert found.common is None
    assert all(d is not None for d in found.detections)
    given = asyncio.run(source_languages(["a", "b"], "eng_Latn", detect))
    assert (given.codes, given.detections, given.common) == (
        ["eng_Latn", "eng_Latn"],
        [None, None],
        "eng_Latn",
    )
    with pytest.raises(SourceNotDetectedError, match="text 1, 3") as info:
        asyncio.run(
            source_languages(["Guten Tag allerseits!", "1234", "Bonjour!", "%%"], None, detect)
        )
    assert info.value.indexes == [1, 3]


def test_translate_batch_agent_translates_mixed_texts_from_their_own_languages(
    detector: LanguageDetector, translator: Translator
) -> None:
    engines = EngineService(translator, detector)
    handlers = translation_handlers(engines.service, LanguageDatabase.default())
    params = TranslateBatchParams(texts=list(MIXED.values()), target_language="en")
    result = asyncio.run(handlers["translate_batch"](params, ActionContext("t", owner="key-a")))
    # The translator was told each text's own source, and the run owner's part of the cache.
    ((_, call),) = engines.calls
    assert (call.source_languages, call.cache_scope) == (list(MIXED), "key-a")
    assert result.output == {
        "translations": list(MIXED.values()),
        "source_languages": list(MIXED),
        "source_language": None,
        "target_language": "eng_Latn",  # an ISO code in params, normalised once here
    }


def test_a_refused_workflow_translation_ends_its_task_without_a_retry(
    detector: LanguageDetector, translator: Translator
) -> None:
    """A refusal (here a beam wider than allowed) is bad input: an ActionError, which the
    executor does not retry (nor charge again); an unknown glossary likewise."""
    engines = EngineService(translator, detector)
    handlers = translation_handlers(engines.service, LanguageDatabase.default())
    wide = TranslateParams(text="Hello there.", target_language="fr", beam_size=16)
    with pytest.raises(ActionError, match="beam_size 16"):
        asyncio.run(handlers["translate"](wide, ActionContext("t")))
    missing = TranslateParams(text="Hello there.", target_language="fr", glossary_id="a" * 32)
    with pytest.raises(ActionError, match="no glossary"):
        asyncio.run(handlers["translate"](missing, ActionContext("t")))
    assert not engines.calls
