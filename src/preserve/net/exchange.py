"""The data of one HTTP exchange: the request sent, the response received and its body."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from preserve.errors import StorageError
from preserve.net.tls import TlsPeer

# Spool bodies to disk past this size so that many concurrent fetches stay small in memory.
SPOOL_BYTES = 1024 * 1024
CHUNK = 65536


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
    request_body: bytes = b""  # what a browser's POST (or PUT…) sent; GETs send none

    def header(self, name: str) -> str | None:
        """The first value of a response header, case-insensitively."""
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), None)

    @property
    def is_redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308) and self.header("Location") is not None
