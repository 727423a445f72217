"""Turning a request the browser paused into one for the fetcher, and a fetched exchange
into the answer the browser is given: the decoded body, without the framing headers."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from preserve.extract.decode import decode_content
from preserve.net.exchange import Exchange

# Sent by every request of a render's context, to tell which page asked; never fetched.
TOKEN_HEADER = "x-preserve-render"
# Chromium is given bodies inflated to at most this (the WARC keeps them as received).
MAX_GIVEN = 32 * 1024 * 1024
# Response headers the browser is not given: the body it gets is decoded and whole.
_FRAMING = frozenset({"content-encoding", "content-length", "transfer-encoding"})


def refusal(url: str) -> str | None:
    """Why a request is never sent (None: it may be): only http and https are fetched."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return "not a URL"
    if scheme not in ("http", "https"):
        return f"a {scheme}: URL: only http and https are fetched"
    return None


def page_token(headers: Mapping[str, str]) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == TOKEN_HEADER), None)


def request_headers(headers: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The headers the page's request carried, less the render's own token."""
    return tuple((k, v) for k, v in headers.items() if k.lower() != TOKEN_HEADER)


def post_body(request: Mapping[str, Any]) -> bytes | None:
    """The body of a paused request (CDP gives it base64 in parts, or as text)."""
    entries = request.get("postDataEntries")
    if entries:
        return b"".join(base64.b64decode(e.get("bytes", "")) for e in entries)
    data = request.get("postData")
    return data.encode("utf-8") if isinstance(data, str) else None


def fulfilment(exchange: Exchange) -> dict[str, Any]:
    """The parameters of CDP's Fetch.fulfillRequest for an exchange: its status and headers,
    and its body decoded (Chromium does not decode a fulfilled body itself)."""
    raw = exchange.body.read(MAX_GIVEN)
    encoding = exchange.header("Content-Encoding")
    body = decode_content(raw, encoding, MAX_GIVEN) if encoding else raw
    headers = [{"name": k, "value": v} for k, v in exchange.headers if k.lower() not in _FRAMING]
    return {
        "responseCode": exchange.status,
        "responsePhrase": exchange.reason or "-",
        "responseHeaders": headers,
        "body": base64.b64encode(body).decode("ascii"),
    }
