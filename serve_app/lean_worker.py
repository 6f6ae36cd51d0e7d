"""Starts a Ray worker process that never imports pandas or pyarrow.

Where they are installed, every Ray Serve replica process imports both: Ray Serve imports
pandas only to encode a ``DataFrame`` a deployment might return
(``ray/serve/_private/utils.py``), and every Ray worker imports pyarrow to register Ray
Data's serializers for Arrow tables (``ray/_private/arrow_serialization.py``). Tafsiri
installs them for its Ray Data batch lane and its data agent, which run in other processes;
the Translators, the detector, the ingress and the job workers never pass a DataFrame or an
Arrow table. What it saves: docs/benchmarks.md ("NLLB at true size").

Ray starts such a replica as ``exec <py_executable> [-s|-S] default_worker.py <arguments>``
(``ray/_private/runtime_env/context.py``; the site flag only when the process that started
Ray ran without the user or any site directory). With ``runtime_env={"py_executable":
lean_py_executable()}``, a documented runtime-env field ("python with custom arguments"),
that is ``python -m serve_app.lean_worker [flag] default_worker.py ...``. This module marks
both modules absent (their import raises ``ModuleNotFoundError``, what Ray expects when
they are not installed) and runs Ray's worker as Ray would have: as ``__main__``, with the
same arguments and interpreter flags. Plain Python, no Ray import.
"""

from __future__ import annotations

import os
import runpy
import sys

MODULE = "serve_app.lean_worker"
# Modules a lean replica never loads.
ABSENT = ("pandas", "pyarrow")


def lean_py_executable() -> str:
    """The ``py_executable`` runtime-env value that starts workers through this module."""
    return f"{sys.executable} -m {MODULE}"


def main(argv: list[str]) -> None:
    """Runs the worker script in ``argv`` (after any interpreter flags) with the arguments
    that follow it, as ``python [flags] script ...`` would."""
    flags = []
    while argv and argv[0].startswith("-"):
        flags.append(argv.pop(0))
    if not argv:
        raise SystemExit(f"usage: python -m {MODULE} [interpreter flags] <script> [args...]")
    if flags:
        # Interpreter flags (Ray's -s/-S) apply to the interpreter, not to this module:
        # start again with them, in the same process.
        os.execv(sys.executable, [sys.executable, *flags, "-m", MODULE, *argv])  # noqa: S606
    for name in ABSENT:
        sys.modules[name] = None  # type: ignore[assignment]  # "not installed" to importers
    script = os.path.abspath(argv[0])
    sys.argv = [script, *argv[1:]]
    if not sys.flags.safe_path:  # -P: neither a script's nor a module's directory is added
        sys.path[0] = os.path.dirname(script)  # as when the script itself is run
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
