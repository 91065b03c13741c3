"""Web Push SSRF and subscription takeover (security findings 1, 8 and the push part of 9).

Push endpoints come from clients and the server POSTs to them. These tests check that:

* subscribing refuses endpoints that point inside the network (422, field "endpoint"), and
  malformed URLs are a 422, never a 500;
* at send time every address is checked after resolving, the connection goes to the checked
  address (no second lookup: DNS rebinding cannot win) with TLS still bound to the host name,
  and a refused endpoint never gets a connection and is deleted;
* a device keeps at most 10 endpoints, and nobody can take over another device's endpoint.
"""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest

from server.domain.push_subscriptions import MAX_SUBSCRIPTIONS_PER_OWNER
from server.tables import Conversation, PushSubscriptionRow
from server.webpush.client import PushSender
from server.webpush.endpoints import ForbiddenEndpoint, check_endpoint, is_allowed_ip
from server.webpush.keys import load_or_create_vapid_keys
from server.webpush.messages import PushPayload, SendStatus, Subscription
from server.webpush.transport import GuardedBackend, push_http_client
from tests.conftest import World, bearer
from tests.push_receiver import PushReceiver

SUBSCRIBER = "mailto:ops@souk.test"
P256DH = "B" * 87
AUTH = "a" * 22
PUBLIC_IP = "93.184.216.34"


def _body(endpoint: str, p256dh: str = P256DH, auth: str = AUTH) -> dict[str, Any]:
    return {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}


def _payload() -> PushPayload:
    return PushPayload(title="Stall 1", body="Your honey is ready", url="/c/1", tag="conversation:1")


class Listener:
    """A plain TCP listener on 127.0.0.1 that counts connections (and closes them at once)."""

    def __init__(self) -> None:
        self.connections = 0
        self._server: asyncio.Server | None = None

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        writer.close()

    async def __aenter__(self) -> Listener:
        self._server = await asyncio.start_server(self._on_connection, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def settled(self) -> int:
        await asyncio.sleep(0.1)  # let a connection that did happen reach the callback
        return self.connections


@pytest.fixture
async def listener() -> AsyncIterator[Listener]:
    async with Listener() as tcp:
        yield tcp


class RecordingStream(httpcore.AsyncMockStream):
    def __init__(self, backend: RecordingBackend, buffer: list[bytes]) -> None:
        super().__init__(buffer)
        self.backend = backend

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> httpcore.AsyncNetworkStream:
        self.backend.tls.append((server_hostname, ssl_context))
        return self


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Stands in for the network under GuardedBackend: records where it was asked to connect
    and the TLS host name, and answers every request with `response`."""

    def __init__(self, response: bytes = b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n") -> None:
        self.response = response
        self.connects: list[tuple[str, int]] = []
        self.tls: list[tuple[str | None, ssl.SSLContext]] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects.append((host, port))
        return RecordingStream(self, [self.response])

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FakeDNS:
    """An injectable resolver; each lookup of a name pops the next answer (rebinding)."""

    def __init__(self, answers: dict[str, list[list[str]]]) -> None:
        self.answers = answers
        self.lookups: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.lookups.append(host)
        queue = self.answers[host]
        return queue.pop(0) if len(queue) > 1 else queue[0]


@pytest.fixture
async def visitor(client: httpx.AsyncClient) -> dict[str, str]:
    """Just a visitor device (cheaper than `world`, which signs in accounts)."""
    return bearer((await client.post("/api/devices")).json()["token"])


@pytest.fixture
def sender_keys(tmp_path: Path) -> Any:
    return load_or_create_vapid_keys(tmp_path / "vapid")


# -- finding 1: subscribe-time checks -----------------------------------------------------------

FORBIDDEN_ENDPOINTS = [
    # the reported ones
    "https://127.0.0.1:5432/",
    "https://169.254.169.254/latest/meta-data/",
    "https://localhost:6379/",
    "https://[::1]:8000/",
    "https://2130706433/",
    "https://10.0.0.1/",
    "https://user:pw@127.0.0.1/",
    # the same ideas on the push port, and their other spellings
    "https://127.0.0.1/push/x",
    "https://localhost/push/x",
    "https://LocalHost/push/x",
    "https://localhost./push/x",
    "https://app.localhost/push/x",
    "https://[::1]/push/x",
    "https://[::ffff:127.0.0.1]/push/x",
    "https://[::ffff:a9fe:a9fe]/push/x",  # ::ffff:169.254.169.254
    "https://[::127.0.0.1]/push/x",  # IPv4-compatible
    "https://[64:ff9b::a9fe:a9fe]/push/x",  # NAT64 of the metadata address
    "https://[2002:7f00:1::]/push/x",  # 6to4 of 127.0.0.1
    "https://[fe80::1%25eth0]/push/x",
    "https://[fd00::1]/push/x",
    "https://[::]/push/x",
    "https://0x7f.1/push/x",
    "https://017700000001/push/x",
    "https://127.1/push/x",
    "https://0.0.0.0/push/x",
    "https://100.64.0.1/push/x",  # CGNAT
    "https://172.16.0.1/push/x",
    "https://192.168.1.1/push/x",
    "https://224.0.0.1/push/x",
    "https://255.255.255.255/push/x",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://printer.local/push/x",
    "https://redis/push/x",  # a single label resolves through the search domains
    "https://user@fcm.googleapis.com/fcm/send/x",
    "https://fcm.googleapis.com:8443/fcm/send/x",  # push services listen on 443 only
    "http://fcm.googleapis.com/fcm/send/x",
    "ftp://fcm.googleapis.com/fcm/send/x",
    "https://fcm.googleapis.com\\@127.0.0.1/x",
    "https://fcm.googleapis.com/" + "x" * 1000,
]


@pytest.mark.parametrize("endpoint", FORBIDDEN_ENDPOINTS)
async def test_internal_endpoints_are_refused_at_subscribe(
    client: httpx.AsyncClient, visitor: dict[str, str], endpoint: str
) -> None:
    r = await client.post("/api/push/subscriptions", json=_body(endpoint), headers=visitor)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "endpoint"
    assert await PushSubscriptionRow.count() == 0


# -- finding 9: malformed URLs are a 422, never a 500 -------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    ["https://[::1", "https://[zz]/", "https://[::1]x/", "https://fcm.googleapis.com:99999/", "https://h.org:abc/"],
)
async def test_malformed_endpoints_are_422(client: httpx.AsyncClient, visitor: dict[str, str], endpoint: str) -> None:
    r = await client.post("/api/push/subscriptions", json=_body(endpoint), headers=visitor)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "endpoint"


def test_real_push_services_are_accepted() -> None:
    for endpoint in (
        "https://fcm.googleapis.com/fcm/send/dGhpcyBpcyBub3Q6YSByZWFsIHRva2Vu",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABm",
        "https://web.push.apple.com/QGZ3bG9yZW0",
        "https://wns2-by3p.notify.windows.com/w/?token=BQYAAABn%3d%3d",
    ):
        assert check_endpoint(endpoint).port == 443


# -- IPv4-mapped IPv6 and the address policy ------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "100.64.0.1",
        "169.254.169.254",
        "172.31.255.255",
        "192.168.0.1",
        "192.0.0.8",
        "198.18.0.1",
        "0.0.0.0",
        "224.0.0.251",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::127.0.0.1",
        "64:ff9b::7f00:1",
        "2002:a9fe:a9fe::1",
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "2001:db8::1",
        "fc00::1",
        "fe80::1",
        "fec0::1",
        "ff02::1",
        "100::1",
    ],
)
def test_non_global_addresses_are_refused(address: str) -> None:
    assert not is_allowed_ip(ipaddress.ip_address(address))
    if address not in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        # the local-test mode allows loopback and nothing else
        assert not is_allowed_ip(ipaddress.ip_address(address), allow_loopback=True)


def test_public_addresses_are_allowed_and_test_mode_adds_only_loopback() -> None:
    for address in ("8.8.8.8", PUBLIC_IP, "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"):
        assert is_allowed_ip(ipaddress.ip_address(address)), address
    for address in ("127.0.0.1", "127.8.9.10", "::1"):
        assert is_allowed_ip(ipaddress.ip_address(address), allow_loopback=True), address


async def test_ipv4_mapped_loopback_is_refused_everywhere(client: httpx.AsyncClient, visitor: dict[str, str]) -> None:
    assert not is_allowed_ip(ipaddress.ip_address("::ffff:127.0.0.1"))
    r = await client.post("/api/push/subscriptions", json=_body("https://[::ffff:127.0.0.1]/p"), headers=visitor)
    assert r.status_code == 422 and r.json()["field"] == "endpoint"
    # ...and when DNS answers it at send time
    network = RecordingBackend()
    dns = FakeDNS({"mapped.example.net": [["::ffff:127.0.0.1"]]})
    async with push_http_client(resolver=dns, inner=network) as http:
        with pytest.raises(ForbiddenEndpoint):
            await http.post("https://mapped.example.net/push/x")
    assert network.connects == []


# -- finding 1: send-time checks ---------------------------------------------------------------


async def test_name_resolving_to_loopback_is_refused_at_send_time(listener: Listener, sender_keys: Any) -> None:
    # The real system resolver: "localhost" is in /etc/hosts.
    async with push_http_client() as http:
        with pytest.raises(ForbiddenEndpoint):
            await http.post(f"https://localhost:{listener.port}/push/x")
        with pytest.raises(ForbiddenEndpoint):
            await http.post(f"http://localhost:{listener.port}/push/x")
    # A public-looking name whose DNS answer is 127.0.0.1 (an attacker's zone).
    dns = FakeDNS({"push.attacker.example.net": [["127.0.0.1"]]})
    async with push_http_client(resolver=dns) as http:
        with pytest.raises(ForbiddenEndpoint):
            await http.post(f"https://push.attacker.example.net:{listener.port}/push/x")
        # Through the sender, the refusal is a FAILED result that marks the subscription for deletion.
        sender = PushSender(sender_keys, SUBSCRIBER, http)
        result = await sender.send_with_retries(
            Subscription("https://push.attacker.example.net/push/x", *_receiver_keys()), _payload(), base_delay=0.001
        )
    assert result.status is SendStatus.FAILED and result.forbidden, result
    assert "127.0.0.1" in result.detail
    assert dns.lookups == ["push.attacker.example.net", "push.attacker.example.net"]  # one per send, no retry
    assert await listener.settled() == 0
    # Control: the local-test mode does reach the same listener, so the zero above means something.
    async with push_http_client(allow_loopback=True) as http:
        with pytest.raises(httpx.TransportError):  # the listener hangs up without answering
            await http.post(f"http://localhost:{listener.port}/push/x")
    assert await listener.settled() == 1


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "017700000001", "127.1"])
async def test_numeric_hosts_are_resolved_then_refused(listener: Listener, host: str) -> None:
    """Even without the subscribe-time check, the resolver's reading of the host is what is judged."""
    async with push_http_client() as http:
        with pytest.raises(ForbiddenEndpoint):
            await http.post(f"https://{host}:{listener.port}/push/x")
    assert await listener.settled() == 0


async def test_test_mode_still_refuses_private_and_metadata_addresses() -> None:
    network = RecordingBackend()
    dns = FakeDNS({"meta.example.net": [["169.254.169.254"]], "lan.example.net": [["10.0.0.7"]]})
    async with push_http_client(allow_loopback=True, resolver=dns, inner=network) as http:
        for url in ("http://meta.example.net/latest", "http://lan.example.net/", "http://192.168.1.1/"):
            with pytest.raises(ForbiddenEndpoint):
                await http.post(url)
    assert network.connects == []


async def test_send_connects_to_the_checked_address_with_tls_for_the_name(sender_keys: Any) -> None:
    """DNS rebinding: the first answer is public, any later one is loopback. The guard looks up
    once and connects to the address it checked; TLS is still for the endpoint's name."""
    network = RecordingBackend()
    dns = FakeDNS({"push.example.net": [[PUBLIC_IP], ["127.0.0.1"]]})
    async with push_http_client(resolver=dns, inner=network) as http:
        sender = PushSender(sender_keys, SUBSCRIBER, http)
        result = await sender.send(Subscription("https://push.example.net/push/abc", *_receiver_keys()), _payload())
    assert result.status is SendStatus.SENT, result
    assert dns.lookups == ["push.example.net"]
    assert network.connects == [(PUBLIC_IP, 443)]
    [(server_hostname, context)] = network.tls
    assert server_hostname == "push.example.net"
    assert context.verify_mode is ssl.CERT_REQUIRED and context.check_hostname


async def test_a_name_mixing_public_and_internal_addresses_is_refused() -> None:
    network = RecordingBackend()
    dns = FakeDNS({"mixed.example.net": [[PUBLIC_IP, "10.0.0.1"]]})
    async with push_http_client(resolver=dns, inner=network) as http:
        with pytest.raises(ForbiddenEndpoint):
            await http.post("https://mixed.example.net/push/x")
    assert network.connects == []


async def test_redirects_are_not_followed(sender_keys: Any) -> None:
    network = RecordingBackend(
        b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:6379/\r\nContent-Length: 0\r\n\r\n"
    )
    dns = FakeDNS({"push.example.net": [[PUBLIC_IP]]})
    async with push_http_client(resolver=dns, inner=network) as http:
        sender = PushSender(sender_keys, SUBSCRIBER, http)
        result = await sender.send(Subscription("https://push.example.net/p", *_receiver_keys()), _payload())
    assert result.status is SendStatus.FAILED and result.http_status == 307
    assert network.connects == [(PUBLIC_IP, 443)]


async def test_guard_backend_refuses_unix_sockets() -> None:
    with pytest.raises(ForbiddenEndpoint):
        await GuardedBackend().connect_unix_socket("/var/run/docker.sock")


async def test_the_apps_push_client_is_guarded(app: Any, listener: Listener) -> None:
    http: httpx.AsyncClient = app.state.notifier.sender.http
    with pytest.raises(ForbiddenEndpoint):
        await http.post(f"https://localhost:{listener.port}/push/x")
    with pytest.raises(ForbiddenEndpoint):
        await http.post(f"https://2130706433:{listener.port}/push/x")
    assert await listener.settled() == 0


async def test_stored_internal_endpoint_is_never_contacted_and_is_deleted(
    client: httpx.AsyncClient, app: Any, world: World, listener: Listener
) -> None:
    """A row that got in before these checks (or by any other way) is refused at send time."""
    r = await client.post("/api/conversations", json={"stall_code": world.stall["code"]}, headers=world.visitor)
    conversation = r.json()["id"]
    row = await Conversation.select(Conversation.device).where(Conversation.id == conversation).first()
    assert row is not None
    device = row["device"]
    p256dh, auth = _receiver_keys()
    endpoints = [f"https://127.0.0.1:{listener.port}/push/a", f"https://localhost:{listener.port}/push/b"]
    for endpoint in endpoints:
        await PushSubscriptionRow.insert(
            PushSubscriptionRow(endpoint=endpoint, device=device, p256dh=p256dh, auth=auth)
        )
    r = await client.post(
        f"/api/conversations/{conversation}/messages",
        json={"message_id": str(uuid.uuid4()), "body": "Ready!"},
        headers=world.vendor,
    )
    assert r.status_code == 201, r.text
    await app.state.notifier.catch_up()
    await app.state.notifier.drain()
    assert await listener.settled() == 0
    assert not await PushSubscriptionRow.exists().where(PushSubscriptionRow.endpoint.is_in(endpoints))


# -- finding 1: a bounded number per device ---------------------------------------------------------


async def test_a_device_keeps_only_its_newest_endpoints(client: httpx.AsyncClient, visitor: dict[str, str]) -> None:
    other = bearer((await client.post("/api/devices")).json()["token"])
    r = await client.post("/api/push/subscriptions", json=_body(_fcm("other")), headers=other)
    assert r.status_code == 201, r.text
    sixty = [_fcm(f"d{i:02d}") for i in range(60)]
    for endpoint in sixty:
        r = await client.post("/api/push/subscriptions", json=_body(endpoint), headers=visitor)
        assert r.status_code == 201, r.text
    kept = {row["endpoint"] for row in await PushSubscriptionRow.select(PushSubscriptionRow.endpoint)}
    assert kept == set(sixty[-MAX_SUBSCRIPTIONS_PER_OWNER:]) | {_fcm("other")}  # the other device is untouched
    assert MAX_SUBSCRIPTIONS_PER_OWNER == 10
    # Re-confirming an old one makes it the newest, so the next new one evicts another.
    r = await client.post("/api/push/subscriptions", json=_body(sixty[-10]), headers=visitor)
    assert r.status_code == 201
    r = await client.post("/api/push/subscriptions", json=_body(_fcm("new")), headers=visitor)
    assert r.status_code == 201
    kept = {row["endpoint"] for row in await PushSubscriptionRow.select(PushSubscriptionRow.endpoint)}
    assert sixty[-10] in kept and sixty[-9] not in kept and _fcm("new") in kept
    assert len(kept) == MAX_SUBSCRIPTIONS_PER_OWNER + 1


async def test_an_account_keeps_only_its_newest_endpoints(client: httpx.AsyncClient, world: World) -> None:
    for i in range(12):
        r = await client.post("/api/push/subscriptions", json=_body(_fcm(f"v{i:02d}")), headers=world.vendor)
        assert r.status_code == 201, r.text
    assert await PushSubscriptionRow.count() == MAX_SUBSCRIPTIONS_PER_OWNER


# -- finding 8: takeover ------------------------------------------------------------------------


async def test_another_device_cannot_take_over_an_endpoint(client: httpx.AsyncClient, world: World) -> None:
    endpoint = _fcm("victim")
    r = await client.post("/api/push/subscriptions", json=_body(endpoint), headers=world.visitor)
    assert r.status_code == 201, r.text
    attacker = bearer((await client.post("/api/devices")).json()["token"])
    for headers in (attacker, world.vendor):
        r = await client.post("/api/push/subscriptions", json=_body(endpoint, "C" * 87, "c" * 22), headers=headers)
        assert r.status_code == 409, r.text
        assert r.json()["field"] == "endpoint"
        assert "another device or account" in r.json()["error"]
    [row] = await PushSubscriptionRow.select()
    assert (row["p256dh"], row["auth"]) == (P256DH, AUTH)  # untouched
    # The owner re-subscribing the same endpoint just refreshes the keys.
    r = await client.post("/api/push/subscriptions", json=_body(endpoint, "D" * 87, "d" * 22), headers=world.visitor)
    assert r.status_code == 201, r.text
    [row] = await PushSubscriptionRow.select()
    assert (row["p256dh"], row["auth"]) == ("D" * 87, "d" * 22)
    # Once the owner unsubscribes, someone else may register it.
    r = await client.post("/api/push/unsubscribe", json={"endpoint": endpoint}, headers=world.visitor)
    assert r.status_code == 204
    r = await client.post("/api/push/subscriptions", json=_body(endpoint), headers=attacker)
    assert r.status_code == 201, r.text


# -- helpers ----------------------------------------------------------------------------------


def _fcm(token: str) -> str:
    return f"https://fcm.googleapis.com/fcm/send/{token}"


_KEYS: list[tuple[str, str]] = []


def _receiver_keys() -> tuple[str, str]:
    """A real browser-like key pair (p256dh, auth), so that encryption succeeds."""
    if not _KEYS:
        subscription, _ = PushReceiver().new_subscription()
        _KEYS.append((subscription.p256dh, subscription.auth))
    return _KEYS[0]
