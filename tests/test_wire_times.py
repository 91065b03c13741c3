"""One timestamp form everywhere (sync/timestamps.py): RFC 3339 UTC with `T` and `Z`, in a live
WebSocket frame, a push outcome (first answer and the stored one a retry gets) and REST alike."""

from __future__ import annotations

import json
import re
import uuid
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx

from server.settings import Settings
from sync.timestamps import rfc3339
from tests.test_chat_realtime import _market, _socket

RFC3339_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def _times(data: Any) -> list[str]:
    """Every string in `data` that looks like a time (starts with a date)."""
    if isinstance(data, dict):
        return [t for v in data.values() for t in _times(v)]
    if isinstance(data, list):
        return [t for v in data for t in _times(v)]
    return [data] if isinstance(data, str) and re.match(r"\d{4}-\d\d-\d\d.\d\d:", data) else []


def test_the_helper_writes_what_the_http_encoder_writes() -> None:
    from litestar.serialization import encode_json

    for moment in (
        datetime(2026, 12, 2, 3, 39, 13, 320000, tzinfo=UTC),
        datetime(2026, 12, 2, 3, 39, 13, tzinfo=UTC),
        datetime(2026, 12, 2, 4, 39, 13, 5, tzinfo=timezone(timedelta(hours=1))),
    ):
        assert json.dumps(rfc3339(moment)).encode() == encode_json(moment.astimezone(UTC))
    assert rfc3339(datetime(2026, 12, 2, 3, 39, 13, 320000)) == "2026-12-02T03:39:13.320000Z"  # naive = UTC


async def test_a_live_frame_and_a_push_outcome_carry_t_z_times(live_server: str, db: Settings) -> None:
    m = await _market(live_server)
    vendor, visitor = {"Authorization": f"Bearer {m['vendor']}"}, {"Authorization": f"Bearer {m['visitor']}"}
    async with AsyncExitStack() as stack, httpx.AsyncClient(base_url=live_server) as http:
        conversation = (await http.post("/api/conversations", json={"stall_code": m["stall"]}, headers=visitor)).json()
        vendor_socket = await _socket(live_server, m["vendor"], stack)
        sent = await http.post(
            f"/api/conversations/{conversation['id']}/messages",
            json={"message_id": str(uuid.uuid4()), "body": "Hi there"},
            headers=visitor,
        )
        frame = await vendor_socket.next("message")
        assert RFC3339_Z.fullmatch(frame["message"]["created_at"]), frame
        assert frame["message"]["created_at"] == sent.json()["created_at"]  # REST says the same
        # A push outcome: the first answer and the stored one a retry gets.
        item_id = str(uuid.uuid4())
        body = {
            "client_id": str(uuid.uuid4()),
            "mutations": [
                {
                    "id": 1,
                    "name": "create_item",
                    "args": {"stall_code": m["stall"], "id": item_id, "title": "Jar", "price": 500, "quantity": 2},
                },
                {"id": 2, "name": "sell_item", "args": {"id": item_id, "sale_id": str(uuid.uuid4()), "quantity": 2}},
                {"id": 3, "name": "update_item", "args": {"id": item_id, "price": 1}},  # refused: sold
            ],
        }
        first = await http.post("/api/sync/push", json=body, headers=vendor)
        again = await http.post("/api/sync/push", json=body, headers=vendor)
        assert first.status_code == again.status_code == 200, first.text
        assert [r["status"] for r in first.json()["results"]] == ["applied", "applied", "rejected"]
        assert again.json() == first.json()
        times = _times(first.json()["results"])
        assert times and all(RFC3339_Z.fullmatch(t) for t in times), times
        assert _times(first.json()["results"][2]["data"]), "the refusal carries the item's state"
