"""NLLB-200 translation on CTranslate2: split, batch across requests, reassemble."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from serve_app.engines.cache import TranslationCache, cache_key
from serve_app.engines.device import cuda_errors, device_defaults
from serve_app.engines.glossary import (
    PREFER_HYPOTHESES,
    GlossaryTerms,
    TermReport,
    cased,
    reports,
    targets_present,
)
from serve_app.engines.heap import release_freed_memory
from serve_app.engines.languages import LanguageDatabase
from serve_app.engines.markup import Document, prepare
from serve_app.engines.memory import MemoryMatch, MemoryReport, memory_key, unmasked
from serve_app.engines.models import (
    ModelLocation,
    ModelUnavailableError,
    find_file,
    find_up,
    locate_model,
)
from serve_app.engines.quality import Quality, SentenceSignals, sentence_signals, text_quality
from serve_app.engines.segmenter import Segmented, segment
from serve_app.engines.spans import (
    SENTINEL,
    MaskedSentence,
    Unit,
    has_letters,
    masked_sentence,
    sentinel_ranges,
    substitute,
)
from serve_app.engines.tokenizer import (
    MARIAN_SOURCE_SPM,
    MARIAN_TARGET_SPM,
    SENTENCEPIECE_FILES,
    TOKENIZER_JSON,
    MarianTokenizer,
    NllbTokenizer,
    find_marian_tokenizers,
)

TOKENIZER_FILES = (*SENTENCEPIECE_FILES, TOKENIZER_JSON)
VOCABULARY_FILES = (
    "shared_vocabulary.json",
    "shared_vocabulary.txt",
    "target_vocabulary.json",
    "target_vocabulary.txt",
)
# What a CTranslate2 NLLB model needs of its repo: nothing else is downloaded.
MODEL_FILES = [
    "model.bin",
    "config.json",
    "*vocabulary.json",
    "*vocabulary.txt",
    *TOKENIZER_FILES,
    "*.model",
    MARIAN_SOURCE_SPM,
    MARIAN_TARGET_SPM,
    # Which pair a Marian model serves: Argos Translate's package metadata, or ours.
    "metadata.json",
    "tafsiri_model.json",
]


def read_pair(model_dir: Path, languages: LanguageDatabase) -> tuple[str, str] | None:
    """The ``(source, target)`` FLORES-200 codes a pair model's own files name: the test
    builder's ``tafsiri_model.json`` (``languages``) or an Argos Translate package's
    ``metadata.json`` (``from_code``, ``to_code``); None when neither says."""
    for name, keys in (("tafsiri_model.json", ("languages",)), ("metadata.json", ())):
        path = model_dir / name
        if not path.is_file():
            continue
        try:
            meta = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        codes = meta.get(keys[0]) if keys else [meta.get("from_code"), meta.get("to_code")]
        if isinstance(codes, list) and len(codes) == 2 and all(isinstance(c, str) for c in codes):
            source, target = (languages.try_normalize(code) for code in codes)
            if source and target:
                return source, target
    return None


def find_tokenizer(location: ModelLocation, tokenizer: str | None = None) -> Path:
    """The tokenizer of the model at ``location``: ``tokenizer`` when given (a path or Hub
    reference: a file, or a folder or repo holding one), else the nearest SentencePiece model
    or ``tokenizer.json`` from the model's folder up to its repository's root."""
    if tokenizer:
        given = locate_model(
            tokenizer, allow_patterns=list(TOKENIZER_FILES), setting="translator.tokenizer"
        )
        if given.path.is_file():
            return given.path
        location = given
    found = find_up(location, TOKENIZER_FILES, pattern="*.model")
    if found is None:
        raise ModelUnavailableError(
            f"no tokenizer for the model at {location.path}: looked for "
            f"{', '.join(TOKENIZER_FILES)} from there up to {location.root}. Set "
            "`translator.tokenizer` (environment: TAFSIRI_TRANSLATOR__TOKENIZER) to the "
            "tokenizer file, or to the model it was converted from (e.g. "
            "facebook/nllb-200-distilled-600M: only its tokenizer files are fetched)."
        )
    return found


@dataclass(frozen=True)
class TranslationOptions:
    """Decoding options; one set applies to a whole batch."""

    beam_size: int = 2
    num_alternatives: int = 1
    # Output may be at most ratio * input tokens + offset (a guard against runaway decoding).
    max_decoding_ratio: float = 2.0
    max_decoding_offset: int = 16
    max_decoding_length: int = 512
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    length_penalty: float = 1.0
    # Sentences longer than this are cut at whitespace before translation.
    max_sentence_chars: int = 400
    # translate_batch's own batching: at most this many source tokens per sub-batch (see
    # TranslatorConfig.max_batch_tokens for the measurement behind the default).
    max_batch_tokens: int = 1024

    def __post_init__(self) -> None:
        if self.beam_size < 1:
            raise ValueError(f"beam_size must be >= 1, got {self.beam_size}")
        if not 1 <= self.num_alternatives <= 10:
            raise ValueError(f"num_alternatives must be in 1..10, got {self.num_alternatives}")
        if self.max_decoding_ratio <= 0 or self.max_decoding_length < 1:
            raise ValueError("max_decoding_ratio and max_decoding_length must be positive")
        if self.repetition_penalty <= 0:
            raise ValueError("repetition_penalty must be positive")

    @property
    def decoding_beam(self) -> int:
        """The beam actually searched: wide enough for every hypothesis asked for."""
        return max(self.beam_size, self.num_alternatives)


@dataclass(frozen=True)
class TranslationRequest:
    text: str
    source_language: str
    target_language: str
    # "text" or "html" (tags, entities and untranslatable elements kept; see engines.markup).
    text_format: str = "text"
    # Keep placeholders, URLs, e-mail addresses and numbers exactly (see engines.spans).
    protect_spans: bool = True
    # Measure the translation's quality (see engines.quality); a little Python per sentence.
    quality: bool = False
    # Glossary terms of this language pair to apply (see engines.glossary).
    glossary: GlossaryTerms | None = None
    # The part of the translation cache this request reads and fills (one per API key).
    cache_scope: str = ""
    # A translation memory's matches of this pair, by sentence key (see engines.memory): an
    # exact one (and in "prefer" mode a fuzzy one) is the sentence's translation, not
    # decoded; a fuzzy one in "suggest" mode is reported beside the model's.
    memory: Mapping[str, MemoryMatch] | None = None
    memory_mode: str = "suggest"


@dataclass(frozen=True)
class Alternative:
    text: str
    score: float


@dataclass
class TranslationResult:
    text: str
    source_language: str
    target_language: str
    alternatives: list[Alternative] = field(default_factory=list)
    sentences: int = 0
    input_tokens: int = 0  # of the sentences the model decoded (not those from the cache)
    output_tokens: int = 0
    # Sentences whose model output lost a protected span or tag, translated piece by piece.
    repaired: int = 0
    # Sentences served from the translation cache.
    cached: int = 0
    # The engine's quality signals, when the request asked (the caller may add its own).
    quality: Quality | None = None
    # Per glossary term found in the text: whether the output holds its target.
    glossary: list[TermReport] = field(default_factory=list)
    # Per sentence a memory matched: the match, and whether it was served.
    memory: list[MemoryReport] = field(default_factory=list)


@dataclass
class BatchTimings:
    """Where the time of one :meth:`Translator.translate` call went."""

    requests: int = 0
    sentences: int = 0
    unique_sentences: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    # translate_batch calls decoded in parallel (at most one per CTranslate2 worker).
    parallel_batches: int = 0
    repaired_sentences: int = 0
    cached_sentences: int = 0  # unique sentences the cache gave (not decoded)
    tokenize_seconds: float = 0.0
    translate_seconds: float = 0.0
    detokenize_seconds: float = 0.0
    total_seconds: float = 0.0


@dataclass
class BatchOutput:
    results: list[TranslationResult]
    timings: BatchTimings


def read_vocabulary(model_dir: Path) -> list[str]:
    """The target vocabulary of a CTranslate2 model directory."""
    path = find_file(model_dir, VOCABULARY_FILES)
    text = path.read_text("utf-8")
    if path.suffix == ".json":
        tokens: list[str] = json.loads(text)
        return tokens
    return text.splitlines()


class UnsupportedLanguageError(ValueError):
    """A FLORES-200 code this model has no language token for."""


@dataclass
class _UniqueSentence:
    """One unique (sentence, languages) to decode, shared by every request that holds it."""

    target_language: str
    source_language: str
    text: str  # as the model sees it (spans masked): with the languages, the cache key
    # Hypotheses to decode (0: the options'); more for a glossary's `prefer` re-ranking.
    hypotheses: int = 0
    # Glossary (source, target) terms whose targets re-rank the hypotheses (`prefer`).
    prefer: tuple[tuple[str, str], ...] = ()
    # The cache's part it is read from and written to (TranslationRequest.cache_scope).
    cache_scope: str = ""
    # Source tokens, made only when the sentence is decoded (a cache hit needs none).
    source: list[str] = field(default_factory=list)


@dataclass
class _SentencePlan:
    masked: MaskedSentence
    job: int | None  # the sentence's decode job; None: nothing to translate, kept as it is
    # After a repair: per fragment between the spans, (job, leading, trailing space), or
    # (None, the fragment, "") for one with nothing to translate.
    repair: list[tuple[int | None, str, str]] | None = None
    best_text: str = ""  # the best translation, spans restored (once assembled)
    # Glossary terms found in the sentence, and how they were applied ("substituted" as
    # spans, or left to the model: "model").
    terms: list[tuple[str, str]] = field(default_factory=list)
    term_method: str = ""
    # A translation memory's match, and whether its translation stands for the sentence.
    memory: MemoryMatch | None = None
    from_memory: bool = False


@dataclass
class _UnitPlan:
    unit: Unit
    parts: Segmented
    sentences: list[_SentencePlan]


@dataclass
class _RequestPlan:
    request: TranslationRequest
    parts: list[str | _UnitPlan]

    def sentences(self) -> list[_SentencePlan]:
        return [s for part in self.parts if isinstance(part, _UnitPlan) for s in part.sentences]


def split_evenly(order: list[int], sizes: list[int], parts: int) -> list[list[int]]:
    """``order`` cut into at most ``parts`` contiguous runs of about equal total ``sizes``
    (``sizes[k]`` belongs to ``order[k]``); no run is empty."""
    parts = max(1, min(parts, len(order)))
    if parts == 1:
        return [order] if order else []
    total = sum(sizes)
    runs: list[list[int]] = [[]]
    filled = 0
    for position, (index, size) in enumerate(zip(order, sizes, strict=True)):
        left = len(order) - position
        # Start the next run once this one holds its share, or when each run still to
        # start needs one of the items left.
        if (
            runs[-1]
            and len(runs) < parts
            and (filled >= total * len(runs) / parts or left <= parts - len(runs))
        ):
            runs.append([])
        runs[-1].append(index)
        filled += size
    return runs


class Translator:
    """CTranslate2 translator with NLLB conventions; plain Python, safe to call from threads."""

    def __init__(
        self,
        model_path: str | Path,
        *,
        device: str = "cpu",
        compute_type: str = "int8",
        inter_threads: int = 1,
        intra_threads: int = 0,
        tokenizer_path: str | Path | None = None,
        options: TranslationOptions | None = None,
        languages: LanguageDatabase | None = None,
        pair: tuple[str, str] | None = None,
    ) -> None:
        """``pair``: the (source, target) a Marian pair model serves, where its files do not
        say (:func:`read_pair`); the model's family is told by its files (``source.spm`` and
        ``target.spm``: Marian; else NLLB)."""
        import ctranslate2

        self.model_path = Path(model_path)
        if not (self.model_path / "model.bin").is_file():
            raise ModelUnavailableError(
                f"{self.model_path} is not a CTranslate2 model directory (no model.bin); convert "
                "NLLB-200 with `ct2-transformers-converter --model "
                "facebook/nllb-200-distilled-600M --output_dir DIR --quantization int8` or build "
                "the test model with "
                "`tafsiri build-test-model`"
            )
        self.languages = languages or LanguageDatabase.default()
        marian = find_marian_tokenizers(self.model_path)
        self.tokenizer: NllbTokenizer | MarianTokenizer
        # The one pair a Marian model serves; None for NLLB's any-to-any.
        self.pair: tuple[str, str] | None = None
        if marian is not None:
            self.family = "marian"
            self.pair = (
                tuple(self.languages.normalize(code) for code in pair)  # type: ignore[assignment]
                if pair
                else read_pair(self.model_path, self.languages)
            )
            if self.pair is None:
                raise ModelUnavailableError(
                    f"{self.model_path} is a Marian pair model (source.spm, target.spm) whose "
                    "files do not say which pair it serves; give its languages in the config"
                )
            self.supported_languages = list(dict.fromkeys(self.pair))
            self.tokenizer = MarianTokenizer(*marian)
        else:
            self.family = "nllb"
            vocabulary = read_vocabulary(self.model_path)
            self.supported_languages = [code for code in vocabulary if code in self.languages]
            if not self.supported_languages:
                raise ModelUnavailableError(
                    f"{self.model_path}: vocabulary holds no FLORES-200 language token; "
                    "is this an NLLB-200 model (or a Marian one without source.spm and "
                    "target.spm)?"
                )
            tokenizer_file = (
                Path(tokenizer_path)
                if tokenizer_path
                else find_tokenizer(ModelLocation(self.model_path, self.model_path))
            )
            self.tokenizer = NllbTokenizer(tokenizer_file, self.supported_languages)
        self.options = options or TranslationOptions()
        self.device = device
        started = time.perf_counter()
        # Missing CUDA libraries surface here, or only at the first translation (cuBLAS is
        # loaded when first used): a one-token warm-up on the GPU makes that the load.
        with cuda_errors(device):
            self._model = ctranslate2.Translator(
                str(self.model_path),
                device=device,
                compute_type=compute_type,
                inter_threads=inter_threads or device_defaults(device).inter_threads,
                intra_threads=intra_threads,
            )
            if device != "cpu":
                self._model.translate_batch([["</s>"]], beam_size=1, max_decoding_length=1)
        release_freed_memory()
        self.load_seconds = time.perf_counter() - started
        # "default" is the model's own type, named by what CTranslate2 made of it.
        self.compute_type = self._model.compute_type if compute_type == "default" else compute_type
        # Batches that CTranslate2 decodes in parallel (one worker each, weights shared).
        self.workers = int(self._model.num_translators)
        # Set by the owner (the deployment); entries live under this model's namespace.
        self.cache: TranslationCache | None = None
        self.cache_namespace = model_namespace(self.model_path, self.compute_type, device)
        self._supported = frozenset(self.supported_languages)

    @classmethod
    def from_config(
        cls,
        model: str,
        revision: str | None = None,
        tokenizer: str | None = None,
        **kwargs: Any,
    ) -> Translator:
        """``model`` is a local CTranslate2 directory, a Hugging Face repo id, or a folder
        inside a repo; only the model's own files are fetched."""
        location = cls.locate(model, revision)
        if find_marian_tokenizers(location.path) is not None:
            return cls(location.path, **kwargs)
        return cls(location.path, tokenizer_path=find_tokenizer(location, tokenizer), **kwargs)

    @staticmethod
    def locate(model: str, revision: str | None = None) -> ModelLocation:
        """Where ``model`` is on disk, fetching only the files a translator needs."""
        return locate_model(
            model,
            revision=revision,
            allow_patterns=MODEL_FILES,
            search_up=(*TOKENIZER_FILES, "*.model"),
            setting="translator.model",
        )

    def check_language(self, code: str) -> str:
        """``code`` itself if this model can translate from/to it.

        Codes arrive already normalised to FLORES-200 by the edge that received them (the
        API, a workflow's params): the engine checks, it does not normalise again.
        """
        if code not in self._supported and self.pair is not None:
            raise UnsupportedLanguageError(
                f"language {code!r}: this model translates {self.pair[0]} to {self.pair[1]} only"
            )
        if code not in self._supported:
            raise UnsupportedLanguageError(
                f"language {code!r} is not one this model translates (FLORES-200 codes such as "
                f"'swh_Latn'; it supports {len(self._supported)} languages)"
            )
        return code

    def check_pair(self, source: str, target: str) -> None:
        """Both codes are this model's, and a pair model serves this very pair."""
        self.check_language(source)
        self.check_language(target)
        if self.pair is not None and (source, target) != self.pair:
            raise UnsupportedLanguageError(
                f"this model translates {self.pair[0]} to {self.pair[1]} only, not "
                f"{source} to {target}"
            )

    def prepare(self, request: TranslationRequest) -> Document:
        """``request``'s text cut into literal parts and units to translate; raises
        :class:`UnsupportedLanguageError` or :class:`~serve_app.engines.markup.MarkupError`
        (bad input, for that request alone)."""
        self.check_pair(request.source_language, request.target_language)
        return prepare(request.text, request.text_format, protect=request.protect_spans)

    def translate(
        self,
        requests: Sequence[TranslationRequest],
        options: TranslationOptions | None = None,
        *,
        parallel: int | None = None,
        prepared: Sequence[Document] | None = None,
        use_cache: bool = True,
    ) -> BatchOutput:
        """Translates all ``requests`` with one ``translate_batch`` call.

        Texts (or the units of an HTML text) are split into sentences; protected spans are
        masked; identical sentences with the same language pair are decoded once; all
        sentences of all requests go to CTranslate2 together, ordered by target language and
        length, with token-based sub-batching, split among ``parallel`` workers (default: all
        of them). A sentence whose output lost a span is repaired in one more call for all of
        them. Results come back in request order with layout (line breaks, spacing, markup)
        preserved. Sentences in the cache (when one is set) are not decoded again.
        ``prepared`` holds :meth:`prepare`'s documents when the caller has them.
        """
        cache = self.cache if use_cache else None
        output = self._translate(requests, options, parallel, prepared, cache, cached_only=False)
        assert output is not None  # only a cached_only call gives up
        return output

    def translate_from_cache(
        self,
        requests: Sequence[TranslationRequest],
        options: TranslationOptions | None = None,
        *,
        prepared: Sequence[Document] | None = None,
    ) -> BatchOutput | None:
        """What :meth:`translate` would give, if every sentence is in the cache; else None
        (nothing decoded)."""
        if self.cache is None:
            return None
        return self._translate(requests, options, None, prepared, self.cache, cached_only=True)

    def _translate(
        self,
        requests: Sequence[TranslationRequest],
        options: TranslationOptions | None,
        parallel: int | None,
        prepared: Sequence[Document] | None,
        cache: TranslationCache | None,
        *,
        cached_only: bool,
    ) -> BatchOutput | None:
        """The engine behind :meth:`translate` and :meth:`translate_from_cache`."""
        started = time.perf_counter()
        opts = options or self.options
        timings = BatchTimings(requests=len(requests))
        documents = prepared or [self.prepare(request) for request in requests]

        jobs: dict[tuple[Any, ...], int] = {}
        job_list: list[_UniqueSentence] = []

        def job(
            text: str, request: TranslationRequest, prefer: tuple[tuple[str, str], ...] = ()
        ) -> int:
            hypotheses = max(PREFER_HYPOTHESES, opts.num_alternatives) if prefer else 0
            key = (
                request.source_language,
                request.target_language,
                text,
                prefer,
                request.cache_scope,
            )
            if key not in jobs:
                jobs[key] = len(job_list)
                job_list.append(
                    _UniqueSentence(
                        request.target_language,
                        request.source_language,
                        text,
                        hypotheses,
                        prefer,
                        request.cache_scope,
                    )
                )
            return jobs[key]

        plans = []
        for request, document in zip(requests, documents, strict=True):
            parts: list[str | _UnitPlan] = []
            for part in document:
                if isinstance(part, str):
                    parts.append(part)
                    continue
                segmented = segment(
                    part.text, opts.max_sentence_chars, line_breaks=part.line_breaks
                )
                sentences = []
                for text in segmented.sentences:
                    masked = masked_sentence(text, part)
                    remembered = (
                        request.memory.get(memory_key(unmasked(text, part)))
                        if request.memory
                        else None
                    )
                    if remembered is not None and (
                        remembered.exact or request.memory_mode == "prefer"
                    ):
                        sentences.append(
                            _SentencePlan(masked, None, memory=remembered, from_memory=True)
                        )
                        continue
                    terms: list[tuple[str, str]] = []
                    method = ""
                    prefer: tuple[tuple[str, str], ...] = ()
                    if request.glossary is not None:
                        masked, terms, method = _apply_glossary(
                            masked, request.glossary, part.escape
                        )
                        if method == "model":
                            prefer = tuple(terms)
                    index = job(masked.model_text, request, prefer) if masked.translatable else None
                    sentences.append(
                        _SentencePlan(
                            masked, index, terms=terms, term_method=method, memory=remembered
                        )
                    )
                parts.append(_UnitPlan(part, segmented, sentences))
            plans.append(_RequestPlan(request, parts))
        timings.sentences = sum(len(plan.sentences()) for plan in plans)
        timings.unique_sentences = len(job_list)
        timings.tokenize_seconds = time.perf_counter() - started

        hits: set[int] = set()
        hypotheses = self._decode_cached(
            job_list, opts, timings, parallel, cache, hits, cached_only
        )
        if hypotheses is None:
            return None
        for index, unique in enumerate(job_list):
            if unique.prefer:
                hypotheses[index] = self._rerank(unique, hypotheses[index])

        # Sentences whose spans did not survive: their fragments, decoded in one more call.
        decoded = len(job_list)
        for plan in plans:
            for sentence in plan.sentences():
                if sentence.masked.spans and sentence.job is not None:
                    best = self.tokenizer.decode(hypotheses[sentence.job][0][0])
                    if sentence.masked.restore(best, str) is None:
                        sentence.repair = [
                            (job(core, plan.request), lead, trail)
                            if has_letters(core)
                            else (None, lead + core + trail, "")
                            for lead, core, trail in map(_strip, sentence.masked.fragments())
                        ]
                        timings.repaired_sentences += 1
        if len(job_list) > decoded:
            more = BatchTimings()
            repairs = job_list[decoded:]
            found = self._decode_cached(repairs, opts, more, parallel, cache, set(), cached_only)
            if found is None:
                return None
            hypotheses += found
            timings.parallel_batches += more.parallel_batches
            timings.translate_seconds += more.translate_seconds

        detokenize_started = time.perf_counter()
        signals: dict[int, SentenceSignals] = {}  # per job, shared by the requests holding it
        results = [
            self._assemble(plan, hypotheses, job_list, opts, hits, signals) for plan in plans
        ]
        timings.cached_sentences = len(hits)
        timings.input_tokens = sum(result.input_tokens for result in results)
        timings.output_tokens = sum(result.output_tokens for result in results)
        timings.detokenize_seconds = time.perf_counter() - detokenize_started
        timings.total_seconds = time.perf_counter() - started
        return BatchOutput(results, timings)

    def _decode_cached(
        self,
        jobs: list[_UniqueSentence],
        opts: TranslationOptions,
        timings: BatchTimings,
        parallel: int | None,
        cache: TranslationCache | None,
        hits: set[int],
        cached_only: bool,
    ) -> list[list[tuple[list[str], float]]] | None:
        """:meth:`_decode`, with the sentences the cache holds taken from it (their indices
        added to ``hits``); None when ``cached_only`` and one is missing."""
        if cache is None:
            return self._decode(jobs, opts, timings, parallel or self.workers)
        decoding = (
            opts.decoding_beam,
            opts.num_alternatives,
            opts.max_decoding_ratio,
            opts.max_decoding_offset,
            opts.max_decoding_length,
            opts.repetition_penalty,
            opts.no_repeat_ngram_size,
            opts.length_penalty,
        )
        keys = [
            cache_key(
                self.cache_namespace,
                j.cache_scope,
                j.source_language,
                j.target_language,
                (*decoding, j.hypotheses) if j.hypotheses else decoding,
                j.text,
            )
            for j in jobs
        ]
        found = cache.get_many(keys)
        missing = [index for index, value in enumerate(found) if value is None]
        if missing and cached_only:
            return None
        hits.update(index for index, value in enumerate(found) if value is not None)
        decoded = self._decode([jobs[i] for i in missing], opts, timings, parallel or self.workers)
        for index, hypotheses in zip(missing, decoded, strict=True):
            found[index] = hypotheses
        cache.set_many({keys[i]: h for i, h in zip(missing, decoded, strict=True)})
        return [value or [] for value in found]

    def _decode(
        self,
        jobs: list[_UniqueSentence],
        opts: TranslationOptions,
        timings: BatchTimings,
        parallel: int,
    ) -> list[list[tuple[list[str], float]]]:
        """Hypotheses ``(target pieces, score)`` for every job, in job order."""
        if not jobs:
            return []
        started = time.perf_counter()
        for job in jobs:
            if not job.source:
                pieces = self.tokenizer.encode(job.text)
                job.source = self.tokenizer.source_tokens(pieces, job.source_language)
        timings.tokenize_seconds += time.perf_counter() - started
        # Grouping by target language and length keeps sub-batches homogeneous and padding low.
        order = sorted(
            range(len(jobs)), key=lambda i: (jobs[i].target_language, len(jobs[i].source))
        )
        longest = max(len(job.source) for job in jobs)
        max_length = min(
            opts.max_decoding_length,
            int(longest * opts.max_decoding_ratio) + opts.max_decoding_offset,
        )
        started = time.perf_counter()
        # Jobs asking for more hypotheses (a glossary's re-ranking) are decoded apart, with the
        # beam they need. One translate_batch per worker, each on its share of the (sorted)
        # sentences, all submitted before any is awaited: CTranslate2 decodes them in parallel.
        pending = []
        for wanted in sorted({job.hypotheses for job in jobs}):
            group = [i for i in order if jobs[i].hypotheses == wanted]
            hypotheses = wanted or opts.num_alternatives
            for share in split_evenly(group, [len(jobs[i].source) for i in group], parallel):
                results = self._model.translate_batch(
                    [jobs[i].source for i in share],
                    target_prefix=[
                        self.tokenizer.target_prefix(jobs[i].target_language) for i in share
                    ],
                    max_batch_size=opts.max_batch_tokens,
                    batch_type="tokens",
                    asynchronous=True,
                    beam_size=max(opts.decoding_beam, hypotheses),
                    num_hypotheses=hypotheses,
                    return_scores=True,
                    max_decoding_length=max_length,
                    repetition_penalty=opts.repetition_penalty,
                    no_repeat_ngram_size=opts.no_repeat_ngram_size,
                    length_penalty=opts.length_penalty,
                    max_input_length=1024,
                )
                pending.append((share, results))
        decoded: list[list[tuple[list[str], float]]] = [[] for _ in jobs]
        for share, results in pending:
            for job_index, result in zip(share, results, strict=True):
                output = result.result()
                decoded[job_index] = [
                    (self.tokenizer.output_pieces(hypothesis), float(score))
                    for hypothesis, score in zip(output.hypotheses, output.scores, strict=True)
                ]
        timings.parallel_batches = len(pending)
        timings.translate_seconds = time.perf_counter() - started
        return decoded

    def _assemble(
        self,
        plan: _RequestPlan,
        hypotheses: list[list[tuple[list[str], float]]],
        jobs: list[_UniqueSentence],
        opts: TranslationOptions,
        hits: set[int],
        signals: dict[int, SentenceSignals],
    ) -> TranslationResult:
        request = plan.request
        alternatives = []
        output_tokens = 0
        sentences = plan.sentences()
        for rank in range(opts.num_alternatives):
            scores, texts = [], []
            for part in plan.parts:
                if isinstance(part, str):
                    texts.append(part)
                    continue
                if all(
                    sentence.job is None
                    and sentence.term_method != "substituted"
                    and not sentence.from_memory
                    for sentence in part.sentences
                ):
                    texts.append(part.unit.raw)  # nothing translated or substituted
                    continue
                outputs = []
                for sentence in part.sentences:
                    masked, escape = sentence.masked, part.unit.escape
                    if sentence.from_memory and sentence.memory is not None:
                        outputs.append(escape(sentence.memory.translation))
                        continue
                    if sentence.job is None:
                        outputs.append(masked.restore(masked.model_text, escape) or "")
                        continue
                    found = hypotheses[sentence.job]
                    pieces, score = found[min(rank, len(found) - 1)]
                    scores.append(score)
                    if rank == 0:
                        output_tokens += len(pieces)
                    if rank == 0 and sentence.repair is not None:
                        restored = masked.join(
                            [
                                lead
                                + (self._best(hypotheses, job) if job is not None else "")
                                + trail
                                for job, lead, trail in sentence.repair
                            ],
                            escape,
                        )
                    else:
                        # An alternative that lost a span gives way to the best translation.
                        kept = masked.restore(self.tokenizer.decode(pieces), escape)
                        restored = sentence.best_text if kept is None else kept
                    if rank == 0:
                        sentence.best_text = restored
                    outputs.append(restored)
                separators = [part.unit.escape(separator) for separator in part.parts.separators]
                texts.append(Segmented(part.parts.sentences, separators).join(outputs))
            mean_score = sum(scores) / len(scores) if scores else 0.0
            alternatives.append(Alternative("".join(texts), round(mean_score, 6)))
        translated = [sentence.job for sentence in sentences if sentence.job is not None]
        # An alternative that differed only inside a span (so gave way to the best) repeats
        # an earlier one: each text is offered once.
        distinct = {alternative.text: alternative for alternative in reversed(alternatives)}
        alternatives = [a for a in alternatives if distinct.get(a.text) is a]
        quality = self._quality(plan, hypotheses, jobs, signals) if request.quality else None
        glossary = reports(
            (source, target, honoured, sentence.term_method)
            for sentence in sentences
            for (source, target), honoured in zip(sentence.terms, _honoured(sentence), strict=True)
        )
        return TranslationResult(
            text=alternatives[0].text,
            source_language=request.source_language,
            target_language=request.target_language,
            alternatives=alternatives,
            sentences=len(sentences),
            input_tokens=sum(len(jobs[index].source) for index in translated),
            output_tokens=output_tokens,
            repaired=sum(sentence.repair is not None for sentence in sentences),
            cached=sum(sentence.job in hits for sentence in sentences),
            quality=quality,
            glossary=glossary,
            memory=[
                MemoryReport(
                    index,
                    sentence.memory.key,
                    sentence.memory.segment,
                    sentence.memory.translation,
                    sentence.memory.score,
                    sentence.from_memory,
                )
                for index, sentence in enumerate(sentences)
                if sentence.memory is not None
            ],
        )

    def _quality(
        self,
        plan: _RequestPlan,
        hypotheses: list[list[tuple[list[str], float]]],
        jobs: list[_UniqueSentence],
        signals: dict[int, SentenceSignals],
    ) -> Quality:
        """The request's quality from the signals of every sentence it had decoded (a
        repaired sentence's: its fragments')."""
        decoded = []
        for sentence in plan.sentences():
            if sentence.repair is not None:
                decoded += [job for job, _, _ in sentence.repair if job is not None]
            elif sentence.job is not None:
                decoded.append(sentence.job)
        for index in decoded:
            if index not in signals:
                job, (pieces, score) = jobs[index], hypotheses[index][0]
                # A cache hit's source was never tokenised; its counts are needed here.
                source = (
                    self.tokenizer.source_pieces(job.source)
                    if job.source
                    else self.tokenizer.encode(job.text)
                )
                signals[index] = sentence_signals(
                    log_prob=score,
                    source_text=job.text,
                    output_text=self.tokenizer.decode(pieces),
                    source_pieces=source,
                    output_pieces=pieces,
                    same_language=self.languages.same_language(
                        job.source_language, job.target_language
                    ),
                )
        return text_quality([signals[index] for index in decoded])

    def _rerank(
        self, job: _UniqueSentence, found: list[tuple[list[str], float]]
    ) -> list[tuple[list[str], float]]:
        """``found`` best first for a glossary's `prefer` mode: hypotheses that keep every
        sentinel, then those holding the most target terms, then the model's score."""
        wanted = sorted(int(k) for k in SENTINEL.findall(job.text))

        def rank(hypothesis: tuple[list[str], float]) -> tuple[bool, int, float]:
            text = self.tokenizer.decode(hypothesis[0])
            kept = sorted(int(k) for k in SENTINEL.findall(text)) == wanted
            return (kept, len(targets_present(job.prefer, text)), hypothesis[1])

        return sorted(found, key=rank, reverse=True)

    def _best(self, hypotheses: list[list[tuple[list[str], float]]], index: int) -> str:
        return self.tokenizer.decode(hypotheses[index][0][0])


def model_namespace(model_path: Path, compute_type: str, device: str = "cpu") -> str:
    """Names a model's translations in the cache: the same files (a Hub snapshot's folder
    names its commit), compute type and device on any replica give the same name; another
    model, revision, quantisation or device (GPU kernels round differently) gives another, so
    its cached sentences are never served."""
    weights = model_path / "model.bin"
    identity = f"{model_path.parent.name}/{model_path.name}:{weights.stat().st_size}:{compute_type}"
    if device != "cpu":  # CPU names stay what they were before GPUs were served
        identity += f":{device}"
    return hashlib.blake2b(identity.encode(), digest_size=8).hexdigest()


def _apply_glossary(
    masked: MaskedSentence, glossary: GlossaryTerms, escape: Any
) -> tuple[MaskedSentence, list[tuple[str, str]], str]:
    """The sentence with its glossary terms applied, the terms found, and how: in
    `enforce` mode each becomes a span written as the target term ("substituted"); in
    `prefer` mode the sentence is left to the model and its hypotheses re-ranked ("model")."""
    terms = glossary.terms
    text = masked.model_text
    found = terms.find(text, sentinel_ranges(text))
    if not found:
        return masked, [], ""
    pairs = [terms.pairs[m.term] for m in found]
    if glossary.mode == "prefer":
        return masked, pairs, "model"
    replacements = [
        (m.start, m.end, escape(cased(terms.pairs[m.term][1], text[m.start : m.end])))
        for m in found
    ]
    return substitute(masked, replacements), pairs, "substituted"


def _honoured(sentence: _SentencePlan) -> list[bool]:
    """Per term found in the sentence, whether its target is in the sentence's output (a
    substituted term is a span, and spans always come back)."""
    if sentence.term_method == "substituted":
        return [True] * len(sentence.terms)
    found = targets_present(tuple(sentence.terms), sentence.best_text)
    return [index in found for index in range(len(sentence.terms))]


def _strip(text: str) -> tuple[str, str, str]:
    """``(leading space, core, trailing space)`` of ``text``."""
    core = text.strip()
    if not core:
        return text, "", ""
    lead = text[: len(text) - len(text.lstrip())]
    return lead, core, text[len(lead) + len(core) :]
