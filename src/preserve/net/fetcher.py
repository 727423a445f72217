"""Fetching a URL: one GET with limits, redirects followed by hand, every hop kept.

Each hop is checked (the private-address guard, the deadline) and recorded as an
`Exchange`; `Fetcher.fetch` returns a `Fetched` and never raises for anything a server or
the network does."""

from __future__ import annotations

import http.client
import threading
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urljoin, urlsplit

import urllib3
from urllib3.connection import HTTPConnection

from preserve.config import FetchLimits
from preserve.errors import BadURL, StorageError
from preserve.net.connections import (
    STALE,
    IdleConnections,
    connection,
    request_target,
    send,
    tls_peer,
)
from preserve.net.deadline import Watchdog
from preserve.net.exchange import CHUNK, Body, Exchange
from preserve.net.failures import NETWORK_ERRORS, Failure, classify, describe, one_line
from preserve.net.guard import Blocked, Hop, refuse_literal
from preserve.times import Clock, utc_now
from preserve.urls import SCHEMES, canonical, resolve

ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# Pinned: urllib3 advertises zstd (and br) when their packages happen to be installed, and
# the WARC readers downstream cannot decode those.
ACCEPT_ENCODING = "gzip, deflate"


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


@dataclass(frozen=True)
class Asked:
    """A request as a browser asks for it: its method, its headers and its body. The
    fetcher sends these, bar the headers it owns (`OWN_HEADERS`)."""

    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None


# Headers a browser's request may not set: the connection and its framing are the
# fetcher's, and the encodings it accepts are pinned (see ACCEPT_ENCODING).
OWN_HEADERS = frozenset(
    {"host", "connection", "keep-alive", "proxy-connection", "proxy-authorization", "te",
     "trailer", "transfer-encoding", "upgrade", "content-length", "accept-encoding"}
)  # fmt: skip


class Fetcher:
    """Fetches URLs under `limits`. One instance may be shared by a pool of threads.

    urllib3's connection classes directly, without requests' sessions and pools on top:
    nothing of those (cookies, proxies, redirects, retries) is wanted here, and they cost
    twice the CPU of the fetch itself on a fast network. Connections are kept alive
    between fetches (`IdleConnections`); one that the server closed while idle is noticed,
    and its request sent again on a new one, so it is never reported as the site being
    unreachable."""

    def __init__(self, limits: FetchLimits, clock: Clock = utc_now) -> None:
        self.limits = limits
        self._clock = clock
        self._idle = IdleConnections()
        self._running: set[Watchdog] = set()  # the watchdogs of the fetches under way
        self._lock = threading.Lock()
        self.interrupted = False

    def interrupt(self) -> None:
        """End every fetch under way now, and every one asked for after: each ends as an
        `interrupted` failure, a partly read body left out (a run told to stop)."""
        with self._lock:
            self.interrupted = True
            running = list(self._running)
        for watchdog in running:
            watchdog.interrupt()

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
            target, error, detail = url, "internal", one_line(describe(exc))
        return Fetched(
            target, tuple(exchanges), error, detail, started_at=started_at, ended_at=self._clock()
        )

    def fetch_hop(self, url: str, asked: Asked, *, typed: bool = False) -> Fetched:
        """One request as a browser asks for it (`asked`), its redirect not followed: the
        browser follows redirects itself, and each hop comes back here. Otherwise as
        `fetch`: the guard, the deadline and the limits hold, and it never raises for what
        a server or the network does."""
        started_at = self._clock()
        exchanges: list[Exchange] = []
        try:
            target, error, detail = self._fetch(url, typed, exchanges, asked)
        except StorageError:
            for exchange in exchanges:
                exchange.body.close()
            raise
        except Exception as exc:  # a bug here must cost one request, not the whole run
            target, error, detail = url, "internal", one_line(describe(exc))
        return Fetched(
            target, tuple(exchanges), error, detail, started_at=started_at, ended_at=self._clock()
        )

    def _fetch(
        self, url: str, typed: bool, exchanges: list[Exchange], asked: Asked | None = None
    ) -> tuple[str, str | None, str | None]:
        """The canonical URL, and the error code and detail if the fetch ended in one."""
        try:
            start = canonical(url)
        except BadURL as exc:
            return url, "bad-url", str(exc)
        watchdog = Watchdog(self.limits.total_deadline)
        with self._lock:
            self._running.add(watchdog)
            if self.interrupted:
                watchdog.interrupt()
        try:
            self._follow(start, typed, watchdog, exchanges, asked)
        except Failure as failure:
            return start, failure.code, failure.detail
        finally:
            watchdog.cancel()
            with self._lock:
                self._running.discard(watchdog)
        return start, None, None

    def close(self) -> None:
        """Close the connections kept alive between fetches."""
        self._idle.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _follow(
        self,
        url: str,
        typed: bool,
        watchdog: Watchdog,
        exchanges: list[Exchange],
        asked: Asked | None = None,
    ) -> None:
        seen = {url}
        while True:
            if watchdog.expired:
                raise Failure(watchdog.code, watchdog.detail())
            guarded = not self.limits.allow_private and (bool(exchanges) or not typed)
            exchange = self._exchange(url, guarded, watchdog, not exchanges, asked)
            exchanges.append(exchange)
            if not exchange.is_redirect or asked is not None:
                return
            url = _redirect_target(exchange)
            if url in seen:
                raise Failure("redirect-loop", f"{exchange.url} redirects back to {url}")
            if len(exchanges) > self.limits.max_redirects:
                raise Failure(
                    "too-many-redirects", f"more than {self.limits.max_redirects} redirects"
                )
            seen.add(url)

    def _exchange(
        self, url: str, guarded: bool, watchdog: Watchdog, first: bool, asked: Asked | None
    ) -> Exchange:
        parts = urlsplit(url)
        if guarded:
            refuse_literal(parts.hostname or "")
        headers = _headers(parts.netloc, self.limits.user_agent, asked)
        method = asked.method if asked is not None else "GET"
        sent = asked.body if asked is not None else None
        target = request_target(parts)
        hop = Hop(guarded=guarded, watchdog=watchdog)
        started_at = self._clock()
        wait = max(0.001, min(self.limits.timeout, watchdog.remaining()))
        conn: HTTPConnection | None = self._idle.take(parts, hop, wait)
        reused = conn is not None
        try:
            try:
                conn = conn or connection(parts, wait, hop, self.limits.ca_bundle)
                response = send(conn, target, headers, method, sent)
            except STALE:
                if not reused or watchdog.expired:
                    raise
                # The server closed the kept connection as it was taken: the request never
                # reached it. Once more, on a new connection, as browsers do.
                assert conn is not None
                conn.close()
                conn = connection(parts, wait, hop, self.limits.ca_bundle)
                response = send(conn, target, headers, method, sent)
        except Blocked as blocked:
            if conn is not None:
                conn.close()
            raise Failure("blocked-private-address", blocked.detail(parts.hostname)) from None
        except NETWORK_ERRORS as exc:
            if conn is not None:
                conn.close()
            raise Failure(*classify(exc, url, watchdog, self.limits, first)) from None
        complete = False
        try:
            if watchdog.expired:
                # The watchdog cut the headers short: http.client takes a cut header block
                # for a whole one, so what arrived cannot be trusted as a response.
                raise Failure(watchdog.code, watchdog.detail())
            status_line = (_http_version(response.version), response.status, response.reason or "")
            response_headers = tuple(response.headers.items())
            tls = tls_peer(conn)
            body, truncated = self._read_body(response, watchdog)
            if watchdog.interrupted:  # a body cut by the stop is no answer of the server's
                body.close()
                raise Failure(watchdog.code, watchdog.detail())
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
            method=method,
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
            request_body=sent or b"",
        )

    def _read_body(self, raw: urllib3.HTTPResponse, watchdog: Watchdog) -> tuple[Body, str | None]:
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


def _headers(netloc: str, user_agent: str, asked: Asked | None) -> dict[str, str]:
    """The headers of a request: preserve's own, or a browser's (bar `OWN_HEADERS`) with
    the Host, the pinned Accept-Encoding and the body's length."""
    if asked is None:
        return {
            "Host": netloc,
            "User-Agent": user_agent,
            "Accept": ACCEPT,
            "Accept-Language": "en",
            "Accept-Encoding": ACCEPT_ENCODING,
        }
    headers = {"Host": netloc}
    for name, value in asked.headers:
        if name.lower() not in OWN_HEADERS and name not in headers:
            headers[name] = value
    headers["Accept-Encoding"] = ACCEPT_ENCODING
    if asked.body is not None:
        headers["Content-Length"] = str(len(asked.body))
    return headers


def _redirect_target(exchange: Exchange) -> str:
    """The canonical URL a redirect's Location names, resolved against the hop's URL."""
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
        raise Failure(
            "unsupported-scheme",
            f"redirect to a {scheme}: URL ({location[:200]}); only http and https are fetched",
        )
    raise Failure(
        "bad-redirect", f"{exchange.status} with an unusable Location: {location[:200]!r}"
    )


def _http_version(version: int) -> str:
    return f"HTTP/{version // 10}.{version % 10}"
