"""Where the server may send Web Pushes: the guard against SSRF through push endpoints (syntax and addresses).

A push endpoint is a URL that a browser's push service gave the browser, but the server only ever
sees what a client *says* it was: anyone with a device token can register any URL, and the server
then POSTs to it from inside the network (the database, a metadata service at 169.254.169.254,
an admin port on localhost...). So an endpoint is checked twice:

1. `check_endpoint()` is pure syntax, run when a browser subscribes (so a bad endpoint gets a 422
   at once) and again before each send: https only, no credentials, port 443, an IP literal only
   if it is a public address, no names that only mean something inside a network (`localhost`,
   `*.internal`, single labels...), no legacy numeric forms (`2130706433`, `0x7f.1`).
2. `GuardedBackend` (`server.webpush.transport`) is the real guarantee: a name that is public
   today may resolve to 127.0.0.1 tomorrow (or between two lookups: DNS rebinding), so at connect
   time it resolves the host *once*, refuses if any address is not a public unicast address
   (`is_allowed_ip`), and connects to exactly the address it checked.

"Local test receivers only": with `allow_loopback` (SOUK_PUSH_ALLOW_HTTP=1) plain http and
loopback addresses (127.0.0.0/8, ::1, `localhost`) are allowed too, and nothing else is: private,
link-local, metadata and other non-global addresses stay refused in every mode.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_ENDPOINT_CHARS: Final = 1000  # the column is Varchar(1000); real endpoints are < 500
HTTPS_PORT: Final = 443

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# Never a push service, whatever `ipaddress` thinks of them in this Python version (its
# is_private/is_global tables changed across 3.11 patch releases). IANA special-purpose registries.
_FORBIDDEN_V4: Final = tuple(
    _V4(n)
    for n in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches localhost on Linux
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT (RFC 6598)
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata services
        "172.16.0.0/12",
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and 255.255.255.255
    )
)
_FORBIDDEN_V6: Final = tuple(
    _V6(n)
    for n in (
        "::/96",  # unspecified, loopback, deprecated IPv4-compatible ::a.b.c.d
        "::ffff:0:0:0/96",  # IPv4-translated (RFC 2765)
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments, Teredo (2001::/32), ORCHID
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # SRv6 SIDs
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # deprecated site-local
        "ff00::/8",  # multicast
    )
)
_GLOBAL_UNICAST_V6: Final = _V6("2000::/3")  # every allocated global IPv6 address is in here
_NAT64_V6: Final = _V6("64:ff9b::/96")  # well-known NAT64 prefix: the last 32 bits are an IPv4 address
_IPV4_MAPPED_V6: Final = _V6("::ffff:0:0/96")
_SIXTOFOUR_V6: Final = _V6("2002::/16")

# Names that only mean something inside a network (RFC 6761, 6762, 8375 and common practice).
_INTERNAL_SUFFIXES: Final = (
    ".localhost",
    ".local",
    ".localdomain",
    ".internal",
    ".intranet",
    ".lan",
    ".home",
    ".corp",
    ".private",
    ".home.arpa",
    ".arpa",
    ".test",
    ".invalid",
    ".example",
    ".onion",
)
_LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_LABEL: Final = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
# WHATWG URL parsing (what browsers do) treats a host whose last label is numeric as IPv4.
_NUMERIC_LABEL: Final = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)")
_URL_CHARS: Final = re.compile(r"[!-~]+")  # printable ASCII, no spaces or controls


class ForbiddenEndpoint(ValueError):
    """The URL is not somewhere the server may send a push. Raised by `check_endpoint` (the API
    turns it into a 422 on field "endpoint") and by `GuardedBackend.connect_tcp` (the client turns
    it into a FAILED result that deletes the subscription: it can never work)."""


@dataclass(frozen=True)
class PushEndpoint:
    """An endpoint that passed `check_endpoint`."""

    url: str  # as given, stripped
    scheme: str  # "https" (or "http" with allow_http)
    host: str  # lower-case name or IP literal, without IPv6 brackets
    port: int
    ip: IPAddress | None  # the address when the host is an IP literal


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, when the network delivers it to that IPv4
    address: IPv4-mapped (::ffff:a.b.c.d), well-known NAT64 (64:ff9b::a.b.c.d) and 6to4
    (2002:AABB:CCDD::). `::ffff:127.0.0.1` *is* 127.0.0.1 to the kernel, so it must be judged as
    that, not as some IPv6 address."""
    if isinstance(ip, ipaddress.IPv4Address):
        return None
    if ip in _IPV4_MAPPED_V6 or ip in _NAT64_V6:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _SIXTOFOUR_V6:
        return ip.sixtofour
    return None


def is_allowed_ip(ip: IPAddress, *, allow_loopback: bool = False) -> bool:
    """May the server open a connection to `ip` to deliver a push?

    Only public unicast addresses: never loopback, private (RFC 1918, IPv6 ULA), link-local
    (including cloud metadata at 169.254.169.254), CGNAT 100.64/10, multicast, reserved,
    unspecified, documentation or benchmarking ranges. IPv6 forms that deliver to an IPv4 address
    are judged by that address; IPv6 outside 2000::/3 and scoped addresses are refused.
    `allow_loopback` (local test receivers) additionally allows 127.0.0.0/8 and ::1, nothing else.
    """
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        return False  # fe80::1%eth0 and friends: interface-local by definition
    if allow_loopback and ip.is_loopback:
        return True
    inner = embedded_ipv4(ip)
    if inner is not None:
        # ::ffff:127.0.0.1 is loopback to the kernel; NAT64/6to4 forms leave the host, never local.
        mapped = isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None
        return is_allowed_ip(inner, allow_loopback=allow_loopback and mapped)
    if isinstance(ip, ipaddress.IPv4Address):
        if any(ip in net for net in _FORBIDDEN_V4):
            return False
    else:
        if ip not in _GLOBAL_UNICAST_V6 or any(ip in net for net in _FORBIDDEN_V6):
            return False
    flags = (ip.is_private, ip.is_loopback, ip.is_link_local, ip.is_multicast, ip.is_reserved, ip.is_unspecified)
    return ip.is_global and not any(flags)


def parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _looks_numeric(host: str) -> bool:
    """Legacy numeric IPv4 spellings that resolvers (inet_aton) and browsers still accept:
    `2130706433`, `0x7f.1`, `017700000001`, `127.1`. Real push services use names."""
    if _NUMERIC_LABEL.fullmatch(host.rsplit(".", 1)[-1]):
        return True
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True


def _check_name(host: str, *, allow_loopback: bool) -> None:
    if allow_loopback and (host in _LOOPBACK_NAMES or host.endswith(".localhost")):
        return
    if host.endswith("."):
        raise ForbiddenEndpoint("endpoint host must not end with a dot")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in host.split(".")):
        raise ForbiddenEndpoint("endpoint host is not a valid DNS name")
    if "." not in host or host in _LOOPBACK_NAMES or host.endswith(_INTERNAL_SUFFIXES):
        raise ForbiddenEndpoint(f"endpoint host {host!r} is a local or internal name, not a push service")


def check_endpoint(endpoint: str, *, allow_http: bool = False) -> PushEndpoint:
    """Check a push endpoint's syntax; raise ForbiddenEndpoint (a ValueError) with a reason.

    Cheap and offline, so it runs at subscribe time and before every send. It cannot know what a
    name resolves to: `GuardedBackend` checks that at connect time. `allow_http` is the local-test
    mode (SOUK_PUSH_ALLOW_HTTP): http and loopback hosts on any port too, and nothing more.
    Malformed URLs (`https://[::1`, `https://[zz]/`, bad ports) are ForbiddenEndpoint too, never
    another exception.
    """
    url = endpoint.strip()
    if not url or len(url) > MAX_ENDPOINT_CHARS:
        raise ForbiddenEndpoint(f"endpoint must be a URL of at most {MAX_ENDPOINT_CHARS} characters")
    if not _URL_CHARS.fullmatch(url) or "\\" in url:
        raise ForbiddenEndpoint("endpoint must be printable ASCII without spaces or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
        hostname = parts.hostname
        # httpx, which sends the request, must see the same host as this check did.
        sent_host = httpx.URL(url).raw_host.decode("ascii")
    except (ValueError, httpx.InvalidURL) as exc:
        raise ForbiddenEndpoint(f"endpoint is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    allowed_schemes = ("https", "http") if allow_http else ("https",)
    if scheme not in allowed_schemes:
        raise ForbiddenEndpoint("endpoint must be an https URL")
    if parts.fragment or url.endswith("#"):
        raise ForbiddenEndpoint("endpoint must not have a #fragment")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise ForbiddenEndpoint("endpoint must not contain credentials (user:password@)")
    if not hostname:
        raise ForbiddenEndpoint("endpoint has no host")
    if sent_host.lower() != hostname:
        raise ForbiddenEndpoint("endpoint host is ambiguous")
    if port is None:
        port = HTTPS_PORT if scheme == "https" else 80
    if not allow_http and port != HTTPS_PORT:
        # Push services all listen on 443; other ports would make us a port scanner.
        raise ForbiddenEndpoint(f"endpoint port must be {HTTPS_PORT}")
    if not 0 < port < 65536:
        raise ForbiddenEndpoint("endpoint port is out of range")
    ip = parse_ip(hostname)
    if ip is not None:
        if not is_allowed_ip(ip, allow_loopback=allow_http):
            raise ForbiddenEndpoint(f"endpoint address {ip} is not a public address")
    elif "[" in parts.netloc or ":" in hostname or "%" in hostname:
        raise ForbiddenEndpoint("endpoint has an invalid IPv6 address")
    elif _looks_numeric(hostname):
        raise ForbiddenEndpoint(f"endpoint host {hostname!r} is a numeric address in a non-standard form")
    else:
        _check_name(hostname, allow_loopback=allow_http)
    return PushEndpoint(url=url, scheme=scheme, host=hostname, port=port, ip=ip)
