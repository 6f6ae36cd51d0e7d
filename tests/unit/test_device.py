"""Where the translator runs: translator.device and compute_type resolved when an engine is
loaded, the defaults that follow the device, and the GPUs a deployment reserves.

No GPU exists here: CTranslate2 really reports none, so ``auto`` and ``cuda`` are tested as
they resolve on this machine; what would happen where a GPU is visible is tested by making
CTranslate2's own probes report one (never by running on it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ctranslate2
import pytest
from pydantic import ValidationError

from serve_app.config import AppArgs, DeploymentsConfig, TranslatorConfig
from serve_app.engines.device import (
    DeviceUnavailableError,
    cuda_errors,
    device_defaults,
    on_reserved_devices,
    resolve_placement,
    visible_gpus,
)
from serve_app.engines.translator import Translator
from serve_app.loading import (
    batch_size,
    decoding_options,
    load_registered,
    load_translator,
    translator_engine,
)

no_gpu_here = pytest.mark.skipif(visible_gpus() > 0, reason="this process sees a GPU")


def pretend_gpu(monkeypatch: pytest.MonkeyPatch, supported: set[str]) -> None:
    """CTranslate2's probes answer as they would on a machine with one GPU supporting
    ``supported`` (on the CPU they answer for real)."""
    cpu = ctranslate2.get_supported_compute_types("cpu")
    monkeypatch.setattr(ctranslate2, "get_cuda_device_count", lambda: 1)
    monkeypatch.setattr(
        ctranslate2,
        "get_supported_compute_types",
        lambda device, device_index=0: supported if device == "cuda" else cpu,
    )


@no_gpu_here
def test_auto_is_the_cpu_with_int8_where_no_gpu_is_visible(test_model_dir: Path) -> None:
    engine = translator_engine(TranslatorConfig(model=str(test_model_dir)))
    assert (engine.device, engine.compute_type) == ("cpu", "int8")
    assert resolve_placement("auto", "auto").device == "cpu"


def test_an_explicit_compute_type_is_kept(test_model_dir: Path) -> None:
    engine = translator_engine(
        TranslatorConfig(model=str(test_model_dir), device="cpu", compute_type="float32")
    )
    assert engine.compute_type == "float32"
    # "default" is the model's own type, named as CTranslate2 made it.
    assert resolve_placement("cpu", "default").compute_type == "default"


def test_registered_models_follow_the_same_rule(test_model_dir: Path) -> None:
    config = TranslatorConfig(
        model=str(test_model_dir),
        device="cpu",
        models={
            "inherits": {"model": str(test_model_dir), "languages": ["eng_Latn", "fra_Latn"]},
            "own": {
                "model": str(test_model_dir),
                "languages": ["eng_Latn", "fra_Latn"],
                "compute_type": "float32",
            },
        },
    )
    assert load_registered(config, "inherits").engine.compute_type == "int8"
    assert load_registered(config, "own").engine.compute_type == "float32"


def test_an_unsupported_compute_type_is_refused_naming_the_supported_ones() -> None:
    supported = ctranslate2.get_supported_compute_types("cpu")
    assert "int8_float16" not in supported  # float16 activations: never on a CPU
    with pytest.raises(DeviceUnavailableError, match="'int8_float16' is not supported on cpu"):
        resolve_placement("cpu", "int8_float16")
    with pytest.raises(DeviceUnavailableError, match="supports float32"):
        resolve_placement("cpu", "int8_float16")


@no_gpu_here
def test_cuda_without_a_gpu_fails_at_once_saying_what_to_do() -> None:
    """Before any model is looked for (this one does not exist), and with no fallback to
    another model: the device, not the model, is what cannot be had."""
    config = TranslatorConfig(
        model="nobody/not-a-model", device="cuda", fallback_model="nobody/neither"
    )
    with pytest.raises(DeviceUnavailableError) as raised:
        load_translator(config)
    message = str(raised.value)
    assert "translator.device is cuda but this process sees no CUDA GPU" in message
    assert "pip install 'tafsiri[gpu]'" in message
    assert "nvidia-smi" in message
    assert "translator.device to cpu" in message
    assert "deployments.translator.num_gpus" in message


@no_gpu_here
def test_ctranslate2s_own_cuda_error_becomes_the_clear_one(test_model_dir: Path) -> None:
    """CTranslate2 itself asked for the GPU on this machine (no driver, no GPU), past the
    check for a visible one: its CUDA error is raised as the same kind of message."""
    with pytest.raises(DeviceUnavailableError, match=r"tafsiri\[gpu\]") as raised:
        Translator(test_model_dir, device="cuda", compute_type="float32")
    assert "CTranslate2 cannot use the GPU (CUDA" in str(raised.value)


def test_cuda_runtime_errors_become_the_same_clear_error(
    test_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A GPU whose cuBLAS is missing: found at load or at the first translation (CTranslate2
    # loads it when first used); the warm-up makes either one the load.
    missing = RuntimeError("Library libcublas.so.12 is not found or cannot be loaded")

    class LoadsThenFails:
        compute_type = "int8_float16"
        num_translators = 1

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pass

        def translate_batch(self, *args: Any, **kwargs: Any) -> None:
            raise missing

    monkeypatch.setattr(ctranslate2, "Translator", LoadsThenFails)
    with pytest.raises(DeviceUnavailableError, match=r"libcublas\.so\.12") as raised:
        Translator(test_model_dir, device="cuda", compute_type="int8_float16")
    assert "pip install 'tafsiri[gpu]'" in str(raised.value)
    assert raised.value.__cause__ is missing

    # An error that is not about CUDA is left as it is.
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("Unable to open file 'model.bin'")

    monkeypatch.setattr(ctranslate2, "Translator", broken)
    with pytest.raises(RuntimeError, match="Unable to open") as plain:
        Translator(test_model_dir, device="cuda", compute_type="int8_float16")
    assert not isinstance(plain.value, DeviceUnavailableError)


def test_where_a_gpu_is_visible_auto_is_cuda_with_its_best_compute_type(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pretend_gpu(monkeypatch, {"float32", "int8", "int8_float32", "int8_float16", "float16"})
    assert resolve_placement("auto", "auto") == resolve_placement("cuda", "auto")
    assert resolve_placement("auto", "auto").device == "cuda"
    assert resolve_placement("auto", "auto").compute_type == "int8_float16"
    assert resolve_placement("cuda", "float16").compute_type == "float16"
    assert resolve_placement("cpu", "auto").compute_type == "int8"
    # A GPU without float16 (compute capability 6.1): the best it has, and float16 refused.
    pretend_gpu(monkeypatch, {"float32", "int8", "int8_float32"})
    assert resolve_placement("auto", "auto").compute_type == "int8_float32"
    with pytest.raises(DeviceUnavailableError, match="not supported on cuda"):
        resolve_placement("cuda", "float16")


def test_a_gpu_out_of_memory_is_not_blamed_on_missing_libraries() -> None:
    with (
        pytest.raises(DeviceUnavailableError, match="ran out of memory") as caught,
        cuda_errors("cuda"),
    ):
        raise RuntimeError("CUDA failed with error out of memory")
    assert "tafsiri[gpu]" not in str(caught.value)


def test_on_a_gpu_node_auto_is_the_cpu_for_an_actor_that_reserved_no_gpu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ray 2.60 no longer hides a node's GPUs from an actor with num_gpus 0: the replica
    passes ray.get_gpu_ids(), and auto without a reserved GPU is the CPU."""
    pretend_gpu(monkeypatch, {"float32", "int8", "int8_float32", "int8_float16", "float16"})
    unreserved = resolve_placement(on_reserved_devices("auto", []), "auto")
    assert (unreserved.device, unreserved.compute_type) == ("cpu", "int8")
    assert resolve_placement(on_reserved_devices("auto", ["0"]), "auto").device == "cuda"
    # An explicit device is the config's own (cuda without a reservation is refused by it).
    assert on_reserved_devices("cuda", []) == "cuda"
    assert on_reserved_devices("cpu", ["0"]) == "cpu"


def test_batch_sizes_left_unset_are_the_devices() -> None:
    unset = TranslatorConfig()
    assert unset.max_batch_tokens is None
    assert unset.batching.max_batch_size is None
    # On the CPU, what the service always used.
    assert decoding_options(unset, "cpu").max_batch_tokens == 1024
    assert batch_size(unset, "cpu") == 32
    # On a GPU, larger (CTranslate2's advice; not a measured figure of ours).
    assert decoding_options(unset, "cuda").max_batch_tokens == 4096
    assert batch_size(unset, "cuda") == 64
    assert device_defaults("cuda").inter_threads == 1
    # Explicit values are kept on either device.
    explicit = TranslatorConfig(max_batch_tokens=2048, batching={"max_batch_size": 16})
    for device in ("cpu", "cuda"):
        assert decoding_options(explicit, device).max_batch_tokens == 2048
        assert batch_size(explicit, device) == 16


def gpu_deployments(translator: float, bulk: float = 0) -> dict[str, Any]:
    """The default deployments with the translators reserving these GPUs."""
    deployments = DeploymentsConfig().model_dump()
    deployments["translator"]["num_gpus"] = translator
    deployments["bulk_translator"]["num_gpus"] = bulk
    return deployments


def test_num_gpus_reaches_the_translators_ray_actor_options() -> None:
    from serve_app.app import deployment_options

    args = AppArgs(
        models="bundled",
        translator={"device": "cuda"},
        deployments=gpu_deployments(0.5, 0.5),
    )
    options = deployment_options(args)
    for name in ("Translator", "BulkTranslator"):
        actor = dict(options[name]["ray_actor_options"])
        actor.pop("runtime_env")
        assert actor == {"num_cpus": 0.5, "num_gpus": 0.5}, name
    for name in ("LanguageDetector", "Orchestrator", "JobWorker", "Ingress"):
        assert "num_gpus" not in options[name]["ray_actor_options"], name
    # By default nothing reserves a GPU, and the CPU options are what they always were.
    default = deployment_options(AppArgs(models="bundled"))
    actor = dict(default["Translator"]["ray_actor_options"])
    actor.pop("runtime_env")
    assert actor == {"num_cpus": 0.5}


@pytest.mark.parametrize(
    ("translator", "deployments", "message"),
    [
        ({"device": "cuda"}, gpu_deployments(0, 0), "deployments.translator.num_gpus > 0"),
        ({"device": "cuda"}, gpu_deployments(1, 0), "deployments.bulk_translator.num_gpus > 0"),
        ({"device": "cpu"}, gpu_deployments(1, 1), "never uses"),
        (
            {},
            {
                **gpu_deployments(0),
                "detector": {"num_cpus": 1, "max_ongoing_requests": 8, "num_gpus": 1},
            },
            "only the Translator",
        ),
        ({}, gpu_deployments(1.5, 1.5), "less than or equal to 1"),
    ],
)
def test_gpus_are_reserved_where_the_translator_runs_on_one_and_only_there(
    translator: dict[str, Any], deployments: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        AppArgs(models="bundled", translator=translator, deployments=deployments)


def test_gpu_reservations_that_fit_the_device_are_accepted() -> None:
    # auto takes the GPU the replica reserves, or the CPU without one.
    AppArgs(models="bundled", deployments=gpu_deployments(0.5, 0.5))
    AppArgs(models="bundled", deployments=gpu_deployments(0, 0))
    # Without the bulk lane only the Translator needs one.
    AppArgs(
        models="bundled",
        translator={"device": "cuda", "bulk": {"enabled": False}},
        deployments=gpu_deployments(1, 0),
    )
