"""Connections: made for a hop with one TLS context, kept alive per site, and sent a request."""

from __future__ import annotations

import functools
import re
import socket
import ssl
import threading
import time
from urllib.parse import SplitResult, quote

import urllib3
from certifi import where as ca_bundle
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.util.ssl_ import create_urllib3_context

from preserve.net.guard import (
    Admitting,
    AdmittingConnection,
    AdmittingTLSConnection,
    Hop,
    is_public_address,
)
from preserve.net.tls import TlsPeer, observed

# Connections kept alive between fetches: for this long (servers commonly close idle ones
# after 5 s or more), this many per site, and this many in all.
KEEP_ALIVE_SECONDS = 4.0
KEEP_ALIVE_PER_SITE = 4
KEEP_ALIVE_TOTAL = 32

# What a kept-alive connection that the server has closed meanwhile raises on its next
# request, before any answer.
STALE = (
    ConnectionError,  # reset, aborted, broken pipe; http.client's RemoteDisconnected
    ssl.SSLEOFError,
    ssl.SSLZeroReturnError,
    urllib3.exceptions.ProtocolError,
)

_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)  # Linux only


def connection(
    parts: SplitResult, timeout: float, hop: Hop, authorities: str | None
) -> HTTPConnection:
    """A connection (not yet opened) for one hop, with the same TLS checks requests makes:
    certificates against certifi's bundle (or `authorities`), and the host name."""
    host, port = parts.hostname or "", parts.port  # a canonical URL's port is valid
    if parts.scheme == "https":
        context = tls_context(authorities)
        return AdmittingTLSConnection(
            hop, host, port, timeout=timeout, cert_reqs="CERT_REQUIRED", ssl_context=context
        )
    return AdmittingConnection(hop, host, port, timeout=timeout)


@functools.cache
def tls_context(authorities: str | None = None) -> ssl.SSLContext:
    """The TLS settings of every connection, made once: given only the bundle's path, urllib3
    makes a context and loads certifi's 150 certificates for each connection, some 28 ms of
    CPU, more than everything else a page costs. The same context as it makes: TLS 1.2 at
    least, certificates required, host names checked by OpenSSL. `authorities`: a PEM file
    of the certificate authorities to trust instead of certifi's (`FetchLimits.ca_bundle`)."""
    context = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
    context.load_verify_locations(cafile=authorities or ca_bundle())
    return context


def send(
    conn: HTTPConnection,
    target: str,
    headers: dict[str, str],
    method: str = "GET",
    body: bytes | None = None,
) -> urllib3.HTTPResponse:
    """Send `method` `target` (GET unless a browser asks otherwise) on `conn`; the response
    once its status line and headers arrived."""
    conn.request(
        method, target, body=body, headers=headers, preload_content=False, decode_content=False
    )
    if _QUICKACK is not None and conn.sock is not None:
        # Acknowledge the answer's packets at once. On a kept-alive connection Linux delays
        # its acknowledgements, and a server that writes its headers and its body apart
        # without TCP_NODELAY (Python's http.server, many small servers) then holds the body
        # until the acknowledgement comes: 40 ms a page (measured 42 ms; 0.9 with this).
        try:
            conn.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        except OSError:
            pass
    tls_peer(conn)  # now: http.client lets go of the socket of an answer that closes it
    return conn.getresponse()


def tls_peer(conn: HTTPConnection) -> TlsPeer | None:
    """What the connection's TLS showed of the server: the same for every exchange on a
    kept connection, so worked out once for it, as its first request goes out."""
    known: TlsPeer | None = getattr(conn, "tls_peer", None)
    if known is None and isinstance(conn, HTTPSConnection):
        known = observed(conn.sock)
        conn.tls_peer = known  # type: ignore[attr-defined]
    return known


_Site = tuple[str, str, int | None]


def _site(parts: SplitResult) -> _Site:
    return (parts.scheme, parts.hostname or "", parts.port)


class IdleConnections:
    """Connections kept alive between fetches, by scheme, host and port: the next fetch from
    the same site skips the TCP and TLS handshakes (two round trips, and the CPU of the
    key exchange). A few per site and KEEP_ALIVE_SECONDS at most, fewer than servers
    usually allow; one that the server closed meanwhile is noticed as it is taken, or on
    its request, which is then sent again on a new connection (`Fetcher`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Oldest first: (connection, when it was kept).
        self._by_site: dict[_Site, list[tuple[HTTPConnection, float]]] = {}
        self._closed = False

    def take(self, parts: SplitResult, hop: Hop, timeout: float) -> HTTPConnection | None:
        """A kept connection to this site, made the hop's (its watchdog, its timeout), if
        one is still open and its address is one the hop may reach."""
        while True:
            with self._lock:
                site = self._by_site.get(key := _site(parts))
                if not site:
                    return None
                conn, since = site.pop()  # the newest: the likeliest to be still open
                if not site:
                    del self._by_site[key]
            peer = getattr(conn, "peer_ip", None)
            usable = (
                time.monotonic() - since < KEEP_ALIVE_SECONDS
                and conn.is_connected  # no EOF (or stray bytes) waiting on it
                and not (hop.guarded and (peer is None or not is_public_address(peer)))
            )
            if not usable:
                conn.close()
                continue
            assert isinstance(conn, Admitting) and conn.sock is not None
            conn.hop, hop.peer_ip, conn.timeout = hop, peer, timeout
            hop.watchdog.watch(conn, conn.sock)
            return conn

    def keep(self, parts: SplitResult, conn: HTTPConnection) -> None:
        dropped: list[HTTPConnection] = []
        with self._lock:
            if self._closed:
                dropped.append(conn)
            else:
                site = self._by_site.setdefault(key := _site(parts), [])
                site.append((conn, time.monotonic()))
                if len(site) > KEEP_ALIVE_PER_SITE:
                    dropped.append(self._drop_oldest(key))
                kept = sum(map(len, self._by_site.values()))  # a few dozen at most
                if kept > KEEP_ALIVE_TOTAL:  # many sites: the longest idle goes
                    oldest = min(self._by_site, key=lambda key: self._by_site[key][0][1])
                    dropped.append(self._drop_oldest(oldest))
        for old in dropped:
            old.close()

    def _drop_oldest(self, key: _Site) -> HTTPConnection:
        site = self._by_site[key]
        conn, _ = site.pop(0)
        if not site:
            del self._by_site[key]
        return conn

    def close(self) -> None:
        with self._lock:
            kept = [conn for site in self._by_site.values() for conn, _ in site]
            self._by_site.clear()
            self._closed = True
        for conn in kept:
            conn.close()


def request_target(parts: SplitResult) -> str:
    """Path and query as requests sent them, which is what servers have long seen from
    preserve (urllib3's `parse_url`, then requests' `requote_uri`, without importing
    requests for it): escapes in capitals, unreserved characters unescaped (%0d as %0D, %7e
    as ~), anything else quoted; and in a part with a % that starts no escape, every %."""
    target = _requoted(parts.path or "/")
    return f"{target}?{_requoted(parts.query)}" if parts.query else target


def _requoted(part: str) -> str:
    part = _ESCAPE.sub(lambda escape: escape.group().upper(), part)
    if _STRAY_PERCENT.search(part):
        return quote(part, safe=_SAFE.replace("%", ""))
    return quote(_ESCAPE.sub(_unreserved, part), safe=_SAFE)


def _unreserved(escape: re.Match[str]) -> str:
    char = chr(int(escape.group()[1:], 16))
    return char if char in _UNRESERVED else escape.group()


_ESCAPE = re.compile(r"%[0-9a-fA-F]{2}")
_STRAY_PERCENT = re.compile(r"%(?![0-9a-fA-F]{2})")
_SAFE = "!#$%&'()*+,/:;=?@[]~"
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
