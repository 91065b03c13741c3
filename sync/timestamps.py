"""The one timestamp form Souk sends anywhere (REST, sync pull and push, WebSocket frames):
RFC 3339 in UTC with a `T` and a `Z`, e.g. "2026-12-02T03:39:13.320000Z".

It is exactly what the HTTP encoder (msgspec) writes for an aware datetime — microseconds when
there are any, none otherwise — so a time reads the same whichever way it reached the client.
`str(datetime)` or `isoformat()` would give "2026-12-02 03:39:13.32+00:00" or "+00:00", which
Safari's `Date` has refused. It lives in the sync library (the lowest layer) so that both the
library's own answers and the server can use it.
"""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(moment: datetime) -> str:
    """`moment` in UTC as RFC 3339 with `T` and `Z`; a naive datetime is taken to be UTC already."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat().replace("+00:00", "Z")
