"""serve_app.lean_worker: Ray's worker script run as Ray would run it, with pandas absent."""

from __future__ import annotations

import json
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


def run(tmp_path: Path, command: list[str]) -> dict:
    script = tmp_path / "default_worker.py"
    script.write_text(SCRIPT)
    output = subprocess.run(
        [*command, str(script), "--node-ip-address=127.0.0.1", "--flag"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
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

    assert lean("LanguageDetector") and lean("JobWorker") and lean("Translator")
    assert not lean("Orchestrator") and not lean("Ingress")
    on = AppArgs(
        models="bundled",
        deployments={
            "orchestrator": {"num_cpus": 0.1, "max_ongoing_requests": 64, "lean_worker": True}
        },
    )
    assert "runtime_env" in deployment_options(on)["Orchestrator"]["ray_actor_options"]
