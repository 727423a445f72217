"""HTTP heads as records store them: the bytes that were on the wire, framing fixed up."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from warcio.statusandheaders import StatusAndHeaders

if TYPE_CHECKING:  # annotations only
    from preserve.net.exchange import Exchange


class ExactHead(StatusAndHeaders):  # type: ignore[misc]  # warcio has no type information
    """An HTTP head for warcio's record builder, stored as the bytes that were on the wire.
    warcio serialises a head itself, percent-encoding every header value that is not ASCII
    (a latin-1 "é", a UTF-8 file name), which would change both the evidence and its
    digest; this head's serialisation is the exact bytes, whatever warcio asks."""

    def __init__(self, first_line: str, headers: Sequence[tuple[str, str]]) -> None:
        protocol, _, statusline = first_line.partition(" ")
        super().__init__(statusline, list(headers), protocol=protocol)
        self._raw = _head(first_line, headers)
        self.headers_buff = self._raw

    @classmethod
    def response(cls, exchange: Exchange) -> ExactHead:
        first = f"{exchange.http_version} {exchange.status} {exchange.reason}"
        return cls(first, stored_response_headers(exchange))

    def compute_headers_buffer(self, header_filter: Any = None) -> None:
        self.headers_buff = self._raw


def stored_response_headers(exchange: Exchange) -> list[tuple[str, str]]:
    """Response headers as stored: the body is de-chunked, so Transfer-Encoding is renamed
    and the real Content-Length given (not for 204/304/HEAD, which have no body by
    definition, nor for a truncated body, whose declared length is evidence)."""
    length = str(exchange.body.length)
    bodyless = exchange.status in (204, 304) or exchange.method.upper() == "HEAD"
    keep_length = exchange.truncated is not None or bodyless
    headers: list[tuple[str, str]] = []
    has_length = False
    for name, value in exchange.headers:
        lname = name.lower()
        if lname == "transfer-encoding":
            headers.append(("X-Orig-Transfer-Encoding", value))
        elif lname == "content-length" and not keep_length and value.strip() != length:
            headers.append(("X-Orig-Content-Length", value))
        else:
            has_length = has_length or lname == "content-length"
            headers.append((name, value))
    if not has_length and not keep_length:
        headers.append(("Content-Length", length))
    return headers


def _head(first_line: str, headers: Sequence[tuple[str, str]]) -> bytes:
    lines = [_value_bytes(first_line)]
    lines += [_value_bytes(name) + b": " + _value_bytes(value) for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _value_bytes(text: str) -> bytes:
    # Header values arrive latin-1-decoded from http.client, so latin-1 gives back the wire
    # bytes; only a value we built ourselves can hold characters beyond it. A line break
    # would fold the header (forbidden), so it becomes a space.
    if "\r" in text or "\n" in text:
        text = " ".join(text.splitlines())
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")
