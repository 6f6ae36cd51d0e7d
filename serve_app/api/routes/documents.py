"""Whole files through the token API: upload (202 + token), poll as any job, fetch the file.

The upload is read and checked here (type, limits, hostile content: a clear 4xx at once, not
a failed job later); its segments become an ordinary text job in the markup-preserving format,
so they are translated in chunks spread over the Translator replicas like any bulk job, and
progress counts sentences. The original file is kept in the job store's database (a record,
expired with its job); the translated file is written only when its job is done, on request,
so no partial file is ever fetchable.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from pathlib import PurePath
from typing import Annotated
from urllib.parse import quote

import anyio.to_thread
from fastapi import APIRouter, File, Form, Response, UploadFile

from serve_app.api import records
from serve_app.api.errors import ApiError, error_responses
from serve_app.api.job_access import load_job, submit_job
from serve_app.api.routes.jobs import poll_link, text_job_payload
from serve_app.api.schemas import (
    ErrorResponse,
    GlossaryMode,
    JobAccepted,
    MemoryMode,
    TextJobRequest,
)
from serve_app.api.security import Principal, charge, enforce_rate_limit
from serve_app.api.services import ServicesDep
from serve_app.api.validation import language_code
from serve_app.config import DocumentsConfig
from serve_app.documents.errors import DocumentError
from serve_app.documents.formats import (
    MEDIA_TYPES,
    MESSAGE_FORMATS,
    DocumentLimits,
    output_format,
    render,
    segments,
    sniff_format,
)
from serve_app.documents.messages import Target
from serve_app.engines.markup import readable_text
from serve_app.engines.segmenter import segment
from serve_app.jobs.model import JobKind, JobStatus
from serve_app.jobs.payloads import DocumentRef, TextJobPayload, TextJobResult
from serve_app.priority import DEFAULT_PRIORITY, Priority
from serve_app.records import DOCUMENT, OwnedRecord
from serve_app.translation.service import off_the_loop

UPLOAD_PATH = "/api/v1/documents"
router = APIRouter(
    prefix="/api/v1",
    tags=["documents"],
    responses=error_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 503),
)


def limits_of(config: DocumentsConfig) -> DocumentLimits:
    return DocumentLimits(**config.model_dump(exclude={"max_per_owner", "max_bytes_per_owner"}))


def _refused(exc: DocumentError) -> ApiError:
    return ApiError(exc.status, exc.message, field="file", code=exc.code)


def _read(
    data: bytes, filename: str, output: str | None, limits: DocumentLimits, target: str
) -> tuple[str, str, list[str]]:
    name = sniff_format(data, filename)
    return name, output_format(name, output), segments(data, name, limits, Target(target))


def _review_flags(result: TextJobResult, below: float | None) -> list[bool]:
    """Per segment, whether its quality scored below ``below`` (marked for review)."""
    measured = result.quality if isinstance(result.quality, list) else []
    if below is None:
        return []
    return [quality is not None and quality["score"] < below for quality in measured]


@router.post(
    "/documents",
    status_code=202,
    response_model=JobAccepted,
    responses=poll_link("poll_job"),
    summary="Submit a file (txt, md, html, srt, vtt, docx, pptx, xlsx, odt, epub, pdf, or a "
    "localization file: po, pot, xlf, strings.xml, json, yaml, arb, strings, xcstrings)",
)
async def submit_document(
    response: Response,
    services: ServicesDep,
    principal: Principal,
    file: Annotated[UploadFile, File(description="The document; its extension names its type.")],
    target_language: Annotated[str, Form()],
    source_language: Annotated[str | None, Form(description="Detected when omitted.")] = None,
    source_candidates: Annotated[
        str | None,
        Form(description="Where detected: the only languages it may be, comma-separated."),
    ] = None,
    output_format: Annotated[
        str | None, Form(description="pdf only: `txt` (default) or `docx`.")
    ] = None,
    glossary_id: Annotated[str | None, Form()] = None,
    glossary_mode: Annotated[GlossaryMode, Form()] = "enforce",
    memory_id: Annotated[str | None, Form()] = None,
    memory_mode: Annotated[MemoryMode, Form()] = "suggest",
    memory_threshold: Annotated[float | None, Form(ge=0.5, le=1.0)] = None,
    model: Annotated[str | None, Form(max_length=64, description="A registered model.")] = None,
    beam_size: Annotated[int | None, Form(ge=1, le=16)] = None,
    protect_spans: Annotated[bool, Form()] = True,
    quality: Annotated[bool, Form(description="Measure each segment's quality.")] = False,
    min_quality: Annotated[
        float | None,
        Form(
            ge=0,
            le=1,
            description="A segment below this quality ends the job `needs_human` (no file); "
            "in a localization file (po, xlf, ...) it is marked for review instead.",
        ),
    ] = None,
    priority: Annotated[Priority, Form()] = DEFAULT_PRIORITY,
    client_id: Annotated[str, Form(pattern=r"^[A-Za-z0-9_.:@-]{1,64}$")] = "default",
) -> JobAccepted:
    """The file is checked at once (415 for a type it is not, 413 past a limit, 400 for a
    damaged or hostile file, 422 for a password-protected one); poll the token at
    ``/api/v1/jobs/{token}`` and fetch the translated file from
    ``/api/v1/documents/{token}/result`` once it is done."""
    config = services.args.documents
    limits = limits_of(config)
    data = await file.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise ApiError(
            413,
            f"the file is larger than the {limits.max_bytes} bytes allowed",
            field="file",
            code="DOCUMENT_TOO_LARGE",
        )
    if not data:
        raise ApiError(400, "the file is empty", field="file", code="EMPTY_DOCUMENT")
    # Counted and charged by its bytes before the file is parsed (its characters are charged
    # with the text job it becomes).
    await enforce_rate_limit(services, principal or client_id, response)
    await charge(services, principal or client_id, len(data), kind="upload_bytes")
    filename = PurePath(file.filename or "").name
    # A localization file's segments depend on its target (its plural forms).
    target = language_code(target_language, services.languages, "target_language")
    try:
        name, output, found = await anyio.to_thread.run_sync(
            _read, data, filename, output_format, limits, target
        )
    except DocumentError as exc:
        raise _refused(exc) from exc
    if not found:
        raise ApiError(
            422, "the document has no text to translate", field="file", code="NOTHING_TO_TRANSLATE"
        )
    # A localization file marks a translation below min_quality for review, in the file.
    review_below = min_quality if name in MESSAGE_FORMATS else None
    body = TextJobRequest(
        texts=found,
        target_language=target_language,
        source_language=source_language,
        source_candidates=[c.strip() for c in source_candidates.split(",") if c.strip()]
        if source_candidates
        else None,
        client_id=client_id,
        priority=priority,
        format="html",
        glossary_id=glossary_id,
        glossary_mode=glossary_mode,
        memory_id=memory_id,
        memory_mode=memory_mode,
        memory_threshold=memory_threshold,
        model=model,
        beam_size=beam_size,
        protect_spans=protect_spans,
        quality=quality or review_below is not None,
        min_quality=None if review_below is not None else min_quality,
    )
    payload = await text_job_payload(body, services, principal, as_one=True)
    record = OwnedRecord(
        uuid.uuid4().hex,
        records.owner_of(principal),
        time.time(),
        {"filename": filename, "format": name, "output": output, "bytes": len(data)},
        base64.b64encode(data).decode("ascii"),
    )
    await records.create(
        services,
        DOCUMENT,
        record,
        config.max_per_owner,
        "document",
        max_size=config.stored_size_per_owner,
    )
    payload = payload.model_copy(
        update={
            "document": DocumentRef(
                id=record.id,
                filename=filename,
                format=name,
                output=output,
                review_below=review_below,
            ),
            "weights": await off_the_loop(
                found,
                lambda: [
                    max(1, len(segment(readable_text(text, "html")).sentences)) for text in found
                ],
            ),
        }
    )
    try:
        accepted = await submit_job(
            services,
            response,
            principal,
            JobKind.TEXT_TRANSLATION,
            payload.model_dump(mode="json"),
            client_id=client_id,
            priority=priority,
            metadata={"document": filename, "format": name, "segments": len(found)},
            counted=True,
        )
    except BaseException:
        await records.delete(services, DOCUMENT, record.id, principal, "document", "file")
        raise
    accepted.message += f" Fetch the file from {UPLOAD_PATH}/{accepted.token}/result when done."
    return accepted


def _download_name(filename: str, target: str, output: str) -> str:
    stem = PurePath(filename).stem or "document"
    return f"{stem}.{target.split('_')[0]}.{output}"


# What may not stand in a quoted header value: control characters (a line break would end
# the header), quotes, backslashes; and, for the ASCII fallback, anything not ASCII.
_UNSAFE_IN_HEADER = re.compile(r'[\x00-\x1f\x7f"\\]|[^\x00-\x7f]')


def content_disposition(download: str) -> str:
    """An attachment header for the file name ``download`` (an uploader's name, so
    anything): an ASCII fallback with every unsafe character as "_", and the exact name
    percent-encoded in ``filename*`` (RFC 6266)."""
    fallback = _UNSAFE_IN_HEADER.sub("_", download)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(download, safe='')}"


@router.get(
    "/documents/{token}/result",
    response_class=Response,
    responses={
        200: {"content": {media: {} for media in set(MEDIA_TYPES.values())}},
        409: {"model": ErrorResponse, "description": "The job is not done (yet)."},
    },
    summary="The translated file of a done document job",
)
async def document_result(token: str, services: ServicesDep, principal: Principal) -> Response:
    job = await load_job(services, token, principal, "Document")
    document = None
    if job.kind == JobKind.TEXT_TRANSLATION:
        payload = TextJobPayload.model_validate(job.payload)
        document = payload.document
    if document is None:
        raise ApiError(404, "Document token not found or expired", field="token", code="NOT_FOUND")
    if job.status != JobStatus.DONE:
        raise ApiError(
            409,
            f"the document's job is {job.status.value}, not done: poll /api/v1/jobs/{token}",
            field="token",
            code="DOCUMENT_NOT_READY",
        )
    stored = await records.load(services, DOCUMENT, document.id, principal, "document", "token")
    result = TextJobResult.model_validate(job.result)
    # A done document job answered every segment into its one target (a withheld one
    # ends the job needs_human instead).
    found = result.translations if isinstance(result.translations, list) else []
    translations = [text for text in found if text is not None]
    if not translations or len(translations) != len(found):
        raise ApiError(
            409, "the document's job has no whole translation", code="DOCUMENT_NOT_READY"
        )
    output = document.output
    rendered = await anyio.to_thread.run_sync(
        render,
        base64.b64decode(stored.body),
        document.format,
        translations,
        limits_of(services.args.documents),
        output,
        Target(payload.target, _review_flags(result, document.review_below)),
    )
    download = _download_name(document.filename, payload.target, output)
    return Response(
        rendered,
        media_type=MEDIA_TYPES[output],
        headers={"Content-Disposition": content_disposition(download)},
    )
