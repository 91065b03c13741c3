"""What a photo save can end in besides success: a refusal (the photo's fault) or busy (come back later)."""

from __future__ import annotations


class PhotoRejected(ValueError):
    """Carries a user-facing message; the API turns it into a 422 naming the field."""

    def __init__(self, message: str) -> None:
        """Keep the message separately so the API never has to parse ``str(exc)``."""
        super().__init__(message)
        self.message = message


class PhotoBusy(Exception):
    """Too many photos are being processed already; the same upload will work later.

    Not a ``PhotoRejected``: nothing is wrong with the photo, so the API answers 429 with
    ``Retry-After`` and the sync queue retries instead of giving up.
    """

    def __init__(self, message: str, retry_after: int) -> None:
        """Keep the message and the suggested wait for the API's 429 answer."""
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
