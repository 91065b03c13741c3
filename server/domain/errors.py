"""Domain errors carry the HTTP status and a message a person can act on.

Domain functions raise these; the API turns them into JSON `{"error": ..., "field": ...}` with
the status, and sync push turns them into per-mutation rejections. One rule, one place.
"""

from __future__ import annotations

from sync.errors import SyncConflict, SyncError, SyncForbidden, SyncInvalid

# One hierarchy: the domain's refusals share the sync library's base, so a sync push records a
# domain refusal as a rejection, and `except DomainError` (and the HTTP mapping) also covers
# what sync itself refuses (a bad cursor, a gap in a push, a foreign client id).
DomainError = SyncError


class Unauthorized(DomainError):
    status_code = 401


class Forbidden(SyncForbidden):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(SyncConflict):
    status_code = 409


class Invalid(SyncInvalid):
    """Bad input; `field` names the offending field so forms can point at it."""

    status_code = 422


class TooManyRequests(DomainError):
    """Slow down: `retry_after` seconds from now the same request will be accepted."""

    status_code = 429
    retryable = True

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.headers = {"Retry-After": str(retry_after)}
