"""Tafsiri from another Ray application: its deployments' handles, typed both ways.

Code that runs in the same Ray cluster (another Serve application, a Ray task or actor, a
driver connected with ``ray.init(address=...)``) calls the deployments directly, without HTTP.
Its calls join the same dynamic batches as HTTP requests. Everything a caller needs is in this
one module.

The deployments, through Serve's own handles::

    from ray import serve
    from serve_app.handle_api import APP_NAME, TRANSLATOR, TranslateCall, TranslateOutcome

    translator = serve.get_deployment_handle(TRANSLATOR, app_name=APP_NAME)
    outcome: TranslateOutcome = await translator.translate.remote(
        TranslateCall(["Habari ya asubuhi."], ["swh_Latn"], "eng_Latn")
    )

Or :class:`Tafsiri`, an async client over those handles: it takes any language code the API
takes (``"sw"``, ``"swa"``, ``"swh_Latn"``), detects each text's source language when none is
given (the API's rule), and raises :class:`TafsiriError` instead of returning an error::

    tafsiri = Tafsiri()
    result = await tafsiri.translate(["Habari ya asubuhi."], "en")
    result.texts, result.source_languages, result.model

The handles go around the ingress: no API key, rate limit, request-size limit, glossary lookup
or correction applies (whoever can reach the cluster's Ray can do anything in it anyway).
Both classes are plain dataclasses; Ray pickles them between the processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ray import serve

from serve_app.engines.detector import Detection
from serve_app.engines.glossary import TermReport
from serve_app.engines.languages import LanguageDatabase, UnknownLanguageError
from serve_app.engines.markup import MarkupError, readable_text
from serve_app.engines.quality import Quality
from serve_app.engines.source_language import SourceNotDetectedError, source_languages
from serve_app.messages import DetectCall, DetectOutcome, TranslateCall, TranslateOutcome

__all__ = [
    "APP_NAME",
    "BULK_TRANSLATOR",
    "DETECTOR",
    "TRANSLATOR",
    "DetectCall",
    "DetectOutcome",
    "Detection",
    "Quality",
    "Tafsiri",
    "TafsiriError",
    "TermReport",
    "TranslateCall",
    "TranslateOutcome",
    "Translation",
]

# The application's name in serve_config.yaml, and its deployments' names.
APP_NAME = "tafsiri"
TRANSLATOR = "Translator"
# The same model at a lower CPU priority, for work that may wait (translator.bulk): jobs use
# it, and so may another application's large batches.
BULK_TRANSLATOR = "BulkTranslator"
DETECTOR = "LanguageDetector"


class TafsiriError(ValueError):
    """A call Tafsiri refused: ``code`` is the HTTP API's error code for the same mistake."""

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.field = code, field


@dataclass(frozen=True)
class Translation:
    """:meth:`Tafsiri.translate`'s answer: one translation per text, in order."""

    texts: list[str]
    source_languages: list[str]  # each text's, given or detected
    target_language: str
    model: str  # the model that served
    model_is_fallback: bool
    outcome: TranslateOutcome  # all the Translator said (alternatives, quality, batch, ...)


class Tafsiri:
    """Async calls to a running Tafsiri application in this Ray cluster.

    Build it where Serve handles can be made: in another deployment's constructor, an actor,
    or a driver connected to the cluster.
    """

    def __init__(self, app_name: str = APP_NAME) -> None:
        self.translator = serve.get_deployment_handle(TRANSLATOR, app_name=app_name)
        self.detector = serve.get_deployment_handle(DETECTOR, app_name=app_name)
        self._languages = LanguageDatabase.default()

    def language(self, code: str, field: str = "language") -> str:
        """``code``'s FLORES-200 code (``"sw"`` -> ``"swh_Latn"``)."""
        try:
            return self._languages.normalize(code)
        except UnknownLanguageError as exc:
            raise TafsiriError(str(exc), code="UNSUPPORTED_LANGUAGE", field=field) from exc

    async def detect(self, texts: Sequence[str], k: int = 1) -> list[Detection]:
        """Each text's most likely language (``k`` candidates in ``Detection.candidates``)."""
        outcome: DetectOutcome = await self.detector.detect.remote(DetectCall(list(texts), k))
        return outcome.detections

    async def translate(
        self,
        texts: Sequence[str],
        target_language: str,
        source_language: str | None = None,
        **options: Any,
    ) -> Translation:
        """``texts`` into ``target_language``, from ``source_language`` or, when it is not
        given, from each text's detected language. ``options`` are :class:`TranslateCall`'s
        (``alternatives``, ``beam_size``, ``text_format``, ``quality``, ``glossary``, ...).
        """
        items = [texts] if isinstance(texts, str) else list(texts)
        target = self.language(target_language, "target_language")
        given = self.language(source_language, "source_language") if source_language else None
        text_format = options.get("text_format", "text")
        try:  # detection reads what a reader sees: an HTML text's words, not its tags
            readable = [readable_text(text, text_format) for text in items] if not given else items
        except MarkupError as exc:
            raise TafsiriError(str(exc), code="INVALID_MARKUP", field="texts") from exc
        try:
            sources = await source_languages(readable, given, self.detect)
        except SourceNotDetectedError as exc:
            raise TafsiriError(str(exc), code="DETECTION_FAILED", field="texts") from exc
        call = TranslateCall(items, sources.codes, target, **options)
        outcome: TranslateOutcome = await self.translator.translate.remote(call)
        if outcome.error:
            raise TafsiriError(
                outcome.error,
                code=outcome.error_code or "UNSUPPORTED_LANGUAGE",
                field=outcome.error_field,
            )
        return Translation(
            texts=outcome.texts,
            source_languages=sources.codes,
            target_language=target,
            model=outcome.model,
            model_is_fallback=outcome.model_is_fallback,
            outcome=outcome,
        )
