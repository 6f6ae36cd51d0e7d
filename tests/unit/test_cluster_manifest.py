"""cluster/rayservice.yaml embeds serve_config.yaml: same document but for the listed overrides;
cluster/rayservice-gpu.yaml too, with the GPU overrides and a GPU worker group."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

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

from render_rayservice import GPU_OVERRIDES, OVERRIDES, apply_overrides  # noqa: E402

MANIFESTS = ["rayservice.yaml", "rayservice-gpu.yaml"]


def load_manifest(name: str = "rayservice.yaml") -> dict[str, Any]:
    manifest: dict[str, Any] = yaml.safe_load((ROOT / "cluster" / name).read_text())
    return manifest


def test_manifest_is_freshly_rendered() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "cluster" / "render_rayservice.py"), "--check"], check=False
    )
    assert run.returncode == 0, "run `python cluster/render_rayservice.py` and commit the result"


@pytest.mark.parametrize("stale", ["OUTPUT", "GPU_OUTPUT"])
def test_the_check_fails_when_either_manifest_is_stale(
    stale: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import render_rayservice

    for attribute in ("OUTPUT", "GPU_OUTPUT"):
        copy = tmp_path / getattr(render_rayservice, attribute).name
        copy.write_text(getattr(render_rayservice, attribute).read_text())
        monkeypatch.setattr(render_rayservice, attribute, copy)
    assert render_rayservice.main(["--check"]) == 0
    edited = getattr(render_rayservice, stale)
    edited.write_text(edited.read_text() + "# edited by hand\n")
    assert render_rayservice.main(["--check"]) == 1


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


@pytest.mark.parametrize("name", MANIFESTS)
def test_production_serves_real_models_only(name: str) -> None:
    """The production app refuses the bundled copy model and lid.176 (no fallback)."""
    from serve_app.config import AppArgs

    manifest = load_manifest(name)
    raw = yaml.safe_load(manifest["spec"]["serveConfigV2"])["applications"][0]["args"]
    raw["auth"]["api_keys"] = [{"id": "ops", "sha256": "0" * 64}]
    args = AppArgs.model_validate(raw)
    assert args.translator.model == DEFAULT_TRANSLATOR
    assert args.detector.model == DEFAULT_DETECTOR
    assert args.translator.fallback_model is None
    assert args.detector.fallback_model is None
    with pytest.raises(ValueError, match="production serves real models"):
        AppArgs.model_validate({**raw, "models": "bundled"})


@pytest.mark.parametrize("name", MANIFESTS)
def test_embedded_args_are_valid_app_args(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    from serve_app.config import AppArgs

    manifest = load_manifest(name)
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
    # The SDK the package requires is installed from the repository, not looked for on PyPI.
    assert any(
        op == "RUN" and args.startswith("pip install ./client ") for op, args in instructions
    )
    # The proxy listens on every interface in the container: the edit finds its line.
    assert "  host: 127.0.0.1" in (ROOT / "serve_config.yaml").read_text().splitlines()
    assert "sed -i 's/^  host: 127.0.0.1$/  host: 0.0.0.0/' serve_config.yaml" in text
    # `tafsiri serve` (the serve mode; drains on SIGTERM), as PID 1: exec form.
    assert lines[-1] == 'CMD ["tafsiri", "serve", "serve_config.yaml"]'
    # The manifest runs the image the Dockerfile says it builds.
    manifest = (ROOT / "cluster" / "rayservice.yaml").read_text()
    tag = next(line for line in lines if "docker build" in line).split("-t ")[1].split()[0]
    assert tag.split(":")[1] in manifest


@pytest.mark.parametrize("name", MANIFESTS)
def test_every_ray_container_starts_in_the_fast_serve_mode(name: str) -> None:
    """Serve reads its levers when Ray's processes start, so each pod's container must carry
    them: the head's HAProxy and the workers' replicas alike."""
    from serve_app.serving import serving_env

    cluster = load_manifest(name)["spec"]["rayClusterConfig"]
    groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    for group in groups:
        (container,) = group["template"]["spec"]["containers"]
        env = {item["name"]: item.get("value") for item in container["env"]}
        assert env["RAY_SERVE_ENABLE_HA_PROXY"] == "1", container["name"]
        assert env["RAY_SERVE_THROUGHPUT_OPTIMIZED"] == "1", container["name"]
        assert serving_env("fast").items() <= env.items()


def _dockerfile_env(lines: list[str]) -> dict[str, str]:
    """The Dockerfile's ENV settings (continuation lines joined)."""
    text = "\n".join(lines).replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(item.split("=", 1) for item in line.split()[1:])
    return env


def test_the_gpu_extra_and_image_give_ctranslate2_its_cuda_libraries() -> None:
    """CTranslate2's wheel dlopens cuBLAS for CUDA 12: the `gpu` extra installs it from PyPI,
    the image built with EXTRAS=gpu installs the extra, and the loader finds every library
    the extra brings where pip puts it (LD_LIBRARY_PATH, read when a process starts)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    extra = pyproject["project"]["optional-dependencies"]["gpu"]
    names = [re.split(r"[<>=!~ ;\[]", requirement, maxsplit=1)[0] for requirement in extra]
    assert "nvidia-cublas-cu12" in names
    assert not any(name.startswith("nvidia-") for name in pyproject["project"]["dependencies"])

    lines = (ROOT / "cluster" / "Dockerfile").read_text().splitlines()
    python = re.match(r"FROM python:(\d+\.\d+)-", next(x for x in lines if x.startswith("FROM")))
    assert python, "the image's Python decides where pip installs"
    site_packages = f"/usr/local/lib/python{python[1]}/site-packages"
    env = _dockerfile_env(lines)
    library_path = env["LD_LIBRARY_PATH"].split(":")
    for name in names:
        if name.startswith("nvidia-"):
            library = name.removeprefix("nvidia-").removesuffix("-cu12")
            assert f"{site_packages}/nvidia/{library}/lib" in library_path, name
    # The NVIDIA container runtime mounts the host's libcuda only for the compute capability.
    assert "compute" in env["NVIDIA_DRIVER_CAPABILITIES"].split(",")
    assert 'ARG EXTRAS=""' in lines
    assert 'RUN pip install ./client ".${EXTRAS:+[$EXTRAS]}"' in lines
    gpu_build = next(line for line in lines if "--build-arg EXTRAS=gpu" in line)
    gpu_tag = gpu_build.split("-t ")[1].split()[0]
    assert gpu_tag.endswith("-gpu")
    # The GPU manifest's GPU pods run the image that build makes.
    gpu_cluster = load_manifest("rayservice-gpu.yaml")["spec"]["rayClusterConfig"]
    images = {
        container["image"]
        for group in gpu_cluster["workerGroupSpecs"]
        for container in group["template"]["spec"]["containers"]
        if "nvidia.com/gpu" in container["resources"]["limits"]
    }
    assert images
    assert all(image.endswith(":" + gpu_tag.split(":")[1]) for image in images)


def test_the_gpu_manifest_is_serve_config_plus_the_gpu_overrides() -> None:
    manifest = load_manifest("rayservice-gpu.yaml")
    embedded = yaml.safe_load(manifest["spec"]["serveConfigV2"])
    local = yaml.safe_load((ROOT / "serve_config.yaml").read_text())
    expected = apply_overrides(local, {**OVERRIDES, **GPU_OVERRIDES})
    expected["applications"][0]["args"]["auth"].pop("api_keys")  # from the Secret instead
    assert embedded == expected
    # What differs from the CPU manifest: where the Translators run, and their sizing.
    assert set(GPU_OVERRIDES) == {
        "args.translator.device",
        "args.translator.inter_threads",
        "args.deployments.translator.num_cpus",
        "args.deployments.translator.num_gpus",
        "args.deployments.translator.autoscaling.max_replicas",
        "args.deployments.translator.autoscaling.target_ongoing_requests",
        "args.deployments.bulk_translator.num_cpus",
        "args.deployments.bulk_translator.num_gpus",
    }
    assert GPU_OVERRIDES["args.translator.device"] == "cuda"


def _quantity(resources: dict[str, Any], name: str) -> float:
    value = str(resources.get(name, "0"))
    return float(value[:-1]) / 1000 if value.endswith("m") else float(value)


def test_the_translators_run_on_gpu_pods_and_the_rest_on_cpu_pods(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The GPU worker group gives Ray the GPUs its pods hold, on GPU nodes; the replicas that
    reserve them (the Translators, device cuda) fit those pods at their most, and the CPU-only
    deployments fit the CPU pods."""
    from serve_app.app import deployment_options
    from serve_app.config import AppArgs

    manifest = load_manifest("rayservice-gpu.yaml")
    cluster = manifest["spec"]["rayClusterConfig"]
    groups = {group["groupName"]: group for group in cluster["workerGroupSpecs"]}
    assert set(groups) == {"cpu-workers", "gpu-workers"}
    gpu_group, cpu_group = groups["gpu-workers"], groups["cpu-workers"]
    assert cpu_group == load_manifest()["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]

    spec = gpu_group["template"]["spec"]
    (container,) = spec["containers"]
    resources = container["resources"]
    assert resources["requests"] == resources["limits"]
    pod_gpus = _quantity(resources["limits"], "nvidia.com/gpu")
    pod_cpus = _quantity(resources["limits"], "cpu")
    assert pod_gpus >= 1
    # Ray is told the GPUs Kubernetes gives the pod, no more, no fewer.
    assert float(gpu_group["rayStartParams"]["num-gpus"]) == pod_gpus
    # Scheduled onto GPU nodes, through the taint GPU pools carry.
    assert spec["nodeSelector"]
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in spec[
        "tolerations"
    ]
    # The GPU pods run the image built with the gpu extra; the others the CPU image.
    assert container["image"].endswith("-gpu")
    (cpu_container,) = cpu_group["template"]["spec"]["containers"]
    assert container["image"] == cpu_container["image"] + "-gpu"
    assert "nvidia.com/gpu" not in cpu_container["resources"]["limits"]

    monkeypatch.setenv("TAFSIRI_AUTH__API_KEYS", '[{"id": "ops", "sha256": "' + "0" * 64 + '"}]')
    args = AppArgs.model_validate(
        yaml.safe_load(manifest["spec"]["serveConfigV2"])["applications"][0]["args"]
    )
    assert args.translator.device == "cuda"
    computed = deployment_options(args)

    def most(options: dict[str, Any]) -> int:
        scaling = options.get("autoscaling_config", {})
        return int(scaling.get("max_replicas") or options.get("num_replicas", 1))

    on_gpus = {n: o for n, o in computed.items() if o["ray_actor_options"].get("num_gpus")}
    assert set(on_gpus) == {"Translator", "BulkTranslator"}
    for options in on_gpus.values():
        actor = options["ray_actor_options"]
        per_pod = int(pod_gpus // actor["num_gpus"])
        assert per_pod >= 1
        assert per_pod * actor["num_cpus"] <= pod_cpus  # the pod's CPUs hold them too
    gpus_at_most = sum(o["ray_actor_options"]["num_gpus"] * most(o) for o in on_gpus.values())
    assert gpus_at_most <= gpu_group["maxReplicas"] * pod_gpus, gpus_at_most
    # ... and the Translator's own maximum needs more than the minimum pods: pods do scale.
    translator = on_gpus["Translator"]
    assert translator["ray_actor_options"]["num_gpus"] * most(translator) > (
        gpu_group["minReplicas"] * pod_gpus
    )
    cpu_pod = _quantity(cpu_container["resources"]["limits"], "cpu")
    cpus_at_most = sum(
        o["ray_actor_options"]["num_cpus"] * most(o)
        for name, o in computed.items()
        if name not in on_gpus
    )
    assert cpus_at_most <= cpu_group["maxReplicas"] * cpu_pod, cpus_at_most


def _strict(schema: Any) -> Any:
    """A CRD's schema that refuses unknown fields (as `kubectl apply --validate=strict`)."""
    if isinstance(schema, dict):
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema = {**schema, "additionalProperties": False}
        return {key: _strict(value) for key, value in schema.items()}
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


# KubeRay v1.7.0's RayService schema (ray.io/v1), from its CRD
# (helm-chart/kuberay-operator/crds/ray.io_rayservices.yaml, Apache-2.0), minified.
KUBERAY_SCHEMA = Path(__file__).parent / "data" / "kuberay-v1.7.0-rayservice-schema.json"


@pytest.mark.parametrize("name", MANIFESTS)
def test_manifests_match_kuberays_crd(name: str) -> None:
    """Against KubeRay's own RayService schema (v1.7.0's, kept here; KUBERAY_CRD may point at
    another operator version's ray.io_rayservices.yaml), every field known and typed as the
    operator expects."""
    import jsonschema

    crd_path = os.environ.get("KUBERAY_CRD")
    if crd_path:
        crd = yaml.safe_load(Path(crd_path).read_text())
        (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
        schema = version["schema"]["openAPIV3Schema"]
    else:
        schema = json.loads(KUBERAY_SCHEMA.read_text())
    schema = _strict(schema)
    schema["properties"]["metadata"] = {"type": "object"}  # the API server's, not the CRD's
    errors = [
        f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
        for error in jsonschema.Draft7Validator(schema).iter_errors(load_manifest(name))
    ]
    assert not errors, "\n".join(errors)
