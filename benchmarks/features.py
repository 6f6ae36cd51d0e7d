"""What each translation feature costs against plain text, on the same sentences, in one run.

Real CTranslate2 on the built copy models (``tiny``: cheap; ``base``: about a Marian-base's
compute). Every variant translates the same sentences in one batched call; rounds are
interleaved and the median kept, so the ratios compare like with like on this machine:

* ``plain``: plain text, span protection off (the path before these features);
* ``protected``: the same text with protection on (what every request now gets);
* ``spans``: sentences that each hold a placeholder, a URL and a number, protection on,
  against the same sentences with it off;
* ``html``: the same sentences as an HTML page (paragraphs, ``<b>``, ``<a href>``, entities,
  a script), against ``plain``;
* ``repair_worst_case``: a model that mangles every span (``{`` written as ``(``), so every
  sentence is repaired, against the same model with protection off;
* ``two_targets``: one call into two targets against two calls;
* ``cache_90``: the plain sentences with 90% of them already in the translation cache (an
  in-process LRU, primed afresh before each round), against ``plain`` with no cache;
* ``quality``: the quality signals measured (the engine's part; the detector pass over the
  outputs is the ingress's), against ``protected``;
* ``glossary_enforce`` / ``glossary_prefer``: a 5,000-entry glossary whose terms occur in every
  sentence, substituted as spans / re-ranked over 4 hypotheses, against ``protected``.

Also the ingress's own work: the HTML check per page, and finding a 5,000-entry glossary's
terms in all the sentences (what travels to the Translator).
Prints one JSON object. Run: ``python -m benchmarks.features [--size base] [--sentences 128]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.engine import letters, make_sentences
from serve_app.engines.cache import MemoryCache
from serve_app.engines.glossary import Glossary, GlossaryEntry, GlossaryTerms
from serve_app.engines.markup import readable_text
from serve_app.engines.translator import (
    TranslationOptions,
    TranslationRequest,
    Translator,
)
from serve_app.testmodel.build import build_test_model


def with_spans(sentences: list[str]) -> list[str]:
    return [
        f"Dear {{name}}, {s[:-1]} at https://example.org/p/{i}?id=%s by {i % 24}:30."
        for i, s in enumerate(sentences)
    ]


def as_page(sentences: list[str]) -> str:
    """The sentences as a page: three per paragraph, the first word bold, one link each."""
    paragraphs = []
    for start in range(0, len(sentences), 3):
        marked = []
        for s in sentences[start : start + 3]:
            first, rest = s.split(" ", 1)
            head, tail = rest.rsplit(" ", 1)
            marked.append(f'<b>{first}</b> {head} <a href="/w?a=1&amp;b=2">{tail}</a>')
        paragraphs.append(f'<p class="body">{" ".join(marked)}&nbsp;</p>')
    return "<html><body>\n" + "\n".join(paragraphs) + "\n<script>var x = 1;</script></body></html>"


# Terms that occur in the benchmark's sentences (benchmarks.engine.WORDS), and filler up to
# a full-size glossary.
TERMS = {
    "market": "soko",
    "football field": "uwanja wa mpira",
    "water": "maji",
    "doctors": "madaktari",
    "nurses": "wauguzi",
    "village": "kijiji",
    "teachers": "walimu",
    "children": "watoto",
    "clean safe source": "chanzo safi salama",
    "travellers": "wasafiri",
}
GLOSSARY_ENTRIES = 5000


def glossary() -> Glossary:
    entries = [GlossaryEntry("eng_Latn", "swh_Latn", s, t) for s, t in TERMS.items()]
    entries += [
        GlossaryEntry("eng_Latn", "swh_Latn", f"term{letters(i)}", f"neno{letters(i)}")
        for i in range(GLOSSARY_ENTRIES - len(entries))
    ]
    return Glossary("g" * 32, "", "benchmark", 0.0, entries)


def found_terms(found: Glossary, sentences: list[str]) -> tuple[tuple[str, str], ...]:
    """What the ingress does: the glossary's terms that occur in the texts."""
    terms = found.terms("eng_Latn", "swh_Latn")
    used = {terms.pairs[m.term]: None for s in sentences for m in terms.find(s)}
    return tuple(used)


def timed(call: Callable[[], object], rounds: int = 1) -> float:
    """Median seconds of ``rounds`` calls."""
    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def run(size: str, count: int, rounds: int, model_root: Path) -> dict[str, Any]:
    copy = Translator(build_test_model(model_root / f"copy-{size}", size=size), intra_threads=0)
    swap = Translator(
        build_test_model(model_root / f"swap-{size}", size=size, swaps=(("<0x7B>", "("),)),
        intra_threads=0,
    )
    options = TranslationOptions(beam_size=2)
    sentences = make_sentences(count)
    spanned = with_spans(sentences)
    page = as_page(sentences)

    def text(
        items: list[str], protect: bool, target: str = "swh_Latn", **fields: Any
    ) -> list[TranslationRequest]:
        return [TranslationRequest(s, "eng_Latn", target, "text", protect, **fields) for s in items]

    terms = found_terms(glossary(), sentences)

    variants: dict[str, tuple[Translator, list[TranslationRequest]]] = {
        "plain": (copy, text(sentences, False)),
        "protected": (copy, text(sentences, True)),
        "spans_unprotected": (copy, text(spanned, False)),
        "spans": (copy, text(spanned, True)),
        "html": (copy, [TranslationRequest(page, "eng_Latn", "swh_Latn", "html")]),
        "repair_unprotected": (swap, text(spanned, False)),
        "repair_worst_case": (swap, text(spanned, True)),
        "quality": (copy, text(sentences, True, quality=True)),
        "glossary_enforce": (copy, text(sentences, True, glossary=GlossaryTerms(terms))),
        "glossary_prefer": (
            copy,
            text(sentences, True, glossary=GlossaryTerms(terms, "prefer")),
        ),
    }
    checks: dict[str, Any] = {}
    for name, (engine, requests) in variants.items():
        out = engine.translate(requests, options)  # warm-up, and the outputs checked
        checks[name] = {
            "unique_sentences": out.timings.unique_sentences,
            "repaired_sentences": out.timings.repaired_sentences,
        }
    html_out = copy.translate(variants["html"][1], options).results[0].text
    repaired = swap.translate(variants["repair_worst_case"][1], options).results
    checks["html_round_trips"] = html_out == page
    checks["spans_kept_in_every_repair"] = all(
        "{name}" in r.text and "%s" in r.text for r in repaired
    )
    enforced = copy.translate(variants["glossary_enforce"][1], options).results
    checks["glossary_terms_in_use"] = len(terms)
    checks["glossary_every_term_applied"] = all(
        report.applied for r in enforced for report in r.glossary
    )
    checks["glossary_terms_per_sentence"] = round(
        sum(report.found for r in enforced for report in r.glossary) / count, 2
    )

    seconds: dict[str, list[float]] = {name: [] for name in [*variants, "two_targets_one_call"]}
    seconds["two_targets_two_calls"] = []
    seconds["cache_90"] = []
    plain_requests = text(sentences, False)
    primed = plain_requests[: len(plain_requests) * 9 // 10]
    both = text(sentences, True) + text(sentences, True, "fra_Latn")
    for _ in range(rounds):  # interleaved: a slow moment hits every variant alike
        for name, (engine, requests) in variants.items():
            seconds[name].append(timed(partial(engine.translate, requests, options)))
        seconds["two_targets_one_call"].append(timed(partial(copy.translate, both, options)))
        seconds["two_targets_two_calls"].append(
            timed(
                lambda: [
                    copy.translate(text(sentences, True), options),
                    copy.translate(text(sentences, True, "fra_Latn"), options),
                ]
            )
        )
        copy.cache = MemoryCache(256 << 20)
        copy.translate(primed, options)  # untimed: 90% of the sentences seen before
        started = time.perf_counter()
        cached = copy.translate(plain_requests, options)
        seconds["cache_90"].append(time.perf_counter() - started)
        copy.cache = None
        checks["cache_90_hit_rate"] = round(cached.timings.cached_sentences / count, 3)
        checks["cache_90_outputs_exact"] = [r.text for r in cached.results] == sentences
    median = {name: statistics.median(values) for name, values in seconds.items()}
    per_second = {name: round(count / value, 1) for name, value in median.items()}

    def ratio(name: str, against: str) -> float:
        return round(median[against] / median[name], 3)

    page_seconds = timed(partial(readable_text, page, "html"), 20)
    full = glossary()
    full.terms("eng_Latn", "swh_Latn")  # built once per glossary and replica, then reused
    lookup_seconds = timed(partial(found_terms, full, sentences), 20)
    build_seconds = timed(lambda: glossary().terms("eng_Latn", "swh_Latn"), 3)
    return {
        "benchmark": "features",
        "model": f"copy-{size}",
        "sentences": count,
        "rounds": rounds,
        "sentences_per_second": per_second,
        "ratios": {
            "protected_vs_plain": ratio("protected", "plain"),
            "spans_vs_spans_unprotected": ratio("spans", "spans_unprotected"),
            "html_vs_plain": ratio("html", "plain"),
            "repair_worst_case_vs_unprotected": ratio("repair_worst_case", "repair_unprotected"),
            "two_targets_one_call_vs_two_calls": ratio(
                "two_targets_one_call", "two_targets_two_calls"
            ),
            "cache_90_vs_plain": ratio("cache_90", "plain"),
            "quality_vs_protected": ratio("quality", "protected"),
            "glossary_enforce_vs_protected": ratio("glossary_enforce", "protected"),
            "glossary_prefer_vs_protected": ratio("glossary_prefer", "protected"),
        },
        "goals": {"html_vs_plain": 0.8, "cache_90_vs_plain": 5.0},
        "checks": checks,
        "ingress_html_check": {
            "page_kib": round(len(page.encode()) / 1024, 1),
            "milliseconds": round(page_seconds * 1000, 3),
        },
        "ingress_glossary": {
            "entries": GLOSSARY_ENTRIES,
            "find_terms_in_all_sentences_ms": round(lookup_seconds * 1000, 3),
            "build_matcher_ms": round(build_seconds * 1000, 3),
        },
        "machine": {"python": platform.python_version(), "processor": platform.processor()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", choices=["tiny", "base"], default="tiny")
    parser.add_argument("--sentences", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--models", default=None, help="where to build the models (temp dir)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(args.models or scratch)
        print(json.dumps(run(args.size, args.sentences, args.rounds, root), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
