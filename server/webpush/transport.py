"""The HTTP client pushes are sent with: every connection checked at connect time (SSRF guard, second half).

A name that is public today may resolve to 127.0.0.1 tomorrow (or between two lookups: DNS rebinding), so
`GuardedBackend` resolves the host *once*, refuses if any address is not a public unicast address
(`server.webpush.endpoints.is_allowed_ip`), and connects to exactly the address it checked. TLS still runs against
the endpoint's host name (SNI and certificate check), because httpcore does the TLS handshake on the stream we
return with the URL's host, not the IP we connected to. `push_http_client()` builds the `httpx.AsyncClient` on that
backend, with no proxies and no redirects (push services never redirect; following one would undo the checks).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable, Sequence

import anyio
import httpcore
import httpx

from server.webpush.endpoints import ForbiddenEndpoint, is_allowed_ip, parse_ip

# An async resolver: (host, port) -> the addresses it names, as strings. Injectable for tests.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of `host` from the system resolver (one lookup), in its preference order."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that only connects to addresses `is_allowed_ip` accepts.

    `connect_tcp` resolves the host once, refuses (ForbiddenEndpoint) if *any* address is not
    allowed (a name that mixes public and internal addresses is an attack, not a push service),
    then connects to the checked addresses themselves, in order, so no second lookup can hand the
    connection to another address (DNS rebinding). TLS is started afterwards by httpcore on the
    returned stream with the URL's host name, so the certificate is still verified against it.

    `resolver` and `inner` (the backend that really connects) are injectable for tests.
    """

    def __init__(
        self,
        *,
        allow_loopback: bool = False,
        resolver: Resolver | None = None,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self.allow_loopback = allow_loopback
        self._resolve: Resolver = resolver or system_resolver
        self._inner: httpcore.AsyncNetworkBackend = inner or httpcore.AnyIOBackend()

    async def vetted_addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for `host`; ForbiddenEndpoint if any is not allowed.
        Name-resolution failures are httpcore.ConnectError (worth a retry later)."""
        literal = parse_ip(host.strip("[]"))
        if literal is not None:
            candidates: Sequence[str] = [str(literal)]
        else:
            try:
                candidates = await self._resolve(host, port)
            except OSError as exc:  # socket.gaierror: no such name, resolver down...
                raise httpcore.ConnectError(f"cannot resolve {host!r}: {exc}") from exc
        if not candidates:
            raise httpcore.ConnectError(f"{host!r} has no addresses")
        vetted: list[str] = []
        for candidate in candidates:
            ip = parse_ip(candidate)
            if ip is None or not is_allowed_ip(ip, allow_loopback=self.allow_loopback):
                raise ForbiddenEndpoint(f"push endpoint host {host!r} resolves to {candidate}, not a public address")
            vetted.append(str(ip))
        return vetted

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's signature)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve once, vet every address, connect to a vetted address (never to `host`)."""
        try:
            with anyio.fail_after(timeout):
                addresses = await self.vetted_addresses(host, port)
                failure: Exception | None = None
                for address in addresses:
                    try:
                        return await self._inner.connect_tcp(
                            address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                        )
                    except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                        failure = exc
                raise failure or httpcore.ConnectError(f"{host!r} has no addresses")
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"connecting to {host!r} timed out") from exc

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's signature)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Pushes never go to a local socket."""
        raise ForbiddenEndpoint("push endpoints are never unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (its request conversion and exception mapping), but with a
    connection pool on `GuardedBackend`: every connection it opens goes through the guard.
    No proxy, whatever the environment says: a proxy would do the resolving instead of us."""

    def __init__(
        self,
        *,
        allow_loopback: bool = False,
        resolver: Resolver | None = None,
        inner: httpcore.AsyncNetworkBackend | None = None,
        ssl_context: ssl.SSLContext | None = None,
        limits: httpx.Limits = httpx.Limits(max_connections=100, max_keepalive_connections=20),
    ) -> None:
        super().__init__(trust_env=False, limits=limits)
        self.backend = GuardedBackend(allow_loopback=allow_loopback, resolver=resolver, inner=inner)
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("httpx.AsyncHTTPTransport changed: cannot install the push guard")
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=self.backend,
        )


def push_http_client(
    *,
    allow_loopback: bool = False,
    timeout: float = 15.0,
    resolver: Resolver | None = None,
    inner: httpcore.AsyncNetworkBackend | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> httpx.AsyncClient:
    """The `httpx.AsyncClient` for sending pushes: every connection vetted by `GuardedBackend`,
    no redirects (a 3xx is a FAILED send, not a hop to wherever it points), no proxies."""
    transport = GuardedTransport(allow_loopback=allow_loopback, resolver=resolver, inner=inner, ssl_context=ssl_context)
    return httpx.AsyncClient(transport=transport, timeout=timeout, trust_env=False, follow_redirects=False)
