"""What Serve runs is what AppArgs says: every deployment option comes from build_app."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from serve_app.app import deployment_options
from tests.serve.conftest import APP_NAME, app_args

pytestmark = pytest.mark.serve


def running_deployments() -> dict[str, Any]:
    from ray.serve.context import _get_global_client

    details = _get_global_client().get_serve_details()
    deployments: dict[str, Any] = details["applications"][APP_NAME]["deployments"]
    return deployments


def test_options_set_in_app_args_are_the_ones_serve_runs(base_url: str, test_model_dir) -> None:
    args = app_args(test_model_dir)
    running = running_deployments()
    orchestrator = running["Orchestrator"]["deployment_config"]
    detector = running["LanguageDetector"]["deployment_config"]
    # Values the shared test app sets in AppArgs, none of them a default.
    assert orchestrator["max_ongoing_requests"] == 48
    assert detector["max_ongoing_requests"] == 200
    assert detector["health_check_period_s"] == 7
    assert detector["ray_actor_options"]["num_cpus"] == pytest.approx(0.1)
    translator = running["Translator"]["deployment_config"]
    assert translator["user_config"] == args.translator.model_dump(mode="json")
    assert translator["autoscaling_config"]["max_replicas"] == 4
    # Every deployment, every option build_app computes.
    for name, options in deployment_options(args).items():
        config = running[name]["deployment_config"]
        assert config["max_ongoing_requests"] == options["max_ongoing_requests"], name
        assert config["ray_actor_options"]["num_cpus"] == pytest.approx(
            options["ray_actor_options"]["num_cpus"]
        ), name


def test_serve_config_file_leaves_deployment_options_to_app_args() -> None:
    """A `deployments:` section in serve_config.yaml would silently win over AppArgs."""
    from pathlib import Path

    config = yaml.safe_load((Path(__file__).parents[2] / "serve_config.yaml").read_text())
    (application,) = config["applications"]
    assert "deployments" not in application
    assert "translator" in application["args"]["deployments"]


def test_lean_replicas_hold_neither_pandas_nor_pyarrow(base_url: str) -> None:
    """`lean_worker` replicas start without the data libraries (pandas, pyarrow); the
    Orchestrator, whose data agent uses pandas, still has them: the check can see them."""
    import re

    import psutil

    replica = re.compile(rf"ray::ServeReplica:{APP_NAME}:(\w+)")
    loaded: dict[str, bool] = {}
    for process in psutil.Process().children(recursive=True):
        try:
            # Ray retitles a replica while it runs a call ("...:Translator.method").
            found = replica.match(process.cmdline()[0] if process.cmdline() else "")
            if found is None:
                continue
            maps = [m.path for m in process.memory_maps(grouped=True)]
        except psutil.Error:
            continue
        name = found.group(1)
        libraries = any("/pyarrow/" in path or "/pandas/" in path for path in maps)
        loaded[name] = loaded.get(name, False) or libraries
    lean = {"Translator", "BulkTranslator", "LanguageDetector", "Ingress", "JobWorker"}
    assert lean | {"Orchestrator"} <= set(loaded), loaded
    assert loaded.pop("Orchestrator"), "the Orchestrator should have pandas (its data agent)"
    assert not any(loaded.values()), loaded
