"""NLLB at its real size, served by Tafsiri and by bare CTranslate2, side by side in one run.

The model is a true-size copy model (``tafsiri build-test-model --size nllb-600m``, or
``nllb-1.3b`` / ``nllb-3.3b``): NLLB-200's published shape and vocabulary, float16 weights
like the published CTranslate2 conversions, loaded as int8 on CPU as the service does. Its
compute and memory per token are the real model's; its output is its input, so every answer
is checked. Printed as one JSON object:

* ``build``: the model's disk size (and build time when this run built it);
* ``bare_ct2``: a process holding only CTranslate2 and the model (the Translator's thread
  split): peak RSS while loading, RSS after the same work the replica did, load time;
* ``serve``: the Tafsiri app on a local Ray: cold start (``serve.run`` to healthy), the
  Translator replica's peak RSS while loading and its RSS after the work, one sentence's
  latency, a 5,000-character text's latency, and throughput at ``--concurrency`` clients;
* ``raw``: CTranslate2 in this process on the same sentences: one sentence's latency and the
  5,000-character text (its sentences in one call) on every split of the cores, and the
  throughput ceiling (every ``inter_threads`` × ``intra_threads`` split, as
  ``benchmarks.serve_throughput`` (c));
* ``ratios``: serve over raw (throughput: serve / best raw; latency: best raw / serve) and
  replica RSS over bare RSS.

Run: ``python -m benchmarks.true_size [--size nllb-600m] [--model-root models]``;
``--light`` for the 3.3B (it loads, serves and one sentence is timed). Traffic goes to
127.0.0.1 only; every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.bare_ct2 import memory_mib
from benchmarks.engine import make_sentences
from benchmarks.serve_throughput import decode_in_shares, drive, run_raw, thread_splits
from serve_app.config import AppArgs, TranslatorConfig
from serve_app.engines.device import available_cores, device_defaults
from serve_app.engines.languages import LanguageDatabase
from serve_app.engines.segmenter import segment
from serve_app.engines.tokenizer import NllbTokenizer
from serve_app.serving import serving_env
from serve_app.testmodel.build import SP_MODEL_NAME, build_test_model

MIB = 1024 * 1024
LONG_TEXT_CHARS = 5000
REPLICA_TITLE = "ray::ServeReplica:tafsiri:Translator"
# The service's CPU settings where the config leaves them to the device.
CPU = device_defaults("cpu")
# Sentences timed one by one (after two to warm up); --light: fewer (a 3.3B sentence takes
# tens of seconds on two cores).
SINGLES = 5


def long_text(seed: int) -> str:
    """About 5,000 characters of distinct sentences in one text."""
    text = ""
    for sentence in make_sentences(400, seed=seed):
        if len(text) + len(sentence) + 1 > LONG_TEXT_CHARS:
            break
        text = f"{text} {sentence}" if text else sentence
    return text


def nllb_tokenizer(model_dir: Path) -> NllbTokenizer:
    """The model's tokenizer alone (a Translator would load a second copy of the model)."""
    return NllbTokenizer(model_dir / SP_MODEL_NAME, LanguageDatabase.default().codes)


def source_tokens(tokenizer: NllbTokenizer, sentences: list[str]) -> float:
    return statistics.mean(
        len(tokenizer.source_tokens(tokenizer.encode(s), "eng_Latn")) for s in sentences
    )


# --- bare CTranslate2, in a process of its own ------------------------------------------


def work_sources(model_dir: Path, count: int) -> tuple[list[list[str]], list[str] | None, int]:
    """What the bare process decodes: the replica's work (the singles, and with ``count`` the
    throughput sentences and the long text) as source tokens, the target prefix, and the
    sub-batch budget."""
    tokenizer = nllb_tokenizer(model_dir)
    texts = make_sentences(SINGLES + 2, seed=21)
    if count:
        texts += make_sentences(count) + sentences_of_text(long_text(seed=11))
    sources = [tokenizer.source_tokens(tokenizer.encode(s), "eng_Latn") for s in texts]
    return sources, tokenizer.target_prefix("swh_Latn"), CPU.max_batch_tokens


def sentences_of_text(text: str) -> list[str]:
    """The sentences the service cuts ``text`` into (the raw runs decode exactly these)."""
    return segment(text, TranslatorConfig().max_sentence_chars).sentences


def run_bare(model_dir: Path, beam: int, count: int) -> dict[str, Any]:
    """The bare process with the thread split the Translator uses by default."""
    inter = TranslatorConfig().inter_threads or CPU.inter_threads
    intra = TranslatorConfig().intra_threads or 1
    # Its own module: nothing but CTranslate2 is imported before its memory is read.
    command = [sys.executable, "-m", "benchmarks.bare_ct2", str(model_dir)]
    command += [str(inter), str(intra), str(beam), str(count)]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=3600)
    return dict(json.loads(output.stdout.strip().splitlines()[-1]))


# --- the service ------------------------------------------------------------------------


def replica_pid(title: str = REPLICA_TITLE) -> int:
    """The replica of the Ray this process started (its raylet, and so every worker, descend
    from it): another Ray on the machine has processes of the same title."""
    import psutil

    for process in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            cmdline = process.cmdline()
            if cmdline and cmdline[0].startswith(title):
                return int(process.pid)
    raise RuntimeError(f"no process {title!r} found")


async def timed_requests(url: str, texts: list[str]) -> list[float]:
    """Each text alone, one after another: seconds per request (answers checked)."""
    seconds = []
    async with httpx.AsyncClient(timeout=1800) as http:
        for text in texts:
            started = time.perf_counter()
            response = await http.post(
                url,
                json={"text": text, "source_language": "eng_Latn", "target_language": "swh_Latn"},
            )
            seconds.append(time.perf_counter() - started)
            if response.status_code != 200 or response.json()["translated_text"] != text:
                raise RuntimeError(f"wrong answer: {response.status_code} {response.text[:200]}")
    return seconds


def run_serve(
    model_dir: Path, beam: int, count: int, concurrency: int, port: int, light: bool
) -> dict[str, Any]:
    import ray
    from ray import serve

    from serve_app.app import build_app

    args = AppArgs.model_validate(
        {
            "detector": {"model": "lid.176"},
            "translator": {"model": str(model_dir), "beam_size": beam},
        }
    )
    result: dict[str, Any] = {}
    saved = dict(os.environ)
    os.environ.update(serving_env("fast"))
    # No load balancer to drain for: stopped ingress replicas need not linger 30 s.
    os.environ["RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S"] = "3"
    with contextlib.redirect_stdout(sys.stderr):
        ray.init(num_cpus=available_cores(), include_dashboard=False, log_to_driver=False)
        try:
            serve.start(http_options={"host": "127.0.0.1", "port": port})
            base = f"http://127.0.0.1:{port}"
            started = time.perf_counter()
            serve.run(build_app(args), name="tafsiri", route_prefix="/")
            health = httpx.get(f"{base}/health", timeout=60)
            result["cold_start_to_healthy_s"] = round(time.perf_counter() - started, 2)
            result["health_status"] = health.status_code
            pid = replica_pid()
            result["replica_after_load"] = memory_mib(pid)
            # A replica that holds no model: what Ray and Serve cost any replica process.
            orchestrator = replica_pid("ray::ServeReplica:tafsiri:Orchestrator")
            result["modelless_replica_rss_mib"] = memory_mib(orchestrator)["rss_mib"]
            url = f"{base}/api/v1/translate"
            # Distinct texts throughout: the translation cache must not answer any of them.
            singles = make_sentences(SINGLES + 2, seed=21)
            seconds = asyncio.run(timed_requests(url, singles))[2:]  # two to warm up
            result["one_sentence_ms"] = round(1000 * statistics.median(seconds), 1)
            if not light:
                texts = [long_text(seed) for seed in (11, 12, 13)]
                seconds = asyncio.run(timed_requests(url, texts))
                result["long_text_chars"] = len(texts[0])
                result["long_text_s"] = round(statistics.median(seconds), 2)
                result["throughput"] = asyncio.run(drive(url, make_sentences(count), concurrency))
            result["replica_after_work"] = memory_mib(pid)
        finally:
            serve.shutdown()
            ray.shutdown()
            os.environ.clear()
            os.environ.update(saved)
    return result


# --- raw CTranslate2 in this process ------------------------------------------------------


def run_raw_latency(model_dir: Path, beam: int, long_text_too: bool) -> dict[str, Any]:
    """One sentence, and the long text (all its sentences in one call, cut among the
    workers), on every split of the cores; the model is loaded once per split."""
    import ctranslate2

    tokenizer = nllb_tokenizer(model_dir)
    prefix = tokenizer.target_prefix("swh_Latn")
    singles = make_sentences(SINGLES + 2, seed=21)[2:]
    text_sentences = sentences_of_text(long_text(11))
    shipped = CPU.max_batch_tokens

    def decode(model: Any, sentences: list[str], inter: int) -> float:
        sources = [tokenizer.source_tokens(tokenizer.encode(s), "eng_Latn") for s in sentences]
        outputs, seconds = decode_in_shares(model, sources, prefix, beam, shipped, inter)
        for i, sentence in enumerate(sentences):
            if tokenizer.decode(outputs[i].hypotheses[0][1:]) != sentence:
                raise RuntimeError(f"raw CTranslate2 did not copy {sentence!r}")
        return seconds

    results: dict[str, Any] = {}
    for inter, intra in thread_splits(available_cores()):
        model = ctranslate2.Translator(
            str(model_dir), compute_type="int8", inter_threads=inter, intra_threads=intra
        )
        decode(model, ["Warm up."], inter)
        result = {
            "one_sentence_ms": round(
                1000 * statistics.median(decode(model, [s], inter) for s in singles), 1
            )
        }
        if long_text_too:
            result["long_text_s"] = round(decode(model, text_sentences, inter), 2)
        results[f"inter{inter}_intra{intra}"] = result
        del model
    return results


def run_raw_throughput(model_dir: Path, beam: int, count: int) -> dict[str, Any]:
    sentences = make_sentences(count)
    shipped = CPU.max_batch_tokens
    return {
        f"inter{inter}_intra{intra}": run_raw(model_dir, sentences, beam, shipped, inter, intra)
        for inter, intra in thread_splits(available_cores())
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument(
        "--size", choices=["tiny", "nllb-600m", "nllb-1.3b", "nllb-3.3b"], default="nllb-600m"
    )
    parser.add_argument("--model-root", type=Path, default=Path("models"))
    parser.add_argument("--requests", type=int, default=128)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--beam-size", type=int, default=TranslatorConfig().beam_size)
    parser.add_argument("--port", type=int, default=8775)
    parser.add_argument(
        "--light",
        action="store_true",
        help="load, serve and time one sentence only (no long text, no throughput): the 3.3B",
    )
    args = parser.parse_args(argv)
    if args.light:
        global SINGLES
        SINGLES = 2

    model_dir = args.model_root / f"copy-{args.size}"
    build: dict[str, Any] = {}
    if not (model_dir / "model.bin").is_file():
        started = time.perf_counter()
        build_test_model(model_dir, size=args.size)
        build["build_seconds"] = round(time.perf_counter() - started, 1)
    build["disk_mib"] = round(sum(f.stat().st_size for f in model_dir.iterdir()) / MIB, 1)
    tokenizer = nllb_tokenizer(model_dir)
    count = 0 if args.light else args.requests
    report: dict[str, Any] = {
        "benchmark": "true_size",
        "model": f"copy-{args.size}",
        "cores": available_cores(),
        "beam_size": args.beam_size,
        "compute_type": "int8",
        "concurrency": args.concurrency,
        "requests": count,
        "mean_source_tokens": {
            "sentence": round(source_tokens(tokenizer, make_sentences(128)), 1),
            "long_text_sentence": round(
                source_tokens(tokenizer, sentences_of_text(long_text(11))), 1
            ),
        },
        "build": build,
    }
    report["bare_ct2"] = run_bare(model_dir, args.beam_size, count)
    report["serve"] = run_serve(
        model_dir, args.beam_size, count, args.concurrency, args.port, args.light
    )
    report["raw_latency"] = run_raw_latency(model_dir, args.beam_size, not args.light)
    if not args.light:
        report["raw_throughput"] = run_raw_throughput(model_dir, args.beam_size, count)
    report["ratios"] = ratios(report)
    print(json.dumps(report, indent=2))
    return 0


def ratios(report: dict[str, Any]) -> dict[str, Any]:
    serve, bare = report["serve"], report["bare_ct2"]
    latency = report["raw_latency"]
    best_one = min(r["one_sentence_ms"] for r in latency.values())
    out: dict[str, Any] = {
        "replica_rss_over_bare_holding_the_model": round(
            serve["replica_after_load"]["rss_mib"] / bare["after_load"]["rss_mib"], 2
        ),
        "replica_rss_over_bare_after_work": round(
            serve["replica_after_work"]["rss_mib"] / bare["after_work"]["rss_mib"], 2
        ),
        "replica_peak_over_bare_peak": round(
            serve["replica_after_load"]["peak_rss_mib"] / bare["after_load"]["peak_rss_mib"], 2
        ),
        "one_sentence_raw_best_over_serve": round(best_one / serve["one_sentence_ms"], 2),
    }
    if "long_text_s" in serve:
        best_long = min(r["long_text_s"] for r in latency.values())
        out["long_text_raw_best_over_serve"] = round(best_long / serve["long_text_s"], 2)
    if "raw_throughput" in report:
        raw = report["raw_throughput"]
        best = max(raw, key=lambda split: float(raw[split]["throughput_rps"]))
        out["raw_best_split"] = best
        out["serve_over_raw_best_throughput"] = round(
            float(serve["throughput"]["throughput_rps"]) / float(raw[best]["throughput_rps"]), 2
        )
    return out


if __name__ == "__main__":
    raise SystemExit(main())
