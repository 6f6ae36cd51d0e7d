"""Batch translation of datasets on Ray Data (``tafsiri batch translate``): see
``dataset.py`` for the pipeline, ``rows.py`` for what happens to each row."""

from serve_app.batch.dataset import Pool, translate_dataset, translate_files
from serve_app.batch.options import batch_spec
from serve_app.batch.rows import BatchSpec, BatchSpecError, RowTranslator

__all__ = [
    "BatchSpec",
    "BatchSpecError",
    "Pool",
    "RowTranslator",
    "batch_spec",
    "translate_dataset",
    "translate_files",
]
