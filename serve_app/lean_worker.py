"""Starts a Ray worker process that never imports pandas or pyarrow.

Where they are installed, every Ray Serve replica process imports both: Ray Serve imports
pandas only to encode a ``DataFrame`` a deployment might return
(``ray/serve/_private/utils.py``), and every Ray worker imports pyarrow to register Ray
Data's serializers for Arrow tables (``ray/_private/arrow_serialization.py``). About 100 MiB
of resident memory per process on this project's environment (``import ray.serve``: 248 MiB
RSS, 149 MiB without them). Tafsiri installs them for its Ray Data batch lane and its data
agent, which run in other processes; the Translators, the detector, the ingress and the job
workers never pass a DataFrame or an Arrow table.

Ray starts such a replica as ``<py_executable> default_worker.py <arguments>``; with
``runtime_env={"py_executable": lean_py_executable()}`` (a documented runtime-env field: "python
with custom arguments") the command is ``python -m serve_app.lean_worker default_worker.py
...``. This module marks both as absent (their import raises ``ModuleNotFoundError``, what
Ray expects when they are not installed) and then runs Ray's worker exactly as Ray would
have, as ``__main__`` with the same arguments. Plain Python, no Ray import.
"""

from __future__ import annotations

import os
import runpy
import sys

# Modules a lean replica never loads.
ABSENT = ("pandas", "pyarrow")


MODULE = "serve_app.lean_worker"


def lean_py_executable(python: str | None = None) -> str:
    """The ``py_executable`` runtime-env value that starts workers through this module."""
    return f"{python or sys.executable} -m {MODULE}"


def main(argv: list[str]) -> None:
    """Runs the worker script ``argv[0]`` with ``argv[1:]`` as ``python argv[0] ...`` would."""
    if not argv:
        raise SystemExit("usage: python -m serve_app.lean_worker <worker script> [args...]")
    for name in ABSENT:
        sys.modules[name] = None  # type: ignore[assignment]  # "not installed" to importers
    script = os.path.abspath(argv[0])
    sys.argv = [script, *argv[1:]]
    sys.path[0] = os.path.dirname(script)  # as when the script itself is run
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
