import json
import re
from pathlib import Path

from prometheus_client import generate_latest

from serve_app.metrics import Metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "cluster" / "grafana-dashboard.json"


def test_every_panel_queries_a_metric_the_service_exports() -> None:
    metrics = Metrics()
    metrics.requests.labels("/x", "GET", "200").inc()
    metrics.translations.labels("eng_Latn", "swh_Latn").inc()
    metrics.detections.labels("eng_Latn").inc()
    metrics.errors.labels("http_500", "/x").inc()
    metrics.model_load_seconds.labels("translator").set(1)
    metrics.request_seconds.labels("/x").observe(0.1)
    exported = set(re.findall(r"^(tafsiri_\w+)", generate_latest(metrics.registry).decode(), re.M))
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["panels"]
    # One variable picks the source: Ray's export (ray_tafsiri_*, every replica) or one
    # ingress replica's /metrics (tafsiri_*); both carry the same series.
    (series,) = [v for v in dashboard["templating"]["list"] if v["name"] == "series"]
    assert {o["value"] for o in series["options"]} == {"ray_tafsiri", "tafsiri"}
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"].replace("${series}_", "tafsiri_")
            used = set(re.findall(r"tafsiri_\w+", expr))
            assert used, panel["title"]
            assert used <= exported, (panel["title"], used - exported)
            assert "${series}_" in target["expr"], panel["title"]
