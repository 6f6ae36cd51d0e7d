"""Plain messages passed between deployments (pickled by Ray; no Ray types inside)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from serve_app.engines.detector import Detection
from serve_app.engines.glossary import TermReport
from serve_app.engines.memory import MemoryMatch, MemoryReport
from serve_app.engines.quality import Quality


@dataclass(frozen=True)
class TranslateCall:
    """Texts of one client request, all to ``target_language``; one source per text.

    With ``target_languages`` (several targets), every text goes to each of them, all in the
    same flush; the outcome's texts are then target by target (all texts of the first, ...).
    """

    texts: list[str]
    source_languages: list[str]
    target_language: str
    # Alternative translations wanted per text besides the best one (0: none).
    alternatives: int = 0
    # Beam width for this call; the deployment's own when None.
    beam_size: int | None = None
    # Several targets (target_language is then the first of them); empty: just that one.
    target_languages: tuple[str, ...] = ()
    # "text" or "html"; placeholders, URLs, e-mail addresses and numbers kept when protected.
    text_format: str = "text"
    protect_spans: bool = True
    # Measure each translation's quality (engines.quality): the engine's signals.
    quality: bool = False
    # Glossary terms to apply, ``(source_language, target_language, source, target)``: only
    # those found in the texts (the caller looked); and how (engines.glossary.MODES).
    glossary: tuple[tuple[str, str, str, str], ...] = ()
    glossary_mode: str = "enforce"
    # Translation memory matches of the texts' sentences (the caller looked them up), and
    # whether a fuzzy one is served ("prefer") or only reported ("suggest").
    memory: tuple[MemoryMatch, ...] = ()
    memory_mode: str = "suggest"
    # Whose part of the translation cache this call reads and fills: the caller's API key
    # id, so that no key is served from (or learns of) another key's translations; empty
    # (auth off, one trust domain): the shared part.
    cache_scope: str = ""

    @property
    def targets(self) -> tuple[str, ...]:
        return self.target_languages or (self.target_language,)


@dataclass
class TranslateOutcome:
    texts: list[str] = field(default_factory=list)
    alternatives: list[list[str]] = field(default_factory=list)
    # One per text (as ``texts``) when the call asked for quality.
    qualities: list[Quality | None] = field(default_factory=list)
    # One per text (as ``texts``) when the call had glossary terms: each term's fate.
    glossary: list[list[TermReport]] = field(default_factory=list)
    # One per text (as ``texts``) when the call had memory matches: each sentence matched.
    memory: list[list[MemoryReport]] = field(default_factory=list)
    error: str | None = None
    error_field: str | None = None
    error_code: str | None = None
    # Sentences translated piece by piece because the model lost a protected span or tag.
    repaired_sentences: int = 0
    # This call's sentences, and how many of them the translation cache served.
    sentences: int = 0
    cached_sentences: int = 0
    inference_seconds: float = 0.0
    beam_size: int = 0  # the beam width it was decoded with
    batch_requests: int = 1
    batch_sentences: int = 0
    model: str = ""  # the model that served, named in every response
    model_name: str = "default"  # its name in translator.models ("default": translator.model)
    model_is_fallback: bool = False


@dataclass(frozen=True)
class DetectCall:
    texts: list[str]
    k: int = 3
    # The only languages the texts may be answered as (None: any).
    candidates: frozenset[str] | None = None


@dataclass
class DetectOutcome:
    detections: list[Detection] = field(default_factory=list)
    batch_requests: int = 1
    model: str = ""
    model_is_fallback: bool = False


@dataclass
class ComponentInfo:
    """What a deployment reports about itself for /health."""

    model: str
    load_seconds: float
    details: dict[str, Any] = field(default_factory=dict)
    # Why the configured model is not the one serving (None: it is).
    fallback_reason: str | None = None
