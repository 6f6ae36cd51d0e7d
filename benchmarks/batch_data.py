"""Batch translation on Ray Data against the raw engine, on the same rows, in one run.

- ``raw_engine``: the Translator engine in this process on every CPU (the best of the
  inter/intra thread splits), all rows in one ``translate`` call: no Ray, no Parquet;
- ``ray_data``: ``translate_files`` (what ``tafsiri batch translate`` runs) from a Parquet
  file to a Parquet folder on a local Ray of the same CPUs, end to end: actors started,
  models loaded, rows read, translated and written; per pool shape.

Every output is checked against its input (the copy model). Goal (issue #17): rows/s >= 0.8x
the raw engine on one node. Run: ``python -m benchmarks.batch_data [--size tiny] [--rows 8192]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.engine import make_sentences
from benchmarks.serve_throughput import thread_splits
from serve_app.batch import Pool, batch_spec, translate_files
from serve_app.batch.dataset import DEFAULT_BATCH_ROWS
from serve_app.config import DetectorConfig, TranslatorConfig
from serve_app.engines.device import available_cores
from serve_app.engines.translator import TranslationRequest, Translator
from serve_app.testmodel.build import build_test_model


def raw_engine(model: Path, sentences: list[str], inter: int, intra: int) -> dict[str, Any]:
    engine = Translator(model, inter_threads=inter, intra_threads=intra)
    requests = [TranslationRequest(s, "eng_Latn", "fra_Latn") for s in sentences]
    engine.translate(requests[:8], use_cache=False)
    started = time.perf_counter()
    output = engine.translate(requests, use_cache=False)
    seconds = time.perf_counter() - started
    if [r.text for r in output.results] != sentences:
        raise AssertionError("the raw engine's outputs differ from their inputs")
    return {"seconds": round(seconds, 3), "rows_per_s": round(len(sentences) / seconds, 1)}


def ray_data(model: Path, sentences: list[str], pool: Pool, workdir: Path) -> dict[str, Any]:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = workdir / "rows.parquet"
    pq.write_table(pa.table({"text": sentences}), source, row_group_size=1024)
    spec = batch_spec("text", "fr", source="en")
    translator = TranslatorConfig(model=str(model))
    detector = DetectorConfig(model="lid.176")
    files = translate_files(
        source, workdir / "out", spec, translator=translator, detector=detector, pool=pool
    )
    written = pd.concat(
        [pd.read_parquet(path) for path in sorted((workdir / "out").glob("*.parquet"))]
    )
    wrong = [
        (i, got)
        for i, (got, want) in enumerate(zip(written["translation"], sentences, strict=True))
        if got != want
    ]
    if wrong:
        raise AssertionError(f"translate_files: {len(wrong)} outputs differ, e.g. {wrong[:2]}")

    return {k: files[k] for k in ("rows", "seconds", "rows_per_s")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--size", choices=["tiny", "base"], default="tiny")
    parser.add_argument("--rows", type=int, default=8192)
    parser.add_argument("--batch-rows", type=int, default=DEFAULT_BATCH_ROWS)
    parser.add_argument(
        "--pools",
        default="default,large_batches,one_worker_per_actor",
        help="default: translate_files' own pool; one_worker_per_actor: a 1-CPU actor per "
        "core less one, one worker each; large_batches: the default pool in calls of 1,024 rows; "
        "threads: one actor running a worker per core",
    )
    parser.add_argument("--models", default="models")
    parser.add_argument(
        "--raw-splits", default="all", help="inter x intra splits of the raw engine (e.g. 2x1)"
    )
    args = parser.parse_args(argv)
    import ray

    cores = available_cores()
    model = build_test_model(Path(args.models) / f"{args.size}-nllb", size=args.size)
    sentences = make_sentences(args.rows, seed=211)
    with contextlib.redirect_stdout(sys.stderr):
        splits = [
            split
            for split in thread_splits(cores)
            if args.raw_splits == "all" or f"{split[0]}x{split[1]}" in args.raw_splits.split(",")
        ]
        raw = {
            f"{inter}x{intra}": raw_engine(model, sentences, inter, intra)
            for inter, intra in splits
        }
    best = max(raw, key=lambda split: raw[split]["rows_per_s"])
    ceiling = raw[best]["rows_per_s"]
    # Reading and writing need a CPU of their own (see Pool): the defaults leave one.
    actors = max(1, cores - 1)
    pools = {
        # What translate_files does when given nothing: the pool sized to the cluster, the
        # cores it leaves worked by more CTranslate2 workers (Pool.threads).
        "default": Pool(batch_rows=args.batch_rows),
        "large_batches": Pool(batch_rows=1024),
        "one_worker_per_actor": Pool(
            cpus_per_actor=1, max_actors=actors, threads_per_actor=1, batch_rows=args.batch_rows
        ),
        "threads": Pool(
            cpus_per_actor=1, threads_per_actor=cores, max_actors=1, batch_rows=args.batch_rows
        ),
    }
    served: dict[str, Any] = {}
    for name in args.pools.split(","):
        with contextlib.redirect_stdout(sys.stderr), tempfile.TemporaryDirectory() as work:
            ray.init(num_cpus=cores, include_dashboard=False, log_to_driver=False)
            try:
                served[name] = ray_data(model, sentences, pools[name], Path(work))
            finally:
                ray.shutdown()
    report = {
        "benchmark": "batch_data",
        "size": args.size,
        "rows": args.rows,
        "cores": cores,
        "raw_engine": {"best_split": best, "rows_per_s": ceiling, "splits": raw},
        "ray_data": served,
        "ratios": {name: round(run["rows_per_s"] / ceiling, 3) for name, run in served.items()},
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
