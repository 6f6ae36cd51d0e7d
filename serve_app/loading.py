"""Engines from settings: the one way a translator or a detector is loaded from its config
(the deployments and batch translation on Ray Data both call these), with the loud fallback
to the bundled models where the config allows one.

The translator's device is resolved here, in the process that loads it (``auto``: a GPU where
it sees one), and with it the settings left to the device (:func:`decoding_options`,
:func:`batch_size`)."""

from __future__ import annotations

import functools

from serve_app.config import DetectorConfig, TranslatorConfig
from serve_app.engines.detector import LanguageDetector
from serve_app.engines.device import device_defaults, resolve_placement
from serve_app.engines.models import Loaded, load_with_fallback
from serve_app.engines.translator import TranslationOptions, Translator


def translator_engine(config: TranslatorConfig, pair: tuple[str, str] | None = None) -> Translator:
    """The engine of ``config``'s model itself (no fallback) on ``config.device`` resolved
    here (before any model is fetched: a GPU that is not there fails at once, with
    :class:`~serve_app.engines.device.DeviceUnavailableError`); ``pair``: the one a Marian
    model serves where its files do not say."""
    placement = resolve_placement(config.device, config.compute_type)
    return Translator.from_config(
        config.model,
        revision=config.revision,
        tokenizer=config.tokenizer,
        device=placement.device,
        compute_type=placement.compute_type,
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


def decoding_options(config: TranslatorConfig, device: str) -> TranslationOptions:
    """``config``'s decoding settings for an engine on ``device`` (its ``device`` attribute:
    the resolved one), a ``max_batch_tokens`` left unset taking the device's default."""
    return TranslationOptions(
        beam_size=config.beam_size,
        max_decoding_length=config.max_decoding_length,
        max_decoding_ratio=config.max_decoding_ratio,
        repetition_penalty=config.repetition_penalty,
        no_repeat_ngram_size=config.no_repeat_ngram_size,
        max_sentence_chars=config.max_sentence_chars,
        max_batch_tokens=config.max_batch_tokens or device_defaults(device).max_batch_tokens,
    )


def batch_size(config: TranslatorConfig, device: str) -> int:
    """Requests per ``@serve.batch`` flush for an engine on ``device``: the configured one,
    else the device's default."""
    return config.batching.max_batch_size or device_defaults(device).max_batch_size


def load_detector(config: DetectorConfig) -> Loaded[LanguageDetector]:
    """``config``'s detector (with its stages), or its ``fallback_model`` announced loudly."""
    return load_with_fallback(
        "language detector",
        functools.partial(
            LanguageDetector.from_config,
            short_text_stage=config.short_text_stage,
            lexicon_stage=config.lexicon_stage,
            lexicon_dir=config.lexicon_dir,
            breadth_stage=config.breadth_stage,
            breadth_dir=config.breadth_dir,
            web_text_stage=config.web_text_stage,
        ),
        config.model,
        config.revision,
        config.fallback_model,
    )
