"""Where a translator runs: the device and compute type CTranslate2 is asked for, and the
settings whose best value differs by device, resolved once when an engine is loaded.

``auto`` is resolved in the process that loads the model, because only it knows what it
sees. Under Ray it must also know what it reserved: Ray 2.60 no longer empties
``CUDA_VISIBLE_DEVICES`` in an actor that reserves no GPU (ray-project/ray#54868), so a
replica with ``num_gpus`` 0 on a GPU node sees the node's GPUs. Its caller passes the GPUs Ray
gave it (:func:`on_reserved_devices`), and ``auto`` is the CPU without one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

Device = Literal["auto", "cpu", "cuda"]
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")
# CTranslate2's compute types, and ours: "auto" picks per device (COMPUTE_PREFERENCE), unlike
# CTranslate2's own "auto" (on CPU it picks int8_float32, not the int8 we serve).
ComputeType = Literal[
    "auto",
    "default",
    "int8",
    "int8_float32",
    "int8_float16",
    "int8_bfloat16",
    "int16",
    "float16",
    "bfloat16",
    "float32",
]
# What "auto" becomes on each device: the first of these the device supports. On CPU int8
# weights and activations; on CUDA int8 weights with float16 activations (what CTranslate2's
# and faster-whisper's documentation suggest for GPUs), else the next best the GPU has.
COMPUTE_PREFERENCE: dict[str, tuple[str, ...]] = {
    "cpu": ("int8", "int8_float32", "float32"),
    "cuda": ("int8_float16", "float16", "int8_float32", "int8", "float32"),
}

GPU_HELP = (
    "to run the translator on a GPU, the process needs an NVIDIA GPU with its driver (check "
    "`nvidia-smi`), the CUDA 12 libraries CTranslate2 loads (`pip install 'tafsiri[gpu]'`, "
    "with their folders on LD_LIBRARY_PATH as docs/deployment.md shows, or the GPU image "
    "`docker build --build-arg EXTRAS=gpu`), and under Ray Serve a GPU reserved for the "
    "replica (deployments.translator.num_gpus > 0); or set translator.device to cpu, or to "
    "auto (a GPU where one is visible, else the CPU)"
)
# CTranslate2's errors that mean the CUDA runtime cannot be used here (a missing cuBLAS, a
# driver too old or absent), as opposed to an error of the model itself.
_CUDA_ERROR = re.compile(r"lib(cublas|cudnn|cudart|cuda|nccl)|CUDA|cuBLAS|cuDNN")


class DeviceUnavailableError(RuntimeError):
    """The translator was asked to run where it cannot: a GPU that is not there or whose
    libraries are missing, or a compute type the device does not support. Never a reason to
    fall back to another model: the configuration, not the model, has to change."""


@dataclass(frozen=True)
class DeviceDefaults:
    """Settings left unset (None, or inter_threads 0) take these on their device."""

    max_batch_tokens: int  # translator.max_batch_tokens
    max_batch_size: int  # translator.batching.max_batch_size
    inter_threads: int  # translator.inter_threads 0: CTranslate2 workers


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def device_defaults(device: str) -> DeviceDefaults:
    """On CPU, small sub-batches decode fastest (1,024 tokens beat 4,096 by 15-25% on the
    base test model, benchmarks/serve_throughput.py) and one worker per core uses them all.
    On a GPU CTranslate2's advice is the opposite: larger batches, one worker (more workers
    are more CUDA streams on the same GPU, and would split each flush into smaller shares).
    The GPU values follow that advice; no GPU figure of ours backs them."""
    if device == "cuda":
        return DeviceDefaults(max_batch_tokens=4096, max_batch_size=64, inter_threads=1)
    return DeviceDefaults(max_batch_tokens=1024, max_batch_size=32, inter_threads=available_cores())


@dataclass(frozen=True)
class Placement:
    """A resolved device (cpu or cuda) and a compute type CTranslate2 accepts on it."""

    device: str
    compute_type: str

    @property
    def defaults(self) -> DeviceDefaults:
        return device_defaults(self.device)


def visible_gpus() -> int:
    """CUDA devices this process sees (0 without a GPU, a driver, or CUDA_VISIBLE_DEVICES)."""
    import ctranslate2

    return int(ctranslate2.get_cuda_device_count())


def supported_compute_types(device: str) -> set[str]:
    import ctranslate2

    with cuda_errors(device):
        return set(ctranslate2.get_supported_compute_types(device))


def resolve_device(device: str) -> str:
    """``auto``: cuda where this process sees a GPU, else cpu; ``cuda`` without a visible
    GPU raises :class:`DeviceUnavailableError` saying what to install or set."""
    if device not in DEVICES:
        raise ValueError(f"translator.device {device!r}: one of {', '.join(DEVICES)}")
    if device == "cpu":
        return "cpu"
    gpus = visible_gpus()
    if device == "auto":
        return "cuda" if gpus > 0 else "cpu"
    if gpus == 0:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        hidden = f" (CUDA_VISIBLE_DEVICES={visible!r})" if visible is not None else ""
        raise DeviceUnavailableError(
            f"translator.device is cuda but this process sees no CUDA GPU{hidden}: {GPU_HELP}"
        )
    return "cuda"


def resolve_compute_type(device: str, compute_type: str) -> str:
    """``auto``: the device's preferred type it supports (int8 on CPU, int8_float16 on most
    GPUs); ``default``: the model's own (CTranslate2 converts it where it must); any other
    must be one the device supports, else :class:`DeviceUnavailableError` names those."""
    if compute_type == "default":
        return compute_type
    supported = supported_compute_types(device)
    if compute_type == "auto":
        preferred = COMPUTE_PREFERENCE[device]
        return next((kind for kind in preferred if kind in supported), preferred[-1])
    if compute_type not in supported:
        raise DeviceUnavailableError(
            f"translator.compute_type {compute_type!r} is not supported on {device} here; "
            f"this {device} supports {', '.join(sorted(supported))} (or set auto, or default: "
            "the model's own)"
        )
    return compute_type


def on_reserved_devices(device: str, reserved_gpus: Sequence[object]) -> str:
    """``device`` for a Ray actor that was given ``reserved_gpus`` (``ray.get_gpu_ids()``):
    ``auto`` with none is ``cpu``, whatever GPUs the node has (Ray no longer hides them)."""
    return "cpu" if device == "auto" and not reserved_gpus else device


def resolve_placement(device: str, compute_type: str) -> Placement:
    """The one place ``translator.device`` and ``translator.compute_type`` become what
    CTranslate2 is asked for (serve_app/loading.py, for every model a process loads)."""
    resolved = resolve_device(device)
    return Placement(resolved, resolve_compute_type(resolved, compute_type))


@contextmanager
def cuda_errors(device: str) -> Iterator[None]:
    """CTranslate2's errors about the CUDA runtime (``Library libcublas.so.12 is not found
    or cannot be loaded``, a driver too old) raised as :class:`DeviceUnavailableError`,
    with what to install or set."""
    try:
        yield
    except (RuntimeError, OSError) as exc:
        if device != "cuda" or isinstance(exc, DeviceUnavailableError):
            raise
        if "out of memory" in str(exc).lower():
            raise DeviceUnavailableError(
                f"the GPU ran out of memory ({exc}): give each replica more of it "
                "(deployments.translator.num_gpus 1 rather than 0.5), a smaller compute type "
                "(int8_float16) or a smaller model"
            ) from exc
        if not _CUDA_ERROR.search(str(exc)):
            raise
        raise DeviceUnavailableError(f"CTranslate2 cannot use the GPU ({exc}): {GPU_HELP}") from exc
