import pytest
from pydantic import ValidationError

from serve_app.config import AppArgs


def test_defaults_are_the_embedded_setup() -> None:
    args = AppArgs()
    assert args.jobs.backend == "sqlite"
    assert args.auth.enabled is False
    # Real models by default (NLLB's LID), the bundled ones as the development fallback.
    assert args.detector.model == "lid218e"
    assert args.detector.fallback_model == "lid.176"
    assert args.rate_limits.limit_strings() == ["5/second", "30/minute", "1000/hour"]


def test_environment_variables_set_nested_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAFSIRI_TRANSLATOR__MODEL", "/models/nllb-600m")
    monkeypatch.setenv("TAFSIRI_JOBS__BACKEND", "redis")
    monkeypatch.setenv("TAFSIRI_MODELS", "hub")
    args = AppArgs()
    assert args.translator.model == "/models/nllb-600m"
    assert args.translator.revision is None
    assert args.translator.fallback_model is None
    assert args.jobs.backend == "redis"
    # The environment wins over the file (a container's settings), field by field: what the
    # file sets beside it stays.
    from_file = AppArgs.model_validate({"jobs": {"backend": "sqlite", "sqlite_path": "x/j.db"}})
    assert from_file.jobs.backend == "redis"
    assert from_file.jobs.sqlite_path == "x/j.db"
    monkeypatch.delenv("TAFSIRI_JOBS__BACKEND")
    assert AppArgs.model_validate({"jobs": {"backend": "sqlite"}}).jobs.backend == "sqlite"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"api": {"cors_origins": ["*"], "cors_allow_credentials": True}}, "may not contain"),
        ({"auth": {"enabled": True}}, "at least one entry"),
        ({"environment": "production"}, "refuses to run without auth"),
        ({"jobs": {"min_workers": 5, "max_workers": 2}}, "min_workers"),
        ({"auth": {"enabled": True, "api_keys": [{"id": "a", "sha256": "not-hex"}]}}, "sha256"),
        ({"translator": {"unknown": 1}}, "unknown"),
        ({"documents": {"max_bytes_per_owner": 4096}}, "max_bytes_per_owner must allow"),
        (
            {
                "deployments": {
                    "orchestrator": {
                        "num_cpus": 0.1,
                        "max_ongoing_requests": 64,
                        "lean_worker": True,
                    }
                }
            },
            "needs pandas",
        ),
    ],
)
def test_unsafe_or_invalid_settings_are_refused(args: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AppArgs.model_validate(args)


def test_the_bulk_lane_is_a_deployment_only_when_enabled() -> None:
    from serve_app.app import deployment_options

    on = deployment_options(AppArgs(models="bundled"))
    assert on["BulkTranslator"]["user_config"] == on["Translator"]["user_config"]
    assert on["BulkTranslator"]["ray_actor_options"]["num_cpus"] == 0.5
    off = deployment_options(AppArgs(models="bundled", translator={"bulk": {"enabled": False}}))
    assert "BulkTranslator" not in off
    with pytest.raises(ValueError, match="scheduling"):
        AppArgs(translator={"bulk": {"scheduling": "realtime"}})


def test_job_worker_scaling_delays_reach_serve(monkeypatch: pytest.MonkeyPatch) -> None:
    """The JobWorker's queue-driven autoscaling takes its delays from ``jobs`` (the
    environment wins, as everywhere)."""
    from serve_app.app import deployment_options

    defaults = deployment_options(AppArgs(models="bundled"))["JobWorker"]["autoscaling_config"]
    assert (defaults["upscale_delay_s"], defaults["downscale_delay_s"]) == (5, 60)
    monkeypatch.setenv("TAFSIRI_JOBS__WORKERS_DOWNSCALE_DELAY_S", "7.5")
    args = AppArgs(models="bundled", jobs={"workers_upscale_delay_s": 1})
    scaling = deployment_options(args)["JobWorker"]["autoscaling_config"]
    assert (scaling["upscale_delay_s"], scaling["downscale_delay_s"]) == (1, 7.5)
