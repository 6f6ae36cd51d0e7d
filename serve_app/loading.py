"""Engines from settings: the one way a translator or a detector is loaded from its config
(the deployments and batch translation on Ray Data both call these), with the loud fallback
to the bundled models where the config allows one."""

from __future__ import annotations

import functools

from serve_app.config import DetectorConfig, TranslatorConfig
from serve_app.engines.detector import LanguageDetector
from serve_app.engines.models import Loaded, load_with_fallback
from serve_app.engines.translator import TranslationOptions, Translator


def translator_engine(config: TranslatorConfig, pair: tuple[str, str] | None = None) -> Translator:
    """The engine of ``config``'s model itself (no fallback); ``pair``: the one a Marian
    model serves where its files do not say."""
    return Translator.from_config(
        config.model,
        revision=config.revision,
        tokenizer=config.tokenizer,
        device=config.device,
        compute_type=config.compute_type,
        inter_threads=config.inter_threads,
        intra_threads=config.intra_threads,
        pair=pair,
    )


def load_registered(config: TranslatorConfig, name: str) -> Loaded[Translator]:
    """The model registered as ``name`` in ``config.models``, loaded with the Translator's
    other settings; raises :class:`ModelUnavailableError` when it cannot be had."""
    entry = config.models[name]
    return Loaded(translator_engine(entry.engine_config(config), entry.languages), entry.model)


def load_translator(config: TranslatorConfig) -> Loaded[Translator]:
    """``config``'s translator, or its ``fallback_model`` announced loudly."""
    return load_with_fallback(
        "translator",
        lambda model, revision: translator_engine(
            config.model_copy(update={"model": model, "revision": revision})
        ),
        config.model,
        config.revision,
        config.fallback_model,
    )


def decoding_options(config: TranslatorConfig) -> TranslationOptions:
    return TranslationOptions(
        beam_size=config.beam_size,
        max_decoding_length=config.max_decoding_length,
        max_decoding_ratio=config.max_decoding_ratio,
        repetition_penalty=config.repetition_penalty,
        no_repeat_ngram_size=config.no_repeat_ngram_size,
        max_sentence_chars=config.max_sentence_chars,
        max_batch_tokens=config.max_batch_tokens,
    )


def load_detector(config: DetectorConfig) -> Loaded[LanguageDetector]:
    """``config``'s detector (with its stages), or its ``fallback_model`` announced loudly."""
    return load_with_fallback(
        "language detector",
        functools.partial(
            LanguageDetector.from_config,
            short_text_stage=config.short_text_stage,
            lexicon_stage=config.lexicon_stage,
            lexicon_dir=config.lexicon_dir,
        ),
        config.model,
        config.revision,
        config.fallback_model,
    )
