"""Batch translation on a real 2-node Ray cluster, a step of cluster_scenario.py: a Parquet
corpus translated by an actor pool spread over both nodes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from ray.util.state import list_actors

from serve_app.batch import Pool, batch_spec, translate_files
from serve_app.config import AppArgs


def translate_corpus(model_dir: str, workdir: str) -> dict[str, object]:
    """Translates 400 rows (one null) on the connected cluster: the outcome."""
    texts: list[str | None] = [
        f"Cluster row {i} with {'words ' * (i % 5)}in it." for i in range(400)
    ]
    texts[7] = None
    source = Path(workdir) / "corpus.parquet"
    pq.write_table(pa.table({"id": list(range(400)), "text": texts}), source, row_group_size=50)
    app = AppArgs.model_validate(
        {"models": "hub", "translator": {"model": model_dir}, "detector": {"model": "lid.176"}}
    )
    out = Path(workdir) / "out"
    summary = translate_files(
        source,
        out,
        batch_spec("text", "fr", source="en"),
        translator=app.translator,
        # Three 1-CPU actors from the start (one CPU left for reading and writing): more
        # than one node holds.
        pool=Pool(cpus_per_actor=1, min_actors=3, max_actors=3, batch_rows=20),
    )
    result = pd.concat(
        [pd.read_parquet(f) for f in sorted(out.glob("*.parquet"))], ignore_index=True
    )
    workers = [
        actor
        for actor in list_actors(detail=True, limit=1000)
        if "MapWorker" in (actor.class_name or "")
    ]
    return {
        "rows": summary["rows"],
        "in_order": result["id"].tolist() == list(range(400)),
        "exact": result["translation"].tolist() == texts,
        "errors": int(result["error"].notna().sum()),
        "actors": len(workers),
        "actor_nodes": len({actor.node_id for actor in workers}),
    }
