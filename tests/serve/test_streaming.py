"""Streaming translation (server-sent events) on the running service."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import httpx
import pytest

from tests.serve.test_api import assert_error_format

pytestmark = pytest.mark.serve

LONG = (
    "The first paragraph starts here. It has a second sentence! And a third?\n\n"
    "  A second paragraph, indented.\tWith a tab. Dr. Smith came at 5 p.m. today.\n"
    "A line break inside. " + "Word " * 120 + "end.\n"
)


def stream_events(client: httpx.Client, body: dict[str, Any]) -> list[tuple[str, dict]]:
    events = []
    with client.stream("POST", "/api/v1/translate/stream", json=body) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        name = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))
    return events


def test_stream_matches_the_plain_call_letter_for_letter(client: httpx.Client) -> None:
    body = {"text": LONG, "source_language": "en", "target_language": "sw"}
    events = stream_events(client, body)
    *sentences, (last, done) = events
    assert last == "done"
    assert [name for name, _ in sentences] == ["sentence"] * len(sentences)
    assert [data["index"] for _, data in sentences] == list(range(len(sentences)))
    assert done["sentences"] == len(sentences) > 5
    plain = client.post("/api/v1/translate", json=body).json()["translated_text"]
    assert done["translated_text"] == plain
    assert "".join(data["delta"] for _, data in sentences) == plain.rstrip("\n")
    assert done["source_language"] == "eng_Latn"  # as given ("en"), normalised; never the target
    # Detected once from the whole text when not given.
    detected = stream_events(client, {"text": LONG, "target_language": "sw"})
    assert detected[-1][1]["source_language"] == "eng_Latn"
    assert detected[-1][1]["translated_text"] == plain


def metric(client: httpx.Client, name: str, outcome: str) -> float:
    text = client.get("/metrics").text
    found = re.search(rf'^{name}_total{{outcome="{outcome}"}} ([0-9.e+]+)$', text, re.M)
    return float(found.group(1)) if found else 0.0


def test_a_client_that_goes_away_cancels_the_rest(client: httpx.Client) -> None:
    count = 3000
    text = " ".join(f"Sentence {i} is here." for i in range(count))
    sent_before = metric(client, "tafsiri_streamed_sentences", "sent")
    cancelled_before = metric(client, "tafsiri_streamed_sentences", "cancelled")
    body = {"text": text, "source_language": "en", "target_language": "sw"}
    with client.stream("POST", "/api/v1/translate/stream", json=body) as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                break  # the first sentence: the client leaves
    time.sleep(3)
    sent = metric(client, "tafsiri_streamed_sentences", "sent") - sent_before
    cancelled = metric(client, "tafsiri_streamed_sentences", "cancelled") - cancelled_before
    assert sent + cancelled == count
    assert sent < count / 2, (sent, cancelled)


def test_stream_refuses_bad_input_before_streaming(client: httpx.Client) -> None:
    response = client.post(
        "/api/v1/translate/stream", json={"text": "Hello.", "target_language": "xx_Nope"}
    )
    assert_error_format(response, 400, "target_language")
    response = client.post(
        "/api/v1/translate/stream", json={"text": "x" * 1_000_001, "target_language": "sw"}
    )
    assert_error_format(response, 413)  # the body limit, before the text's own
    assert_error_format(client.post("/api/v1/translate/stream", json={"text": ""}), 422)
