"""Batch translation on a real local Ray (the session's) with Ray Data: exact outputs with the
copy model, order kept, nulls and blanks kept, a bad row reported, every format, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from serve_app.batch import BatchSpecError, Pool, batch_spec, translate_files
from serve_app.config import AppArgs

pytestmark = pytest.mark.serve
ROOT = Path(__file__).resolve().parents[2]


def settings(model: Path) -> AppArgs:
    return AppArgs.model_validate(
        {"models": "hub", "translator": {"model": str(model)}, "detector": {"model": "lid.176"}}
    )


def corpus(count: int) -> list[Any]:
    """Texts of rising length (the order must survive length-sorted decoding), with a null,
    blanks, a number where text belongs and markup-free protected spans among them."""
    texts: list[Any] = [f"Row {i} says {'more ' * (i % 7)}words." for i in range(count)]
    texts[3] = None
    texts[5] = ""
    texts[8] = "   "
    texts[13] = "Write to team@example.org about {ticket} before 10:30."
    return texts


def read_parquet_folder(folder: Path) -> pd.DataFrame:
    files = sorted(folder.glob("*.parquet"))
    assert files, f"no output in {folder}"
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def test_parquet_rows_translated_in_order_with_nulls_and_bad_rows_kept(
    ray_cluster: int, test_model_dir: Path, tmp_path: Path
) -> None:
    texts = corpus(300)
    languages: list[str | None] = ["en"] * len(texts)
    languages[20] = "klingon"  # a bad row: reported, the dataset goes on
    languages[21] = None  # detected from its text
    texts[21] = "Bonjour tout le monde, comment allez-vous ce matin?"
    table = pa.table({"id": list(range(len(texts))), "text": texts, "lang": languages})
    source = tmp_path / "in.parquet"
    pq.write_table(table, source, row_group_size=40)  # several read blocks
    out = tmp_path / "out"
    app = settings(test_model_dir)
    summary = translate_files(
        source,
        out,
        batch_spec("text", "fr", source_column="lang"),
        translator=app.translator,
        detector=app.detector,
        # One actor (the session's Ray also holds the app); 32-row batches of 40-row read
        # blocks: several row groups per output file, where Ray's own write_parquet swapped
        # them in about half the runs (serve_app/batch/sink.py). Several actors keep order
        # in the 2-node test (test_cluster.py).
        pool=Pool(cpus_per_actor=1, max_actors=1, batch_rows=32),
    )
    assert summary["rows"] == len(texts)
    assert summary["rows_with_error"] == 1
    assert summary["model"] == str(test_model_dir)
    result = read_parquet_folder(out)
    assert result["id"].tolist() == list(range(len(texts)))  # order kept
    expected = list(texts)
    expected[20] = None
    got = result["translation"].tolist()
    assert got[3] is None
    assert [g for i, g in enumerate(got) if i not in {3, 20}] == [
        t for i, t in enumerate(expected) if i not in {3, 20}
    ]
    errors = result["error"].tolist()
    assert errors[20] == "unknown source language 'klingon'"
    assert sum(e is not None for e in errors) == 1
    assert result["source_language"][21] == "fra_Latn"
    assert result["source_language"][0] == "eng_Latn"


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_csv_and_json_lines_round_trip_with_two_targets(
    ray_cluster: int, test_model_dir: Path, tmp_path: Path, fmt: str
) -> None:
    frame = pd.DataFrame({"text": [f"Line {word} of the file." for word in "abcdefgh"]})
    source = tmp_path / f"in.{fmt}"
    if fmt == "csv":
        frame.to_csv(source, index=False)
    else:
        frame.to_json(source, orient="records", lines=True)
    out = tmp_path / "out"
    app = settings(test_model_dir)
    summary = translate_files(
        source,
        out,
        batch_spec("text", "fr,sw", source="en", quality=True),
        translator=app.translator,
        pool=Pool(max_actors=1, batch_rows=3),
    )
    assert summary == {**summary, "rows": 8, "rows_with_error": 0, "format": fmt}
    files = sorted(out.iterdir())
    if fmt == "csv":
        result = pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    else:
        result = pd.concat([pd.read_json(f, lines=True) for f in files], ignore_index=True)
    assert result["translation_fra_Latn"].tolist() == frame["text"].tolist()
    assert result["translation_swh_Latn"].tolist() == frame["text"].tolist()
    assert result["quality_fra_Latn"].between(0, 1).all()


def test_a_batch_that_cannot_run_is_refused_before_it_starts(
    ray_cluster: int, test_model_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"body": ["Hello."], "translation": ["old"]}), source)
    app = settings(test_model_dir)
    with pytest.raises(BatchSpecError, match="no column 'text'"):
        translate_files(source, tmp_path / "a", batch_spec("text", "fr"), translator=app.translator)
    with pytest.raises(BatchSpecError, match="would overwrite"):
        translate_files(source, tmp_path / "b", batch_spec("body", "fr"), translator=app.translator)
    with pytest.raises(BatchSpecError, match="unknown language code 'zz'"):
        batch_spec("body", "zz")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.parquet").write_bytes(b"")
    with pytest.raises(BatchSpecError, match="not empty"):
        translate_files(
            source, tmp_path / "full", batch_spec("body", "fr"), translator=app.translator
        )


def test_the_cli_runs_on_the_cluster_at_address(
    ray_cluster: int, test_model_dir: Path, tmp_path: Path
) -> None:
    """``tafsiri batch translate`` as a user runs it, in its own process, joining the running
    Ray by ``--address``; a glossary CSV applies its terms."""
    import ray
    from ray._private.authentication.authentication_utils import is_token_auth_enabled

    # Ray never turns token authentication on for a driver given an explicit address: a
    # user joining such a cluster sets RAY_AUTH_MODE=token, and so does this one.
    env = {**os.environ, "RAY_AUTH_MODE": "token" if is_token_auth_enabled() else "disabled"}
    source = tmp_path / "in.jsonl"
    rows = [{"text": "Our cloud is fast."}, {"text": None}, {"text": "Plain words."}]
    source.write_text("\n".join(json.dumps(row) for row in rows) + "\n")
    glossary = tmp_path / "terms.csv"
    glossary.write_text("source,target\ncloud,nuage\n")
    out = tmp_path / "out"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "serve_app.cli",
            "--json",
            "batch",
            "translate",
            str(source),
            "--column",
            "text",
            "--to",
            "fr",
            "--from",
            "en",
            "--glossary",
            str(glossary),
            "--output",
            str(out),
            "--output-format",
            "parquet",
            "--models",
            "hub",
            "--model",
            str(test_model_dir),
            "--address",
            ray.get_runtime_context().gcs_address,
            "--max-actors",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=ROOT,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    summary = json.loads(run.stdout.strip().splitlines()[-1])
    assert (summary["rows"], summary["rows_with_error"]) == (3, 0)
    result = read_parquet_folder(out)
    assert result["translation"].tolist() == ["Our nuage is fast.", None, "Plain words."]
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "serve_app.cli",
            "batch",
            "translate",
            str(source),
            "--column",
            "text",
            "--to",
            "xx-nope",
            "--output",
            str(tmp_path / "o2"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert refused.returncode == 2
    assert "unknown language code 'xx-nope'" in refused.stderr


def test_the_parquet_sink_keeps_block_order_and_types_a_null_only_column(
    ray_cluster: int, tmp_path: Path
) -> None:
    """Many small blocks per write task, in order, as one file per task; a column that is
    null in every row of a task's blocks written with one type in every file."""
    import ray.data

    from serve_app.batch.sink import OrderedParquetSink

    frames = [
        pd.DataFrame(
            {"id": range(start, start + 7), "note": [None] * 7 if start < 70 else ["x"] * 7}
        )
        for start in range(0, 140, 7)
    ]
    dataset = ray.data.from_pandas(frames).repartition(4, shuffle=False)
    dataset.write_datasink(OrderedParquetSink(str(tmp_path / "out")))
    files = sorted((tmp_path / "out").glob("*.parquet"))
    assert [f.name for f in files] == [f"part-{i:06d}.parquet" for i in range(len(files))]
    assert {str(pq.read_schema(f).field("note").type) for f in files} == {"string"}
    result = read_parquet_folder(tmp_path / "out")
    assert result["id"].tolist() == list(range(140))
    assert pq.read_table(files[0])["note"].null_count == 35  # a file with only nulls
    assert result["note"].tolist() == [None] * 70 + ["x"] * 70
