"""Translating a table's rows: the Ray-free core of batch translation on Ray Data.

:class:`RowTranslator` takes a pandas batch (one column of texts, optionally one of source
languages) and gives it back with the translations beside it. Every row keeps its place:

- a null text stays null (and so does its translation), an empty or blank text comes back as
  it was;
- a row that cannot be translated (not text, too long, an unknown or undetectable source
  language, markup the parser refuses, ...) gets its reason in the ``error`` column and a
  null translation, and the other rows of the batch are translated as usual;
- every other row is translated with the service's engine (sentence splitting, protected
  spans, markup, glossary terms, quality signals), all of a batch's rows in one
  ``translate`` call so that CTranslate2 batches them.

Sources are the ``source`` given for every row, else the row's own ``source_column`` value,
else the detector's reading of the row (loaded only when a row needs it).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from serve_app.engines.detector import UNKNOWN_LANGUAGE, Detection, LanguageDetector
from serve_app.engines.glossary import GlossaryTerms, by_pair
from serve_app.engines.languages import LanguageDatabase
from serve_app.engines.markup import MarkupError, readable_text
from serve_app.engines.translator import (
    TranslationOptions,
    TranslationRequest,
    TranslationResult,
    Translator,
    UnsupportedLanguageError,
)

ERROR_COLUMN = "error"
SOURCE_COLUMN = "source_language"
TEXT_FORMATS = ("text", "html")


class BatchSpecError(ValueError):
    """The job itself is wrong (a missing column, a clash of names, ...): nothing runs."""


@dataclass(frozen=True)
class BatchSpec:
    """What to translate and how; language codes already normalised to FLORES-200."""

    column: str
    targets: tuple[str, ...]
    source: str | None = None
    source_column: str | None = None
    output_column: str = "translation"
    text_format: str = "text"
    protect_spans: bool = True
    quality: bool = False
    # ``(source_language, target_language, source term, target term)`` rows.
    glossary: tuple[tuple[str, str, str, str], ...] = ()
    glossary_mode: str = "enforce"
    max_text_chars: int = 100_000

    def __post_init__(self) -> None:
        if not self.targets:
            raise BatchSpecError("name at least one target language")
        if len(set(self.targets)) != len(self.targets):
            raise BatchSpecError("a target language is named twice")
        if self.text_format not in TEXT_FORMATS:
            raise BatchSpecError(f"text_format must be one of {', '.join(TEXT_FORMATS)}")
        if self.max_text_chars < 1:
            raise BatchSpecError("max_text_chars must be positive")
        GlossaryTerms((), self.glossary_mode)  # checks the mode

    def translation_column(self, target: str) -> str:
        """One target: ``output_column``; several: ``output_column_<target>``."""
        return self.output_column if len(self.targets) == 1 else f"{self.output_column}_{target}"

    def quality_column(self, target: str) -> str:
        return "quality" if len(self.targets) == 1 else f"quality_{target}"

    @property
    def added_columns(self) -> list[str]:
        """The columns the result adds (or, for ``source_language``, may overwrite)."""
        columns = [self.translation_column(target) for target in self.targets]
        if self.quality:
            columns += [self.quality_column(target) for target in self.targets]
        return [*columns, SOURCE_COLUMN, ERROR_COLUMN]

    def check_columns(self, columns: Sequence[str]) -> None:
        """Raises :class:`BatchSpecError` unless ``columns`` (the input's) hold the text
        column (and the source column) and none that the result would overwrite."""
        if self.column not in columns:
            raise BatchSpecError(
                f"no column {self.column!r} to translate; the input has {list(columns)}"
            )
        if self.source_column and self.source_column not in columns:
            raise BatchSpecError(f"no source column {self.source_column!r} in {list(columns)}")
        clashes = [
            name for name in self.added_columns if name in columns and name != self.source_column
        ]
        if clashes:
            raise BatchSpecError(
                f"the input already has column(s) {clashes} that the translation would "
                "overwrite; rename them or choose another output_column"
            )


def is_null(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


@dataclass
class _Rows:
    """One batch's rows on their way: what each will get."""

    count: int
    sources: list[str | None] = field(init=False)
    errors: list[str | None] = field(init=False)
    outputs: dict[str, list[str | None]] = field(default_factory=dict)
    qualities: dict[str, list[float | None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sources = [None] * self.count
        self.errors = [None] * self.count


class RowTranslator:
    """Translates pandas batches of rows as :class:`BatchSpec` says (see the module)."""

    def __init__(
        self,
        translator: Translator,
        spec: BatchSpec,
        *,
        options: TranslationOptions | None = None,
        detector: Callable[[], LanguageDetector] | None = None,
        languages: LanguageDatabase | None = None,
    ) -> None:
        self._translator = translator
        self._spec = spec
        self._options = options
        self._detector_factory = detector
        self._detector: LanguageDetector | None = None
        self._languages = languages or translator.languages
        self._glossary: dict[tuple[str, str], GlossaryTerms] = by_pair(
            spec.glossary, spec.glossary_mode
        )
        for target in spec.targets:
            translator.check_language(target)
        if spec.source:
            translator.check_language(spec.source)

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        spec = self._spec
        texts = batch[spec.column].tolist()
        rows = _Rows(len(texts))
        todo = self._texts_to_translate(texts, rows)
        self._choose_sources(batch, texts, todo, rows)
        todo = [i for i in todo if rows.errors[i] is None]
        self._translate(texts, todo, rows)
        result = batch.copy()
        for target in spec.targets:
            result[spec.translation_column(target)] = pd.Series(
                rows.outputs[target], index=batch.index, dtype=object
            )
            if spec.quality:
                result[spec.quality_column(target)] = pd.Series(
                    rows.qualities[target], index=batch.index, dtype="float64"
                )
        result[SOURCE_COLUMN] = pd.Series(rows.sources, index=batch.index, dtype=object)
        result[ERROR_COLUMN] = pd.Series(rows.errors, index=batch.index, dtype=object)
        return result

    def _texts_to_translate(self, texts: list[Any], rows: _Rows) -> list[int]:
        """The rows with text to translate; nulls, blanks and bad values settled here."""
        for target in self._spec.targets:
            rows.outputs[target] = [None] * rows.count
            rows.qualities[target] = [None] * rows.count
        todo = []
        for i, value in enumerate(texts):
            if is_null(value):
                continue
            if not isinstance(value, str):
                rows.errors[i] = f"not text: a {type(value).__name__} value"
            elif len(value) > self._spec.max_text_chars:
                rows.errors[i] = (
                    f"text of {len(value)} characters; the limit is {self._spec.max_text_chars}"
                )
            elif not value.strip():
                for target in self._spec.targets:
                    rows.outputs[target][i] = value
            else:
                todo.append(i)
        return todo

    def _choose_sources(
        self, batch: pd.DataFrame, texts: list[Any], todo: list[int], rows: _Rows
    ) -> None:
        spec = self._spec
        given: list[Any] = (
            batch[spec.source_column].tolist() if spec.source_column else [None] * rows.count
        )
        undetected = []
        for i in todo:
            code = spec.source or given[i]
            if is_null(code) or (isinstance(code, str) and not code.strip()):
                undetected.append(i)
                continue
            normalised = self._languages.try_normalize(str(code))
            if normalised is None:
                rows.errors[i] = f"unknown source language {code!r}"
            else:
                rows.sources[i] = normalised
        readable: list[tuple[int, str]] = []
        for i in undetected:
            try:
                readable.append((i, readable_text(texts[i], spec.text_format)))
            except MarkupError as exc:
                rows.errors[i] = str(exc)
        if readable:
            found = self._detect([text for _, text in readable])
            for (i, _), detection in zip(readable, found, strict=True):
                if detection.language == UNKNOWN_LANGUAGE:
                    rows.errors[i] = "could not detect the source language; give the row's source"
                else:
                    rows.sources[i] = detection.language

    def _detect(self, texts: list[str]) -> list[Detection]:
        if self._detector is None:
            if self._detector_factory is None:
                raise BatchSpecError("rows without a source language need a detector")
            self._detector = self._detector_factory()
        return self._detector.detect(texts, 1)

    def _translate(self, texts: list[Any], todo: list[int], rows: _Rows) -> None:
        spec = self._spec
        requests: list[TranslationRequest] = []
        owners: list[tuple[int, str]] = []
        documents = []
        for i in todo:
            source = rows.sources[i]
            assert source is not None
            for target in spec.targets:
                request = TranslationRequest(
                    texts[i],
                    source,
                    target,
                    text_format=spec.text_format,
                    protect_spans=spec.protect_spans,
                    quality=spec.quality,
                    glossary=self._glossary.get((source, target)),
                )
                try:
                    document = self._translator.prepare(request)
                except (UnsupportedLanguageError, MarkupError) as exc:
                    rows.errors[i] = str(exc)
                    break
                requests.append(request)
                owners.append((i, target))
                documents.append(document)
        keep = [k for k, (i, _) in enumerate(owners) if rows.errors[i] is None]
        requests = [requests[k] for k in keep]
        documents = [documents[k] for k in keep]
        owners = [owners[k] for k in keep]
        if not requests:
            return
        results: list[TranslationResult | None]
        try:
            results = list(
                self._translator.translate(requests, self._options, prepared=documents).results
            )
        except Exception:  # one row broke the batch's call: each alone, to find which
            results = []
            for request, document, (i, _) in zip(requests, documents, owners, strict=True):
                try:
                    (result,) = self._translator.translate(
                        [request], self._options, prepared=[document]
                    ).results
                except Exception as exc:
                    rows.errors[i] = f"translation failed: {exc}"
                    result = None
                results.append(result)
        for (i, target), result in zip(owners, results, strict=True):
            if result is None or rows.errors[i] is not None:
                continue
            rows.outputs[target][i] = result.text
            if result.quality is not None:
                rows.qualities[target][i] = round(result.quality.score, 4)
        for i in todo:  # a row that failed for one target loses its other ones too
            if rows.errors[i] is not None:
                for target in spec.targets:
                    rows.outputs[target][i] = None
                    rows.qualities[target][i] = None
