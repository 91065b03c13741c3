"""Refusals of the sync library: what a caller did wrong, with the HTTP status that says so.

`SyncError` is the shared base: the server's domain errors derive from it, so a push records any
refusal the same way, and the server's HTTP error mapping answers every one of them with its
`status_code`, `message` and `field`. The sync library raises only the three kinds below.
"""

from __future__ import annotations


class SyncError(Exception):
    status_code = 400
    # A refusal is final (a push records it and never retries) unless waiting can help.
    retryable = False

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.headers: dict[str, str] = {}


class SyncForbidden(SyncError):
    status_code = 403


class SyncConflict(SyncError):
    status_code = 409


class SyncInvalid(SyncError):
    """Bad input; `field` names the offending field."""

    status_code = 422
