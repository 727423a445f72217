"""The only network code: one GET with limits, redirects followed by hand (each hop checked
and recorded), the private-address guard; returns a `Fetched` and never raises for anything
a server or the network does."""

from __future__ import annotations

import functools
import hashlib
import heapq
import http.client
import ipaddress
import itertools
import re
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import SplitResult, quote, urljoin, urlsplit

import urllib3
from certifi import where as ca_bundle
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.util.ssl_ import create_urllib3_context

from preserve.config import FetchLimits
from preserve.errors import BadURL, StorageError
from preserve.net.tls import TlsPeer, observed
from preserve.urls import SCHEMES, canonical, resolve

# Spool bodies to disk past this size so that many concurrent fetches stay small in memory.
SPOOL_BYTES = 1024 * 1024
CHUNK = 65536
ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# Pinned: urllib3 advertises zstd (and br) when their packages happen to be installed, and
# the WARC readers downstream cannot decode those.
ACCEPT_ENCODING = "gzip, deflate"
ALLOW_PRIVATE_HINT = "use --allow-private or PRESERVE_ALLOW_PRIVATE=1 to allow it"
# Connections kept alive between fetches: for this long (servers commonly close idle ones
# after 5 s or more), this many per site, and this many in all.
KEEP_ALIVE_SECONDS = 4.0
KEEP_ALIVE_PER_SITE = 4
KEEP_ALIVE_TOTAL = 32

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Body:
    """An entity-body as received (chunking removed, Content-Encoding kept), spooled to a
    temporary file past SPOOL_BYTES, with its length and sha256 computed while it arrived."""

    def __init__(self) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
        self._hash = hashlib.sha256()
        self.length = 0

    def write(self, data: bytes) -> None:
        try:
            self._file.write(data)
        except OSError as exc:  # the local disk, not the network: must not pass for either
            raise StorageError(
                f"cannot keep a response body in a temporary file: {exc.strerror}"
            ) from exc
        self._hash.update(data)
        self.length += len(data)

    @property
    def sha256(self) -> str:
        """Lowercase hex sha256 of the bytes written so far."""
        return self._hash.hexdigest()

    def chunks(self) -> Iterator[bytes]:
        self._file.seek(0)
        while chunk := self._file.read(CHUNK):
            yield chunk

    def read(self, limit: int | None = None) -> bytes:
        """The first `limit` bytes (all when None)."""
        self._file.seek(0)
        return self._file.read() if limit is None else self._file.read(limit)

    def close(self) -> None:
        self._file.close()

    @classmethod
    def of(cls, data: bytes) -> Body:
        body = cls()
        body.write(data)
        return body


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and the response received for it: one redirect hop, or the last."""

    url: str  # canonical ASCII target URI of this hop
    started_at: datetime  # UTC, when the request began (the WARC-Date of both records)
    method: str
    request_target: str  # path + query as sent on the request line
    request_headers: tuple[tuple[str, str], ...]  # as sent, Host first
    http_version: str  # "HTTP/1.1" or "HTTP/1.0"
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]  # as received: original case, duplicates kept
    peer_ip: str | None
    body: Body
    truncated: str | None = None  # "length", "time" or "disconnect" when the body was cut
    tls: TlsPeer | None = None  # over HTTPS: what the connection showed of the server

    def header(self, name: str) -> str | None:
        """The first value of a response header, case-insensitively."""
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), None)

    @property
    def is_redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308) and self.header("Location") is not None


@dataclass(frozen=True)
class Fetched:
    """Everything that happened for one URL: every hop received, and the error if any.

    `error` is a short reason code, None when a final response arrived (whatever its
    status: a 404 is an answer, not an error):

    - `bad-url`: not an absolute http(s) URL (no exchanges)
    - `dns`: the name does not exist; `dns-temporary`: the lookup failed for now
    - `refused`, `timeout` (connect, read, or the whole-fetch deadline), `tls`, `reset`
      (closed or reset before a response), `connection` (anything else on the wire)
    - `blocked-private-address`: a hop would reach a non-public address
    - `too-many-redirects`, `redirect-loop`, `bad-redirect` (unusable Location),
      `unsupported-scheme` (a redirect to file:, ftp:, data:, …)
    - `internal`: a bug in preserve, kept to this one URL

    `detail` is one line for people. Hops received before an error are kept: they are
    evidence too.
    """

    url: str  # canonical, unless the error is bad-url
    exchanges: tuple[Exchange, ...]
    error: str | None = None
    detail: str | None = None
    started_at: datetime = field(default_factory=utc_now)  # when fetch() began
    ended_at: datetime = field(default_factory=utc_now)  # when it returned

    @property
    def final(self) -> Exchange | None:
        """The last response, if the fetch ended with one (not with an error)."""
        return self.exchanges[-1] if self.exchanges and self.error is None else None

    @property
    def final_url(self) -> str:
        return self.exchanges[-1].url if self.exchanges else self.url

    @property
    def redirects(self) -> tuple[Exchange, ...]:
        return self.exchanges[:-1] if self.error is None else self.exchanges

    def close(self) -> None:
        for exchange in self.exchanges:
            exchange.body.close()


class Fetcher:
    """Fetches URLs under `limits`. One instance may be shared by a pool of threads.

    Each hop is one urllib3 connection, opened for it and closed after it: a kept-alive
    connection that the server closed while idle fails the next request as a reset, which
    would be reported as the site being unreachable. urllib3's connection classes directly,
    without requests' sessions and pools on top: nothing of those (cookies, proxies,
    redirects, retries) is wanted here, and they cost twice the CPU of the fetch
    itself on a fast network."""

    def __init__(self, limits: FetchLimits, clock: Clock = utc_now) -> None:
        self.limits = limits
        self._clock = clock
        self._idle = _IdleConnections()

    def fetch(self, url: str, *, typed: bool = False) -> Fetched:
        """GET `url`, following redirects by hand; every hop received is kept.

        `typed` marks a URL the user gave on the command line: only its first hop may reach
        a private address. Never raises for what a server or the network does; the caller
        must `close()` the result when done with its bodies.
        """
        started_at = self._clock()
        exchanges: list[Exchange] = []
        try:
            target, error, detail = self._fetch(url, typed, exchanges)
        except StorageError:
            for exchange in exchanges:
                exchange.body.close()
            raise
        except Exception as exc:  # a bug here must cost one URL, not the whole run
            target, error, detail = url, "internal", _one_line(_describe_exc(exc))
        return Fetched(
            target, tuple(exchanges), error, detail, started_at=started_at, ended_at=self._clock()
        )

    def _fetch(
        self, url: str, typed: bool, exchanges: list[Exchange]
    ) -> tuple[str, str | None, str | None]:
        """The canonical URL, and the error code and detail if the fetch ended in one."""
        try:
            start = canonical(url)
        except BadURL as exc:
            return url, "bad-url", str(exc)
        watchdog = _Watchdog(self.limits.total_deadline)
        try:
            self._follow(start, typed, watchdog, exchanges)
        except _Failure as failure:
            return start, failure.code, failure.detail
        finally:
            watchdog.cancel()
        return start, None, None

    def close(self) -> None:
        """Close the connections kept alive between fetches."""
        self._idle.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _follow(
        self, url: str, typed: bool, watchdog: _Watchdog, exchanges: list[Exchange]
    ) -> None:
        seen = {url}
        while True:
            if watchdog.expired:
                raise _Failure("timeout", watchdog.detail())
            guarded = not self.limits.allow_private and (bool(exchanges) or not typed)
            exchange = self._exchange(url, guarded, watchdog, first=not exchanges)
            exchanges.append(exchange)
            if not exchange.is_redirect:
                return
            url = _redirect_target(exchange)
            if url in seen:
                raise _Failure("redirect-loop", f"{exchange.url} redirects back to {url}")
            if len(exchanges) > self.limits.max_redirects:
                raise _Failure(
                    "too-many-redirects", f"more than {self.limits.max_redirects} redirects"
                )
            seen.add(url)

    def _exchange(self, url: str, guarded: bool, watchdog: _Watchdog, first: bool) -> Exchange:
        parts = urlsplit(url)
        if guarded:
            _refuse_literal(parts.hostname or "")
        headers = {
            "Host": parts.netloc,
            "User-Agent": self.limits.user_agent,
            "Accept": ACCEPT,
            "Accept-Language": "en",
            "Accept-Encoding": ACCEPT_ENCODING,
        }
        target = _request_target(parts)
        hop = _Hop(guarded=guarded, watchdog=watchdog)
        started_at = self._clock()
        wait = max(0.001, min(self.limits.timeout, watchdog.remaining()))
        conn = self._idle.take(parts, hop, wait)
        reused = conn is not None
        try:
            try:
                conn = conn or _connection(parts, wait, hop, self.limits.ca_bundle)
                response = _send(conn, target, headers)
            except _STALE:
                if not reused or watchdog.expired:
                    raise
                # The server closed the kept connection as it was taken: the request never
                # reached it. Once more, on a new connection, as browsers do.
                assert conn is not None
                conn.close()
                conn = _connection(parts, wait, hop, self.limits.ca_bundle)
                response = _send(conn, target, headers)
        except _Blocked as blocked:
            if conn is not None:
                conn.close()
            raise _Failure("blocked-private-address", blocked.detail(parts.hostname)) from None
        except _NETWORK_ERRORS as exc:
            if conn is not None:
                conn.close()
            raise _Failure(*_classify(exc, url, watchdog, self.limits, first)) from None
        complete = False
        try:
            if watchdog.expired:
                # The watchdog cut the headers short: http.client takes a cut header block
                # for a whole one, so what arrived cannot be trusted as a response.
                raise _Failure("timeout", watchdog.detail())
            status_line = (_http_version(response.version), response.status, response.reason or "")
            response_headers = tuple(response.headers.items())
            tls = _tls(conn)
            body, truncated = self._read_body(response, watchdog)
            # Reusable only after a whole body, as its framing (length or chunks) delimits
            # it, on a connection the server did not say it would close.
            complete = truncated is None and response.isclosed() and not watchdog.expired
        finally:
            response.close()  # a cut body is not drained: the connection is dropped
            watchdog.release()
            if complete and conn.sock is not None:
                self._idle.keep(parts, conn)
            else:
                conn.close()
        return Exchange(
            url=url,
            started_at=started_at,
            method="GET",
            request_target=target,
            request_headers=tuple(headers.items()),
            http_version=status_line[0],
            status=status_line[1],
            reason=status_line[2],
            headers=response_headers,
            peer_ip=hop.peer_ip,
            body=body,
            truncated=truncated,
            tls=tls,
        )

    def _read_body(
        self, raw: urllib3.BaseHTTPResponse, watchdog: _Watchdog
    ) -> tuple[Body, str | None]:
        # Without a length or chunking, the body ends where the connection does, so a cut
        # by the watchdog looks like a normal end; only the watchdog can tell.
        close_delimited = not raw.chunked and raw.length_remaining is None
        body = Body()
        truncated: str | None = None
        try:
            for chunk in raw.stream(CHUNK, decode_content=False):
                room = self.limits.max_bytes - body.length
                if len(chunk) > room:
                    body.write(chunk[:room])
                    truncated = "length"
                    break
                body.write(chunk)
        except (urllib3.exceptions.HTTPError, OSError, http.client.HTTPException) as exc:
            timed_out = isinstance(exc, urllib3.exceptions.ReadTimeoutError)
            truncated = "time" if watchdog.expired or timed_out else "disconnect"
        except BaseException:
            body.close()
            raise
        if truncated is None and close_delimited and watchdog.expired:
            truncated = "time"
        return body, truncated


def _send(conn: HTTPConnection, target: str, headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
    conn.request("GET", target, headers=headers, preload_content=False, decode_content=False)
    if _QUICKACK is not None and conn.sock is not None:
        # Acknowledge the answer's packets at once. On a kept-alive connection Linux delays
        # its acknowledgements, and a server that writes its headers and its body apart
        # without TCP_NODELAY (Python's http.server, many small servers) then holds the body
        # until the acknowledgement comes: 40 ms a page (measured 42 ms; 0.9 with this).
        try:
            conn.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        except OSError:
            pass
    _tls(conn)  # now: http.client lets go of the socket of an answer that closes it
    return conn.getresponse()


_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)  # Linux only


# What a kept-alive connection that the server has closed meanwhile raises on its next
# request, before any answer.
_STALE = (
    ConnectionError,  # reset, aborted, broken pipe; http.client's RemoteDisconnected
    ssl.SSLEOFError,
    ssl.SSLZeroReturnError,
    urllib3.exceptions.ProtocolError,
)


class _IdleConnections:
    """Connections kept alive between fetches, by scheme, host and port: the next fetch from
    the same site skips the TCP and TLS handshakes (two round trips, and the CPU of the
    key exchange). A few per site and KEEP_ALIVE_SECONDS at most, fewer than servers
    usually allow; one that the server closed meanwhile is noticed as it is taken, or on
    its request, which is then sent again on a new connection (`Fetcher._exchange`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # Oldest first: (connection, when it was kept).
        self._by_site: dict[_Site, list[tuple[HTTPConnection, float]]] = {}
        self._closed = False

    def take(self, parts: SplitResult, hop: _Hop, timeout: float) -> HTTPConnection | None:
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
            assert isinstance(conn, _Admitting) and conn.sock is not None
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


_Site = tuple[str, str, int | None]


def _site(parts: SplitResult) -> _Site:
    return (parts.scheme, parts.hostname or "", parts.port)


def _request_target(parts: SplitResult) -> str:
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


def _connection(
    parts: SplitResult, timeout: float, hop: _Hop, authorities: str | None
) -> HTTPConnection:
    """A connection (not yet opened) for one hop, with the same TLS checks requests makes:
    certificates against certifi's bundle (or `authorities`), and the host name."""
    host, port = parts.hostname or "", parts.port  # a canonical URL's port is valid
    if parts.scheme == "https":
        context = tls_context(authorities)
        return _AdmittingTLSConnection(
            hop, host, port, timeout=timeout, cert_reqs="CERT_REQUIRED", ssl_context=context
        )
    return _AdmittingConnection(hop, host, port, timeout=timeout)


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


# --- the private-address guard --------------------------------------------------------------

# Not covered by ipaddress's is_global in every Python version: IETF protocol assignments
# and the local-use NAT64 prefix.
_EXTRA_BLOCKED = (ipaddress.ip_network("192.0.0.0/24"), ipaddress.ip_network("64:ff9b:1::/48"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def is_public_address(address: str) -> bool:
    """True if `address` is a global unicast IP address that any site may be fetched from.

    Loopback, private, link-local (cloud metadata at 169.254.169.254), CGNAT, multicast,
    reserved and unspecified addresses are not, nor IPv6 spellings that embed one of them
    (::ffff:127.0.0.1, 6to4, NAT64).
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if not _is_public(ip):
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and (ip in _NAT64 or ip in _IPV4_COMPATIBLE):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not _is_public(embedded):
            return False
    return True


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return (
        ip.is_global
        and not ip.is_multicast
        and not ip.is_reserved
        and not ip.is_loopback
        and not ip.is_link_local
        and not ip.is_private
        and not ip.is_unspecified
        and not any(ip in net for net in _EXTRA_BLOCKED if net.version == ip.version)
    )


@dataclass
class _Hop:
    """What the connection code needs to know about the hop in progress on its thread."""

    guarded: bool
    watchdog: _Watchdog
    peer_ip: str | None = None


class _Blocked(Exception):
    """Raised inside urllib3 when a connection reaches a non-public address. Deliberately
    not an OSError, so that urllib3 lets it through unwrapped."""

    def __init__(self, address: str | None) -> None:
        super().__init__(address)
        self.address = address

    def detail(self, host: str | None) -> str:
        address = self.address or "an unknown address"
        target = f"{host} ({address})" if host and host != address else address
        return f"refused to connect to {target}: not a public address ({ALLOW_PRIVATE_HINT})"


def _refuse_literal(host: str) -> None:
    """Refuse a host spelled as a non-public IP before connecting: an unroutable private
    address would otherwise show up as a timeout rather than as refused."""
    address = _literal_address(host)
    if address is not None and not is_public_address(address):
        raise _Failure("blocked-private-address", _Blocked(address).detail(host))


def _literal_address(host: str) -> str | None:
    """The IP address a numeric host names, in every spelling the resolver accepts:
    127.0.0.1, 2130706433, 0177.0.0.1, 0x7f.1, ::1."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    if re.fullmatch(r"[0-9a-fA-FxX.]+", host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _tls(conn: HTTPConnection) -> TlsPeer | None:
    """What the connection's TLS showed of the server: the same for every exchange on a
    kept connection, so worked out once for it, as its first request goes out."""
    known: TlsPeer | None = getattr(conn, "tls_peer", None)
    if known is None and isinstance(conn, HTTPSConnection):
        known = observed(conn.sock)
        conn.tls_peer = known  # type: ignore[attr-defined]
    return known


def _admit(conn: _Admitting, sock: socket.socket) -> None:
    """Let a request go out on `sock` only if the hop allows the address it reached."""
    try:
        peer: str | None = sock.getpeername()[0]
    except (OSError, IndexError, TypeError):
        peer = None
    if conn.hop.guarded and (peer is None or not is_public_address(peer)):
        raise _Blocked(peer)
    conn.hop.peer_ip = conn.peer_ip = peer
    conn.hop.watchdog.watch(conn, sock)


class _Admitting:
    """Checks the address actually connected to, after connecting and before a byte of the
    request (or of a TLS handshake) is sent: a name may resolve anywhere, and 2130706433 is
    127.0.0.1. Mixed into urllib3's connection classes."""

    sock: socket.socket | None

    def __init__(self, hop: _Hop, *args: Any, **kwargs: Any) -> None:
        self.hop = hop
        self.peer_ip: str | None = None
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        try:
            _admit(self, sock)
        except BaseException:
            sock.close()
            raise
        return sock


class _AdmittingConnection(_Admitting, HTTPConnection):
    pass


class _AdmittingTLSConnection(_Admitting, HTTPSConnection):
    pass


# --- the deadline ---------------------------------------------------------------------------


class _Watchdog:
    """Ends a fetch at its deadline by shutting down the socket it is waiting on. Per-read
    timeouts cannot do it: a server dripping a byte a second never trips them, and a
    blocked recv() cannot be interrupted any other way."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self.cancelled = False
        self._ends = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._conn: _Admitting | None = None
        self._sock: socket.socket | None = None
        _DEADLINES.add(self._ends, self)

    def remaining(self) -> float:
        return max(0.0, self._ends - time.monotonic())

    def detail(self) -> str:
        return f"gave up at the {self.seconds:g}s deadline for the whole fetch"

    def watch(self, conn: _Admitting, sock: socket.socket) -> None:
        with self._lock:
            self._conn, self._sock = conn, sock
            if self.expired:
                self._shut()

    def release(self) -> None:
        with self._lock:
            self._conn = self._sock = None

    def cancel(self) -> None:
        self.cancelled = True
        self.release()

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            self._shut()

    def _shut(self) -> None:
        # The connection's socket may by now be the TLS wrapper of the one first seen.
        sock = (self._conn.sock if self._conn is not None else None) or self._sock
        if sock is None:
            return
        try:
            # socket.socket's own shutdown, not SSLSocket's, which would also drop the TLS
            # state under the feet of the thread reading from it.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass


class _Deadlines:
    """One thread that expires every fetch's watchdog at its deadline, rather than a timer
    thread per fetch: starting a thread costs more CPU than a fetch on a fast network."""

    SWEEP_AT = 1024  # entries at which ended fetches held behind a long one are swept out

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Watchdog]] = []
        self._order = itertools.count()
        self._ready = threading.Condition()
        self._thread: threading.Thread | None = None
        self._sweep_at = self.SWEEP_AT

    def add(self, ends: float, watchdog: _Watchdog) -> None:
        with self._ready:
            # Fetches mostly end in the order they began, long before their deadlines: the
            # ended ones at the top go now, or a minute of them would wait there (18,000
            # watchdogs in a fast check).
            while self._heap and self._heap[0][2].cancelled:
                heapq.heappop(self._heap)
            if len(self._heap) >= self._sweep_at:  # one long fetch on top holds them back
                self._heap = [entry for entry in self._heap if not entry[2].cancelled]
                heapq.heapify(self._heap)
                self._sweep_at = max(self.SWEEP_AT, 2 * len(self._heap))
            heapq.heappush(self._heap, (ends, next(self._order), watchdog))
            # Started on first use, and again in a process forked from one that had it.
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="preserve-deadlines", daemon=True
                )
                self._thread.start()
            if self._heap[0][2] is watchdog:
                self._ready.notify()

    def _run(self) -> None:
        with self._ready:
            while True:
                now = time.monotonic()
                while self._heap and (self._heap[0][0] <= now or self._heap[0][2].cancelled):
                    _, _, watchdog = heapq.heappop(self._heap)
                    if not watchdog.cancelled:
                        watchdog.expire()
                self._ready.wait(self._heap[0][0] - now if self._heap else None)


_DEADLINES = _Deadlines()


# --- redirects and errors -------------------------------------------------------------------


class _Failure(Exception):
    """Ends a fetch with a reason code; never leaves this module."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = _one_line(detail)


def _redirect_target(exchange: Exchange) -> str:
    location = exchange.header("Location") or ""
    try:
        # Header values arrive latin-1 decoded; servers, like browsers, mean UTF-8.
        location = location.encode("latin-1").decode("utf-8")
    except UnicodeError:
        pass
    location = location.strip()
    target = resolve(exchange.url, location) if location else None
    if target is not None:
        return target
    try:
        scheme = urlsplit(urljoin(exchange.url, location)).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme and scheme not in SCHEMES:
        raise _Failure(
            "unsupported-scheme",
            f"redirect to a {scheme}: URL ({location[:200]}); only http and https are fetched",
        )
    raise _Failure(
        "bad-redirect", f"{exchange.status} with an unusable Location: {location[:200]!r}"
    )


_NETWORK_ERRORS = (
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
    ValueError,  # http.client's own checks of the request line and headers
)
# Only these mean the name does not exist; every other resolver failure may pass.
_NO_SUCH_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


def _classify(
    exc: BaseException, url: str, watchdog: _Watchdog, limits: FetchLimits, first: bool
) -> tuple[str, str]:
    """A reason code and a one-line detail for an exception raised by urllib3."""
    parts = urlsplit(url)
    where = parts.netloc
    causes = list(_causes(exc))

    def find(*types: type[BaseException]) -> BaseException | None:
        return next((c for c in causes if isinstance(c, types)), None)

    if watchdog.expired:
        return "timeout", watchdog.detail()
    # A certificate that fails verification raises a ValueError too (SSLCertVerificationError).
    bad_request = isinstance(exc, ValueError) and not isinstance(exc, ssl.SSLError)
    if bad_request or find(urllib3.exceptions.LocationValueError):
        return ("bad-url" if first else "bad-redirect"), f"cannot request {url}: {causes[-1]}"
    gai = find(socket.gaierror)
    if isinstance(gai, socket.gaierror):
        if gai.errno in _NO_SUCH_NAME:
            return "dns", f"no such host: {parts.hostname} ({gai.strerror})"
        return "dns-temporary", f"could not look up {parts.hostname} ({gai.strerror})"
    if find(ConnectionRefusedError):
        return "refused", f"{where} refused the connection"
    if find(TimeoutError, urllib3.exceptions.TimeoutError):
        return "timeout", f"no answer from {where} within {limits.timeout:g}s"
    tls = find(ssl.SSLError, urllib3.exceptions.SSLError)
    if tls is not None:
        return "tls", f"TLS with {where} failed: {_describe_exc(_innermost(tls))}"
    if find(ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
        return "reset", f"{where} closed the connection without an answer"
    return "connection", f"{where}: {_describe_exc(causes[-1])}"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and everything it wraps, outermost first: urllib3 wraps the socket's own error
    two or three levels deep, in causes, `reason` and `args`."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = (current.__cause__, current.__context__, getattr(current, "reason", None))
        todo.extend(e for e in (*linked, *current.args) if isinstance(e, BaseException))


def _innermost(exc: BaseException) -> BaseException:
    *_, last = _causes(exc)
    return last


def _describe_exc(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _http_version(version: int) -> str:
    return f"HTTP/{version // 10}.{version % 10}"
