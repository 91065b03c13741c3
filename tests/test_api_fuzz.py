"""Property-based fuzzing of every HTTP API route, driven by the server's own OpenAPI schema.

Schemathesis takes the document the app serves at /api/schema/openapi.json (built by
`create_app` when the module is collected, so pytest gets one test per operation) and, for every
operation in it, sends schema-valid, malformed and hostile requests to a real `souk serve`
process (its coverage phase's edge cases, then derandomized Hypothesis examples in positive and
negative mode). Every response must

- never be a 5xx (`not_a_server_error`),
- never be a 2xx to a request the schema calls invalid (`negative_data_rejection`),
- carry a status code, content type, headers and body that the schema declares for it.

The test runs once per caller: anonymous (path parameters fuzzed too), and as the seeded
market's vendor, organizer and a visitor device, with path parameters pinned to that market's
real event, stall, item, conversation, message and quick reply, so the authorized code paths
are fuzzed rather than only refused with 401 or 404. Methods a path does not serve (405) are
sent only anonymously.

POST /api/photos is fuzzed like the rest: multipart bodies with random bytes, missing parts and
wrong types; real images (bombs included) are thrown at it by tests/attacks/test_photo_bomb.py.

The server runs with its rate limits raised (SOUK_RATE_LIMIT_FACTOR), so that the limits, which
tests/attacks/test_rate_limits.py checks, do not turn the fuzzing of everything else into 429s.

Not fuzzed here:
- the WebSocket routes (/api/live, /api/events/{event}/live): they are not in the OpenAPI schema,
  which describes HTTP only; tests/attacks/test_live_socket_fuzz.py fuzzes the frames of /api/live.
- HTML pages, the PWA and kiosk assets: they are left out of the schema (`include_in_schema`).
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from schemathesis import Case
from schemathesis.checks import positive_data_acceptance
from schemathesis.specs.openapi.checks import allow_header_conformance, negative_data_rejection

from server.app import create_app
from server.settings import Settings
from tests.conftest import EVENT_BODY, bearer, empty_database, start_server

ROLES = ["anonymous", "vendor", "organizer", "visitor"]
EXAMPLES_PER_OPERATION = 5
SEED = 20270109


@dataclass
class FuzzMarket:
    """The seeded market's callers and the real values for path parameters."""

    base: str
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)  # role -> auth header
    path_values: dict[str, str] = field(default_factory=dict)  # path parameter name -> real value
    doomed_item: str = ""  # the item DELETE /api/items/{item_id} may delete


def _openapi_document() -> dict[str, Any]:
    """The schema the app serves at /api/schema/openapi.json, built without a database.

    It is loaded when the module is collected, so pytest gets one test per operation; the
    requests go to the real server process started by `fuzz_market`.
    """
    with tempfile.TemporaryDirectory() as folder:
        document: dict[str, Any] = create_app(Settings.from_env({"SOUK_DATA_DIR": folder})).openapi_schema.to_schema()
    return document


@pytest.fixture(scope="module")
async def fuzz_market(migrated: Settings) -> AsyncIterator[FuzzMarket]:
    """An organizer with an event, a vendor with a stall and two items, a visitor who wrote to it."""
    from server.domain.accounts import NewAccount, create_account

    await empty_database(migrated)
    process, base = start_server(migrated, SOUK_RATE_LIMIT_FACTOR="100")
    await create_account(NewAccount("org@example.org", "correct horse", "Org"), "organizer")
    built = FuzzMarket(base)
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:

        async def ok(response: httpx.Response) -> Any:
            assert response.status_code in (200, 201), response.text
            return response.json()

        login = await ok(
            await http.post("/api/auth/login", json={"email": "org@example.org", "password": "correct horse"})
        )
        organizer = bearer(login["token"])
        event = await ok(await http.post("/api/events", json=EVENT_BODY, headers=organizer))
        codes = await ok(await http.post(f"/api/events/{event['slug']}/invites", json={"count": 1}, headers=organizer))
        joined = await ok(
            await http.post(
                "/api/vendors/join",
                json={
                    "invite_code": codes["codes"][0],
                    "email": "vendor1@example.org",
                    "password": "vendor-pass",
                    "display_name": "Vendor 1",
                    "stall": {"name": "Mabel's Honey", "store_tag": "#MabelsHoney", "number": "A01"},
                },
            )
        )
        vendor, stall = bearer(joined["token"]), joined["stall"]
        items = [
            await ok(
                await http.post(
                    f"/api/stalls/{stall['code']}/items",
                    json={"title": title, "price": 1299, "quantity": 3, "hashtags": ["#honey"]},
                    headers=vendor,
                )
            )
            for title in ("Wildflower honey", "Beeswax candle")
        ]
        visitor = bearer((await ok(await http.post("/api/devices")))["token"])
        conversation = await ok(
            await http.post("/api/conversations", json={"stall_code": stall["code"]}, headers=visitor)
        )
        message = await ok(
            await http.post(
                f"/api/conversations/{conversation['id']}/messages",
                json={"message_id": "0b7f3c4e-1d2a-4e5f-8a9b-0c1d2e3f4a5b", "body": "Is the honey raw?"},
                headers=visitor,
            )
        )
        reply = await ok(await http.post("/api/quick-replies", json={"text": "Yes, still here"}, headers=vendor))
    built.tokens = {"anonymous": {}, "vendor": vendor, "organizer": organizer, "visitor": visitor}
    built.path_values = {
        "event": event["slug"],
        "code": stall["code"],
        "item_id": items[0]["id"],
        "conversation_id": conversation["id"],
        "message_id": message["id"],
        "reply_id": reply["id"],
    }
    built.doomed_item = items[1]["id"]
    yield built
    process.terminate()
    process.wait(timeout=20)


# Checks left out, and why:
# - allow_header_conformance tests Litestar rather than Souk: its automatic OPTIONS handler is
#   made for the first handler registered on a path, and its `Allow` lists only that handler's
#   methods (OPTIONS /api/events says `Allow: OPTIONS, POST`, leaving out GET). Routing itself is
#   right: `unsupported_method` still checks that undeclared methods get 405.
# - positive_data_acceptance expects a 2xx for every schema-valid body, but most of Souk's rules
#   live in the domain, not in the schema (a title must not be blank, a hashtag is letters and
#   digits, a stall code must exist, a photo must have been uploaded): those 422s are correct.
# - negative_data_rejection is skipped only where it cannot judge (see `_lax_operation`):
#   * bodies with a boolean or date-time field: Litestar converts request bodies with msgspec's
#     `strict=False` (hard-coded in litestar/_signature/model.py), so a JSON 0 is taken for
#     `false` and for 1970-01-01T00:00:00Z;
#   * operations with a repeatable query parameter (`list[str] | None`, a `oneOf`): on the wire
#     `?cause=-5e16` is a valid string, yet Schemathesis counts it as a number that violates it.
#   Every other operation must refuse whatever the schema calls invalid.
EXCLUDED_CHECKS = [allow_header_conformance, positive_data_acceptance]
DOCUMENT = _openapi_document()


def _lax_operation(method: str, path: str) -> bool:
    """Whether the body has a field msgspec's lax mode converts from a number, or the query a list."""
    operation = DOCUMENT["paths"][path].get(method.lower(), {})
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query" and any(s.get("type") == "array" for s in parameter["schema"].get("oneOf", [])):
            return True
    body = operation.get("requestBody", {})
    found: list[object] = []

    def walk(node: object, seen: frozenset[str]) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref not in seen:
                walk(DOCUMENT["components"]["schemas"][ref.rsplit("/", 1)[1]], seen | {ref})
            if node.get("type") == "boolean" or node.get("format") == "date-time":
                found.append(node)
            for value in node.values():
                walk(value, seen)
        elif isinstance(node, list):
            for value in node:
                walk(value, seen)

    walk(body.get("content", {}).get("application/json", {}), frozenset())
    return bool(found)


schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.config.update(request_timeout=10)
schema.config.seed = SEED
schema.config.generation.update(max_examples=EXAMPLES_PER_OPERATION, deterministic=True, database="none")


@schema.parametrize()
@pytest.mark.parametrize("role", ROLES)
def test_api_fuzz(case: Case[Any], fuzz_market: FuzzMarket, role: str) -> None:
    if role != "anonymous" and case.method.upper() != case.operation.method.upper():
        return  # a method the path does not serve is refused before the caller matters: sent once, anonymously
    headers = dict(fuzz_market.tokens[role])
    if role != "anonymous":
        for name in case.path_parameters or {}:
            if name in fuzz_market.path_values:
                case.path_parameters[name] = fuzz_market.path_values[name]
        if case.operation.method.upper() == "DELETE" and case.operation.path == "/api/items/{item_id}":
            case.path_parameters["item_id"] = fuzz_market.doomed_item
    if case.operation.path == "/api/auth/logout" and role != "anonymous":
        # Logging out revokes the token the rest of the run uses: sign a throwaway device out instead.
        with httpx.Client(base_url=fuzz_market.base, timeout=10) as http:
            headers = bearer(http.post("/api/devices").json()["token"])
    excluded = EXCLUDED_CHECKS + ([negative_data_rejection] if _lax_operation(case.method, case.operation.path) else [])
    case.call_and_validate(base_url=fuzz_market.base, headers=headers, excluded_checks=excluded)
