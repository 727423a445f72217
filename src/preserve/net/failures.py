"""How a fetch fails: the reason codes, and the exceptions of the network classified into them."""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Iterator
from urllib.parse import urlsplit

import urllib3

from preserve.config import FetchLimits
from preserve.net.deadline import Watchdog


class Failure(Exception):
    """Ends a fetch with a reason code (see `Fetched.error`); never leaves the network code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = one_line(detail)


NETWORK_ERRORS = (
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
    ValueError,  # http.client's own checks of the request line and headers
)
# Only these mean the name does not exist; every other resolver failure may pass.
_NO_SUCH_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


def classify(
    exc: BaseException, url: str, watchdog: Watchdog, limits: FetchLimits, first: bool
) -> tuple[str, str]:
    """A reason code and a one-line detail for an exception raised by urllib3."""
    parts = urlsplit(url)
    where = parts.netloc
    causes = list(_causes(exc))

    def find(*types: type[BaseException]) -> BaseException | None:
        return next((c for c in causes if isinstance(c, types)), None)

    if watchdog.expired:
        return watchdog.code, watchdog.detail()
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
        return "tls", f"TLS with {where} failed: {describe(_innermost(tls))}"
    if find(ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
        return "reset", f"{where} closed the connection without an answer"
    return "connection", f"{where}: {describe(causes[-1])}"


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


def describe(exc: BaseException) -> str:
    """An exception as one short phrase: its type, and its message if it has one."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def one_line(text: str, limit: int = 300) -> str:
    """`text` on one line of at most `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
