"""The rules a client applies pulled records by, for tests that compare what two pulls build."""

from __future__ import annotations

from typing import Any


def replica_of(changes: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Apply pulled records the way a client does: newest version wins, deletes remove."""
    state: dict[tuple[str, str], dict[str, Any]] = {}
    versions: dict[tuple[str, str], int] = {}
    for c in changes:
        key = (c["entity"], c["id"])
        if c["entity"] != "totals" and versions.get(key, -1) > c["version"]:
            continue
        versions[key] = c["version"]
        if c["op"] == "delete":
            state.pop(key, None)
        else:
            state[key] = c["data"]
    return state
