"""The one conversion of a result dataclass into JSON-ready data (UUIDs and times as text)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sync.timestamps import rfc3339


def plain(value: Any) -> Any:
    """JSON-ready data of a dataclass instance (nested ones, UUIDs, datetimes); None stays None."""
    if value is None:
        return None
    return json.loads(json_text(asdict(value)))


def json_text(data: Any) -> str:
    """`data` as JSON, times in the one timestamp form (`sync.timestamps`), UUIDs and other
    values as their text: what a push outcome stores and a live frame carries must read the
    same as the HTTP encoder's answers, not `str(datetime)`'s "2026-12-02 03:39:13+00:00"."""
    return json.dumps(data, default=_text, ensure_ascii=False)


def _text(value: object) -> str:
    return rfc3339(value) if isinstance(value, datetime) else str(value)
