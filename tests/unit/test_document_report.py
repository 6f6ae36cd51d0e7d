"""A translated document's integrity report: every segment accounted for (translated,
unchanged, withheld), placeholders and tags in against out, the output-language checks and
quality, and warnings a person cannot miss; computed by the job that translates it."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import polib
import pytest

from serve_app.documents.formats import MESSAGE_FORMATS, render, segments
from serve_app.documents.messages import Target, codes_kept, message_of
from serve_app.documents.report import LOCALIZATION_FORMATS, integrity_report
from serve_app.jobs.handlers import NeedsHumanError
from serve_app.jobs.model import Job, JobKind
from serve_app.messages import TranslateCall, TranslateOutcome
from tests import l10n_files as files
from tests.unit.test_job_chunks import handlers

RUS = "rus_Cyrl"


def quality(score: float, *flags: str, language: str | None = "fra_Latn") -> dict[str, Any]:
    return {"score": score, "log_prob": -0.1, "flags": list(flags), "output_language": language}


def test_counts_partition_the_segments_and_codes_are_compared() -> None:
    sources = ["Hello <b>world</b>", "Paris", "Save %s now", "Bye {name}"]
    translations = ["Bonjour <b>monde</b>", "Paris", "Enregistrer maintenant", None]
    report = integrity_report(
        sources,
        translations,
        [quality(0.9), quality(0.5, "untranslated"), quality(0.3, "wrong_language"), None],
        min_quality=0.4,
        repaired_sentences=2,
    )
    assert (report.segments, report.translated, report.unchanged, report.withheld) == (4, 2, 1, 1)
    assert report.repaired_sentences == 2
    # Over the segments with a translation: <b>, </b> twice, %s once; %s lost.
    assert (report.codes_in, report.codes_out, report.codes_mismatched) == (3, 2, 1)
    assert (report.language_checked, report.wrong_language, report.flagged) == (3, 1, 2)
    assert report.language_checked_share == 0.75
    assert (report.quality_measured, report.quality_min, report.quality_median) == (3, 0.3, 0.5)
    assert report.warnings == (
        "1 segment withheld below min_quality",
        "1 segment came back with other placeholders or tags than the source's",
        "1 segment read as another language than the target",
        "2 segments flagged for review by quality",
    )
    dumped = report.as_dict()
    assert dumped["warnings"] == list(report.warnings)
    assert dumped["language_checked_share"] == 0.75
    assert dumped["from_memory"] == 0


def test_nothing_translated_is_a_warning_and_so_is_little() -> None:
    sources = ["One sentence.", "Another one."]
    copied = integrity_report(sources, sources)
    assert (copied.translated, copied.unchanged) == (0, 2)
    assert copied.warnings[0] == "no segment was translated: the file reads as its source"
    # Case and spacing do not make a translation.
    assert integrity_report(["Hello  world"], ["HELLO world"]).translated == 0
    few = integrity_report([*sources, "Third."], ["Une phrase.", *sources[1:], "Third."])
    assert few.warnings == ("only 1 of 3 segments were translated",)
    assert integrity_report(sources, ["Une phrase.", "Une autre."]).warnings == ()


def test_an_empty_document_reports_zeros_without_warnings() -> None:
    report = integrity_report([], [])
    assert report.segments == report.translated == report.codes_in == 0
    assert report.language_checked_share == 0.0
    assert (report.quality_min, report.quality_median) == (None, None)
    assert report.warnings == ()


def test_a_localization_message_that_lost_its_codes_is_withheld() -> None:
    found = segments(files.PO, "po", target=Target(RUS))
    lost = [re.sub(r"<[^>]*>", "", snippet) for snippet in found]
    report = integrity_report(found, lost, localization=True)
    coded = [snippet for snippet in found if "data-k" in snippet]
    assert coded
    assert report.withheld == len(coded)
    assert report.translated == 0
    assert (report.codes_mismatched, report.codes_out) == (len(coded), 0)
    assert report.warnings[0] == "no segment was translated: the file reads as its source"
    assert report.warnings[1].startswith(f"{len(coded)} segments lost or doubled a placeholder")
    # The same snippets outside a localization file stand as they came back.
    assert integrity_report(found, lost).withheld == 0
    # What the report counts withheld is what the file keeps its source for, marked fuzzy
    # (a plural entry's forms are segments of their own: 8 segments, 4 entries).
    catalog = polib.pofile(render(files.PO, "po", lost, target=Target(RUS)).decode())
    assert [entry.msgid for entry in catalog if entry.fuzzy] == [
        "Hello %(name)s, you have <b>new</b> mail",
        "One file was deleted",
        "%d comment",
        "Open {0} in {app_name}",
    ]
    assert report.withheld == 8


def test_every_segment_withheld_warns() -> None:
    report = integrity_report(["Un", "Deux"], [None, None], [quality(0.1), quality(0.2)])
    assert (report.withheld, report.translated) == (2, 0)
    assert report.warnings[:2] == (
        "no segment was translated: the file reads as its source",
        "2 segments withheld below min_quality",
    )


def test_memory_served_segments_are_counted() -> None:
    matches = [[{"served": True, "sentence": 0}], [{"served": False}], [], None]
    texts = ["a b", "c d", "e f", "g h"]
    report = integrity_report(texts, ["w", "x", "y", "z"], memory_matches=matches)
    assert report.from_memory == 1


@pytest.mark.parametrize(
    "translation",
    [
        'Hi <wbr data-k="0">, you have <span data-k="1">new</span> mail',
        'Hi <wbr data-k="0"> <wbr data-k="0">, <span data-k="1">new</span>',  # doubled
        "Hi, you have new mail",  # lost
        'Hi <wbr data-k="0">, <span data-k="1">new mail',  # a pair without its end
        '<span data-k="0">Hi</span> <wbr data-k="1">',  # kinds swapped
    ],
)
def test_codes_kept_is_the_files_own_check(translation: str) -> None:
    message = message_of("Hello %(name)s, you have <b>new</b> mail")
    assert codes_kept(message.snippet(), translation) == (message.read(translation) is not None)


def test_the_report_knows_every_localization_format() -> None:
    assert set(MESSAGE_FORMATS) == LOCALIZATION_FORMATS


async def _prefixing(name: str, call: TranslateCall) -> TranslateOutcome:
    """ "Translates" by prefixing each text; a text with "Drop" loses its codes."""
    texts = [re.sub(r"<[^>]*>", "", t) if "Drop" in t else f"fr {t}" for t in call.texts]
    return TranslateOutcome(texts=texts, repaired_sentences=1)


def _document_job(texts: list[str], fmt: str, min_quality: float | None = None) -> Job:
    request = {
        "texts": texts,
        "targets": ["fra_Latn"],
        "source": "eng_Latn",
        "text_format": "html",
        "min_quality": min_quality,
    }
    document = {"id": "d", "filename": f"f.{fmt}", "format": fmt, "output": fmt}
    payload = {"request": request, "document": document}
    return Job(token="d" * 32, kind=JobKind.TEXT_TRANSLATION, payload=payload)


async def _no_progress(*_: Any) -> None:
    return None


def test_a_document_jobs_result_carries_its_report() -> None:
    texts = ['Hello <wbr data-k="0">', 'Drop <wbr data-k="0"> me', "Plain"]
    result = asyncio.run(handlers(_prefixing, 1).run(_document_job(texts, "po"), _no_progress))
    report = result["report"]
    assert (report["segments"], report["translated"], report["withheld"]) == (3, 2, 1)
    assert (report["codes_in"], report["codes_out"], report["codes_mismatched"]) == (2, 1, 1)
    assert report["repaired_sentences"] == 2  # one per call, two chunks
    # Not a document: no report.
    plain = _document_job(texts, "po").payload | {"document": None}
    job = Job(token="e" * 32, kind=JobKind.TEXT_TRANSLATION, payload=plain)
    assert "report" not in asyncio.run(handlers(_prefixing, 1).run(job, _no_progress))


def test_a_needs_human_document_job_reports_too() -> None:
    async def scored(name: str, call: TranslateCall) -> TranslateOutcome:
        outcome = await _prefixing(name, call)
        from serve_app.engines.quality import Quality

        outcome.qualities = [Quality(score=0.2, log_prob=-1.6) for _ in call.texts]
        return outcome

    async def detect(call: Any) -> Any:
        from serve_app.engines.detector import Detection
        from serve_app.messages import DetectOutcome

        return DetectOutcome([Detection("fra_Latn", 0.99, True) for _ in call.texts])

    jobs = handlers(scored, 1)
    jobs._translation._detect = detect  # the output language is read
    with pytest.raises(NeedsHumanError) as caught:
        asyncio.run(jobs.run(_document_job(["Un", "Deux"], "docx", 0.5), _no_progress))
    assert caught.value.details is not None
    report = caught.value.details["report"]
    assert (report["withheld"], report["translated"], report["flagged"]) == (2, 0, 2)
    assert (report["language_checked"], report["quality_min"]) == (2, 0.2)
    assert "2 segments withheld below min_quality" in report["warnings"]


def test_the_sdk_reads_the_report_and_the_cli_prints_it() -> None:
    from serve_app.cli import report_lines
    from tafsiri_client import JobStatusResponse

    dumped = integrity_report(["Un chat.", "Deux"], ["Un chat.", None], [quality(0.25), None])
    job = JobStatusResponse.model_validate(
        {
            "token": "t",
            "kind": "text_translation",
            "status": "needs_human",
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "retries": 0,
            "metadata": {},
            "report": dumped.as_dict(),
        }
    )
    assert job.report is not None
    assert (job.report.segments, job.report.withheld, job.report.quality_min) == (2, 1, 0.25)
    lines = report_lines(job.report)
    assert lines[0].startswith("2 segments: 0 translated, 1 unchanged, 1 withheld")
    assert "output language checked: 50% (0 wrong); quality min 0.25, median 0.25" in lines[1]
    assert lines[2:] == [
        "warning: no segment was translated: the file reads as its source",
        "warning: 1 segment withheld below min_quality",
    ]
