"""The one language database: FLORES-200 codes as NLLB-200 knows them.

Every language code that enters the service (ISO 639-1, ISO 639-3, fastText LID labels,
FLORES-200 codes in any letter case) is normalised here, so the rest of the code only ever
sees FLORES-200 codes such as ``swh_Latn``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

# Combining marks (Unicode category M: Devanagari's vowel signs and virama, Tibetan's vowels,
# ...), which Python's \w does not hold: inside a word they are part of it ("हिन्दी").
_MARKS = "".join(
    re.escape(chr(code))
    for code in (*range(0x20000), *range(0xE0100, 0xE01F0))
    if unicodedata.category(chr(code)).startswith("M")
)
# A run of letters and the marks on them: a word, or the part of one between apostrophes.
LETTERS = rf"[^\W\d_](?:[^\W\d_]|[{_MARKS}])*"

REGIONS = ("Africa", "Americas", "Asia", "Europe", "Middle East", "Oceania")

SCRIPT_NAMES = {
    "Arab": "Arabic",
    "Armn": "Armenian",
    "Beng": "Bengali",
    "Cyrl": "Cyrillic",
    "Deva": "Devanagari",
    "Ethi": "Ethiopic",
    "Geor": "Georgian",
    "Grek": "Greek",
    "Gujr": "Gujarati",
    "Guru": "Gurmukhi",
    "Hang": "Hangul",
    "Hans": "Han (Simplified)",
    "Hant": "Han (Traditional)",
    "Hebr": "Hebrew",
    "Jpan": "Japanese",
    "Khmr": "Khmer",
    "Knda": "Kannada",
    "Laoo": "Lao",
    "Latn": "Latin",
    "Mlym": "Malayalam",
    "Mymr": "Myanmar",
    "Orya": "Odia",
    "Sinh": "Sinhala",
    "Taml": "Tamil",
    "Telu": "Telugu",
    "Tfng": "Tifinagh",
    "Thai": "Thai",
    "Tibt": "Tibetan",
}

# ISO 639-3 macrolanguage / common codes whose NLLB variety has another individual code.
_ISO3_ALIASES = {
    "ara": "arb_Arab",
    "aym": "ayr_Latn",
    "aze": "azj_Latn",
    "fas": "pes_Arab",
    "per": "pes_Arab",
    "fil": "tgl_Latn",
    "ful": "fuv_Latn",
    "kau": "knc_Latn",
    "kur": "kmr_Latn",
    "lav": "lvs_Latn",
    "mlg": "plt_Latn",
    "mon": "khk_Cyrl",
    "msa": "zsm_Latn",
    "may": "zsm_Latn",
    "nep": "npi_Deva",
    "nor": "nob_Latn",
    "orm": "gaz_Latn",
    "ori": "ory_Orya",
    "pan": "pan_Guru",
    "pus": "pbt_Arab",
    "que": "quy_Latn",
    "sqi": "als_Latn",
    "alb": "als_Latn",
    "swa": "swh_Latn",
    "tmh": "taq_Latn",
    "uzb": "uzn_Latn",
    "yid": "ydd_Hebr",
    "zho": "zho_Hans",
    "chi": "zho_Hans",
    "est": "est_Latn",
    "grn": "grn_Latn",
    "kon": "kon_Latn",
}

# Varieties that detectors cannot reliably tell apart (ISO 639-3 codes): a text read as one
# of its group's others is still "in" the group's language (the quality check of a
# translation's output language, see engines.quality).
_CLOSE_VARIETIES = (
    frozenset({"arb", "acm", "acq", "aeb", "ajp", "apc", "ars", "ary", "arz"}),  # Arabic
    frozenset({"zsm", "ind"}),  # Malay, Indonesian
    frozenset({"bos", "hrv", "srp"}),  # Serbo-Croatian
    frozenset({"nob", "nno"}),  # Norwegian
    frozenset({"pes", "prs"}),  # Persian, Dari
    frozenset({"zho", "yue"}),  # Chinese
    frozenset({"azj", "azb"}),  # Azerbaijani
    frozenset({"aka", "twi"}),  # Akan
)

# fastText lid.176 labels that are not ISO 639-1 codes of an NLLB language.
_LID176_ALIASES = {
    "arz": "arz_Arab",
    "azb": "azb_Arab",
    "ceb": "ceb_Latn",
    "ckb": "ckb_Arab",
    "ilo": "ilo_Latn",
    "lmo": "lmo_Latn",
    "min": "min_Latn",
    "scn": "scn_Latn",
    "vec": "vec_Latn",
    "war": "war_Latn",
    "yue": "yue_Hant",
    "iw": "heb_Hebr",
    "no": "nob_Latn",
    "sh": "hrv_Latn",
    "bh": "bho_Deva",
}

# Bare lid.176 labels that collide with the ISO 639-3 code of another language:
# lid.176's ``als`` is Alemannic, not Tosk Albanian (``als_Latn``, whose label is ``sq``).
_LID176_UNMAPPED = frozenset({"als"})

# Script detection, for LID labels that name a language but not its script.
_SCRIPT_BY_UNICODE_NAME = {
    "ARABIC": "Arab",
    "DEVANAGARI": "Deva",
    "LATIN": "Latn",
    "TIFINAGH": "Tfng",
    "CYRILLIC": "Cyrl",
    "BENGALI": "Beng",
    "GREEK": "Grek",
    "HEBREW": "Hebr",
    "ARMENIAN": "Armn",
    "GEORGIAN": "Geor",
    "ETHIOPIC": "Ethi",
    "GURMUKHI": "Guru",
    "GUJARATI": "Gujr",
    "ORIYA": "Orya",
    "TAMIL": "Taml",
    "TELUGU": "Telu",
    "KANNADA": "Knda",
    "MALAYALAM": "Mlym",
    "SINHALA": "Sinh",
    "THAI": "Thai",
    "LAO": "Laoo",
    "TIBETAN": "Tibt",
    "MYANMAR": "Mymr",
    "KHMER": "Khmr",
    "HANGUL": "Hang",
    "CJK": "Hani",
    "HIRAGANA": "Jpan",
    "KATAKANA": "Jpan",
    "OL": "Olck",
}
# Scripts a language's text may be written in besides its own FLORES script: Han characters
# in Japanese and Korean, and simplified or traditional Chinese.
_SCRIPT_COMPATIBLE = {
    "Hans": {"Hans", "Hani"},
    "Hant": {"Hant", "Hani"},
    "Jpan": {"Jpan", "Hani"},
    "Hang": {"Hang", "Hani"},
}

_FLORES_RE = re.compile(r"^([a-z]{3})_([A-Z][a-z]{3})$")


@dataclass(frozen=True)
class Language:
    """One FLORES-200 language as the service exposes it."""

    code: str
    name: str
    native_name: str | None
    script: str
    script_name: str
    region: str
    iso639_1: str | None
    iso639_3: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class UnknownLanguageError(ValueError):
    """A language code that maps to no FLORES-200 language NLLB-200 supports."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(
            f"unknown language code {code!r}: expected a FLORES-200 code such as 'swh_Latn' or "
            "'eng_Latn' (ISO 639-1 'sw' and ISO 639-3 'swh' are accepted too); "
            "GET /api/v1/languages lists all 202"
        )


class LanguageDatabase:
    """Lookup, normalisation, search and region filters over the 202 NLLB-200 languages."""

    def __init__(self, languages: list[Language]) -> None:
        self._by_code = {lang.code: lang for lang in languages}
        self._aliases: dict[str, str] = {}
        for lang in languages:
            self._aliases[lang.code.lower()] = lang.code
            if lang.iso639_1:
                self._aliases.setdefault(lang.iso639_1, lang.code)
            # The first variety listed for an ISO 639-3 code is the default script.
            self._aliases.setdefault(lang.iso639_3, lang.code)
        for alias, code in {**_ISO3_ALIASES, **_LID176_ALIASES}.items():
            self._aliases.setdefault(alias, code)

    @classmethod
    @lru_cache(maxsize=1)
    def default(cls) -> LanguageDatabase:
        """The bundled FLORES-200 table, parsed once per process."""
        text = (
            resources.files("serve_app.engines").joinpath("data/flores200.tsv").read_text("utf-8")
        )
        languages = []
        for line in text.splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            code, iso1, name, native, region = line.split("\t")
            iso3, script = code.split("_")
            languages.append(
                Language(
                    code=code,
                    name=name,
                    native_name=native or None,
                    script=script,
                    script_name=SCRIPT_NAMES.get(script, script),
                    region=region,
                    iso639_1=None if iso1 == "-" else iso1,
                    iso639_3=iso3,
                )
            )
        return cls(languages)

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code in self._by_code

    @property
    def codes(self) -> list[str]:
        return list(self._by_code)

    def all(self) -> list[Language]:
        return list(self._by_code.values())

    def get(self, code: str) -> Language:
        """The language for any accepted code; raises :class:`UnknownLanguageError`."""
        return self._by_code[self.normalize(code)]

    def normalize(self, code: str) -> str:
        """Maps a FLORES-200, ISO 639-1 or ISO 639-3 code (any case) to its FLORES-200 code."""
        key = code.strip().replace("-", "_")
        if key in self._by_code:
            return key
        match = self._aliases.get(key.lower())
        if match is None:
            raise UnknownLanguageError(code)
        return match

    def try_normalize(self, code: str) -> str | None:
        try:
            return self.normalize(code)
        except UnknownLanguageError:
            return None

    def normalize_all(self, codes: Iterable[str]) -> tuple[frozenset[str], list[str]]:
        """The FLORES-200 codes of ``codes``, and those of them no language has (every one,
        so that a refusal can name them all)."""
        found = {code: self.try_normalize(code) for code in codes}
        known = frozenset(code for code in found.values() if code is not None)
        return known, [code for code, normal in found.items() if normal is None]

    def from_lid_label(self, label: str, text: str = "", script: str | None = None) -> str | None:
        """Maps a fastText LID label (``__label__sw``, ``__label__swh_Latn``) to FLORES-200.

        Labels with a script suffix are taken as they are (lid218e, GlotLID); bare language
        labels (lid.176) get the script of ``text`` (or the given ``script``, when the caller
        has it already) where the language is written in several.
        Returns ``None`` for a language NLLB-200 does not support.
        """
        raw = label.removeprefix("__label__")
        if _FLORES_RE.match(raw):
            if raw in self._by_code:
                return raw
            iso3 = raw.split("_")[0]
            return self.try_normalize(iso3) if iso3 in _ISO3_ALIASES else None
        code = None if raw in _LID176_UNMAPPED else self._aliases.get(raw.lower())
        if code is None:
            return None
        if script is None and text:
            script = dominant_script(text)
        if script:
            variant = f"{code.split('_')[0]}_{script}"
            if variant in self._by_code:
                return variant
        return code

    @staticmethod
    def same_language(first: str, second: str) -> bool:
        """Whether two FLORES-200 codes name one language: the same code, one language in
        two scripts (``zho_Hans``, ``zho_Hant``), or close varieties no detector tells
        apart reliably (Arabic dialects, Malay and Indonesian, Bosnian/Croatian/Serbian)."""
        if first == second:
            return True
        a, b = first.split("_")[0], second.split("_")[0]
        return a == b or any(a in group and b in group for group in _CLOSE_VARIETIES)

    @staticmethod
    def has_close_variety(code: str) -> bool:
        """Whether another language is a close variety of ``code`` (one of the groups
        :meth:`same_language` counts as one language): Bokmål of Nynorsk, Malay of
        Indonesian. Not the same language in another script."""
        language = code.split("_")[0]
        return any(language in group for group in _CLOSE_VARIETIES)

    def locale(self, code: str, separator: str = "-") -> str:
        """A FLORES-200 code as a CLDR / BCP 47 locale (``ru``, ``ar``, ``zh-Hant``): the
        language's ISO 639-1 code where it has one (else its ISO 639-3 code), with the script
        where the language is written in more than one. ``separator`` joins them (``_`` for
        gettext and CLDR's own identifiers)."""
        language = self.get(code)
        varieties = [lang for lang in self._by_code.values() if lang.iso639_3 == language.iso639_3]
        short = next((lang.iso639_1 for lang in varieties if lang.iso639_1), language.iso639_3)
        return f"{short}{separator}{language.script}" if len(varieties) > 1 else short

    def search(self, query: str) -> list[Language]:
        """Languages whose code, English or native name contains ``query`` (case-insensitive)."""
        needle = query.strip().casefold()
        if not needle:
            return self.all()
        return [
            lang
            for lang in self._by_code.values()
            if needle in lang.code.casefold()
            or needle in lang.name.casefold()
            or (lang.native_name and needle in lang.native_name.casefold())
            or needle == (lang.iso639_1 or "")
        ]

    def by_region(self, region: str) -> list[Language]:
        wanted = region.strip().casefold()
        matches = [lang for lang in self._by_code.values() if lang.region.casefold() == wanted]
        if not matches and wanted not in {r.casefold() for r in REGIONS}:
            raise ValueError(f"unknown region {region!r}: expected one of {', '.join(REGIONS)}")
        return matches

    def regions(self) -> dict[str, int]:
        counts = {region: 0 for region in REGIONS}
        for lang in self._by_code.values():
            counts[lang.region] += 1
        return counts


def script_counts(text: str) -> dict[str, int]:
    """Letters per ISO 15924 script among ``text``'s first 500 characters (known scripts)."""
    counts: dict[str, int] = {}
    for char in text[:500]:
        if not char.isalpha():
            continue
        script = _script_of(char)
        if script:
            counts[script] = counts.get(script, 0) + 1
    return counts


@lru_cache(maxsize=8192)
def _script_of(char: str) -> str | None:
    return _SCRIPT_BY_UNICODE_NAME.get(unicodedata.name(char, "").split(" ", 1)[0])


def dominant_script(text: str) -> str | None:
    """The ISO 15924 code of the most frequent script among ``text``'s letters, if known."""
    return most_frequent_script(script_counts(text))


def han_variant(text: str) -> str | None:
    """``Hant`` or ``Hans``: whether ``text``'s Chinese characters are more often of the
    traditional or of the simplified set (CC-CEDICT's, through ``hanzidentifier``, MIT);
    ``None`` when none is of only one of them (characters both sets share)."""
    from hanzidentifier import helpers

    traditional = simplified = 0
    for char in text[:500]:
        if char in helpers.TRADITIONAL_CHARACTERS and char not in helpers.SIMPLIFIED_CHARACTERS:
            traditional += 1
        elif char in helpers.SIMPLIFIED_CHARACTERS and char not in helpers.TRADITIONAL_CHARACTERS:
            simplified += 1
    if traditional == simplified:
        return None
    return "Hant" if traditional > simplified else "Hans"


def most_frequent_script(counts: dict[str, int]) -> str | None:
    """The script with the most letters in :func:`script_counts`' answer, if any."""
    return max(counts, key=counts.__getitem__) if counts else None


def own_script_share(code: str, counts: dict[str, int]) -> float:
    """The share of letters (of known script) written in the FLORES-200 language ``code``'s
    own script: 0 for romanised Hindi as ``hin_Deva``, 1 for kanji and kana as ``jpn_Jpan``."""
    total = sum(counts.values())
    if not total:
        return 0.0
    own = code.rsplit("_", 1)[-1]
    scripts = _SCRIPT_COMPATIBLE.get(own, {own})
    return sum(n for script, n in counts.items() if script in scripts) / total
