"""Python SDK for Tafsiri: sync :class:`Client` and async :class:`AsyncClient`.

Results are models (:mod:`tafsiri_client.models`); failures raise :class:`TafsiriError` (or a
subclass) carrying the error format's fields. 429 answers are retried after ``retry_after``.

    from tafsiri_client import Client

    with Client("http://127.0.0.1:8000") as tafsiri:
        print(tafsiri.translate("Habari za asubuhi", "eng_Latn").translated_text)
"""

from tafsiri_client._core import TERMINAL
from tafsiri_client._version import __version__
from tafsiri_client.client import DEFAULT_URL, AsyncClient, Client
from tafsiri_client.errors import (
    AuthenticationError,
    BadRequestError,
    JobFailedError,
    NotFoundError,
    PayloadTooLargeError,
    RateLimitError,
    ServerError,
    TafsiriError,
    ValidationFailedError,
    WaitTimeoutError,
)
from tafsiri_client.models import (
    BatchDetectResponse,
    BatchTranslateResponse,
    CandidateOut,
    ComponentHealth,
    CorrectionOut,
    DetectAnswer,
    DetectionOut,
    DetectResponse,
    DocumentReport,
    ErrorBody,
    ErrorItem,
    GlossaryEntryOut,
    GlossaryOut,
    GlossarySummaryOut,
    GlossaryTermOut,
    HealthResponse,
    JobAccepted,
    JobProgress,
    JobStatusResponse,
    Language,
    LanguagePairOut,
    LanguagesResponse,
    ModelsResponse,
    ModelState,
    MultiTargetBatchTranslateResponse,
    MultiTargetTranslateResponse,
    QualityOut,
    StreamEvent,
    TranslateAnswer,
    TranslateResponse,
    TranslationItem,
)

__all__ = [
    "DEFAULT_URL",
    "TERMINAL",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "BatchDetectResponse",
    "BatchTranslateResponse",
    "CandidateOut",
    "Client",
    "ComponentHealth",
    "CorrectionOut",
    "DetectAnswer",
    "DetectResponse",
    "DetectionOut",
    "DocumentReport",
    "ErrorBody",
    "ErrorItem",
    "GlossaryEntryOut",
    "GlossaryOut",
    "GlossarySummaryOut",
    "GlossaryTermOut",
    "HealthResponse",
    "JobAccepted",
    "JobFailedError",
    "JobProgress",
    "JobStatusResponse",
    "Language",
    "LanguagePairOut",
    "LanguagesResponse",
    "ModelState",
    "ModelsResponse",
    "MultiTargetBatchTranslateResponse",
    "MultiTargetTranslateResponse",
    "NotFoundError",
    "PayloadTooLargeError",
    "QualityOut",
    "RateLimitError",
    "ServerError",
    "StreamEvent",
    "TafsiriError",
    "TranslateAnswer",
    "TranslateResponse",
    "TranslationItem",
    "ValidationFailedError",
    "WaitTimeoutError",
    "__version__",
]
