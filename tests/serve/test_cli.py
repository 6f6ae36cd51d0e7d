"""The `tafsiri` command line against the running service: output and exit codes."""

from __future__ import annotations

import json
import random
import re
import signal
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.conftest import free_port, private_serving_env
from tests.serve.test_crash_restart import ServeRun, crash_config

pytestmark = pytest.mark.serve


def tafsiri(
    base_url: str, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "serve_app.cli",
            "--url",
            base_url,
            "--client-id",
            "cli-test",
            *args,
        ],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_translate_into_several_targets(base_url: str) -> None:
    run = tafsiri(base_url, "translate", "Two at once.", "--to", "fr,de", "--from", "en")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["fra_Latn\tTwo at once.", "deu_Latn\tTwo at once."]
    batch = tafsiri(base_url, "translate", "--batch", "x.txt", "--to", "fr,de")
    assert batch.returncode == 2
    assert "not with --batch" in batch.stderr


def test_html_files_are_translated_as_html(base_url: str, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text('<p>Habari <a href="https://x.org">rafiki</a> {name}!</p>\n', "utf-8")
    run = tafsiri(base_url, "translate", "--file", str(page), "--to", "en", "--from", "sw")
    assert run.returncode == 0, run.stderr
    assert run.stdout == page.read_text("utf-8") + "\n"
    # An .html file is sent as HTML (so markup the service refuses is refused), unless
    # --format says otherwise.
    deep = tmp_path / "deep.html"
    deep.write_text("<div>" * 300 + "Habari", "utf-8")
    refused = tafsiri(base_url, "translate", "--file", str(deep), "--to", "en", "--from", "sw")
    assert refused.returncode == 1
    assert "nested deeper than 256" in refused.stderr
    as_text = ["--file", str(deep), "--to", "en", "--from", "sw", "--format", "text"]
    assert tafsiri(base_url, "translate", *as_text).returncode == 0


def test_translate_text_stdin_and_file(base_url: str, tmp_path: Path) -> None:
    run = tafsiri(base_url, "translate", "Habari za asubuhi, rafiki yangu.", "--to", "en")
    assert run.returncode == 0, run.stderr
    assert run.stdout == "Habari za asubuhi, rafiki yangu.\n"
    several = tafsiri(
        base_url, "translate", "Pick one.", "--to", "fr", "--from", "en", "--alternatives", "2"
    )
    best, *others = several.stdout.splitlines()
    assert best == "Pick one."
    assert len(others) == 2
    assert best not in others
    combined = tafsiri(
        base_url, "translate", "--batch", "x.txt", "--to", "fr", "--alternatives", "1"
    )
    assert combined.returncode == 2
    assert "not with --batch" in combined.stderr
    wide = tafsiri(base_url, "--json", "translate", "Wide.", "--to", "fr", "--beam", "5")
    assert wide.returncode == 0, wide.stderr
    assert json.loads(wide.stdout)["beam_size"] == 5
    too_wide = tafsiri(base_url, "translate", "Wide.", "--to", "fr", "--beam", "12")
    assert too_wide.returncode == 1  # the service refused it
    assert "beam_size" in too_wide.stderr
    piped = tafsiri(base_url, "translate", "--to", "fr", "--from", "en", stdin="From stdin.")
    assert piped.stdout.strip() == "From stdin."
    source = tmp_path / "doc.txt"
    source.write_text("Paragraph one. Two sentences.\n\nParagraph two.")
    from_file = tafsiri(
        base_url, "--json", "translate", "--file", str(source), "--to", "sw", "--from", "en"
    )
    assert (
        '"translated_text": "Paragraph one. Two sentences.\\n\\nParagraph two."' in from_file.stdout
    )


def test_batch_file_keeps_line_order(base_url: str, tmp_path: Path) -> None:
    lines = [f"Batch line {i}." for i in range(70)]
    lines.insert(10, "")
    source, target = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_text("\n".join(lines))
    run = tafsiri(
        base_url,
        "translate",
        "--batch",
        str(source),
        "--to",
        "fr",
        "--from",
        "en",
        "--output",
        str(target),
        "--chunk",
        "16",
    )
    assert run.returncode == 0, run.stderr
    assert target.read_text().splitlines() == lines
    # The blank line is passed through, not sent: the progress total is 70, not 71.
    assert re.search(r"\b70/70\b", run.stderr)
    assert not re.search(r"/71\b", run.stderr)


def test_detect_languages_and_errors(base_url: str) -> None:
    detect = tafsiri(base_url, "detect", "Ich habe heute leider keine Zeit.")
    assert detect.stdout.startswith("deu_Latn\tGerman\t")
    languages = tafsiri(base_url, "languages", "--region", "Oceania")
    assert len(languages.stdout.strip().splitlines()) == 4
    bad = tafsiri(base_url, "translate", "Hello there", "--to", "klingon")
    assert bad.returncode == 1
    assert "Unsupported language code" in bad.stderr
    unreachable = tafsiri("http://127.0.0.1:9", "detect", "hello world")
    assert unreachable.returncode == 4
    assert "cannot reach" in unreachable.stderr


def test_jobs_and_workflows(base_url: str, tmp_path: Path) -> None:
    token = tafsiri(
        base_url, "jobs", "submit", "Load sales_data.csv and show missing values"
    ).stdout.strip()
    assert len(token) == 32
    waited = tafsiri(base_url, "jobs", "wait", token)
    assert waited.returncode == 0, waited.stderr
    dsl = tmp_path / "flow.yaml"
    dsl.write_text(waited.stdout)
    assert tafsiri(base_url, "workflow", "validate", "--file", str(dsl)).stdout.startswith("valid")
    run = tafsiri(base_url, "workflow", "run", "--file", str(dsl), "--wait")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("done\t")
    assert "missing_analysis\tdone" in run.stdout
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\ntasks: [{id: a, agent: nope, action: x}]")
    invalid = tafsiri(base_url, "workflow", "validate", "--file", str(broken))
    assert invalid.returncode == 1
    assert "UNKNOWN_AGENT" in invalid.stdout
    failing = tafsiri(base_url, "jobs", "submit", "Sing a song about rivers please")
    assert tafsiri(base_url, "jobs", "wait", failing.stdout.strip()).returncode == 3


def test_min_quality_withholds_and_says_so(base_url: str, tmp_path: Path) -> None:
    text = "Hello my dear friend, how are you today?"
    kept = tafsiri(base_url, "translate", text, "--to", "en", "--from", "en", "--quality")
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout == text + "\n"
    assert "quality 1.000" in kept.stderr
    held = tafsiri(
        base_url, "translate", text, "--to", "en,fr", "--from", "en", "--min-quality", "0.3"
    )
    assert held.returncode == 5
    assert held.stdout.splitlines() == [f"eng_Latn\t{text}", "fra_Latn\t"]
    assert "fra_Latn: quality 0.250 (untranslated, wrong_language) withheld" in held.stderr
    lines = tmp_path / "lines.txt"
    lines.write_text(f"{text}\nParis.\n", "utf-8")
    batch = tafsiri(
        base_url,
        "translate",
        "--batch",
        str(lines),
        "--to",
        "fr",
        "--from",
        "en",
        "--min-quality",
        "0.3",
        "--quiet",
    )
    assert batch.returncode == 5
    assert batch.stdout == "\nParis.\n"
    assert "1 line(s) withheld" in batch.stderr


def test_glossaries_from_the_command_line(base_url: str, tmp_path: Path) -> None:
    terms = tmp_path / "terms.csv"
    terms.write_text('source,target\ncloud,wingu\n"server, big",seva kubwa\n', "utf-8")
    created = tafsiri(
        base_url,
        "glossaries",
        "create",
        "cli terms",
        "--file",
        str(terms),
        "--from",
        "en",
        "--to",
        "sw",
    )
    assert created.returncode == 0, created.stderr
    glossary_id, name, count = created.stdout.strip().split("\t")
    assert (name, count) == ("cli terms", "2 entries")
    listed = tafsiri(base_url, "glossaries", "list")
    assert f"{glossary_id}\tcli terms\t2 entries\teng_Latn>swh_Latn" in listed.stdout
    shown = tafsiri(base_url, "glossaries", "show", glossary_id)
    assert shown.stdout.splitlines()[2] == 'eng_Latn,swh_Latn,"server, big",seva kubwa'
    run = tafsiri(
        base_url, "translate", "Our cloud.", "--to", "sw", "--from", "en", "--glossary", glossary_id
    )
    assert run.stdout == "Our wingu.\n", run.stderr
    assert tafsiri(base_url, "glossaries", "delete", glossary_id).returncode == 0
    missing = tafsiri(base_url, "glossaries", "delete", glossary_id)
    assert missing.returncode == 1
    assert "Glossary not found" in missing.stderr


def test_corrections_from_the_command_line(base_url: str) -> None:
    text = "Asante sana kwa msaada wako wa leo."
    made = tafsiri(
        base_url,
        "corrections",
        "add",
        text,
        "Thanks a lot for your help today.",
        "--from",
        "sw",
        "--to",
        "en",
    )
    assert made.returncode == 0, made.stderr
    correction_id = made.stdout.strip()
    run = tafsiri(base_url, "translate", text, "--to", "en", "--from", "sw")
    assert run.stdout == "Thanks a lot for your help today.\n"
    listed = tafsiri(base_url, "corrections", "list")
    assert f"swh_Latn>eng_Latn\t{text}\tThanks a lot" in listed.stdout
    assert correction_id in listed.stdout
    assert tafsiri(base_url, "corrections", "delete", correction_id).returncode == 0
    assert tafsiri(base_url, "translate", text, "--to", "en", "--from", "sw").stdout == text + "\n"


def test_documents_and_streaming(base_url: str, tmp_path: Path) -> None:
    from tests.document_files import make_docx

    report = tmp_path / "report.docx"
    report.write_bytes(make_docx())
    run = tafsiri(base_url, "translate", "--file", str(report), "--to", "fr", "--from", "en")
    assert run.returncode == 0, run.stderr
    written = tmp_path / "report.fr.docx"
    assert run.stdout.strip() == str(written)
    assert "sentences" in run.stderr  # the progress bar
    from serve_app.documents.formats import segments

    assert segments(written.read_bytes(), "docx") == segments(report.read_bytes(), "docx")
    out = tmp_path / "chosen.docx"
    args = ["--file", str(report), "--to", "fr", "--output", str(out), "--quiet"]
    assert tafsiri(base_url, "translate", *args).returncode == 0
    assert out.exists()
    streamed = tafsiri(
        base_url, "translate", "One sentence. Two sentences!", "--to", "fr", "--stream"
    )
    assert streamed.returncode == 0, streamed.stderr
    assert streamed.stdout == "One sentence. Two sentences!\n"


def sse_events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """A server-sent event stream's (event, data) pairs, as they come."""
    name = ""
    for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield name, json.loads(line.removeprefix("data: "))


@pytest.mark.slow
@pytest.mark.own_ray
def test_sigterm_answers_the_request_in_flight_then_exits_0(test_model_dir: Path) -> None:
    """`docker stop` and Kubernetes stop `tafsiri serve` with SIGTERM: it refuses new requests,
    answers the one in flight in full, then stops Serve and Ray and exits 0."""
    with tempfile.TemporaryDirectory(prefix="tfs-term-", dir="/tmp") as directory:
        workdir, port = Path(directory), free_port()
        config = crash_config(test_model_dir, workdir, port)
        settings = yaml.safe_load(config.read_text())
        # Each round of the stream's sentences (8 in flight) waits 1 s for its batch to fill:
        # a text of 64 takes 8 s however fast the machine, so it is mid-way at the signal.
        settings["applications"][0]["args"]["translator"]["batching"] |= {
            "batch_wait_timeout_s": 1.0,
            "work_conserving": False,
        }
        config.write_text(yaml.safe_dump(settings))
        served = ServeRun(
            config,
            workdir,
            port,
            command=[sys.executable, "-m", "serve_app.cli", "serve", str(config)],
            env=private_serving_env() | {"RAY_ADDRESS": "local"},  # its own Ray, fast mode
        )
        try:
            served.wait_healthy()
            words = ("".join(random.choices(string.ascii_lowercase, k=8)) for _ in range(128))
            text = " ".join(f"Sentence {next(words)} of {next(words)}." for _ in range(64))
            body = {"text": text, "source_language": "en", "target_language": "fr"}
            with (
                httpx.Client(base_url=served.url, timeout=60) as http,
                http.stream("POST", "/api/v1/translate/stream", json=body) as stream,
            ):
                assert stream.status_code == 200
                events = sse_events(stream.iter_lines())
                received = [next(events)]  # a first sentence: the request is in flight
                signalled = time.monotonic()
                served.process.send_signal(signal.SIGTERM)
                # A new request is refused once the replica knows, the stream going on.
                while (refused := http.get("/api/v1/languages")).status_code != 503:
                    assert time.monotonic() - signalled < 30, "still admitting after 30 s"
                    time.sleep(0.1)
                refused_at = time.monotonic()
                received += list(events)
                finished = time.monotonic()
            assert refused.json()["errors"][0]["code"] == "STOPPING"
            (done_name, done), sentences = received[-1], received[:-1]
            assert done_name == "done"
            assert len(sentences) == done["sentences"] == 64
            assert "".join(data["delta"] for _, data in sentences) == done["translated_text"]
            # Its last sentences were translated after new requests were refused (the ones
            # sent before had come already, unread): the stop waited for it.
            assert finished - refused_at > 1
            # Bound: the drain, then Serve's own shutdown, deployment after deployment (~15 s).
            status = served.process.wait(timeout=120)
            stopped = time.monotonic()
            log = served.log_tail(100_000)
            assert status == 0, log[-4000:]
            assert "SIGTERM: refusing new requests" in log
            # No stack dump of its own (lines with `pid=` are Ray's, relayed from replicas).
            own = [line for line in log.splitlines() if "pid=" not in line]
            assert not [line for line in own if "Traceback" in line], log[-4000:]
            print(f"drained {finished - signalled:.1f} s, exited {stopped - signalled:.1f} s")
        finally:
            if served.process.poll() is None:
                served.kill_everything()
            served.log.close()
