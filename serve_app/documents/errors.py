"""The one error a document can raise: what the API answers (status, code, message)."""

from __future__ import annotations


class DocumentError(ValueError):
    """A file this service refuses, with the HTTP status and error code to answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def invalid(message: str) -> DocumentError:
    """A file that cannot be read as what it claims to be (damaged, cut off, malformed)."""
    return DocumentError(400, "INVALID_DOCUMENT", message)


def too_large(message: str) -> DocumentError:
    return DocumentError(413, "DOCUMENT_TOO_LARGE", message)
