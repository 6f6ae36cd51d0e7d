"""Prometheus metrics of the service, in one place, with bounded label sets.

Labels only ever take values from closed sets: route templates (not raw paths), status
classes, error kinds, and FLORES-200 codes that passed validation.
"""

from __future__ import annotations

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


class Metrics:
    """The ingress replica's metrics; ``/metrics`` renders ``registry``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        # process_resident_memory_bytes, process_cpu_seconds_total, open fds: the standard
        # series every Prometheus user expects, for this ingress replica's process.
        ProcessCollector(registry=r)
        self.requests = Counter(
            "tafsiri_requests", "HTTP requests", ["endpoint", "method", "status"], registry=r
        )
        self.request_seconds = Histogram(
            "tafsiri_request_duration_seconds",
            "HTTP request latency",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.translations = Counter(
            "tafsiri_translations",
            "Texts translated per language pair",
            ["source_language", "target_language"],
            registry=r,
        )
        self.characters = Counter(
            "tafsiri_characters_translated", "Characters of source text translated", registry=r
        )
        self.inference_seconds = Histogram(
            "tafsiri_translation_inference_seconds",
            "Time spent in the translation model",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_size = Histogram(
            "tafsiri_translation_batch_size",
            "Requests in the dynamic batch that served each translation request",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.batch_sentences = Histogram(
            "tafsiri_translation_batch_sentences",
            "Sentences decoded in the translate_batch call that served each request",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.detections = Counter(
            "tafsiri_language_detections",
            "Detections per detected language",
            ["language"],
            registry=r,
        )
        self.detection_batch_size = Histogram(
            "tafsiri_detection_batch_size",
            "Requests in the dynamic batch that served each detection request",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "tafsiri_errors", "Errors answered, by kind", ["error_type", "endpoint"], registry=r
        )
        self.model_load_seconds = Gauge(
            "tafsiri_model_load_seconds",
            "Time taken to load each model",
            ["component"],
            registry=r,
        )
