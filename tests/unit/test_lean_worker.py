"""serve_app.lean_worker: Ray's worker script run as Ray would run it, with pandas absent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from serve_app.app import deployment_options
from serve_app.config import AppArgs
from serve_app.lean_worker import MODULE, lean_py_executable

ROOT = Path(__file__).resolve().parents[2]

# What the worker script sees of how it was started.
SCRIPT = """
import json, sys
state = {}
for name in ("pandas", "pyarrow"):
    try:
        __import__(name)
        state[name] = "imported"
    except ModuleNotFoundError:  # what Ray catches when pyarrow is not installed
        state[name] = "absent"
print(json.dumps({"name": __name__, "argv": sys.argv, "path0": sys.path[0], **state}))
"""


ARGS = ["--node-ip-address=127.0.0.1", "--flag"]


def run(
    tmp_path: Path, command: list[str], flags: tuple[str, ...] = (), env: dict | None = None
) -> dict:
    script = tmp_path / "default_worker.py"
    script.write_text(SCRIPT)
    output = subprocess.run(
        [*command, *flags, str(script), *ARGS],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    ).stdout
    return json.loads(output)


def test_the_worker_script_runs_as_main_with_its_arguments_and_lean_worker(
    tmp_path: Path,
) -> None:
    plain = run(tmp_path, [sys.executable])
    lean = run(tmp_path, lean_py_executable().split())
    # Everything the script sees is what `python script args` gives it...
    for key in ("name", "argv", "path0"):
        assert lean[key] == plain[key], key
    assert lean["name"] == "__main__"
    assert lean["argv"][1:] == ["--node-ip-address=127.0.0.1", "--flag"]
    # ...except pandas and pyarrow (installed here: the Ray Data lane needs them).
    assert plain["pandas"] == plain["pyarrow"] == "imported"
    assert lean["pandas"] == lean["pyarrow"] == "absent"


def test_the_model_holding_replicas_start_lean_and_the_orchestrator_does_not() -> None:
    options = deployment_options(AppArgs(models="bundled", translator={"bulk": {"enabled": True}}))
    lean = {"Translator", "BulkTranslator", "LanguageDetector", "JobWorker", "Ingress"}
    assert lean < set(options)
    for name, values in options.items():
        runtime_env = values["ray_actor_options"].get("runtime_env")
        if name in lean:
            assert runtime_env == {"py_executable": f"{sys.executable} -m {MODULE}"}, name
        else:  # the data agent (pandas) runs in the Orchestrator
            assert runtime_env is None, name


def test_a_deployment_configured_in_part_keeps_its_own_lean_default() -> None:
    """Options given for a deployment replace its defaults wholesale; an unset `lean_worker`
    still means that deployment's default, and an explicit one wins either way."""
    args = AppArgs(
        models="bundled",
        deployments={
            "detector": {"num_cpus": 0.2, "max_ongoing_requests": 100},
            "orchestrator": {"num_cpus": 0.2, "max_ongoing_requests": 100},
            "ingress": {"num_cpus": 0.2, "max_ongoing_requests": 100, "lean_worker": False},
            "job_worker": {"num_cpus": 0.1, "max_ongoing_requests": 8, "lean_worker": None},
        },
    )
    options = deployment_options(args)

    def lean(name: str) -> bool:
        return "runtime_env" in options[name]["ray_actor_options"]

    assert all(lean(name) for name in ("LanguageDetector", "JobWorker", "Translator"))
    assert not any(lean(name) for name in ("Orchestrator", "Ingress"))


def test_interpreter_flags_before_the_script_reach_the_interpreter(tmp_path: Path) -> None:
    """Ray puts -s or -S before the worker script when the process that started Ray ran
    without the user or any site directory; they must act as the plain start's do."""
    for flag in ("-s", "-S"):
        plain = run(tmp_path, [sys.executable], (flag,))
        lean = run(tmp_path, lean_py_executable().split(), (flag,))
        assert lean["argv"] == plain["argv"], flag
        assert lean["argv"][1:] == ARGS, flag
        assert lean["name"] == "__main__", flag
        assert lean["pandas"] == lean["pyarrow"] == "absent", flag


def test_safe_path_keeps_the_search_path(tmp_path: Path) -> None:
    """Under -P (PYTHONSAFEPATH) no directory is put first: nothing may be overwritten."""
    extra = tmp_path / "on_path"
    extra.mkdir()
    env = {"PYTHONSAFEPATH": "1", "PYTHONPATH": str(extra)}
    plain = run(tmp_path, [sys.executable], env=env)
    lean = run(tmp_path, lean_py_executable().split(), env=env)
    assert plain["path0"] == lean["path0"] == str(extra)


def test_ray_starts_the_worker_through_it(tmp_path: Path) -> None:
    """Ray's own launcher (what its runtime-env agent hands the raylet) with our
    py_executable runs the worker script with its arguments, without pandas or pyarrow."""
    script = tmp_path / "default_worker.py"
    script.write_text(SCRIPT)
    launch = (
        "import sys\n"
        "from ray._private.runtime_env.context import RuntimeEnvContext\n"
        "from ray.core.generated.common_pb2 import Language\n"
        f"RuntimeEnvContext(py_executable={lean_py_executable()!r}).exec_worker("
        f"[{str(script)!r}, *{ARGS!r}], Language.PYTHON)\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", launch], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    seen = json.loads(output.strip().splitlines()[-1])
    assert seen["name"] == "__main__"
    assert seen["argv"] == [str(script), *ARGS]
    assert seen["pandas"] == seen["pyarrow"] == "absent"


def test_a_runtime_env_that_chooses_the_interpreter_keeps_replicas_plain() -> None:
    """An application or job runtime_env with its own interpreter or image: a lean
    replica's py_executable would replace it (or, with an image, be refused by Ray)."""
    from serve_app.app import INTERPRETER_FIELDS, interpreter_chosen_by

    assert interpreter_chosen_by({}) is None
    assert interpreter_chosen_by({"env_vars": {"A": "1"}, "working_dir": "."}) is None
    for field in INTERPRETER_FIELDS:
        assert interpreter_chosen_by({"env_vars": {}, field: "x"}) == field
    assert interpreter_chosen_by({"pip": []}) is None  # an empty list installs nothing
