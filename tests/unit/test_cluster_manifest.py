"""cluster/rayservice.yaml embeds serve_config.yaml: same document but for the listed overrides."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from serve_app.config import (
    BUNDLED_TRANSLATOR,
    DEFAULT_DETECTOR,
    DEFAULT_TRANSLATOR,
    DEFAULT_TRANSLATOR_REVISION,
)

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
    # Only the listed keys differ: of the deployments' options, the Translator's sizing.
    deployments = embedded["applications"][0]["args"]["deployments"]
    for name, options in local["applications"][0]["args"]["deployments"].items():
        if name != "translator":
            assert deployments[name] == options
    assert "deployments" not in embedded["applications"][0]  # options come from args alone
    assert embedded["applications"][0]["import_path"] == "serve_app.app:build_app"
    assert set(OVERRIDES) == {
        "http_options.host",
        "args.jobs.backend",
        "args.jobs.redis_url",
        "args.jobs.redis_durability",
        "args.rate_limits.storage_uri",
        "args.translator.cache.backend",
        "args.translator.cache.redis_url",
        "args.environment",
        "args.auth.enabled",
        "args.translator.inter_threads",
        "args.deployments.translator.num_cpus",
        "args.deployments.translator.autoscaling.max_replicas",
        "args.deployments.translator.autoscaling.target_ongoing_requests",
    }


def _cpus(quantity: str) -> float:
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def test_cluster_autoscaling_is_on_and_its_arithmetic_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Serve's replica autoscaling can only become pods if the Ray autoscaler runs, and its
    pod count is only right if pods and replicas' CPU requests fit together."""
    from serve_app.app import deployment_options
    from serve_app.config import AppArgs

    manifest = yaml.safe_load((ROOT / "cluster" / "rayservice.yaml").read_text())
    cluster = manifest["spec"]["rayClusterConfig"]
    assert cluster["enableInTreeAutoscaling"] is True
    options = cluster["autoscalerOptions"]
    assert options["upscalingMode"] in {"Default", "Conservative", "Aggressive"}
    assert options["idleTimeoutSeconds"] >= 30
    (group,) = cluster["workerGroupSpecs"]
    assert 1 <= group["minReplicas"] <= group["replicas"] <= group["maxReplicas"]
    (container,) = group["template"]["spec"]["containers"]
    resources = container["resources"]
    assert resources["requests"] == resources["limits"]  # what KubeRay tells Ray it has
    pod_cpus = _cpus(resources["limits"]["cpu"])
    # The head runs no replicas (num-cpus 0): every replica lands on a worker pod.
    assert cluster["headGroupSpec"]["rayStartParams"]["num-cpus"] == "0"

    monkeypatch.setenv("TAFSIRI_AUTH__API_KEYS", '[{"id": "ops", "sha256": "' + "0" * 64 + '"}]')
    args = AppArgs.model_validate(
        yaml.safe_load(manifest["spec"]["serveConfigV2"])["applications"][0]["args"]
    )
    computed = deployment_options(args)
    translator = computed["Translator"]
    translator_cpus = translator["ray_actor_options"]["num_cpus"]
    # CTranslate2 uses the CPUs the replica reserves, and a pod holds whole replicas.
    assert args.translator.intra_threads * args.translator.inter_threads == translator_cpus
    per_pod = int(pod_cpus // translator_cpus)
    assert per_pod >= 1
    # At the most replicas of every deployment, everything fits in maxReplicas pods.
    most = sum(
        o["ray_actor_options"]["num_cpus"]
        * (o.get("autoscaling_config", {}).get("max_replicas") or o.get("num_replicas", 1))
        for o in computed.values()
    )
    assert most <= group["maxReplicas"] * pod_cpus, (most, group["maxReplicas"], pod_cpus)
    # ... and the Translator's own maximum needs more than the minimum pods: pods do scale.
    assert translator["autoscaling_config"]["max_replicas"] > group["minReplicas"] * per_pod


def test_production_serves_real_models_only() -> None:
    """The production app refuses the bundled copy model and lid.176 (no fallback)."""
    from serve_app.config import AppArgs

    manifest = yaml.safe_load((ROOT / "cluster" / "rayservice.yaml").read_text())
    raw = yaml.safe_load(manifest["spec"]["serveConfigV2"])["applications"][0]["args"]
    raw["auth"]["api_keys"] = [{"id": "ops", "sha256": "0" * 64}]
    args = AppArgs.model_validate(raw)
    assert args.translator.model == DEFAULT_TRANSLATOR
    assert args.detector.model == DEFAULT_DETECTOR
    assert args.translator.fallback_model is None
    assert args.detector.fallback_model is None
    with pytest.raises(ValueError, match="production serves real models"):
        AppArgs.model_validate({**raw, "models": "bundled"})


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
    assert parsed.rate_limits.storage_uri.startswith("redis://")
    assert manifest["spec"]["rayClusterConfig"]["gcsFaultToleranceOptions"]["redisAddress"]


def test_dockerfile_matches_the_repository_and_the_manifest() -> None:
    """No container engine here to build it: check what a build would trip over instead."""
    lines = (ROOT / "cluster" / "Dockerfile").read_text().splitlines()
    instructions = [line.split(maxsplit=1) for line in lines if line and not line[0].isspace()]
    instructions = [i for i in instructions if i[0].isupper()]
    workdir = next(args for op, args in instructions if op == "WORKDIR")
    copied = [args.split()[:-1] for op, args in instructions if op == "COPY"]
    for sources in copied:
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
    # Every package the wheel needs is copied before `pip install .`.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    copied_names = {Path(source).name for sources in copied for source in sources}
    assert {p.rstrip("*") for p in packages} <= copied_names
    # The image bakes the real models the config names (`tafsiri models pull` fetches the
    # defaults, pinned) and runs offline; it builds the bundled fallback where AppArgs looks.
    config = yaml.safe_load((ROOT / "serve_config.yaml").read_text())
    translator = config["applications"][0]["args"]["translator"]
    assert (translator["model"], translator["revision"]) == (
        DEFAULT_TRANSLATOR,
        DEFAULT_TRANSLATOR_REVISION,
    )
    assert config["applications"][0]["args"]["detector"]["model"] == DEFAULT_DETECTOR
    text = "\n".join(lines)
    assert "RUN tafsiri models pull" in text
    assert "ENV HF_HUB_OFFLINE=1" in text
    assert f"tafsiri build-test-model {workdir}/{BUNDLED_TRANSLATOR}" in text
    # `tafsiri serve` (the serve mode; drains on SIGTERM), as PID 1: exec form.
    assert lines[-1] == 'CMD ["tafsiri", "serve", "serve_config.yaml"]'
    # The manifest runs the image the Dockerfile says it builds.
    manifest = (ROOT / "cluster" / "rayservice.yaml").read_text()
    tag = next(line for line in lines if "docker build" in line).split("-t ")[1].split()[0]
    assert tag.split(":")[1] in manifest


def test_every_ray_container_starts_in_the_fast_serve_mode() -> None:
    """Serve reads its levers when Ray's processes start, so each pod's container must carry
    them: the head's HAProxy and the workers' replicas alike."""
    from serve_app.serving import serving_env

    manifest = yaml.safe_load((ROOT / "cluster" / "rayservice.yaml").read_text())
    cluster = manifest["spec"]["rayClusterConfig"]
    groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    for group in groups:
        (container,) = group["template"]["spec"]["containers"]
        env = {item["name"]: item.get("value") for item in container["env"]}
        assert env["RAY_SERVE_ENABLE_HA_PROXY"] == "1", container["name"]
        assert env["RAY_SERVE_THROUGHPUT_OPTIMIZED"] == "1", container["name"]
        assert serving_env("fast").items() <= env.items()
