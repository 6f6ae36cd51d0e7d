"""Prometheus metrics of the service, in one place, with bounded label sets.

Labels only ever take values from closed sets: route templates (not raw paths), status
classes, error kinds, and FLORES-200 codes that passed validation.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)

# The *_created series double the output and no dashboard of ours reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class Series:
    """One metric, in this replica's own registry (rendered at ``/metrics``) and, inside a
    Serve replica, also in Ray's metrics export (``ray_<name>`` on every node's metrics port,
    tagged with application, deployment and replica), where Prometheus sees every replica of
    a multi-replica or multi-node ingress instead of whichever one a scrape happened to hit."""

    def __init__(
        self, local: Any, exported: Any, labelnames: tuple[str, ...] = (), tags: Any = None
    ) -> None:
        self._local = local
        self._exported = exported
        self._labelnames = labelnames
        self._tags: dict[str, str] | None = tags

    def labels(self, *values: str) -> Series:
        tags = dict(zip(self._labelnames, values, strict=True))
        return Series(self._local.labels(*values), self._exported, self._labelnames, tags)

    def inc(self, amount: float = 1.0) -> None:
        self._local.inc(amount)
        if self._exported is not None and amount > 0:
            self._exported.inc(amount, tags=self._tags)

    def observe(self, value: float) -> None:
        self._local.observe(value)
        if self._exported is not None:
            self._exported.observe(value, tags=self._tags)

    def set(self, value: float) -> None:
        self._local.set(value)
        if self._exported is not None:
            self._exported.set(value, tags=self._tags)


class Metrics:
    """The ingress replica's metrics; ``/metrics`` renders ``registry``.

    ``export_to_ray`` (set by the ingress deployment) mirrors every series into Ray's metrics
    export too; outside Ray (tests of the API alone) only the local registry exists.
    """

    def __init__(self, export_to_ray: bool = False) -> None:
        self.registry = CollectorRegistry()
        self._export = export_to_ray
        # process_resident_memory_bytes, process_cpu_seconds_total, open fds: the standard
        # series every Prometheus user expects, for this ingress replica's process.
        ProcessCollector(registry=self.registry)
        self.requests = self._counter(
            "tafsiri_requests", "HTTP requests", ("endpoint", "method", "status")
        )
        self.request_seconds = self._histogram(
            "tafsiri_request_duration_seconds",
            "HTTP request latency",
            LATENCY_BUCKETS,
            ("endpoint",),
        )
        self.translations = self._counter(
            "tafsiri_translations",
            "Texts translated per language pair",
            ("source_language", "target_language"),
        )
        self.characters = self._counter(
            "tafsiri_characters_translated", "Characters of source text translated"
        )
        self.cache_sentences = self._counter(
            "tafsiri_translation_cache_sentences",
            "Sentences looked up in the translation cache, by result",
            ("result",),
        )
        self.streamed_sentences = self._counter(
            "tafsiri_streamed_sentences",
            "Sentences of streamed translations: sent to the client, or cancelled (the client "
            "went away first)",
            ("outcome",),
        )
        self.repaired_sentences = self._counter(
            "tafsiri_repaired_sentences",
            "Sentences translated piece by piece because the model lost a protected span or tag",
        )
        self.quality_flags = self._counter(
            "tafsiri_translation_quality_flags",
            "Translations flagged by the quality checks (asked for), by flag",
            ("flag",),
        )
        self.corrections_served = self._counter(
            "tafsiri_corrections_served",
            "Translations answered with a client's correction instead of the model",
        )
        self.memory_sentences = self._counter(
            "tafsiri_memory_sentences",
            "Sentences a translation memory matched: served instead of the model, or suggested",
            ("use",),
        )
        self.withheld_translations = self._counter(
            "tafsiri_withheld_translations",
            "Translations withheld because their quality was below the request's min_quality",
        )
        self.inference_seconds = self._histogram(
            "tafsiri_translation_inference_seconds",
            "Time spent in the translation model",
            LATENCY_BUCKETS,
        )
        self.batch_size = self._histogram(
            "tafsiri_translation_batch_size",
            "Requests in the dynamic batch that served each translation request",
            BATCH_BUCKETS,
        )
        self.batch_sentences = self._histogram(
            "tafsiri_translation_batch_sentences",
            "Sentences decoded in the translate_batch call that served each request",
            BATCH_BUCKETS,
        )
        self.model_requests = self._counter(
            "tafsiri_model_requests",
            "Translate requests (or parts of one routed apart) served, by registered model",
            ("model",),
        )
        self.model_batch_size = self._histogram(
            "tafsiri_model_batch_size",
            "Requests in the dynamic batch that served each request, by registered model "
            "(a batch never mixes models)",
            BATCH_BUCKETS,
            ("model",),
        )
        self.detections = self._counter(
            "tafsiri_language_detections", "Detections per detected language", ("language",)
        )
        self.detection_batch_size = self._histogram(
            "tafsiri_detection_batch_size",
            "Requests in the dynamic batch that served each detection request",
            BATCH_BUCKETS,
        )
        self.errors = self._counter(
            "tafsiri_errors", "Errors answered, by kind", ("error_type", "endpoint")
        )
        self.model_load_seconds = self._gauge(
            "tafsiri_model_load_seconds", "Time taken to load each model", ("component",)
        )

    def _series(
        self,
        kind: type[Counter | Histogram | Gauge],
        name: str,
        help_text: str,
        labels: tuple[str, ...] = (),
        buckets: tuple[float, ...] | None = None,
    ) -> Series:
        """``kind`` in the local registry and, when exporting, its namesake in Ray's."""
        local_options: dict[str, Any] = {} if buckets is None else {"buckets": buckets}
        local = kind(name, help_text, labels, registry=self.registry, **local_options)
        exported = None
        if self._export:
            from ray.serve import metrics

            options: dict[str, Any] = {"description": help_text, "tag_keys": labels or None}
            if buckets is not None:
                options["boundaries"] = list(buckets)
            exported = getattr(metrics, kind.__name__)(name, **options)
        return Series(local, exported, labels)

    def _counter(self, name: str, help_text: str, labels: tuple[str, ...] = ()) -> Series:
        return self._series(Counter, name, help_text, labels)

    def _histogram(
        self, name: str, help_text: str, buckets: tuple[float, ...], labels: tuple[str, ...] = ()
    ) -> Series:
        return self._series(Histogram, name, help_text, labels, buckets)

    def _gauge(self, name: str, help_text: str, labels: tuple[str, ...] = ()) -> Series:
        return self._series(Gauge, name, help_text, labels)
