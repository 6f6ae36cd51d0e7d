"""Renders cluster/rayservice.yaml: a KubeRay RayService whose serveConfigV2 *is*
serve_config.yaml, with only the settings a cluster must change (listed in OVERRIDES); and
cluster/rayservice-gpu.yaml, the same with the Translators on GPU worker pods (GPU_OVERRIDES
on top, and a GPU worker group beside the CPU one).

Run: ``python cluster/render_rayservice.py`` (writes both; ``--check`` exits 1 if either is
stale).
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path
from typing import Any

import yaml

from serve_app.serving import serving_env

ROOT = Path(__file__).resolve().parents[1]
SERVE_CONFIG = ROOT / "serve_config.yaml"
OUTPUT = ROOT / "cluster" / "rayservice.yaml"
GPU_OUTPUT = ROOT / "cluster" / "rayservice-gpu.yaml"
IMAGE = "ghcr.io/tafsiri/tafsiri:0.1.0"
# The same image built with the `gpu` extra (cluster/Dockerfile, --build-arg EXTRAS=gpu).
GPU_IMAGE = f"{IMAGE}-gpu"
REDIS = "redis://redis.tafsiri.svc.cluster.local:6379"

# Worker pods: what one pod gives Ray, and how far the Ray autoscaler may scale the group.
WORKER_CPUS = 4
# From NLLB-200 600M measured at true size (docs/deployment.md "Sizing"): a pod's two
# Translators, a BulkTranslator and a detector (Lingua, plus lid218e's 1.2 GB model in
# production) starting together need ~10 GiB, and a model swap (serve deploy) loads the new
# model beside the old. 8 GiB was too small.
WORKER_MEMORY = "16Gi"
MIN_WORKERS, MAX_WORKERS = 1, 8
TRANSLATOR_CPUS = 2
# GPU worker pods (rayservice-gpu.yaml): one GPU each, shared by two Translator or
# BulkTranslator replicas (num_gpus 0.5; one CPU each for tokenizing and the replica itself).
# Sized by this arithmetic, not by a measurement: no machine of ours runs CTranslate2 on a GPU.
GPUS_PER_WORKER = 1
GPU_WORKER_CPUS = 4
GPU_WORKER_MEMORY = "16Gi"
MIN_GPU_WORKERS, MAX_GPU_WORKERS = 1, 4
TRANSLATOR_GPUS = 0.5
# Which nodes have GPUs, and the taint GPU node pools usually carry: the label NVIDIA's GPU
# Feature Discovery (GPU Operator) sets; on a cloud's own GPU pools use its label instead
# (GKE: cloud.google.com/gke-accelerator, EKS: k8s.amazonaws.com/accelerator).
GPU_NODE_SELECTOR = {"nvidia.com/gpu.present": "true"}
GPU_TOLERATIONS = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
# The Ray autoscaler (KubeRay's in-tree sidecar): how long a node must be idle before its pod
# is removed, and how fast it may grow (Default: at most the current count per round).
AUTOSCALER_OPTIONS = {
    "upscalingMode": "Default",
    "idleTimeoutSeconds": 120,
    "resources": {
        "requests": {"cpu": "500m", "memory": "512Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    },
}

API_KEYS_ENV = {
    "name": "TAFSIRI_AUTH__API_KEYS",
    "valueFrom": {"secretKeyRef": {"name": "tafsiri-api-keys", "key": "api_keys.json"}},
}


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the embedded serve config) as readable literal blocks."""


def _string(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar(
        "tag:yaml.org,2002:str", data, style="|" if "\n" in data else None
    )


_Dumper.add_representer(str, _string)


# What differs on Kubernetes, and only that: proxies listen on all interfaces, the job store
# is the shared Redis (SQLite is one node's file), and replicas are sized for real nodes.
OVERRIDES: dict[str, Any] = {
    "http_options.host": "0.0.0.0",  # noqa: S104 - inside the pod network, behind a Service
    "args.jobs.backend": "redis",
    "args.jobs.redis_url": f"{REDIS}/1",
    # Refuse to start on a Redis that could lose accepted jobs (see docs/deployment.md).
    "args.jobs.redis_durability": "require",
    "args.rate_limits.storage_uri": f"{REDIS}/2",
    # One translation cache for every Translator replica, so a sentence is decoded once.
    "args.translator.cache.backend": "redis",
    "args.translator.cache.redis_url": f"{REDIS}/3",
    "args.environment": "production",
    "args.auth.enabled": True,
    # Sized for the worker pods below (4 CPUs, 16 GiB): a Translator replica is 2 CPUs that
    # CTranslate2 really uses (2 parallel workers of 1 thread), so a pod holds two of them
    # beside the small deployments, and the Ray autoscaler's arithmetic (pending replicas'
    # CPUs -> pods) holds. Explicit: in a pod, "one worker per core" would count the node's.
    "args.translator.inter_threads": TRANSLATOR_CPUS,
    "args.deployments.translator.num_cpus": TRANSLATOR_CPUS,
    "args.deployments.translator.autoscaling.max_replicas": 14,
    "args.deployments.translator.autoscaling.target_ongoing_requests": 16,
}


# The GPU variant: the Translators on GPUs, everything else as above. Only replicas that
# reserve a GPU can be placed on the GPU pods' Ray nodes' GPUs; the CPU-only deployments stay
# on the CPU pods because Ray prefers nodes without GPUs for work that needs none
# (scheduler_avoid_gpu_nodes, and the autoscaler's AUTOSCALER_CONSERVE_GPU_NODES, both on by
# default), using a GPU pod's spare CPUs only when no CPU pod has room.
GPU_OVERRIDES: dict[str, Any] = {
    "args.translator.device": "cuda",
    # One CTranslate2 worker per GPU replica: more would be more CUDA streams on one GPU,
    # each decoding a smaller share of every flush.
    "args.translator.inter_threads": 1,
    "args.deployments.translator.num_cpus": 1,
    "args.deployments.translator.num_gpus": TRANSLATOR_GPUS,
    "args.deployments.translator.autoscaling.max_replicas": 4,
    # A GPU replica batches up to 64 requests (translator.batching's GPU default): aim for
    # about one full flush in flight before adding replicas.
    "args.deployments.translator.autoscaling.target_ongoing_requests": 64,
    "args.deployments.bulk_translator.num_cpus": 1,
    "args.deployments.bulk_translator.num_gpus": TRANSLATOR_GPUS,
}


# Ray Serve's own levers (HAProxy + direct ingress, throughput-optimized replicas), read by
# Ray's processes when they start: the mode `tafsiri serve` runs locally (serve_app/serving.py).
SERVE_MODE_ENV = [{"name": name, "value": value} for name, value in serving_env("fast").items()]


def apply_overrides(
    config: dict[str, Any], overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    rendered = copy.deepcopy(config)
    for dotted, value in (OVERRIDES if overrides is None else overrides).items():
        path = dotted.split(".")
        if path[0] == "args":
            targets = [app["args"] for app in rendered["applications"]]
            path = path[1:]
        else:
            targets = [rendered]
        for target in targets:
            node = target
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = value
    return rendered


def _worker_container(image: str, resources: dict[str, str]) -> dict[str, Any]:
    return {
        "name": "ray-worker",
        "env": [API_KEYS_ENV, *SERVE_MODE_ENV],
        "image": image,
        # What KubeRay tells Ray the pod has: requests and limits alike.
        "resources": {"requests": dict(resources), "limits": dict(resources)},
    }


def _gpu_worker_group() -> dict[str, Any]:
    """Pods with one GPU each, for the replicas that reserve one (the Translators)."""
    resources = {
        "cpu": str(GPU_WORKER_CPUS),
        "memory": GPU_WORKER_MEMORY,
        "nvidia.com/gpu": str(GPUS_PER_WORKER),
    }
    return {
        "groupName": "gpu-workers",
        "replicas": MIN_GPU_WORKERS,
        "minReplicas": MIN_GPU_WORKERS,
        "maxReplicas": MAX_GPU_WORKERS,
        # KubeRay would read it from the nvidia.com/gpu limit; said here too, to match.
        "rayStartParams": {"num-gpus": str(GPUS_PER_WORKER)},
        "template": {
            "spec": {
                "nodeSelector": GPU_NODE_SELECTOR,
                "tolerations": GPU_TOLERATIONS,
                "containers": [_worker_container(GPU_IMAGE, resources)],
            }
        },
    }


def render(gpu: bool = False) -> str:
    """The CPU manifest, or with ``gpu`` the GPU variant."""
    overrides = {**OVERRIDES, **GPU_OVERRIDES} if gpu else OVERRIDES
    serve_config = apply_overrides(yaml.safe_load(SERVE_CONFIG.read_text()), overrides)
    # Keys come from the Secret `tafsiri-api-keys` as TAFSIRI_AUTH__API_KEYS (JSON list of
    # {id, sha256}); the config file would override the environment, so it names none.
    for app in serve_config["applications"]:
        app["args"]["auth"].pop("api_keys", None)
    manifest = {
        "apiVersion": "ray.io/v1",
        "kind": "RayService",
        "metadata": {"name": "tafsiri", "annotations": {"ray.io/ft-enabled": "true"}},
        "spec": {
            "serviceUnhealthySecondThreshold": 900,
            "deploymentUnhealthySecondThreshold": 300,
            "serveConfigV2": yaml.safe_dump(serve_config, sort_keys=False),
            "rayClusterConfig": {
                "rayVersion": "2.60.0",
                # Serve asks for replicas; the Ray autoscaler turns replicas that fit nowhere
                # into worker pods (within minReplicas..maxReplicas) and removes idle ones.
                "enableInTreeAutoscaling": True,
                "autoscalerOptions": AUTOSCALER_OPTIONS,
                "gcsFaultToleranceOptions": {"redisAddress": REDIS.removeprefix("redis://")},
                "headGroupSpec": {
                    "rayStartParams": {"num-cpus": "0", "dashboard-host": "0.0.0.0"},  # noqa: S104
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "ray-head",
                                    "env": [API_KEYS_ENV, *SERVE_MODE_ENV],
                                    "image": IMAGE,
                                    "resources": {
                                        "requests": {"cpu": "2", "memory": "4Gi"},
                                        "limits": {"cpu": "2", "memory": "4Gi"},
                                    },
                                    "ports": [
                                        {"containerPort": 6379, "name": "gcs"},
                                        {"containerPort": 8265, "name": "dashboard"},
                                        {"containerPort": 8000, "name": "serve"},
                                    ],
                                }
                            ]
                        }
                    },
                },
                "workerGroupSpecs": [
                    {
                        "groupName": "cpu-workers",
                        "replicas": MIN_WORKERS,
                        "minReplicas": MIN_WORKERS,
                        "maxReplicas": MAX_WORKERS,
                        "rayStartParams": {},
                        "template": {
                            "spec": {
                                "containers": [
                                    _worker_container(
                                        IMAGE, {"cpu": str(WORKER_CPUS), "memory": WORKER_MEMORY}
                                    )
                                ]
                            }
                        },
                    },
                    *([_gpu_worker_group()] if gpu else []),
                ],
            },
        },
    }
    applied = "OVERRIDES and GPU_OVERRIDES" if gpu else "OVERRIDES"
    header = (
        "# Generated by cluster/render_rayservice.py from serve_config.yaml; do not edit.\n"
        f"# serveConfigV2 is serve_config.yaml with the {applied} of that script applied.\n"
    )
    return header + yaml.dump(manifest, Dumper=_Dumper, sort_keys=False, width=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="fail if a manifest is stale")
    args = parser.parse_args(argv)
    rendered = {OUTPUT: render(), GPU_OUTPUT: render(gpu=True)}
    if args.check:
        stale = [path for path, text in rendered.items() if path.read_text() != text]
        for path in stale:
            print(f"{path} is stale", file=sys.stderr)
        return 1 if stale else 0
    for path, text in rendered.items():
        path.write_text(text)
        print(path, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
