"""Domain errors carry the HTTP status and a message a person can act on.

Domain functions raise these; the API turns them into JSON `{"error": ..., "field": ...}` with
the status, and sync push turns them into per-mutation rejections. One rule, one place.
"""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400
    # A refusal is final (sync push records it and never retries) unless waiting can help.
    retryable = False

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.headers: dict[str, str] = {}


class Unauthorized(DomainError):
    status_code = 401


class Forbidden(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Invalid(DomainError):
    """Bad input; `field` names the offending field so forms can point at it."""

    status_code = 422


class TooManyRequests(DomainError):
    """Slow down: `retry_after` seconds from now the same request will be accepted."""

    status_code = 429
    retryable = True

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}
