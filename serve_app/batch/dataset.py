"""Batch translation on Ray Data: a corpus translated by a pool of actors, not through HTTP.

``translate_dataset`` adds the translation columns to a ``ray.data.Dataset`` with
``map_batches`` over :class:`TranslateRows`, a callable class that loads the same engines as
the service (``serve_app.loading``) once per actor and runs :class:`~.rows.RowTranslator` on
each batch. ``translate_files`` reads Parquet, CSV or JSON Lines, translates and writes the
result, in row order, and returns a summary. Both run on whatever Ray the caller is connected
to: the local one by default, any cluster with ``ray.init(address=...)`` (the CLI's
``--address``).

The model is chosen once, on the driver: the configured one, or, where the config allows and
it cannot be had, the bundled fallback announced loudly. Every actor then loads that same
choice with no fallback of its own, so one dataset is never translated by two models.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pandas as pd

from serve_app.batch.rows import ERROR_COLUMN, BatchSpec, BatchSpecError, RowTranslator
from serve_app.config import DetectorConfig, TranslatorConfig
from serve_app.engines.detector import resolve_detector_model
from serve_app.engines.device import on_reserved_devices
from serve_app.engines.models import load_with_fallback
from serve_app.engines.translator import Translator
from serve_app.loading import decoding_options, load_detector, load_translator

if TYPE_CHECKING:
    from ray.data import Dataset

FORMATS = ("parquet", "csv", "jsonl")
SUFFIXES = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl"}
# Rows per call of an actor. 1,024 was tried (CTranslate2 sorts a call by length, so larger
# calls pad less): 16,384 rows, one actor of two workers, one run: 0.74x the raw engine
# against 0.79x at 256; not kept.
DEFAULT_BATCH_ROWS = 256


class TranslateRows:
    """The ``map_batches`` class: one per actor, holding its engines."""

    def __init__(
        self,
        spec: BatchSpec,
        translator: dict[str, Any],
        detector: dict[str, Any],
        threads: int,
    ) -> None:
        # One CTranslate2 worker per CPU the actor holds: a batch is split among them.
        config = TranslatorConfig.model_validate(
            {**translator, "inter_threads": threads, "intra_threads": 1}
        )
        import ray

        # These actors reserve no GPU: auto must not take the node's (Ray does not hide it).
        config = config.model_copy(
            update={"device": on_reserved_devices(config.device, ray.get_gpu_ids())}
        )
        detector_config = DetectorConfig.model_validate(detector)
        engine = load_translator(config).engine
        self._rows = RowTranslator(
            engine,
            spec,
            options=decoding_options(config, engine.device),
            detector=lambda: load_detector(detector_config).engine,
        )

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        return self._rows(batch)


def _local_or_reference(reference: str) -> str:
    """A path that exists here, made absolute (actors need not share the driver's working
    directory); anything else (a repo id, a known name) as it is."""
    path = Path(reference).expanduser()
    return str(path.resolve()) if path.exists() else reference


Settings = TypeVar("Settings", TranslatorConfig, DetectorConfig)


def _choose(
    component: str, locate: Callable[[str, str | None], object], config: Settings
) -> Settings:
    """``config`` naming the model that ``locate`` finds: the configured one where it can be
    had (fetched once into the Hugging Face cache), else the allowed fallback (loudly); with
    no fallback of its own, so every actor loads this same choice."""
    found = load_with_fallback(
        component, locate, config.model, config.revision, config.fallback_model
    )
    return config.model_copy(
        update={
            "model": _local_or_reference(found.model),
            "revision": config.revision if found.fallback_reason is None else None,
            "fallback_model": None,
        }
    )


def choose_translator(config: TranslatorConfig) -> TranslatorConfig:
    """The translator model the batch will use."""
    return _choose("translator", Translator.locate, config)


def choose_detector(config: DetectorConfig) -> DetectorConfig:
    """The detector model the batch will use."""
    return _choose("language detector", resolve_detector_model, config)


@dataclass(frozen=True)
class Pool:
    """The actor pool: each actor reserves ``cpus_per_actor`` CPUs and runs
    ``threads_per_actor`` CTranslate2 workers (default: see :meth:`threads`); from
    ``min_actors`` (Ray Data adds more while batches wait) up to ``max_actors``.

    Reading and writing the files are Ray tasks that need a CPU of their own: a pool that
    reserved every CPU of the cluster would leave them none and wait forever. So the default
    ``max_actors`` leaves one CPU free, and a pool that would take them all is refused. On a
    small machine, ``threads_per_actor`` above ``cpus_per_actor`` still puts every core to
    work (one actor reserving 1 CPU and running 2 workers on a 2-core machine, say).
    """

    cpus_per_actor: int = 1
    max_actors: int | None = None
    batch_rows: int = DEFAULT_BATCH_ROWS
    min_actors: int = 1
    threads_per_actor: int | None = None

    def __post_init__(self) -> None:
        if self.cpus_per_actor < 1 or self.batch_rows < 1 or self.min_actors < 1:
            raise BatchSpecError("cpus_per_actor, batch_rows and min_actors must be positive")
        if self.max_actors is not None and self.max_actors < self.min_actors:
            raise BatchSpecError("max_actors must be at least min_actors")
        if self.threads_per_actor is not None and self.threads_per_actor < 1:
            raise BatchSpecError("threads_per_actor must be positive")

    def threads(self, cluster_cpus: float, actors: int) -> int:
        """CTranslate2 workers per actor: ``threads_per_actor``, or by default the CPUs it
        reserves, and more where the pool leaves cores idle: the CPU kept for reading and
        writing is mostly idle while rows are translated, so on a 2-CPU machine the one
        actor runs two workers (measured: 0.74x the raw engine against 0.45x with one, on
        16,384 rows)."""
        if self.threads_per_actor is not None:
            return self.threads_per_actor
        return max(self.cpus_per_actor, int(cluster_cpus // max(actors, 1)))

    def size(self, cluster_cpus: float | None = None) -> int:
        """The most actors; refuses a pool that leaves reading and writing no CPU."""
        if cluster_cpus is None:
            cluster_cpus = _cluster_cpus()
        fits = int((cluster_cpus - 1) // self.cpus_per_actor)
        most = self.max_actors if self.max_actors is not None else max(self.min_actors, fits)
        if most > fits:
            raise BatchSpecError(
                f"{most} actors of {self.cpus_per_actor} CPU need {most * self.cpus_per_actor} "
                f"of the cluster's {cluster_cpus:g} CPUs and leave none for reading and "
                f"writing; at most {max(fits, 0)} fit (threads_per_actor can use more cores)"
            )
        return most


def _cluster_cpus() -> float:
    import ray

    return float(ray.cluster_resources().get("CPU", 1))


def translate_dataset(
    dataset: Dataset,
    spec: BatchSpec,
    *,
    translator: TranslatorConfig,
    detector: DetectorConfig | None = None,
    pool: Pool | None = None,
) -> Dataset:
    """``dataset`` with the translation columns of ``spec`` added (lazy, as Ray Data is).

    ``translator`` and ``detector`` should already name the models to use
    (:func:`choose_translator`); rows keep their order when the caller's
    ``DataContext.execution_options.preserve_order`` is set (``translate_files`` sets it).
    """
    from ray.data import ActorPoolStrategy

    pool = pool or Pool()
    spec.check_columns(dataset.columns() or [])
    cluster_cpus = _cluster_cpus()
    actors = pool.size(cluster_cpus)
    return dataset.map_batches(
        TranslateRows,
        batch_format="pandas",
        batch_size=pool.batch_rows,
        compute=ActorPoolStrategy(min_size=pool.min_actors, max_size=actors),
        num_cpus=pool.cpus_per_actor,
        fn_constructor_kwargs={
            "spec": spec,
            "translator": translator.model_dump(),
            "detector": (detector or DetectorConfig()).model_dump(),
            "threads": pool.threads(cluster_cpus, actors),
        },
        udf_modifying_row_count=False,
    )


def is_uri(location: str) -> bool:
    """``s3://...``, ``gs://...``, ``local://...``: read by Ray Data's filesystems, not here."""
    return "://" in location


def file_format(location: str, given: str | None = None) -> str:
    """``given``, or the format ``location``'s suffix (or, for a local folder, its files')
    names."""
    if given:
        if given not in FORMATS:
            raise BatchSpecError(f"format must be one of {', '.join(FORMATS)}, not {given!r}")
        return given
    path = Path(location)
    if not is_uri(location) and path.is_dir():
        suffixes = {SUFFIXES[p.suffix] for p in path.iterdir() if p.suffix in SUFFIXES}
        if len(suffixes) == 1:
            return suffixes.pop()
        raise BatchSpecError(f"{location}: cannot tell the format of the files in it; give one")
    suffix = Path(location.rstrip("/")).suffix
    if suffix not in SUFFIXES:
        raise BatchSpecError(
            f"{location}: unknown format {suffix!r}; expected .parquet, .csv or .jsonl"
        )
    return SUFFIXES[suffix]


def read(location: str, fmt: str) -> Dataset:
    import ray.data

    if not is_uri(location) and not Path(location).exists():
        raise BatchSpecError(f"{location}: no such file or folder")
    if fmt == "parquet":
        return ray.data.read_parquet(location)
    if fmt == "csv":
        return ray.data.read_csv(location)
    return ray.data.read_json(location, lines=True)


def write(dataset: Dataset, location: str, fmt: str) -> None:
    if fmt == "parquet":
        from serve_app.batch.sink import OrderedParquetSink

        # Not write_parquet: it can write a task's rows out of order (see sink.py).
        dataset.write_datasink(OrderedParquetSink(location))
    elif fmt == "csv":
        dataset.write_csv(location)
    else:
        dataset.write_json(location)


def translate_files(
    source: str | Path,
    output: str | Path,
    spec: BatchSpec,
    *,
    translator: TranslatorConfig,
    detector: DetectorConfig | None = None,
    pool: Pool | None = None,
    input_format: str | None = None,
    output_format: str | None = None,
) -> dict[str, Any]:
    """Reads ``source`` (a file or a folder of them), translates, writes the rows in order
    into the folder ``output`` (refused if it holds files) and returns a summary: rows, rows
    with an error, seconds, rows/s and the models used."""
    from ray.data import DataContext

    source, output = str(source), str(output)
    fmt_in = file_format(source, input_format)
    fmt_out = file_format(output, output_format) if output_format else fmt_in
    if not is_uri(output) and Path(output).is_dir() and any(Path(output).iterdir()):
        raise BatchSpecError(f"{output} is not empty; choose a new folder")
    started = time.perf_counter()
    # Rows in order: the pipeline is built and run with preserve_order set (and the caller's
    # setting given back after).
    options = DataContext.get_current().execution_options
    ordered = options.preserve_order
    options.preserve_order = True
    try:
        rows = read(source, fmt_in)
        spec.check_columns(rows.columns() or [])  # before any model is looked for
        chosen = choose_translator(translator)
        chosen_detector = (
            choose_detector(detector or DetectorConfig()) if spec.source is None else detector
        )
        dataset = translate_dataset(
            rows, spec, translator=chosen, detector=chosen_detector, pool=pool
        )
        write(dataset, output, fmt_out)
    finally:
        options.preserve_order = ordered
    seconds = time.perf_counter() - started
    rows, failed = count_rows(output, fmt_out)
    return {
        "input": source,
        "output": output,
        "format": fmt_out,
        "rows": rows,
        "rows_with_error": failed,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds, 1) if seconds else None,
        "model": chosen.model,
        "detector": chosen_detector.model if chosen_detector else None,
    }


def count_rows(output: str, fmt: str) -> tuple[int, int]:
    """Rows written to ``output`` and how many of them carry an error."""
    import ray.data

    if fmt == "parquet":
        errors = ray.data.read_parquet(output, columns=[ERROR_COLUMN])
    else:
        errors = read(output, fmt).select_columns([ERROR_COLUMN])
    frame = errors.to_pandas()
    return len(frame), int(frame[ERROR_COLUMN].notna().sum())
