"""A frame fuzzer for the personal live socket (/api/live), which the OpenAPI fuzz cannot reach.

Hypothesis throws text, JSON of every shape and near-valid frames at an authenticated socket on a
real `souk serve`. Every frame must be answered (an error frame, or a pong for a ping), the
socket must stay open, and the server must log no server error.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.sync.client import connect

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
NEAR_VALID = st.fixed_dictionaries(
    {"type": st.sampled_from(["typing", "ping", "auth", "message", "", "TYPING"]) | st.text(max_size=12)},
    optional={
        "conversation_id": st.uuids().map(str) | JSON,
        "token": st.text(max_size=50) | JSON,
        "event": st.text(max_size=30) | JSON,
    },
)
FRAMES = (
    st.text(max_size=300)
    | JSON.map(json.dumps)
    | NEAR_VALID.map(json.dumps)
    | st.integers(1, 400).map(lambda depth: '{"type":' * depth + "1" + "}" * depth)
    | st.integers(1, 3000).map(lambda depth: "[" * depth + "]" * depth)
)


def test_live_socket_survives_any_frame(live_server: str) -> None:
    token = httpx.post(f"{live_server}/api/devices").json()["token"]
    with connect(live_server.replace("http://", "ws://") + "/api/live") as socket:
        socket.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(socket.recv(timeout=5))["type"] == "ready"

        @settings(
            max_examples=300,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(frame=FRAMES)
        def answered(frame: str) -> None:
            socket.send(frame)
            answer: dict[str, Any] = json.loads(socket.recv(timeout=5))
            if answer.get("type") == "typing":  # a valid typing frame comes back to the sender's own channel
                return
            assert answer["type"] in ("error", "pong"), (frame[:200], answer)

        answered()
        socket.send(json.dumps({"type": "ping"}))
        assert json.loads(socket.recv(timeout=5))["type"] == "pong"
        socket.send(json.dumps({"type": "typing", "conversation_id": str(uuid.uuid4())}))
        assert json.loads(socket.recv(timeout=5))["type"] == "error"
