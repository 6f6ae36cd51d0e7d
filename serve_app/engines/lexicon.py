"""The word stage of detection: which candidate languages have a text's words in their lexicon.

Character n-gram models (fastText, Lingua) cannot tell near-twins apart on a two-word snippet:
"ikkje noko" reads as Norwegian, but only a word list says Nynorsk and not Bokmål. Simplemma
(``simplemma``, MIT) ships word-form dictionaries (Wiktionary and other open lists) for 50
languages; their keys, lower-cased, are built once into one MARISA trie per language
(``marisa-trie``: a few bytes per word, memory-mapped, so every replica on a node shares the
same pages) in a cache directory. The detector asks only for the share of a text's words that
each of its leading candidates knows.

Build: ``tafsiri build-lexicon`` (``make install`` and the image run it; the detector builds
what is missing itself, once, with a warning: ~2 minutes of CPU on two cores).
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import Any

from serve_app.engines.languages import LETTERS, LanguageDatabase

logger = logging.getLogger(__name__)

# Simplemma's Serbo-Croatian dictionary holds Bosnian, Croatian and Serbian (Latin and Cyrillic
# forms): one lexicon for the three (it separates them from Slovene or Macedonian, not from
# each other). Its Middle English, Ancient Greek, Latin, Manx and Northern Sami have no NLLB-200
# language and are not built.
SHARED = {"hbs": ("bos_Latn", "hrv_Latn", "srp_Cyrl")}
# A word: letters and the marks on them (Devanagari's vowel signs are part of "हिन्दी").
WORD = re.compile(LETTERS)
# Words read per text: enough to tell languages apart, bounded for long texts.
MAX_WORDS = 32
MANIFEST = "lexicon.json"


def cache_root() -> Path:
    """Where the detector's built data lives: ``$TAFSIRI_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/tafsiri`` (``~/.cache/tafsiri``)."""
    base = os.environ.get("TAFSIRI_CACHE_DIR") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "tafsiri"
    )
    return Path(base)


def default_directory() -> Path:
    """``$TAFSIRI_CACHE_DIR/lexicon`` (default ``~/.cache/tafsiri``), one folder per version."""
    return cache_root() / "lexicon" / f"simplemma-{metadata.version('simplemma')}"


def lexicon_languages(database: LanguageDatabase | None = None) -> dict[str, tuple[str, ...]]:
    """Simplemma's languages that NLLB-200 has: its code -> FLORES-200 codes (no data read)."""
    from simplemma.strategies.dictionaries.dictionary_factory import SUPPORTED_LANGUAGES

    database = database or LanguageDatabase.default()
    languages: dict[str, tuple[str, ...]] = {}
    for code in sorted(SUPPORTED_LANGUAGES):
        flores = SHARED.get(code) or ((found,) if (found := database.from_lid_label(code)) else ())
        if flores:
            languages[code] = flores
    return languages


def words(text: str) -> list[str]:
    """The lower-cased words of ``text`` (letters only), at most :data:`MAX_WORDS`."""
    return [word.lower() for word in WORD.findall(text)[:MAX_WORDS]]


def _build_one(code: str, directory: str) -> str:
    import marisa_trie
    from simplemma.strategies.dictionaries.dictionary_factory import DefaultDictionaryFactory

    dictionary = DefaultDictionaryFactory(cache_max_size=0).get_dictionary(code)
    trie = marisa_trie.Trie({key.lower() for key in dictionary})
    # Written next to its place and renamed: a replica reading it never sees half a file,
    # and two builders racing each write a whole one.
    handle, staging = tempfile.mkstemp(prefix=f".{code}-", dir=directory)
    os.close(handle)
    try:
        trie.save(staging)
        os.replace(staging, Path(directory) / f"{code}.marisa")
    finally:
        Path(staging).unlink(missing_ok=True)
    return code


def build_lexicon(
    directory: str | Path | None = None, *, workers: int | None = None, force: bool = False
) -> Path:
    """Builds the tries missing from ``directory`` (all with ``force``); returns it."""
    target = Path(directory) if directory is not None else default_directory()
    target.mkdir(parents=True, exist_ok=True)
    languages = lexicon_languages()
    missing = [code for code in languages if force or not (target / f"{code}.marisa").is_file()]
    if missing:
        started = time.perf_counter()
        # Each language is a few hundred MB of dict while its trie is built: a process each,
        # as many at once as there are cores.
        with ProcessPoolExecutor(max_workers=workers or min(4, os.cpu_count() or 1)) as pool:
            list(pool.map(_build_one, missing, [str(target)] * len(missing)))
        logger.info(
            "built %d lexicons in %s (%.0f s)", len(missing), target, time.perf_counter() - started
        )
    manifest = {"source": f"simplemma {metadata.version('simplemma')}", "languages": languages}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return target


class Lexicon:
    """Memory-mapped word lists, keyed by FLORES-200 code."""

    def __init__(self, directory: str | Path) -> None:
        import marisa_trie

        self.directory = Path(directory)
        started = time.perf_counter()
        self._tries: dict[str, Any] = {}
        for code, flores in lexicon_languages().items():
            path = self.directory / f"{code}.marisa"
            if not path.is_file():
                raise FileNotFoundError(f"lexicon {path} is missing: run `tafsiri build-lexicon`")
            trie = marisa_trie.Trie()
            trie.mmap(str(path))
            for language in flores:
                self._tries[language] = trie
        self.languages = frozenset(self._tries)
        self.load_seconds = time.perf_counter() - started

    @classmethod
    def ensure(cls, directory: str | Path | None = None) -> Lexicon:
        """Opens the lexicon, building what is missing first (once: ~2 CPU-minutes)."""
        target = Path(directory) if directory is not None else default_directory()
        if not (target / MANIFEST).is_file():
            logger.warning(
                "building the detection lexicon in %s (once; `tafsiri build-lexicon` does it "
                "ahead of time)",
                target,
            )
            build_lexicon(target)
        return cls(target)

    def known_words(self, language: str, text_words: Sequence[str]) -> set[int]:
        """The positions in ``text_words`` of the words ``language``'s lexicon knows."""
        trie = self._tries.get(language)
        if trie is None:
            return set()
        return {i for i, word in enumerate(text_words) if word in trie}

    def known_share(self, language: str, text_words: Sequence[str]) -> float | None:
        """The share of ``text_words`` in ``language``'s lexicon; None if it has none."""
        if language not in self._tries or not text_words:
            return None
        return len(self.known_words(language, text_words)) / len(text_words)

    def covers(self, languages: Iterable[str]) -> bool:
        return all(language in self._tries for language in languages)
