"""Building one WARC record with warcio, and compressing it into one gzip member of its own.

Invariants of every record built here: WARC/1.1; sha256 in lowercase hex for every digest;
HTTP headers stored as the bytes that were on the wire; a body that does not give exactly
the bytes it had when it arrived is an error, so a Content-Length and digests written
before the body can never be wrong.
"""

from __future__ import annotations

import hashlib
import io
import json
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from warcio.statusandheaders import StatusAndHeadersParser
from warcio.warcwriter import WARCWriter

from preserve.errors import IntegrityError
from preserve.times import iso
from preserve.warc.heads import ExactHead

if TYPE_CHECKING:  # annotations only: the WARC code needs no network code to run
    from preserve.net.exchange import Body, Exchange

WARC_VERSION = "WARC/1.1"
CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
# warcio hard-codes level 9. Measured on this 2-core machine, whole write path (digests,
# gzip, file), 478 real HTML pages (67 MB): level 9 wrote 30 MB/s into 7.74 MB, level 6
# 46 MB/s into 7.82 MB (+1%), level 1 103 MB/s into 9.77 MB (+26%). Level 4 is the trade
# taken (issue 14): on 235 real pages gzip cost 1.28 ms a page against level 6's 2.08, for
# files 3.7% larger (compressed/raw 0.247 against 0.238); on the bulk web's 2,212 pages
# (CPU, best of 3), 0.25 ms a page against 0.41, files 1% larger. Level 1 would save
# another 0.08 ms a page on the bulk web for files 15% larger than level 6's on real pages.
GZIP_LEVEL = 4
_HTTP_RESPONSE = "application/http; msgtype=response"
_HTTP_REQUEST = "application/http; msgtype=request"


@dataclass(frozen=True)
class OriginalRef:
    """The earlier response record a revisit points at."""

    record_id: str
    target_uri: str
    date: datetime
    payload_digest: str


@dataclass(frozen=True)
class Record:
    """A record built and digested, ready to be written into a file (which adds the
    WARC-Warcinfo-ID of that file). `warc` is warcio's record."""

    rec_type: str
    record_id: str
    payload_digest: str | None  # "sha256:<hex>" of a response, or a revisit's original's
    warc: Any

    def add_field(self, name: str, value: str) -> None:
        _check_value(value)
        self.warc.rec_headers.add_header(name, value)


@dataclass(frozen=True)
class WrittenMember:
    """Where a record's gzip member landed, and the sha256 hex of its compressed bytes."""

    offset: int
    length: int
    sha256: str


class Records:
    """Builds preserve's records with warcio's record builder and writes each one as a gzip
    member of its own. Building and digesting need no lock; `write` is for one thread at a
    time (the file's writer holds its lock)."""

    def __init__(self, gzip_level: int = GZIP_LEVEL) -> None:
        self._level = gzip_level
        self._sink = _Sink()
        self._builder = _Builder(self._sink)

    def response(self, exchange: Exchange) -> Record:
        """A response record: the HTTP head as stored (`heads.stored_response_headers`) and the
        body as received. Its payload digest is the one the body had when it arrived; the
        block digest is computed here, in the same pass that checks the body against it."""
        head = ExactHead.response(exchange)
        payload_digest = f"sha256:{exchange.body.sha256}"
        fields = _fields(
            "response",
            exchange.url,
            exchange.started_at,
            {
                "WARC-IP-Address": exchange.peer_ip,
                "WARC-Truncated": exchange.truncated,
                "WARC-Payload-Digest": payload_digest,
            },
        )
        warc = self._builder.create_warc_record(
            exchange.url,
            "response",
            payload=_BodyStream(exchange.body),
            length=exchange.body.length,
            warc_content_type=_HTTP_RESPONSE,
            warc_headers_dict=fields,
            http_headers=head,
        )
        return self._digested(warc, "response", fields, payload_digest, _protocol(exchange))

    def request(self, exchange: Exchange, concurrent_to: str) -> Record:
        """The request record of an exchange, naming its response (or revisit)."""
        # http.client always speaks HTTP/1.1, whatever version the server answers in.
        first = f"{exchange.method} {exchange.request_target} HTTP/1.1"
        head = ExactHead(first, exchange.request_headers)
        fields = _fields("request", exchange.url, exchange.started_at, {})
        body = exchange.request_body  # what a browser's POST sent: none for a GET
        warc = self._builder.create_warc_record(
            exchange.url,
            "request",
            payload=io.BytesIO(body) if body else None,
            length=len(body) if body else None,
            warc_content_type=_HTTP_REQUEST,
            warc_headers_dict=fields,
            http_headers=head,
        )
        extra = [*_protocol(exchange, "HTTP/1.1"), ("WARC-Concurrent-To", concurrent_to)]
        return self._digested(warc, "request", fields, None, extra)

    def revisit(self, exchange: Exchange, original: OriginalRef) -> Record:
        """A revisit: the HTTP head only, the payload identical to `original`'s."""
        if original.payload_digest != f"sha256:{exchange.body.sha256}":
            raise ValueError("a revisit's payload must be identical to its original's")
        fields = _fields(
            "revisit",
            exchange.url,
            exchange.started_at,
            {
                "WARC-IP-Address": exchange.peer_ip,
                "WARC-Refers-To": original.record_id,
                # The profile requires it when the block keeps the HTTP headers.
                "WARC-Truncated": "length",
                "WARC-Profile": REVISIT_PROFILE,
                "WARC-Refers-To-Target-URI": original.target_uri,
                "WARC-Refers-To-Date": iso(original.date),
                "WARC-Payload-Digest": original.payload_digest,
            },
        )
        warc = self._builder.create_warc_record(
            exchange.url,
            "revisit",
            warc_content_type=_HTTP_RESPONSE,
            warc_headers_dict=fields,
            http_headers=ExactHead.response(exchange),
        )
        return self._digested(warc, "revisit", fields, original.payload_digest, _protocol(exchange))

    def metadata(
        self, refers_to: str, data: Mapping[str, Any], date: datetime, concurrent_to: str | None
    ) -> Record:
        """A JSON metadata record about record `refers_to`. It has no Target-URI, so replay
        tools never serve it in place of the page it describes."""
        block = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str).encode()
        extra = {"WARC-Refers-To": refers_to, "WARC-Concurrent-To": concurrent_to}
        return self._block("metadata", _fields("metadata", None, date, extra), block)

    def resource(
        self, uri: str, date: datetime, content_type: str, data: bytes, concurrent_to: str | None
    ) -> Record:
        """A resource record: bytes preserve made itself (a rendered page's DOM, its
        screenshot) under a `urn:<kind>:<page URL>` Target-URI, as Browsertrix writes them
        (docs/browser.md), tied to the page's response by WARC-Concurrent-To."""
        fields = _fields("resource", uri, date, {"WARC-Concurrent-To": concurrent_to})
        warc = self._builder.create_warc_record(
            uri,
            "resource",
            payload=io.BytesIO(data),
            length=len(data),
            warc_content_type=content_type,
            warc_headers_dict=fields,
        )
        return self._digested(
            warc, "resource", fields, warc.rec_headers.get_header("WARC-Payload-Digest"), []
        )

    def warcinfo(self, filename: str, date: datetime, info: Mapping[str, str]) -> Record:
        """The warcinfo record that opens file `filename`: `info` as its block's fields."""
        block = "".join(f"{k}: {v}\r\n" for k, v in info.items()).encode()
        fields = _fields("warcinfo", None, date, {"WARC-Filename": filename})
        return self._block("warcinfo", fields, block)

    def write(self, record: Record, emit: Callable[[bytes], None], offset: int) -> WrittenMember:
        """Write `record` as one gzip member starting at `offset`, handing the compressed
        bytes to `emit`."""
        member = _GzipMember(emit, self._level)
        self._sink.member = member
        try:
            self._builder.write_record(record.warc)
        finally:
            self._sink.member = None
        member.finish()
        return WrittenMember(offset, member.length, member.sha256.hexdigest())

    def _block(self, rec_type: str, fields: dict[str, str], block: bytes) -> Record:
        warc = self._builder.create_warc_record(
            "",
            rec_type,
            payload=io.BytesIO(block),
            length=len(block),
            warc_content_type="application/json" if rec_type == "metadata" else None,
            warc_headers_dict=fields,
        )
        return self._digested(warc, rec_type, fields, None, [])

    def _digested(
        self,
        warc: Any,
        rec_type: str,
        fields: dict[str, str],
        payload_digest: str | None,
        extra: list[tuple[str, str]],
    ) -> Record:
        record = Record(rec_type, fields["WARC-Record-ID"], payload_digest, warc)
        for name, value in extra:
            record.add_field(name, value)
        # The block digest now, outside the writer's lock: one pass over the body.
        self._builder.ensure_digest(warc, block=True, payload=False)
        return record


class _Sha256:
    """The digester warcio's builder uses: sha256 written as `sha256:<lowercase hex>`
    (warcio's own writes sha1 in base32)."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def update(self, data: bytes) -> None:
        self._hash.update(data)

    def __str__(self) -> str:
        return f"sha256:{self._hash.hexdigest()}"


class _Builder(WARCWriter):  # type: ignore[misc]  # warcio has no type information
    """warcio's writer, uncompressed (each record is compressed by `Records.write`, at
    GZIP_LEVEL), WARC/1.1, with sha256 hex digests. Payload digests only on responses
    (and on revisits, the original's), as preserve has always written them."""

    NO_PAYLOAD_DIGEST_TYPES = ("warcinfo", "revisit", "request", "metadata")

    def __init__(self, out: _Sink) -> None:
        super().__init__(out, gzip=False, warc_version="1.1")

    @staticmethod
    def _create_digester() -> _Sha256:
        return _Sha256()


class _BodyStream:
    """A Body as the file warcio reads a payload from. Each pass from the start walks the
    body's chunks anew, and must give exactly the length it had when it arrived; the first
    pass (the one that computes the block digest) must also give its sha256, so that what
    is digested, and then written, is what was received."""

    def __init__(self, body: Body) -> None:
        self._body = body
        self._chunks: Iterator[bytes] | None = None
        self._passes = 0
        self._position = 0
        self._pending = memoryview(b"")
        self._hash: Any = None

    def __bool__(self) -> bool:  # warcio tests `if payload`
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, position: int, whence: int = io.SEEK_SET) -> int:
        if whence != io.SEEK_SET or position not in (0, self._position):
            raise io.UnsupportedOperation("a body is read from its start only")
        if position == 0:
            self._chunks, self._position, self._pending = None, 0, memoryview(b"")
        return position

    def read(self, size: int = -1) -> bytes:
        if self._chunks is None:
            self._passes += 1
            self._chunks = self._body.chunks()
            self._hash = hashlib.sha256() if self._passes == 1 else None
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                self._end()
                return b""
            if self._position + len(chunk) > self._body.length:
                raise IntegrityError(f"body gave more than {self._body.length} bytes")
            if self._hash is not None:
                self._hash.update(chunk)
            self._pending = memoryview(chunk)
        data = self._pending if size < 0 else self._pending[:size]
        self._pending = self._pending[len(data) :]
        self._position += len(data)
        return bytes(data)

    def _end(self) -> None:
        if self._position != self._body.length:
            raise IntegrityError(f"body gave {self._position} bytes, expected {self._body.length}")
        if self._hash is not None and self._hash.hexdigest() != self._body.sha256:
            raise IntegrityError("body changed after it was received")
        self._hash = None


class _GzipMember:
    """One gzip member: compresses a record and counts and hashes the output."""

    def __init__(self, emit: Callable[[bytes], None], level: int) -> None:
        self._emit = emit
        self._zlib = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        self.length = 0
        self.sha256 = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self._out(self._zlib.compress(data))

    def finish(self) -> None:
        self._out(self._zlib.flush())

    def _out(self, data: bytes) -> None:
        if data:
            self._emit(data)
            self.length += len(data)
            self.sha256.update(data)


class _Sink:
    """Where the builder writes a record: the gzip member being written, if any."""

    def __init__(self) -> None:
        self.member: _GzipMember | None = None

    def write(self, data: bytes) -> None:
        assert self.member is not None, "a record is written only by Records.write"
        self.member.write(data)

    def flush(self) -> None:
        pass


def _fields(
    rec_type: str, uri: str | None, date: datetime, extra: Mapping[str, str | None]
) -> dict[str, str]:
    """A record's WARC fields in the order they are written, a new record id among them;
    those of `extra` that are None are left out."""
    fields = {
        "WARC-Type": rec_type,
        "WARC-Record-ID": StatusAndHeadersParser.make_warc_id(),
        "WARC-Date": iso(date),
    }
    if uri is not None:
        fields["WARC-Target-URI"] = uri
    fields.update((k, v) for k, v in extra.items() if v is not None)
    for value in fields.values():
        _check_value(value)
    return fields


def _protocol(exchange: Exchange, http_version: str | None = None) -> list[tuple[str, str]]:
    """The protocols an exchange went over, as the IIPC's proposed WARC-Protocol (repeated:
    HTTP, then TLS) and WARC-Cipher-Suite fields write them."""
    fields = [("WARC-Protocol", (http_version or exchange.http_version).lower())]
    if exchange.tls is not None:
        fields.append(("WARC-Protocol", exchange.tls.protocol))
        if exchange.tls.cipher_suite:
            fields.append(("WARC-Cipher-Suite", exchange.tls.cipher_suite))
    return fields


def _check_value(value: str) -> None:
    if "\r" in value or "\n" in value:
        raise ValueError("a WARC field value holds a line break")
