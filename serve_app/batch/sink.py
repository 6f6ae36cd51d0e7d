"""Parquet output that keeps the rows in order.

Ray Data 2.60's ``write_parquet`` hands each write task's tables to
``pyarrow.dataset.write_dataset`` with ``use_threads=True`` and without ``preserve_order``,
so pyarrow may write a task's record batches as row groups in any order: in about half the
runs here a file's rows came back swapped in 8- to 40-row runs, although every block reached
the writer in order. This sink writes each task's blocks with one ``ParquetWriter``, in the
order they come, to ``part-<task index>.parquet``, so the files sorted by name hold the rows
in dataset order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from ray.data import Datasink
from ray.data.block import Block, BlockAccessor


def _filesystem(location: str) -> tuple[pafs.FileSystem, str]:
    if "://" in location and not location.startswith("local://"):
        filesystem, path = pafs.FileSystem.from_uri(location)
        return filesystem, str(path)
    from pathlib import Path

    return pafs.LocalFileSystem(), str(Path(location.removeprefix("local://")).resolve())


class OrderedParquetSink(Datasink[None]):  # type: ignore[misc]
    """One Parquet file per write task, its blocks written one after another."""

    def __init__(self, location: str) -> None:
        self._location = location

    def get_name(self) -> str:
        return "OrderedParquet"

    def on_write_start(self, schema: pa.Schema | None = None) -> None:
        filesystem, path = _filesystem(self._location)
        filesystem.create_dir(path, recursive=True)

    def write(self, blocks: Iterable[Block], ctx: Any) -> None:
        tables = [BlockAccessor.for_block(block).to_arrow() for block in blocks]
        tables = [table for table in tables if table.num_rows]
        if not tables:
            return
        # Blocks of one task may differ in type where a column was all null in one of them.
        table = pa.concat_tables(tables, promote_options="permissive")
        # A column null in every row of this task has no type to go by; text is what this
        # pipeline writes, so such a column is written as strings.
        nulls = [i for i, field in enumerate(table.schema) if pa.types.is_null(field.type)]
        for i in nulls:
            field = table.schema.field(i)
            table = table.set_column(
                i, field.with_type(pa.string()), table.column(i).cast(pa.string())
            )
        filesystem, path = _filesystem(self._location)
        with pq.ParquetWriter(
            f"{path}/part-{ctx.task_idx:06d}.parquet", table.schema, filesystem=filesystem
        ) as writer:
            writer.write_table(table)
