"""Which model served: named in every response, and an offline fallback loud in /health."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from serve_app.config import AppArgs
from tests.serve.conftest import app_args

pytestmark = pytest.mark.serve


def test_responses_name_the_configured_model(client: httpx.Client, test_model_dir: Path) -> None:
    translated = client.post(
        "/api/v1/translate",
        json={"text": "Habari.", "source_language": "sw", "target_language": "en"},
    ).json()
    assert (translated["model"], translated["model_is_fallback"]) == (str(test_model_dir), False)
    detected = client.post("/api/v1/detect-language", json={"text": "Guten Morgen!"}).json()
    assert (detected["model"], detected["model_is_fallback"]) == ("lid.176", False)


def test_an_unavailable_model_falls_back_loudly_in_development(
    ray_cluster: int, test_model_dir: Path
) -> None:
    """Offline (the test session sets HF_HUB_OFFLINE=1) with models that are in no cache:
    the app serves the bundled fallbacks, /health says `degraded` and why, and every
    response names the fallback that answered."""
    from ray import serve

    from serve_app.app import build_app

    base = app_args(test_model_dir).model_dump(mode="json")
    base["models"] = "auto"
    base["translator"] |= {"model": "acme/nllb-not-cached", "fallback_model": str(test_model_dir)}
    base["detector"] |= {"model": "acme/lid-not-cached", "fallback_model": "lid.176"}
    base["jobs"] |= {"manager_name": "tafsiri-fallback-jobs"}
    args = AppArgs.model_validate(base)
    assert args.translator.fallback_model == str(test_model_dir)
    serve.run(build_app(args), name="fallback", route_prefix="/fallback")
    url = f"http://127.0.0.1:{ray_cluster}/fallback"
    try:
        with httpx.Client(base_url=url, timeout=60) as http:
            health: dict = {}
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                response = http.get("/health")
                health = response.json() if response.status_code in (200, 503) else {}
                components = health.get("components", {}).values()
                if components and all(c["status"] != "unhealthy" for c in components):
                    break
                time.sleep(0.5)
            assert health["status"] == "degraded", health
            translator = health["components"]["translator"]
            assert translator["status"] == "degraded"
            assert translator["model"] == str(test_model_dir)
            assert "acme/nllb-not-cached" in translator["fallback"]
            assert health["components"]["detector"]["status"] == "degraded"
            assert "acme/lid-not-cached" in health["components"]["detector"]["fallback"]
            translated = http.post(
                "/api/v1/translate",
                json={
                    "text": "Habari za asubuhi.",
                    "source_language": "sw",
                    "target_language": "en",
                },
            ).json()
            assert translated["translated_text"] == "Habari za asubuhi."
            assert (translated["model"], translated["model_is_fallback"]) == (
                str(test_model_dir),
                True,
            )
            detected = http.post("/api/v1/detect-language", json={"text": "Guten Morgen!"}).json()
            assert (detected["model"], detected["model_is_fallback"]) == ("lid.176", True)
    finally:
        serve.delete("fallback")
        import ray

        for actor in ray.util.list_named_actors(all_namespaces=True):
            if "tafsiri-fallback" in actor["name"]:
                ray.kill(ray.get_actor(actor["name"], namespace=actor["namespace"]))
