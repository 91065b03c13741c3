"""Who is on the other end of a request: the client's address, as far as the server can tell.

At a market Souk usually sits behind an HTTPS proxy (Caddy, nginx) on the same machine, so the
TCP peer is the proxy and the phone's address is in `X-Forwarded-For`. That header is believed
only when the peer is one of `SOUK_TRUSTED_PROXIES`; otherwise anyone could name any address and
walk around every per-address limit. The hops are read right to left (the right end is what
our own proxy saw), skipping trusted proxies, so a client cannot push its own fake entry past them.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from litestar.connection import ASGIConnection

from server.domain.actors import Actor

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(connection: ASGIConnection[Any, Any, Any, Any], trusted: Sequence[str]) -> str:
    """The client's address (text), or "unknown" when the server cannot tell."""
    peer = _parse(connection.client.host if connection.client else "")
    networks = _networks(tuple(trusted))
    if peer is None:
        return "unknown"
    if not _is_trusted(peer, networks):
        return str(peer)
    hops = [h.strip() for h in ",".join(connection.headers.getall("x-forwarded-for", [])).split(",") if h.strip()]
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            return str(peer)  # garbage in the chain: trust nothing left of it
        if not _is_trusted(address, networks):
            return str(address)
    return str(_parse(hops[0]) or peer) if hops else str(peer)


def address_group(address: str) -> str:
    """What limits and blocks key on: an IPv4 address, or an IPv6 /64 (one phone's network,
    whose privacy addresses change every few hours)."""
    parsed = _parse(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{parsed}/64", strict=False))
    return str(parsed) if parsed is not None else address


def address_key(address: str, secret: bytes) -> str:
    """A keyed hash of the address group: stored with devices and blocks instead of the address,
    so the database holds no visitor's IP address, yet the same place gives the same key."""
    return hmac.new(secret, f"address:{address_group(address)}".encode(), hashlib.sha256).hexdigest()[:32]


def _parse(text: str) -> IPAddress | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "192.0.2.1:443"
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(t, strict=False) for t in trusted)


def _is_trusted(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == n.version and address in n for n in networks)


def caller_key(actor: Actor | None) -> str:
    """What per-caller limits count: the device or the account (anonymous callers are refused
    before any limit matters, so they share one key)."""
    if actor is None:
        return "anonymous"
    return f"device:{actor.device_id}" if actor.role == "device" else f"account:{actor.account_id}"
