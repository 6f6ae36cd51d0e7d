"""cluster/rayservice.yaml embeds serve_config.yaml: same document but for the listed overrides."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "cluster"))

from render_rayservice import OVERRIDES, apply_overrides  # noqa: E402


def test_manifest_is_freshly_rendered() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "cluster" / "render_rayservice.py"), "--check"], check=False
    )
    assert run.returncode == 0, "run `python cluster/render_rayservice.py` and commit the result"


def test_serve_config_v2_is_serve_config_plus_overrides() -> None:
    manifest = yaml.safe_load((ROOT / "cluster" / "rayservice.yaml").read_text())
    embedded = yaml.safe_load(manifest["spec"]["serveConfigV2"])
    local = yaml.safe_load((ROOT / "serve_config.yaml").read_text())
    expected = apply_overrides(local)
    expected["applications"][0]["args"]["auth"].pop("api_keys")  # from the Secret instead
    assert embedded == expected
    # Only the listed keys differ.
    assert embedded["applications"][0]["deployments"] == local["applications"][0]["deployments"]
    assert embedded["applications"][0]["import_path"] == "serve_app.app:build_app"
    assert set(OVERRIDES) == {
        "http_options.host",
        "args.jobs.backend",
        "args.jobs.redis_url",
        "args.environment",
        "args.auth.enabled",
    }


def test_embedded_args_are_valid_app_args(monkeypatch: pytest.MonkeyPatch) -> None:
    from serve_app.config import AppArgs

    manifest = yaml.safe_load((ROOT / "cluster" / "rayservice.yaml").read_text())
    args = yaml.safe_load(manifest["spec"]["serveConfigV2"])["applications"][0]["args"]
    # What the Secret provides at deploy time.
    monkeypatch.setenv("TAFSIRI_AUTH__API_KEYS", '[{"id": "ops", "sha256": "' + "0" * 64 + '"}]')
    parsed = AppArgs.model_validate(args)
    assert parsed.auth.api_keys[0].id == "ops"
    assert parsed.jobs.backend == "redis"
    assert parsed.environment == "production"
    assert manifest["spec"]["rayClusterConfig"]["gcsFaultToleranceOptions"]["redisAddress"]
