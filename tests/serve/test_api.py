"""The synchronous API over HTTP on a real local Ray Serve with the real models."""

from __future__ import annotations

import json
import random
import re
import string
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from serve_app.config import AppArgs

pytestmark = pytest.mark.serve


def assert_error_format(response: httpx.Response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"detail", "errors", "request_id", "timestamp"}
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["errors"], body
    if field is not None:
        assert body["errors"][0]["field"] == field, body
    return body


def test_translate_with_source_language(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/translate",
        json={
            "text": "Hello, world. How are you?",
            "source_language": "eng_Latn",
            "target_language": "swh_Latn",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["translated_text"] == "Hello, world. How are you?"  # the copy model
    assert body["source_language"] == "eng_Latn"
    assert body["target_language"] == "swh_Latn"
    assert body["source_language_detected"] is False
    assert body["detection_confidence"] is None
    assert body["character_count"] == 26
    assert 0 < body["inference_time"] <= body["total_time"]
    assert body["request_id"] == response.headers["x-request-id"]
    assert response.headers["x-response-time"].endswith("ms")


def test_translate_detects_source_when_absent(client: httpx.Client) -> None:
    body = client.post(
        "/api/v1/translate",
        json={
            "text": "Bonjour tout le monde, comment allez-vous aujourd'hui?",
            "target_language": "en",
        },
    ).json()
    assert body["source_language"] == "fra_Latn"
    assert body["target_language"] == "eng_Latn"
    assert body["source_language_detected"] is True
    assert body["detection_confidence"] > 0.5


def test_translate_a_list_of_texts_keeps_order(client: httpx.Client) -> None:
    texts = [
        "Guten Morgen, wie geht es dir heute?",
        "The weather is lovely today, isn't it?",
        "Hola a todos, ¿cómo están? Espero que bien.",
    ]
    body = client.post(
        "/api/v1/translate", json={"text": texts, "target_language": "fra_Latn"}
    ).json()
    assert [t["translated_text"] for t in body["translations"]] == texts
    assert [t["source_language"] for t in body["translations"]] == [
        "deu_Latn",
        "eng_Latn",
        "spa_Latn",
    ]
    assert body["character_count"] == sum(len(t) for t in texts)


def translate_together(client: httpx.Client, payloads: list[dict]) -> list[httpx.Response]:
    """POSTs every payload to /api/v1/translate at once, so they can share a flush."""
    import asyncio

    async def together() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=str(client.base_url), timeout=60) as http:
            return await asyncio.gather(
                *[http.post("/api/v1/translate", json=payload) for payload in payloads]
            )

    return asyncio.run(together())


def test_alternatives_come_best_first_and_only_when_asked(client: httpx.Client) -> None:
    text = "Markets open early. Prices rise."
    payloads = [
        {
            "text": [text, f"Plain {'abcdefgh'[i]}."] if i % 2 else text,
            "source_language": "en",
            "target_language": "fr",
            "alternatives": 2 if i % 2 else 0,
        }
        for i in range(8)
    ]
    for i, response in enumerate(translate_together(client, payloads)):
        assert response.status_code == 200, response.text
        body = response.json()
        if i % 2 == 0:
            assert body["translated_text"] == text
            assert body["alternatives"] == []
            continue
        first, plain = body["translations"]
        assert first["translated_text"] == text  # the best hypothesis of the copy model
        assert plain["translated_text"] == f"Plain {'abcdefgh'[i]}."
        for item in (first, plain):
            assert len(item["alternatives"]) == 2
            assert item["translated_text"] not in item["alternatives"]


def test_beam_size_per_request_shares_flushes_and_is_reported(client: httpx.Client) -> None:
    default = AppArgs().translator.beam_size
    asked: list[tuple[int | None, int]] = [(1, 0), (4, 0), (None, 0), (1, 2), (None, 0), (1, 0)]
    payloads = [
        {
            "text": f"Beam {i}. Second sentence.",
            "source_language": "en",
            "target_language": "fr",
            "beam_size": beam,
            "alternatives": alternatives,
        }
        for i, (beam, alternatives) in enumerate(asked)
    ]
    responses = translate_together(client, payloads)
    for i, ((beam, alternatives), response) in enumerate(zip(asked, responses, strict=True)):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["translated_text"] == f"Beam {i}. Second sentence."
        # Greedy asked with two alternatives still searches the three hypotheses it needs.
        assert body["beam_size"] == max(beam or default, 1 + alternatives)
        assert len(body["alternatives"]) == alternatives


def test_beam_wider_than_the_deployment_allows_is_400(client: httpx.Client) -> None:
    widest = AppArgs().translator.max_beam_size
    payload = {"text": "Hello", "target_language": "fra_Latn", "beam_size": widest + 1}
    body = assert_error_format(client.post("/api/v1/translate", json=payload), 400, "beam_size")
    assert body["errors"][0]["code"] == "BEAM_SIZE_TOO_LARGE"
    assert str(widest) in body["detail"]


def test_client_request_id_is_echoed(client: httpx.Client) -> None:
    response = client.get("/status", headers={"X-Request-ID": "my-trace-123"})
    assert response.headers["x-request-id"] == "my-trace-123"
    assert response.json()["status"] == "ok"


def test_detect_single_and_batch(client: httpx.Client) -> None:
    single = client.post(
        "/api/v1/detect-language",
        json={"text": "Привет, как дела? Надеюсь, всё хорошо.", "top_k": 2},
    ).json()
    assert single["language"] == "rus_Cyrl"
    assert single["language_name"] == "Russian"
    assert single["reliable"] is True
    assert len(single["candidates"]) == 2
    batch = client.post(
        "/api/v1/detect-language",
        json={"text": ["Mimi ni mwalimu wa shule ya msingi katika kijiji chetu", "12345"]},
    ).json()
    first, second = batch["results"]
    assert first["language"] == "swh_Latn"
    assert second["language"] == "und"
    assert second["reliable"] is False
    assert second["language_name"] is None


def test_detect_among_a_clients_candidates(client: httpx.Client) -> None:
    """``candidates`` restrict the answer (LibreTranslate users serve a few languages); an
    unknown code is one 400 naming every unknown one, on detect and on translate."""
    text = "Najeriya: kayan gwari sun yi kwantai a arewa bayan hana kai kaya kudu."
    free = client.post("/api/v1/detect-language", json={"text": text}).json()
    assert free["language"] == "hau_Latn"  # the breadth stage: lid.176 and Lingua have none
    among = client.post(
        "/api/v1/detect-language", json={"text": text, "candidates": ["eng", "fra_Latn"]}
    ).json()
    assert among["language"] in {"eng_Latn", "fra_Latn"}
    assert {c["language"] for c in among["candidates"]} <= {"eng_Latn", "fra_Latn"}
    assert among["reliable"] is False  # Hausa is none of them
    refused = client.post(
        "/api/v1/detect-language", json={"text": text, "candidates": ["xx_Bogus", "eng", "zz"]}
    )
    assert refused.status_code == 400
    body = refused.json()
    assert body["errors"][0]["code"] == "UNSUPPORTED_LANGUAGE"
    assert body["errors"][0]["field"] == "candidates"
    assert "'xx_Bogus'" in body["detail"]
    assert "'zz'" in body["detail"]
    translated = client.post(
        "/api/v1/translate",
        json={
            "text": "Bonjour tout le monde, comment allez-vous aujourd'hui ?",
            "target_language": "eng_Latn",
            "source_candidates": ["fra_Latn", "swh_Latn"],
        },
    ).json()
    assert translated["source_language"] == "fra_Latn"
    wrong = client.post(
        "/api/v1/translate",
        json={"text": "Bonjour", "target_language": "eng_Latn", "source_candidates": ["qq"]},
    )
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["field"] == "source_candidates"
    # A document's form field, comma-separated, checked when the file is accepted.
    document = client.post(
        "/api/v1/documents",
        files={"file": ("note.txt", b"Bonjour tout le monde.", "text/plain")},
        data={"target_language": "eng_Latn", "source_candidates": "fra_Latn, qq"},
    )
    assert document.status_code == 400, document.text
    assert document.json()["errors"][0]["field"] == "source_candidates"
    assert "'qq'" in document.json()["detail"]


def test_detect_short_and_african_text_through_both_stages(client: httpx.Client) -> None:
    """The README's own example, and languages lid.176 has no label for (Lingua's stage)."""
    texts = [
        "Habari za asubuhi, rafiki yangu.",
        "Ngiyabonga kakhulu ngosizo lwakho namhlanje.",
        "Ndatenda zvikuru nerubatsiro rwenyu nhasi.",
    ]
    body = client.post("/api/v1/detect-language", json={"text": texts, "top_k": 3}).json()
    assert [r["language"] for r in body["results"]] == ["swh_Latn", "zul_Latn", "sna_Latn"]
    assert body["results"][0]["reliable"] is True
    # Waray and Kinyarwanda, which the stages before the web-text stage (CLD2) read as
    # Tagalog and Kirundi: the served detector has it.
    web = client.post(
        "/api/v1/detect-language",
        json={
            "text": [
                "An kada tagsa may katadungan hin mamingawon nga pagtitirok ug paguurosa;",
                "Abantu bashobora guterana na kwiremamo amashyaka mu mahoro.",
            ]
        },
    ).json()
    assert [r["language"] for r in web["results"]] == ["war_Latn", "kin_Latn"]
    for result in body["results"]:
        confidences = [c["confidence"] for c in result["candidates"]]
        assert confidences[0] == result["confidence"]
        assert sum(confidences) <= 1.0 + 1e-5
    translated = client.post(
        "/api/v1/translate", json={"text": texts[0], "target_language": "eng_Latn"}
    ).json()
    assert translated["source_language"] == "swh_Latn"


def test_languages_list_search_region_and_lookup(client: httpx.Client) -> None:
    everything = client.get("/api/v1/languages").json()
    assert everything["total"] == 202 == len(everything["languages"])
    assert sum(everything["regions"].values()) == 202
    swahili = client.get("/api/v1/languages", params={"search": "swahili"}).json()
    assert [lang["code"] for lang in swahili["languages"]] == ["swh_Latn"]
    africa = client.get("/api/v1/languages", params={"region": "Africa"}).json()
    assert africa["total"] > 40
    assert all(lang["region"] == "Africa" for lang in africa["languages"])
    assert client.get("/api/v1/languages/sw").json()["code"] == "swh_Latn"
    assert_error_format(client.get("/api/v1/languages/klingon"), 404, "code")
    assert_error_format(
        client.get("/api/v1/languages", params={"region": "Atlantis"}), 400, "region"
    )


def test_health_reports_every_component(client: httpx.Client) -> None:
    body = client.get("/health").json()
    assert body["status"] == "healthy"
    assert body["models_loaded"] == {"translation": True, "language_detection": True}
    assert set(body["components"]) == {
        "translator",
        "bulk_translator",
        "detector",
        "orchestrator",
        "jobs",
    }
    bulk = body["components"]["bulk_translator"]
    assert bulk["status"] == "healthy"
    assert bulk["model"] == body["components"]["translator"]["model"]
    assert body["components"]["jobs"]["model"] == "sqlite"
    translator = body["components"]["translator"]
    assert translator["details"]["languages"] == 202
    assert translator["details"]["compute_type"] == "int8"
    assert body["components"]["orchestrator"]["details"]["agents"] == [
        "language",
        "translation",
        "text",
        "eda_agent",
    ]


def test_openapi_documents_the_endpoints(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/v1/translate",
        "/api/v1/detect-language",
        "/api/v1/languages",
        "/api/v1/languages/{code}",
        "/health",
        "/status",
        "/metrics",
        "/api/v1/glossaries",
        "/api/v1/glossaries/{glossary_id}",
        "/api/v1/corrections",
        "/api/v1/corrections/{correction_id}",
    } <= set(paths)
    # The new request shapes carry examples (glossaries in JSON and CSV, a correction).
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert len(schemas["GlossaryCreate"]["examples"]) == 2
    assert schemas["CorrectionCreate"]["examples"][0]["target_language"] == "en"
    assert schemas["TranslateRequest"]["properties"]["min_quality"]["examples"] == [0.3]
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    submit = spec["paths"]["/api/v1/jobs/translate"]["post"]["responses"]["202"]
    assert submit["links"]["Poll"]["operationId"] == "poll_job"
    assert spec["paths"]["/api/v1/jobs/{token}"]["get"]["operationId"] == "poll_job"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"text": "Hello there", "target_language": "xx_Yyyy"}, "target_language"),
        (
            {"text": "Hello there", "target_language": "fra_Latn", "source_language": "zz"},
            "source_language",
        ),
    ],
)
def test_unknown_language_is_400(client: httpx.Client, payload: dict, field: str) -> None:
    body = assert_error_format(client.post("/api/v1/translate", json=payload), 400, field)
    assert "FLORES-200" in body["errors"][0]["message"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"target_language": "fra_Latn"}, "text"),
        ({"text": "Hello"}, "target_language"),
        ({"text": 42, "target_language": "fra_Latn"}, None),
        ({"text": "Hello", "target_language": "fra_Latn", "unexpected": 1}, "unexpected"),
        ({"text": "   ", "target_language": "fra_Latn"}, "text"),
        ({"text": [], "target_language": "fra_Latn"}, "text"),
        ({"text": ["fine", ""], "target_language": "fra_Latn"}, "text.1"),
        ({"text": "Hello", "target_language": "fra_Latn", "alternatives": 5}, "alternatives"),
        ({"text": "Hello", "target_language": "fra_Latn", "alternatives": -1}, "alternatives"),
        ({"text": "Hello", "target_language": "fra_Latn", "beam_size": 0}, "beam_size"),
        ({"text": "Hello", "target_language": "fra_Latn", "beam_size": 17}, "beam_size"),
    ],
)
def test_schema_errors_are_422(client: httpx.Client, payload: dict, field: str | None) -> None:
    assert_error_format(client.post("/api/v1/translate", json=payload), 422, field)


def test_malformed_json_is_422(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/translate", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_error_format(response, 422)


def test_text_over_limit_is_413(client: httpx.Client) -> None:
    body = assert_error_format(
        client.post("/api/v1/translate", json={"text": "a" * 5001, "target_language": "fra_Latn"}),
        413,
        "text",
    )
    assert body["errors"][0]["code"] == "TEXT_TOO_LONG"


def test_too_many_texts_is_413(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/translate", json={"text": ["hello"] * 65, "target_language": "fra_Latn"}
    )
    assert_error_format(response, 413, "text")


def test_body_over_limit_is_413_before_parsing(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/translate", json={"text": ["x" * 4000] * 60, "target_language": "fra_Latn"}
    )
    assert_error_format(response, 413, "body")


def test_chunked_body_over_limit_is_413(client: httpx.Client) -> None:
    """No Content-Length (chunked transfer): the bytes are counted as they arrive."""
    body = json.dumps({"text": ["x" * 4000] * 60, "target_language": "fra_Latn"}).encode()
    assert len(body) > 200_000  # the test app's api.max_body_bytes

    def chunks(data: bytes) -> Iterator[bytes]:
        for start in range(0, len(data), 16_384):
            yield data[start : start + 16_384]

    headers = {"content-type": "application/json"}
    response = client.post("/api/v1/translate", content=chunks(body), headers=headers)
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_error_format(response, 413, "body")
    # A chunked body within the limit is read whole and served.
    small = json.dumps({"text": "Habari.", "source_language": "swh_Latn", "target_language": "en"})
    ok = client.post("/api/v1/translate", content=chunks(small.encode()), headers=headers)
    assert ok.status_code == 200, ok.text
    assert ok.json()["translated_text"] == "Habari."


def test_undetectable_source_is_400(client: httpx.Client) -> None:
    response = client.post("/api/v1/translate", json={"text": "1234 5678", "target_language": "fr"})
    body = assert_error_format(response, 400, "text")
    assert body["errors"][0]["code"] == "DETECTION_FAILED"


def test_unknown_route_is_404_in_error_format(client: httpx.Client) -> None:
    assert_error_format(client.get("/api/v1/nothing-here"), 404)


def test_metrics_exposition(client: httpx.Client) -> None:
    client.post(
        "/api/v1/translate",
        json={"text": "Metrics please.", "source_language": "en", "target_language": "sw"},
    )
    client.get("/api/v1/languages/sw")
    text = client.get("/metrics").text
    for name in (
        "tafsiri_requests_total",
        "tafsiri_request_duration_seconds_bucket",
        "tafsiri_translation_batch_size_bucket",
        "tafsiri_characters_translated_total",
        "tafsiri_language_detections_total",
        "tafsiri_errors_total",
        "tafsiri_model_load_seconds",
        "tafsiri_translation_inference_seconds_bucket",
    ):
        assert name in text, name
    assert (
        'tafsiri_translations_total{source_language="eng_Latn",target_language="swh_Latn"}' in text
    )
    assert 'endpoint="/api/v1/languages/{code}"' in text


def test_metrics_also_reach_ray_export_per_replica(client: httpx.Client) -> None:
    """What a Prometheus scraping the nodes' Ray metrics port sees: every ingress replica's
    series, tagged with application, deployment and replica."""
    from tests.serve.conftest import RAY_METRICS_PORT

    marker = f"/api/v1/languages/{uuid.uuid4().hex[:8]}"  # a 404 on a route of its own
    for _ in range(3):
        assert client.get(marker).status_code == 404
    labels = 'endpoint="/api/v1/languages/{code}",method="GET",status="404"'
    # What the replica that answered counts itself (earlier tests' 404s on this route included).
    local = re.search(
        r"^tafsiri_requests_total\{" + re.escape(labels) + r"\} (\S+)$",
        client.get("/metrics").text,
        re.M,
    )
    assert local, "the ingress's own /metrics lacks the 404 series"
    expected = float(local[1])
    assert expected >= 3
    pattern = re.compile(r"^ray_tafsiri_requests_total\{(?P<tags>.*)\} (?P<value>\S+)$", re.M)
    deadline, seen = time.monotonic() + 60, []
    while time.monotonic() < deadline:
        text = httpx.get(f"http://127.0.0.1:{RAY_METRICS_PORT}/metrics", timeout=10).text
        seen = [
            (m["tags"], float(m["value"]))
            for m in pattern.finditer(text)
            if 'application="tafsiri"' in m["tags"]
            and all(label in m["tags"] for label in labels.split(","))
        ]
        # The export is periodic: wait until it has caught up with the replica's own count.
        # Series of replicas gone by earlier redeploys may linger beside it.
        if any(value == expected for _, value in seen):
            break
        time.sleep(1)
    assert seen, "no ray_tafsiri_requests_total series of the route in Ray's export"
    matching = [tags for tags, value in seen if value == expected]
    assert matching, f"the export never reached the replica's count {expected}: {seen}"
    assert 'deployment="Ingress"' in matching[0]
    assert 'replica="' in matching[0]


def test_several_targets_in_one_request(client: httpx.Client) -> None:
    def counted(target: str) -> float:
        series = (
            f'tafsiri_translations_total{{source_language="eng_Latn",target_language="{target}"}} '
        )
        for line in client.get("/metrics").text.splitlines():
            if line.startswith(series):
                return float(line[len(series) :])
        return 0.0

    before = {code: counted(code) for code in ("fra_Latn", "deu_Latn", "swh_Latn")}
    texts = ["Good morning, friend.", "See you tomorrow."]
    response = client.post(
        "/api/v1/translate",
        json={"text": texts, "source_language": "en", "target_language": ["fr", "de", "fra_Latn"]},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    # "fr" and "fra_Latn" are one target; order as asked.
    assert body["target_languages"] == ["fra_Latn", "deu_Latn"]
    assert list(body["translations"]) == ["fra_Latn", "deu_Latn"]
    for items in body["translations"].values():
        assert [item["translated_text"] for item in items] == texts  # the copy model
        assert [item["source_language"] for item in items] == ["eng_Latn", "eng_Latn"]
    assert body["character_count"] == 2 * sum(len(text) for text in texts)
    # Each text was translated into each target once (the metrics count per pair).
    assert counted("fra_Latn") - before["fra_Latn"] == 2
    assert counted("deu_Latn") - before["deu_Latn"] == 2
    assert counted("swh_Latn") == before["swh_Latn"]

    single = client.post(
        "/api/v1/translate",
        json={"text": "Habari za asubuhi, rafiki yangu.", "target_language": ["en", "fr"]},
    ).json()
    assert single["target_languages"] == ["eng_Latn", "fra_Latn"]
    for item in single["translations"].values():
        assert item["translated_text"] == "Habari za asubuhi, rafiki yangu."
        assert item["source_language"] == "swh_Latn"
        assert item["source_language_detected"] is True


def test_several_targets_bad_input(client: httpx.Client) -> None:
    unknown = client.post(
        "/api/v1/translate",
        json={"text": "Hello.", "source_language": "en", "target_language": ["fr", "klingon"]},
    )
    assert_error_format(unknown, 400, "target_language.1")
    too_many = client.post(
        "/api/v1/translate",
        json={"text": "Hello.", "source_language": "en", "target_language": ["fr"] * 9},
    )
    assert_error_format(too_many, 422)
    empty = client.post(
        "/api/v1/translate",
        json={"text": "Hello.", "source_language": "en", "target_language": []},
    )
    assert_error_format(empty, 422)


PAGE = (
    '<h1 class="title">Habari za asubuhi, {name}!</h1>\n'
    '<p>Soma <a href="https://example.org/?a=1&amp;b=2">mwongozo wetu</a> kabla ya 12:30.'
    "<br>Asante&nbsp;sana &copy; 2026.</p><script>var x = '<b>';</script>"
)


def test_html_comes_back_with_its_markup_and_is_detected_on_its_text(
    client: httpx.Client,
) -> None:
    response = client.post(
        "/api/v1/translate",
        json={"text": PAGE, "target_language": ["en", "fr"], "format": "html"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    for item in body["translations"].values():
        assert item["translated_text"] == PAGE  # the copy model: every byte accounted for
        # Detected on "Habari za asubuhi ... Asante sana", not on tags and attributes.
        assert item["source_language"] == "swh_Latn"
    assert body["repaired_sentences"] == 0
    # A plain-text request with the same sentence shares the model's decode of it.
    plain = client.post(
        "/api/v1/translate",
        json={"text": ["Asante sana.", PAGE], "target_language": "fr", "format": "html"},
    ).json()
    assert [item["translated_text"] for item in plain["translations"]] == ["Asante sana.", PAGE]


def test_markup_and_span_options_bad_input(client: httpx.Client) -> None:
    deep = "<div>" * 300 + "Habari"
    nested = client.post(
        "/api/v1/translate",
        json={"text": ["Habari.", deep], "target_language": "fr", "format": "html"},
    )
    body = assert_error_format(nested, 400, "text.1")
    assert body["errors"][0]["code"] == "INVALID_MARKUP"
    assert "nested deeper than 256" in body["detail"]
    # The same refusal when the source language is given (no detection to run).
    given = client.post(
        "/api/v1/translate",
        json={"text": deep, "source_language": "sw", "target_language": "fr", "format": "html"},
    )
    assert assert_error_format(given, 400, "text")["errors"][0]["code"] == "INVALID_MARKUP"
    for payload in ({"format": "markdown"}, {"protect_spans": "maybe"}):
        bad = client.post(
            "/api/v1/translate", json={"text": "Habari.", "target_language": "fr", **payload}
        )
        assert_error_format(bad, 422)
    # Nothing else was affected: the next request is served.
    fine = client.post(
        "/api/v1/translate",
        json={"text": "<b>Habari</b>", "target_language": "fr", "format": "html"},
    )
    assert fine.json()["translated_text"] == "<b>Habari</b>"


def test_repeated_sentences_are_served_from_the_cache(client: httpx.Client) -> None:
    def counted(result: str) -> float:
        pattern = rf'tafsiri_translation_cache_sentences_total{{result="{result}"}} (\S+)'
        found = re.search(pattern, client.get("/metrics").text)
        return float(found.group(1)) if found else 0.0

    word = "".join(random.choices(string.ascii_lowercase, k=12))
    body = {
        "text": [f"First {word} sentence. Second {word} sentence.", f"First {word} sentence."],
        "source_language": "en",
        "target_language": "fr",
    }
    hits, misses = counted("hit"), counted("miss")
    first = client.post("/api/v1/translate", json=body).json()
    assert first["cached_sentences"] == 0
    again = client.post("/api/v1/translate", json=body).json()
    assert again["cached_sentences"] == 3  # every sentence of both texts
    assert again["translations"] == first["translations"]
    assert [t["translated_text"] for t in again["translations"]] == body["text"]
    assert counted("miss") - misses == 3
    assert counted("hit") - hits == 3
    # Another target is another entry; a new sentence beside cached ones is the only miss.
    assert (
        client.post("/api/v1/translate", json=body | {"target_language": "de"}).json()[
            "cached_sentences"
        ]
        == 0
    )
    mixed = body | {"text": f"First {word} sentence. A new {word} one."}
    assert client.post("/api/v1/translate", json=mixed).json()["cached_sentences"] == 1


def test_quality_signals_and_min_quality_withhold_items_not_the_request(
    client: httpx.Client,
) -> None:
    def flagged(flag: str) -> float:
        pattern = rf'tafsiri_translation_quality_flags_total{{flag="{flag}"}} (\S+)'
        found = re.search(pattern, client.get("/metrics").text)
        return float(found.group(1)) if found else 0.0

    text = "Hello my dear friend, how are you today?"
    before = flagged("wrong_language")
    # The copy model gives English back: into English that is right, into French it is
    # untranslated and (says the detector) the wrong language.
    response = client.post(
        "/api/v1/translate",
        json={
            "text": [text, "Paris."],
            "source_language": "en",
            "target_language": ["en", "fr"],
            "min_quality": 0.3,
        },
    )
    assert response.status_code == 200, response.text
    english, french = response.json()["translations"].values()
    assert english[0]["status"] == "ok"
    assert english[0]["translated_text"] == text
    assert english[0]["quality"] == {
        "score": 1.0,
        "log_prob": 0.0,
        "flags": [],
        "output_language": "eng_Latn",
    }
    assert french[0]["status"] == "withheld"
    assert french[0]["translated_text"] is None
    assert french[0]["quality"]["flags"] == ["untranslated", "wrong_language"]
    assert french[0]["quality"]["score"] == 0.25
    assert french[1]["status"] == "ok"
    assert french[1]["translated_text"] == "Paris."
    assert flagged("wrong_language") - before == 1
    # Not asked: no quality, nothing withheld, no detector pass over the outputs.
    plain = client.post(
        "/api/v1/translate", json={"text": text, "source_language": "en", "target_language": "fr"}
    ).json()
    assert (plain["translated_text"], plain["status"], plain["quality"]) == (text, "ok", None)
    asked = client.post(
        "/api/v1/translate",
        json={"text": text, "source_language": "en", "target_language": "fr", "quality": True},
    ).json()
    assert asked["translated_text"] == text
    assert asked["quality"]["score"] == 0.25
    for bad in (-0.1, 1.5, "high"):
        refused = client.post(
            "/api/v1/translate",
            json={"text": text, "target_language": "fr", "min_quality": bad},
        )
        assert_error_format(refused, 422, "min_quality")
