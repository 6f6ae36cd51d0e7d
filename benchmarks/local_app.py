"""The Tafsiri app on a local Ray in the benchmark's own process, on the offline models."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from serve_app.config import AppArgs


@contextlib.contextmanager
def local_app(
    port: int,
    translator_model: Path | str,
    max_batch_items: int,
    translator: dict[str, Any] | None = None,
    translator_deployment: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
) -> Iterator[str]:
    """Starts Ray (2 CPUs) and Serve on 127.0.0.1:``port``, runs the app on the bundled
    detector and ``translator_model`` (with ``translator`` settings and ``translator_deployment``
    Serve options over the defaults, and any other top-level ``settings``), yields its base URL
    and shuts both down. Ray's chatter
    goes to stderr: the benchmarks' stdout is their JSON."""
    import ray
    from ray import serve

    from serve_app.app import build_app

    with contextlib.redirect_stdout(sys.stderr):
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            serve.start(http_options={"host": "127.0.0.1", "port": port})
            values: dict[str, Any] = {
                "models": "hub",
                "detector": {"model": "lid.176"},
                "translator": {"model": str(translator_model), **(translator or {})},
                "api": {"max_batch_items": max_batch_items},
            }
            if translator_deployment:
                values["deployments"] = {"translator": translator_deployment}
            values |= settings or {}  # other top-level settings (auth, rate_limits, ...)
            app_args = AppArgs.model_validate(values)
            serve.run(build_app(app_args), name="tafsiri", route_prefix="/")
            yield f"http://127.0.0.1:{port}"
        finally:
            serve.shutdown()
            ray.shutdown()
