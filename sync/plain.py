"""The one conversion of a result dataclass into JSON-ready data (UUIDs and times as text)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any


def plain(value: Any) -> Any:
    """JSON-ready data of a dataclass instance (nested ones, UUIDs, datetimes); None stays None."""
    if value is None:
        return None
    return json.loads(json.dumps(asdict(value), default=str))
