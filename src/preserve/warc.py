"""WARC 1.1 files: write each fetched exchange as a response (or revisit) and a request record,
say exactly where each record landed, read a record back from that place, and check a file
more strictly than `warcio check` does.

Invariants of every file written here: WARC/1.1; one gzip member per record; a warcinfo record
first and its id in `WARC-Warcinfo-ID` on every other record; sha256 in lowercase hex for every
digest; a file is written as `NAME.open` and renamed to `NAME` only once complete; a declared
length is always checked against the bytes that follow it.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import socket
import threading
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path
from typing import Any, BinaryIO

from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from preserve import USER_AGENT
from preserve.config import WARC_ROTATE_BYTES
from preserve.errors import IntegrityError
from preserve.fetch import Body, Exchange

WARC_VERSION = "WARC/1.1"
CONFORMS_TO = "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
OPEN_SUFFIX = ".open"
# warcio hard-codes level 9. Measured on this 2-core machine, whole write path (digests,
# gzip, file), 478 real HTML pages (67 MB): level 9 wrote 30 MB/s into 7.74 MB, level 6
# 46 MB/s into 7.82 MB (+1%), level 1 103 MB/s into 9.77 MB (+26%). So level 6: 1.5x
# faster at the same size. (On synthetic random-word HTML, 9 and 6 were equal.)
GZIP_LEVEL = 6
_READ_SIZE = 1 << 20
_FIRST_STEP = 4 << 10  # compressed bytes of a member's first inflate step when checking
_INFLATE_LIMIT = 4 << 20  # decompressed bytes per step, so one huge record never sits in memory
_MAX_HEAD = 1 << 20  # WARC or HTTP header blocks larger than this are not headers
_BATCH_BYTES = 1 << 20  # strict_check passes inflated data between threads in batches this big
_BIG_RECORD = 64 << 10  # records bigger than this on average are inflated on a helper thread

_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?Z\Z")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}\Z")
# RFC 3986 allows no spaces, controls, non-ASCII, or any of "<>\"\\^`{|}" in a URI.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[!#$%&'()*+,\-./0-9:;=?@A-Z\[\]_a-z~]+\Z")
_RECORD_ID = re.compile(r"<[A-Za-z][A-Za-z0-9+.-]*:[^\s<>]+>\Z")
_REQUIRED = ("warc-record-id", "warc-date", "warc-type", "content-length")
_NEEDS_TARGET = ("response", "request", "revisit", "resource")
_HTTP_FRAMING = re.compile(rb"\r\n(transfer-encoding|content-length)[ \t]*:([^\r\n]*)", re.I)


@dataclass(frozen=True)
class RecordLocation:
    """Where one record landed: its gzip member is `[offset, offset + length)` of `warc`."""

    warc: str  # final file name, relative to the WARC folder
    offset: int
    length: int
    record_id: str
    payload_digest: str | None  # "sha256:<hex>" for response and revisit records
    record_sha256: str  # hex sha256 of the compressed member (WACZ's recordDigest)


@dataclass(frozen=True)
class ClosedWarc:
    """A finished file: its name in the WARC folder, size and sha256 hex of all its bytes."""

    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class OriginalRef:
    """The earlier response record a revisit points at."""

    record_id: str
    target_uri: str
    date: datetime
    payload_digest: str


@dataclass(frozen=True)
class StoredRecord:
    """One record read back. Header values are as stored: WARC fields decoded as UTF-8,
    HTTP fields as latin-1 (so `.encode("latin-1")` gives the archived bytes)."""

    rec_type: str
    record_id: str
    target_uri: str | None
    date: str
    headers: tuple[tuple[str, str], ...]
    http_status: int | None
    http_headers: tuple[tuple[str, str], ...]
    payload: bytes  # the entity-body, Content-Encoding kept (the whole block if not HTTP)
    payload_digest: str | None

    def header(self, name: str) -> str | None:
        return _first(self.headers, name)

    def http_header(self, name: str) -> str | None:
        return _first(self.http_headers, name)


@dataclass(frozen=True)
class WarcProblem:
    """One thing wrong in a WARC file, at the offset of the gzip member that holds it."""

    kind: str
    offset: int
    detail: str
    record_id: str | None = None


def warc_date(moment: datetime) -> str:
    """A WARC-Date: UTC, always with microseconds (warcio drops them when they are 0)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- writing ----------------------------------------------------------------------------


class _HexDigester(Digester):
    """sha256 as lowercase hex: warcio writes base32, whose `=` padding the WARC grammar
    forbids, and pywb matches revisits by the digest string, so one spelling everywhere."""

    def __str__(self) -> str:
        return f"{self.type_}:{self.digester.hexdigest()}"


class _HttpHead(StatusAndHeaders):  # type: ignore[misc]
    """HTTP headers whose bytes we serialise ourselves: warcio's serialiser normalises
    whitespace and percent-encodes non-ASCII values, which would alter the evidence."""

    def __init__(self, head: bytes, headers: list[tuple[str, str]]) -> None:
        super().__init__("", headers)
        self.headers_buff = head

    def compute_headers_buffer(self, header_filter: object = None) -> None:
        pass


class _Member:
    """One gzip member: compresses what warcio writes and counts and hashes the output."""

    def __init__(self, emit: Callable[[bytes], None], offset: int, level: int) -> None:
        self._emit = emit
        self._zlib = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        self.offset = offset
        self.length = 0
        self.sha256 = hashlib.sha256()

    def write(self, data: bytes) -> None:
        self._out(self._zlib.compress(data))

    def flush(self) -> None:  # warcio calls this once, at the end of each record
        self._out(self._zlib.flush())

    def _out(self, data: bytes) -> None:
        if data:
            self._emit(data)
            self.length += len(data)
            self.sha256.update(data)


class _RecordWriter(WARCWriter):  # type: ignore[misc]
    """warcio's writer with sha256-hex digests, our gzip members, and no payload digest where
    the spec has none (requests carry no entity here: every fetch is a GET)."""

    NO_PAYLOAD_DIGEST_TYPES = ("warcinfo", "revisit", "metadata", "request")

    def __init__(self, level: int) -> None:
        super().__init__(None, gzip=False, warc_version=WARC_VERSION)
        self.level = level
        self.emit: Callable[[bytes], None] = lambda data: None
        self.position = 0
        self.written: list[tuple[ArcWarcRecord, _Member]] = []

    @staticmethod
    def _create_digester() -> _HexDigester:
        return _HexDigester("sha256")

    def _write_warc_record(self, out: object, record: ArcWarcRecord) -> None:
        member = _Member(self.emit, self.position, self.level)
        super()._write_warc_record(member, record)
        self.position += member.length
        self.written.append((record, member))


class _BodyStream:
    """A file-like view of `Body.chunks()` that refuses to yield other than `length` bytes,
    so a Content-Length written before the body can never be wrong."""

    def __init__(self, body: Body) -> None:
        self._chunks = body.chunks()
        self._expected = body.length
        self._seen = 0
        self._pending = b""

    def read(self, size: int = -1) -> bytes:
        if not self._pending:
            self._pending = next(self._chunks, b"")
            self._seen += len(self._pending)
            if self._seen > self._expected or (not self._pending and self._seen != self._expected):
                raise IntegrityError(f"body gave {self._seen} bytes, expected {self._expected}")
        size = len(self._pending) if size is None or size < 0 else size
        data, self._pending = self._pending[:size], self._pending[size:]
        return data


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


def _head(first_line: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [_value_bytes(first_line)]
    lines += [_value_bytes(name) + b": " + _value_bytes(value) for name, value in headers]
    return b"\r\n".join(lines) + b"\r\n\r\n"


def _response_headers(exchange: Exchange) -> list[tuple[str, str]]:
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


def _digests(head: bytes, body: Body) -> tuple[str, str]:
    """(block, payload) digests, computed in one pass over the body before it is written,
    because the WARC header that carries them precedes the block."""
    block, payload, seen = hashlib.sha256(head), hashlib.sha256(), 0
    for chunk in body.chunks():
        block.update(chunk)
        payload.update(chunk)
        seen += len(chunk)
    if seen != body.length or payload.hexdigest() != body.sha256:
        raise IntegrityError("body changed after it was received")
    return f"sha256:{block.hexdigest()}", f"sha256:{payload.hexdigest()}"


def _new_id() -> str:
    return str(_RecordWriter._make_warc_id())


def _hostname() -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname()) or "localhost"


class WarcWriter:
    """Writes records into rotating `.warc.gz` files in one folder; safe to share between
    threads (one lock). A file is opened on the first write and closed (fsynced, renamed
    from `.open`, reported to `on_closed`) once it passes `rotate_bytes` or on `close()`.

    Each write flushes, so its locations can be read at once (`read_record` finds the
    `.open` file); `sync()` makes them durable. A record pair is never split between
    files. `on_closed` runs outside the lock, in the thread whose write closed the file;
    it should not raise, since that write's locations would then be lost to its caller.
    """

    def __init__(
        self,
        directory: Path,
        *,
        info: Mapping[str, str],
        rotate_bytes: int = WARC_ROTATE_BYTES,
        prefix: str = "preserve",
        clock: Callable[[], datetime],
        on_closed: Callable[[ClosedWarc], None] | None = None,
        gzip_level: int = GZIP_LEVEL,
    ) -> None:
        self.directory = Path(directory)
        self._info = dict(info)
        if any("\r" in f"{k}{v}" or "\n" in f"{k}{v}" or ":" in k for k, v in info.items()):
            raise ValueError("warcinfo fields must be single lines, with no ':' in names")
        self._rotate_bytes = rotate_bytes
        self._prefix = prefix
        self._clock = clock
        self._on_closed = on_closed
        self._host = _hostname()
        self._records = _RecordWriter(gzip_level)
        self._lock = threading.Lock()
        self._serial = 0
        self._file: BinaryIO | None = None
        self._name = ""
        self._warcinfo_id = ""
        self._file_sha256 = hashlib.sha256()
        self._closed: list[ClosedWarc] = []  # reported once the lock is released

    @property
    def current_path(self) -> Path | None:
        """The `.open` file being written, if any."""
        return self.directory / (self._name + OPEN_SUFFIX) if self._file else None

    def write_exchange(self, exchange: Exchange) -> tuple[RecordLocation, RecordLocation]:
        """Write a response and its request record; returns (response, request)."""
        response = self._response(exchange)
        request = self._request(exchange)
        response_at, request_at = self._write([response, request], pair=True)
        return response_at, request_at

    def write_revisit(
        self, exchange: Exchange, original: OriginalRef
    ) -> tuple[RecordLocation, RecordLocation]:
        """Write a revisit (HTTP headers only, payload identical to `original`'s) and its
        request record; returns (revisit, request)."""
        if original.payload_digest != f"sha256:{exchange.body.sha256}":
            raise ValueError("a revisit's payload must be identical to its original's")
        headers = _response_headers(exchange)
        head = _head(f"{exchange.http_version} {exchange.status} {exchange.reason}", headers)
        revisit = self._records.create_revisit_record(
            exchange.url,
            original.payload_digest,
            original.target_uri,
            warc_date(original.date),
            http_headers=_HttpHead(head, headers),
            warc_headers_dict=self._warc_fields(
                "revisit",
                exchange.url,
                exchange.started_at,
                {
                    "WARC-IP-Address": exchange.peer_ip,
                    "WARC-Refers-To": original.record_id,
                    # The profile requires it when the block keeps the HTTP headers.
                    "WARC-Truncated": "length",
                },
            ),
        )
        request = self._request(exchange)
        revisit_at, request_at = self._write([revisit, request], pair=True)
        return revisit_at, request_at

    def write_metadata(
        self, refers_to: str, data: Mapping[str, Any], *, concurrent_to: str | None = None
    ) -> RecordLocation:
        """Write a JSON metadata record about record `refers_to`. It has no Target-URI, so
        replay tools never serve it in place of the page it describes."""
        block = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str).encode()
        record = self._records.create_warc_record(
            "",
            "metadata",
            payload=BytesIO(block),
            length=len(block),
            warc_content_type="application/json",
            warc_headers_dict=self._warc_fields(
                "metadata",
                None,
                self._clock(),
                {"WARC-Refers-To": refers_to, "WARC-Concurrent-To": concurrent_to},
            ),
        )
        (location,) = self._write([record])
        return location

    def sync(self) -> None:
        """Make every record written so far durable; call before committing rows that
        point at them."""
        with self._lock:
            if self._file is not None:
                self._file.flush()
                os.fsync(self._file.fileno())

    def close(self) -> None:
        """Finish the current file, if any. The writer may be used again: a new file opens."""
        with self._lock:
            if self._file is not None:
                self._finish_file()
        self._report_closed()

    def __enter__(self) -> WarcWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Records are built (and their bodies digested) outside the lock; only the writing
    # and the WARC-Warcinfo-ID of the file they land in need it.

    def _warc_fields(
        self, rec_type: str, uri: str | None, date: datetime, extra: Mapping[str, str | None]
    ) -> dict[str, str]:
        fields = {"WARC-Type": rec_type, "WARC-Record-ID": _new_id(), "WARC-Date": warc_date(date)}
        if uri is not None:
            fields["WARC-Target-URI"] = uri
        fields.update({k: v for k, v in extra.items() if v is not None})
        return fields

    def _response(self, exchange: Exchange) -> ArcWarcRecord:
        headers = _response_headers(exchange)
        head = _head(f"{exchange.http_version} {exchange.status} {exchange.reason}", headers)
        block_digest, payload_digest = _digests(head, exchange.body)
        fields = self._warc_fields(
            "response",
            exchange.url,
            exchange.started_at,
            {
                "WARC-IP-Address": exchange.peer_ip,
                "WARC-Truncated": exchange.truncated,
                "WARC-Payload-Digest": payload_digest,
                "WARC-Block-Digest": block_digest,
            },
        )
        return self._records.create_warc_record(
            exchange.url,
            "response",
            payload=_BodyStream(exchange.body),
            length=exchange.body.length,
            http_headers=_HttpHead(head, headers),
            warc_headers_dict=fields,
        )

    def _request(self, exchange: Exchange) -> ArcWarcRecord:
        headers = list(exchange.request_headers)
        # http.client always speaks HTTP/1.1, whatever version the server answers in.
        head = _head(f"{exchange.method} {exchange.request_target} HTTP/1.1", headers)
        return self._records.create_warc_record(
            exchange.url,
            "request",
            http_headers=_HttpHead(head, headers),
            warc_headers_dict=self._warc_fields("request", exchange.url, exchange.started_at, {}),
        )

    def _write(self, records: list[ArcWarcRecord], *, pair: bool = False) -> list[RecordLocation]:
        with self._lock:
            if self._file is None:
                self._open_file()
            for record in records:
                record.rec_headers.add_header("WARC-Warcinfo-ID", self._warcinfo_id)
            locations = self._write_group(records, pair)
            if self._records.position >= self._rotate_bytes:
                self._finish_file()
        self._report_closed()
        return locations

    def _write_group(self, records: list[ArcWarcRecord], pair: bool) -> list[RecordLocation]:
        """Write records back to back; on any failure cut the file back to where it was, so
        a half-written member never stays in it."""
        assert self._file is not None
        start, file_hash = self._records.position, self._file_sha256.copy()
        self._records.written.clear()
        try:
            if pair:  # response first; the request gets WARC-Concurrent-To
                self._records.write_request_response_pair(records[1], records[0])
            else:
                for record in records:
                    self._records.write_record(record)
        except BaseException:
            self._file.seek(start)
            self._file.truncate()
            self._records.position, self._file_sha256 = start, file_hash
            raise
        self._file.flush()  # so that every location handed out can be read at once
        return [self._location(record, member) for record, member in self._records.written]

    def _location(self, record: ArcWarcRecord, member: _Member) -> RecordLocation:
        digest = None
        if record.rec_type in ("response", "revisit"):
            digest = record.rec_headers.get_header("WARC-Payload-Digest")
        return RecordLocation(
            warc=self._name,
            offset=member.offset,
            length=member.length,
            record_id=record.rec_headers.get_header("WARC-Record-ID"),
            payload_digest=digest,
            record_sha256=member.sha256.hexdigest(),
        )

    def _emit(self, data: bytes) -> None:
        assert self._file is not None
        self._file.write(data)
        self._file_sha256.update(data)

    def _open_file(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        now = self._clock()
        stamp = now.astimezone(UTC).strftime("%Y%m%d%H%M%S%f")
        while True:  # another writer (or a frozen test clock) may have taken the name
            name = f"{self._prefix}-{stamp}-{self._serial:05d}-{self._host}.warc.gz"
            self._serial += 1
            if (self.directory / name).exists():
                continue
            try:
                fd = os.open(
                    self.directory / (name + OPEN_SUFFIX),
                    os.O_WRONLY | os.O_CREAT | os.O_EXCL,
                    0o644,
                )
            except FileExistsError:
                continue
            break
        self._file = os.fdopen(fd, "wb", buffering=_READ_SIZE)
        self._name, self._file_sha256 = name, hashlib.sha256()
        self._records.emit, self._records.position = self._emit, 0
        fields = {
            "software": USER_AGENT,
            "format": "WARC File Format 1.1",
            "conformsTo": CONFORMS_TO,
            "hostname": socket.gethostname(),
            "http-header-user-agent": USER_AGENT,
        } | self._info
        block = "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode()
        warcinfo = self._records.create_warc_record(
            "",
            "warcinfo",
            payload=BytesIO(block),
            length=len(block),
            warc_headers_dict=self._warc_fields("warcinfo", None, now, {"WARC-Filename": name}),
        )
        self._warcinfo_id = warcinfo.rec_headers.get_header("WARC-Record-ID")
        self._write_group([warcinfo], pair=False)

    def _finish_file(self) -> None:
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        os.rename(self.directory / (self._name + OPEN_SUFFIX), self.directory / self._name)
        _fsync_dir(self.directory)
        self._closed.append(
            ClosedWarc(self._name, self._records.position, self._file_sha256.hexdigest())
        )

    def _report_closed(self) -> None:
        # Outside the lock: the callback may take its time (it writes to the database).
        while True:
            try:
                closed = self._closed.pop(0)  # atomic: each file is reported once
            except IndexError:
                return
            if self._on_closed is not None:
                self._on_closed(closed)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- reading ----------------------------------------------------------------------------


def open_warc(path: Path) -> BinaryIO:
    """Open a WARC file for reading, or its `.open` twin while it is still being written."""
    still_open = path.with_name(path.name + OPEN_SUFFIX)
    for candidate in (path, still_open, path):  # it may be renamed between the two tries
        try:
            return open(candidate, "rb")
        except FileNotFoundError:
            continue
    raise FileNotFoundError(f"no such WARC file: {path}")


def read_record(path: Path, offset: int, length: int, *, verify: bool = True) -> StoredRecord:
    """The record whose gzip member is `[offset, offset + length)` of `path` (or of
    `path.open`). Raises IntegrityError unless the slice is exactly one whole member holding
    one well-formed record, and (with `verify`) unless its digests match."""
    with open_warc(Path(path)) as file:
        file.seek(offset)
        data = file.read(length)
    where = f"{Path(path).name} @ {offset}"
    if len(data) != length:
        raise IntegrityError(f"{where}: file ends before the record does")
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        raw = inflater.decompress(data)
    except zlib.error as exc:
        raise IntegrityError(f"{where}: not a gzip member ({exc})") from exc
    if not inflater.eof or inflater.unused_data:
        raise IntegrityError(f"{where}: slice is not exactly one gzip member")
    return _parse_record(raw, where, verify)


def _parse_record(raw: bytes, where: str, verify: bool) -> StoredRecord:
    end = raw.find(b"\r\n\r\n")
    if end < 0:
        raise IntegrityError(f"{where}: no WARC header")
    version, fields = _parse_fields(raw[:end], "utf-8")
    headers = tuple(fields)
    rec_type, record_id = _first(headers, "WARC-Type"), _first(headers, "WARC-Record-ID")
    length = _first(headers, "Content-Length") or ""
    if not version.startswith("WARC/") or not rec_type or not record_id or not length.isdigit():
        raise IntegrityError(f"{where}: not a WARC record")
    block = raw[end + 4 : end + 4 + int(length)]
    if len(block) != int(length) or raw[end + 4 + int(length) :] != b"\r\n\r\n":
        raise IntegrityError(f"{where}: Content-Length does not match the record")
    status, http_headers, payload = None, (), block
    content_type = _first(headers, "Content-Type") or ""
    if content_type.startswith("application/http") and block:
        head_end = block.find(b"\r\n\r\n")
        if head_end < 0:
            raise IntegrityError(f"{where}: no HTTP header in the block")
        first_line, http_fields = _parse_fields(block[:head_end], "latin-1")
        http_headers, payload = tuple(http_fields), block[head_end + 4 :]
        parts = first_line.split(" ", 2)
        if rec_type in ("response", "revisit") and len(parts) > 1 and parts[1].isdigit():
            status = int(parts[1])
    payload_digest = _first(headers, "WARC-Payload-Digest")
    if verify:
        _verify_digest(where, "block", _first(headers, "WARC-Block-Digest"), block)
        if rec_type != "revisit":
            _verify_digest(where, "payload", payload_digest, payload)
    return StoredRecord(
        rec_type=rec_type,
        record_id=record_id,
        target_uri=_first(headers, "WARC-Target-URI"),
        date=_first(headers, "WARC-Date") or "",
        headers=headers,
        http_status=status,
        http_headers=http_headers,
        payload=payload,
        payload_digest=payload_digest,
    )


def _verify_digest(where: str, what: str, declared: str | None, data: bytes) -> None:
    if declared is None:
        return
    label, _, value = declared.partition(":")
    if label != "sha256" or value != hashlib.sha256(data).hexdigest():
        raise IntegrityError(f"{where}: {what} digest does not match")


def _parse_fields(head: bytes, encoding: str) -> tuple[str, list[tuple[str, str]]]:
    lines = head.decode(encoding, errors="replace").split("\r\n")
    fields = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields.append((name.strip(), value.strip(" \t")))
    return lines[0], fields


def _first(headers: tuple[tuple[str, str], ...], name: str) -> str | None:
    lname = name.lower()
    return next((v for k, v in headers if k.lower() == lname), None)


# --- checking ---------------------------------------------------------------------------


def strict_check(path: Path) -> list[WarcProblem]:
    """Every problem found in a `.warc.gz` file, in file order; an empty list means it is
    sound. Damage is reported, never raised (an unreadable path still raises OSError).

    Beyond `warcio check`: each gzip member whole and holding exactly one record, whose
    Content-Length is exact; a cut-off tail or trailing garbage reported; sha256 block and
    payload digests verified; preserve's header rules (WARC/1.1, warcinfo first, required
    headers, ASCII target URIs, none on metadata, no Transfer-Encoding on a stored de-chunked
    body, complete revisits, references that resolve within the file).
    """
    check = _FileCheck()
    record = _RecordCheck(check, 0)
    with open(path, "rb") as file:
        for events in _batches(file):
            for kind, value in events:
                if kind == "data":
                    record.feed(value)
                elif kind == "start":
                    record = _RecordCheck(check, value)
                elif kind == "end":
                    record.finish()
                else:
                    check.add(kind, record.offset, value, record.id)
    check.finish()
    return sorted(check.problems, key=lambda problem: problem.offset)


_Events = list[tuple[str, Any]]


def _inflate(file: BinaryIO) -> Iterator[_Events]:
    """The file's gzip members inflated one by one (a fresh decompressor each, so member
    boundaries are exact), as batches of events: ("start", offset), ("data", bytes),
    ("end", None), or a problem ("truncated" / "bad-gzip" / "no-warcinfo", detail)."""
    buffer, position, offset = file.read(_READ_SIZE), 0, 0
    batch: _Events = [] if buffer else [("no-warcinfo", "empty file")]
    batched = 0
    while buffer:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        batch.append(("start", offset))
        start = offset
        # Start with small steps, because zlib copies whatever follows a member's end into
        # unused_data and most records are small; grow them for the big ones.
        step_size = _FIRST_STEP
        try:
            while True:
                if position == len(buffer):
                    buffer, position = file.read(_READ_SIZE), 0
                step = memoryview(buffer)[position : position + step_size]
                out = inflater.decompress(step, _INFLATE_LIMIT)
                batch.append(("data", out))
                batched += len(out) + 256
                used = len(step) - len(inflater.unconsumed_tail) - len(inflater.unused_data)
                position, offset = position + used, offset + used
                if inflater.eof:
                    break
                if not step and len(out) < _INFLATE_LIMIT:
                    detail = f"incomplete gzip member at offset {start}: the file ends in it"
                    batch.append(("truncated", detail))
                    break
                step_size = min(step_size * 4, _READ_SIZE)
                if batched > _BATCH_BYTES:
                    yield batch
                    batch, batched = [], 0
        except zlib.error as exc:
            batch.append(("bad-gzip", f"not a gzip member: {exc}"))
        if not inflater.eof:
            break  # no way to know where a next member would start
        batch.append(("end", None))
        if position == len(buffer):
            buffer, position = file.read(_READ_SIZE), 0
        if batched > _BATCH_BYTES:
            yield batch
            batch, batched = [], 0
    yield batch


def _batches(file: BinaryIO) -> Iterator[_Events]:
    """`_inflate(file)`, on a helper thread if the records are big. Measured: with big
    records the two threads overlap inflating with hashing (zlib and hashlib release the
    GIL) and check 1.5x faster; with small ones they fight over the GIL and run slower."""
    batches = _inflate(file)
    first = next(batches)
    members = sum(1 for kind, _ in first if kind == "start")
    yield first
    if sum(len(value) for kind, value in first if kind == "data") > _BIG_RECORD * members:
        yield from _in_background(batches)
    else:
        yield from batches


def _in_background(batches: Iterator[_Events]) -> Iterator[_Events]:
    """Run a generator on a helper thread, a few items ahead."""
    ready: queue.Queue[_Events | BaseException | None] = queue.Queue(maxsize=8)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                if stop.is_set():
                    return
                ready.put(batch)
            ready.put(None)
        except BaseException as exc:  # handed over, to be raised in the caller's thread
            ready.put(exc)

    thread = threading.Thread(target=produce, name="strict-check-inflate", daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting for room
            try:
                ready.get(timeout=0.05)
            except queue.Empty:
                pass


class _FileCheck:
    """What a file's records must agree on between them."""

    def __init__(self) -> None:
        self.problems: list[WarcProblem] = []
        self.records = 0
        self.ids: set[str] = set()
        self.warcinfos: set[str] = set()
        self.responses: dict[str, tuple[str | None, str]] = {}  # id → (uri, date)
        self.references: list[tuple[int, str, str, str, tuple[str | None, str] | None]] = []

    def add(self, kind: str, offset: int, detail: str, record_id: str | None = None) -> None:
        self.problems.append(WarcProblem(kind, offset, detail, record_id))

    def finish(self) -> None:
        for offset, record_id, field, target, uri_date in self.references:
            if uri_date is None:
                found = target in self.warcinfos
            else:
                found = self.responses.get(target) == uri_date
            if not found:
                detail = f"{field} {target} names no matching record in this file"
                self.add("bad-reference", offset, detail, record_id)


class _RecordCheck:
    """One gzip member, fed its decompressed bytes in pieces: WARC header, block, and the
    CRLF CRLF that must end it; then the checks that need the whole record."""

    __slots__ = ("file", "offset", "id", "state", "buffer", "fields", "remaining", "block",
                 "payload", "payload_length", "http", "http_head", "tail")  # fmt: skip

    def __init__(self, file: _FileCheck, offset: int) -> None:
        self.file = file
        self.offset = offset
        self.id: str | None = None
        self.state = "warc-head"  # → block → tail; "failed" once nothing more can be said
        self.buffer = bytearray()  # a WARC or HTTP header that arrived in pieces (rare)
        self.fields: dict[str, str] = {}
        self.remaining = 0
        self.block = hashlib.sha256()
        self.payload: Any = None  # a sha256, when there is a payload digest to check
        self.payload_length = 0
        self.http = "none"  # where the HTTP header must be found: pending → parsed, overflow
        self.http_head = b""
        self.tail = b""

    def add(self, kind: str, detail: str) -> None:
        self.file.add(kind, self.offset, detail, self.id)

    def fail(self, kind: str, detail: str) -> None:
        self.add(kind, detail)
        self.state = "failed"

    def feed(self, data: bytes) -> None:
        start = 0
        if self.state == "warc-head":
            if self.buffer:
                self.buffer += data
                data = bytes(self.buffer)
                self.buffer.clear()
            end = data.find(b"\r\n\r\n")
            if end < 0:
                self.buffer += data
                if len(self.buffer) > _MAX_HEAD:
                    self.fail("bad-header", "no end to the WARC header")
                return
            if not self.parse_warc_head(data[:end]):
                return
            self.state, start = "block", end + 4
        if self.state == "block":
            stop = min(len(data), start + self.remaining)
            self.remaining -= stop - start
            self.feed_block(data, start, stop)
            if self.remaining:
                return
            self.state, start = "tail", stop
        if self.state == "tail":
            self.tail += data[start:]
            if len(self.tail) > 4:
                self.fail(
                    "length-mismatch",
                    "more than CRLF CRLF after the block: "
                    "Content-Length too small, or two records in one gzip member",
                )

    def feed_block(self, data: bytes, start: int, stop: int) -> None:
        block = payload = memoryview(data)[start:stop]
        if self.http == "pending":
            if self.buffer:
                self.buffer += block
                data, start, stop = bytes(self.buffer), 0, len(self.buffer)
                self.buffer.clear()
            end = data.find(b"\r\n\r\n", start, stop)
            if end < 0:
                self.buffer += data[start:stop]
                if len(self.buffer) > _MAX_HEAD:
                    self.http, self.buffer = "overflow", bytearray()
                payload = block[:0]
            else:
                self.http, self.http_head = "parsed", data[start:end]
                payload = memoryview(data)[end + 4 : stop]
        elif self.http == "overflow":
            payload = block[:0]
        self.payload_length += len(payload)
        self.block.update(block)
        if self.payload is not None:
            self.payload.update(payload)

    def parse_warc_head(self, head: bytes) -> bool:
        try:
            version, _, text = head.decode().partition("\r\n")
        except UnicodeDecodeError:
            self.fail("bad-header", "WARC header is not UTF-8")
            return False
        if version != WARC_VERSION:
            self.add("bad-version", f"record starts with {version[:40]!r}, not {WARC_VERSION}")
        lines = text.split("\r\n")
        try:  # the common case, at C speed; anything odd takes the careful path below
            fields = {name.lower(): value.strip() for name, value in
                      [line.split(":", 1) for line in lines]}  # fmt: skip
        except ValueError:
            fields = {}
        if len(fields) != len(lines) or "\r\n " in text or "\r\n\t" in text:
            fields = self.careful_fields(lines)
        self.fields = fields
        self.id = fields.get("warc-record-id")
        missing = [name for name in _REQUIRED if name not in fields]
        if missing:
            self.fail("missing-header", f"missing {', '.join(missing)}")
            return False
        if not fields["content-length"].isdigit():
            self.fail("bad-header", f"Content-Length {fields['content-length']!r}")
            return False
        self.remaining = int(fields["content-length"])
        rec_type = fields["warc-type"]
        if "warc-payload-digest" in fields and rec_type != "revisit":
            self.payload = hashlib.sha256()
        if fields.get("content-type", "").startswith("application/http") and (
            self.payload is not None or rec_type == "response"
        ):
            self.http = "pending"
        return True

    def careful_fields(self, lines: list[str]) -> dict[str, str]:
        fields: dict[str, str] = {}
        for line in lines:
            name, colon, value = line.partition(":")
            if not colon or line[:1] in (" ", "\t"):
                self.add("bad-header", f"not a header line (or a folded one): {line[:60]!r}")
            elif name.lower() in fields and name.lower() != "warc-concurrent-to":
                self.add("duplicate-header", f"{name} repeated")
            else:
                fields.setdefault(name.lower(), value.strip())
        return fields

    def finish(self) -> None:
        if self.state == "warc-head":
            self.add("bad-header", "gzip member holds no complete WARC header")
        elif self.state == "block":
            self.add(
                "length-mismatch",
                f"Content-Length {self.fields['content-length']} runs "
                f"{self.remaining} bytes past the end of its gzip member",
            )
        elif self.state == "tail" and self.tail != b"\r\n\r\n":
            self.add("length-mismatch", "block not followed by CRLF CRLF")
        elif self.state == "tail":
            self.check_record()

    def check_record(self) -> None:
        fields, file = self.fields, self.file
        rec_type, record_id = fields["warc-type"], fields["warc-record-id"]
        date = fields["warc-date"]
        uri = fields.get("warc-target-uri")
        if file.records == 0 and rec_type != "warcinfo":
            self.add("no-warcinfo", f"first record is {rec_type}, not warcinfo")
        file.records += 1
        if not _RECORD_ID.match(record_id):
            self.add("bad-header", f"WARC-Record-ID {record_id!r}")
        if record_id in file.ids:
            self.add("duplicate-id", f"{record_id} used twice")
        file.ids.add(record_id)
        if not _DATE.match(date):
            self.add("bad-header", f"WARC-Date {date!r}")
        # A digest equal to the computed one is well-formed by construction: the format
        # is looked at only when they differ.
        block_digest = fields.get("warc-block-digest")
        if block_digest is None:
            self.add("missing-header", "no WARC-Block-Digest")
        elif block_digest != "sha256:" + self.block.hexdigest():
            self.digest_problem("Block", block_digest, "block digest does not match the block")
        payload_digest = fields.get("warc-payload-digest")
        if payload_digest is None:
            pass
        elif self.payload is None:  # revisits (the original's) and types with no payload
            if not _DIGEST.match(payload_digest):
                self.digest_problem("Payload", payload_digest, "")
        elif payload_digest != "sha256:" + self.payload.hexdigest() and self.http != "overflow":
            message = "payload digest does not match the entity-body"
            self.digest_problem("Payload", payload_digest, message)
        if self.http == "overflow" or (self.http == "pending" and fields["content-length"] != "0"):
            self.add("bad-http", "the block holds no complete HTTP header")
        if rec_type == "warcinfo":
            file.warcinfos.add(record_id)
            if "warc-filename" not in fields:
                self.add("missing-header", "warcinfo without WARC-Filename")
        elif "warc-warcinfo-id" not in fields:
            self.add("missing-header", "no WARC-Warcinfo-ID")
        else:
            file.references.append((self.offset, record_id, "WARC-Warcinfo-ID",
                                    fields["warc-warcinfo-id"], None))  # fmt: skip
        if rec_type in ("warcinfo", "metadata"):
            if uri is not None:
                self.add("unexpected-header", f"a {rec_type} record has a WARC-Target-URI")
            if payload_digest is not None:
                self.add("unexpected-header", f"a {rec_type} record has a payload digest")
        elif rec_type in _NEEDS_TARGET:
            if uri is None:
                self.add("missing-header", f"a {rec_type} record without WARC-Target-URI")
            elif not _URI.match(uri) or (
                rec_type != "resource" and not uri.startswith(("http://", "https://"))
            ):
                self.add("bad-uri", f"WARC-Target-URI {uri[:200]!r} is not an ASCII http(s) URI")
        if rec_type == "response":
            self.check_response()
        elif rec_type == "revisit":
            self.check_revisit()
        elif rec_type == "request" and "warc-concurrent-to" in fields:
            file.references.append((self.offset, record_id, "WARC-Concurrent-To",
                                    fields["warc-concurrent-to"], (uri, date)))  # fmt: skip
        if rec_type in ("response", "revisit"):
            file.responses[record_id] = (uri, date)

    def digest_problem(self, which: str, digest: str, mismatch: str) -> None:
        if not _DIGEST.match(digest):
            self.add("bad-digest", f"WARC-{which}-Digest {digest[:80]!r} is not sha256:<hex>")
        elif mismatch:
            self.add(f"{which.lower()}-digest", mismatch)

    def check_response(self) -> None:
        fields = self.fields
        for name in ("warc-payload-digest", "warc-ip-address"):
            if name not in fields:
                self.add("missing-header", f"response without {name}")
        status = self.http_head[9:12]
        for match in _HTTP_FRAMING.finditer(self.http_head):
            name, value = match.group(1).lower(), match.group(2).decode("latin-1").strip()
            if name == b"transfer-encoding":
                self.add("transfer-encoding", f"Transfer-Encoding: {value} on a stored body")
            elif (
                "warc-truncated" not in fields
                and status not in (b"204", b"304")
                and value != str(self.payload_length)
            ):
                self.add(
                    "http-content-length",
                    f"HTTP Content-Length {value} but the "
                    f"stored entity-body has {self.payload_length} bytes",
                )

    def check_revisit(self) -> None:
        fields = self.fields
        for name in ("WARC-Profile", "WARC-Refers-To", "WARC-Refers-To-Target-URI",
                     "WARC-Refers-To-Date", "WARC-Payload-Digest"):  # fmt: skip
            if name.lower() not in fields:
                self.add("missing-header", f"revisit without {name}")
        profile = fields.get("warc-profile", REVISIT_PROFILE)
        if profile not in (REVISIT_PROFILE, NOT_MODIFIED_PROFILE):
            self.add("bad-revisit", f"WARC-Profile {profile!r}")
        if fields["content-length"] != "0" and fields.get("warc-truncated") != "length":
            self.add("bad-revisit", "revisit keeps HTTP headers without WARC-Truncated: length")
