"""A TranslationService over the real engines, without Ray: what the deployments do with
handles, done in process (the Translator's side through ``answer_calls``)."""

from __future__ import annotations

from serve_app.config import TranslatorConfig
from serve_app.engines.detector import LanguageDetector
from serve_app.engines.languages import LanguageDatabase
from serve_app.engines.translator import Translator
from serve_app.loading import decoding_options
from serve_app.messages import DetectCall, DetectOutcome, TranslateCall, TranslateOutcome
from serve_app.routing import ModelRouter
from serve_app.translation.calls import ServedModel, answer_calls
from serve_app.translation.service import TranslationService


class EngineService:
    """The service, and every Translator call it made (model name, call)."""

    def __init__(
        self,
        translator: Translator,
        detector: LanguageDetector,
        config: TranslatorConfig | None = None,
    ) -> None:
        self.config = config or TranslatorConfig()
        self.calls: list[tuple[str, TranslateCall]] = []
        self.detect_calls: list[DetectCall] = []
        options = decoding_options(self.config, translator.device)

        async def translate(name: str, call: TranslateCall) -> TranslateOutcome:
            self.calls.append((name, call))
            (outcome,) = answer_calls(translator, [call], options, ServedModel(name, "tiny")) or []
            return outcome

        async def detect(call: DetectCall) -> DetectOutcome:
            self.detect_calls.append(call)
            return DetectOutcome(detector.detect(call.texts, call.k))

        languages = LanguageDatabase.default()
        self.service = TranslationService(
            translate,
            detect,
            ModelRouter(self.config, languages),
            languages,
            max_beam_size=self.config.max_beam_size,
        )
