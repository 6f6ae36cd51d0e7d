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
from dataclasses import dataclass, replace
from typing import Any

from pydantic import ValidationError
from ray import serve

from serve_app.config import TranslatorConfig
from serve_app.engines.detector import Detection
from serve_app.engines.glossary import TermReport
from serve_app.engines.languages import LanguageDatabase, UnknownLanguageError
from serve_app.engines.quality import Quality
from serve_app.messages import DetectCall, DetectOutcome, TranslateCall, TranslateOutcome
from serve_app.routing import ModelHandles, ModelRouter
from serve_app.translation.request import TranslationRequest
from serve_app.translation.service import Translated, TranslationError, TranslationService

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
    "TranslationRequest",
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

    texts: list[str | None]  # None: withheld under min_quality
    source_languages: list[str]  # each text's, given or detected
    target_language: str
    model: str  # the model that served
    model_is_fallback: bool
    # What the Translator calls reported together (batch, beam, cache), with every
    # translation, target by target.
    outcome: TranslateOutcome
    # Everything, per target (alternatives, quality, glossary, corrections).
    translated: Translated


class Tafsiri:
    """Async calls to a running Tafsiri application in this Ray cluster.

    Build it where Serve handles can be made: in another deployment's constructor, an actor,
    or a driver connected to the cluster. ``translator`` is the application's translator
    settings (``AppArgs().translator``): with registered models, the same routing as its
    API's; by default, its one default model.
    """

    def __init__(
        self, app_name: str = APP_NAME, translator: TranslatorConfig | None = None
    ) -> None:
        self.translator = serve.get_deployment_handle(TRANSLATOR, app_name=app_name)
        self.detector = serve.get_deployment_handle(DETECTOR, app_name=app_name)
        self._languages = LanguageDatabase.default()
        config = translator or TranslatorConfig()

        async def detect(call: DetectCall) -> DetectOutcome:
            outcome: DetectOutcome = await self.detector.detect.remote(call)
            return outcome

        self.service = TranslationService(
            ModelHandles(self.translator, config).translate,
            detect,
            ModelRouter(config, self._languages),
            self._languages,
            max_beam_size=config.max_beam_size,
        )

    def language(self, code: str, field: str = "language") -> str:
        """``code``'s FLORES-200 code (``"sw"`` -> ``"swh_Latn"``)."""
        try:
            return self._languages.normalize(code)
        except UnknownLanguageError as exc:
            raise TafsiriError(str(exc), code="UNSUPPORTED_LANGUAGE", field=field) from exc

    async def detect(
        self, texts: Sequence[str], k: int = 1, candidates: Sequence[str] | None = None
    ) -> list[Detection]:
        """Each text's most likely language (``k`` candidates in ``Detection.candidates``),
        among ``candidates`` when given."""
        allowed = self._candidates(candidates, "candidates")
        return await self.service.detect(list(texts), k, allowed)

    def _candidates(self, codes: Sequence[str] | None, field: str) -> frozenset[str] | None:
        """The FLORES-200 codes of ``codes`` (one code or several); every unknown one named."""
        if codes is None:
            return None
        asked = [codes] if isinstance(codes, str) else list(codes)
        if not asked:
            raise TafsiriError(
                f"{field} must name at least one language", code="VALUE_ERROR", field=field
            )
        found, unknown = self._languages.normalize_all(asked)
        if unknown:
            raise TafsiriError(
                f"unsupported language codes in {field}: {', '.join(map(repr, unknown))}",
                code="UNSUPPORTED_LANGUAGE",
                field=field,
            )
        return found

    async def translate(
        self,
        texts: Sequence[str],
        target_language: str | Sequence[str],
        source_language: str | None = None,
        **options: Any,
    ) -> Translation:
        """``texts`` into ``target_language`` (or each of several), from ``source_language``
        or, when it is not given, from each text's detected language: the API's translation,
        through the same service. ``options`` are :class:`TranslationRequest`'s
        (``alternatives``, ``beam_size``, ``model``, ``text_format``, ``quality``,
        ``min_quality``, ``glossary`` terms, ...)."""
        items = [texts] if isinstance(texts, str) else list(texts)
        asked = [target_language] if isinstance(target_language, str) else list(target_language)
        # TranslateCall's names for two options, as earlier versions of this call took them.
        asked += list(options.pop("target_languages", ()))
        if "cache_scope" in options:
            options["owner"] = options.pop("cache_scope")
        targets = list(dict.fromkeys(self.language(code, "target_language") for code in asked))
        given = self.language(source_language, "source_language") if source_language else None
        if options.get("source_candidates") is not None:
            options["source_candidates"] = self._candidates(
                options["source_candidates"], "source_candidates"
            )
        try:
            request = TranslationRequest(texts=items, targets=targets, source=given, **options)
            done = await self.service.translate(request)
        except ValidationError as exc:
            raise TafsiriError(str(exc), code="VALUE_ERROR") from exc
        except TranslationError as exc:
            raise TafsiriError(exc.message, code=exc.code, field=exc.field or "texts") from exc
        # Every translation on the outcome too, target by target (as a Translator call's).
        every = done.all_items
        outcome = replace(
            done.outcome,
            texts=[item.text or "" for item in every],
            alternatives=[item.alternatives for item in every],
            qualities=[item.quality for item in every],
            glossary=[item.glossary or [] for item in every],
        )
        return Translation(
            texts=[item.text for item in done.items[targets[0]]],
            source_languages=done.sources.codes,
            target_language=targets[0],
            model=outcome.model,
            model_is_fallback=outcome.model_is_fallback,
            outcome=outcome,
            translated=done,
        )
