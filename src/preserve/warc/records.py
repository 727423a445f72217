"""WARC 1.1 files: write each fetched exchange as a response (or revisit) and a request record,
say exactly where each record landed, and read a record back from that place. Checking whole
files strictly lives in `preserve.warccheck` (`strict_check` is re-exported here).

Invariants of every file written here: WARC/1.1; one gzip member per record; a warcinfo record
first and its id in `WARC-Warcinfo-ID` on every other record; sha256 in lowercase hex for every
digest; a file is written as `NAME.open` and renamed to `NAME` only once complete; a declared
length is always checked against the bytes that follow it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import socket
import threading
import uuid
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from preserve import USER_AGENT
from preserve.config import WARC_ROTATE_BYTES
from preserve.errors import IntegrityError
from preserve.times import iso

if TYPE_CHECKING:  # annotations only: reading and checking WARC files needs no network code
    from preserve.net.fetch import Body, Exchange

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
_HTTP_RESPONSE = "application/http; msgtype=response"


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


# --- writing ----------------------------------------------------------------------------


@dataclass
class _Record:
    """A record ready to be written: its WARC fields in order (those that depend on the file
    it lands in, and Content-Type and Content-Length, are added when it is written) and its
    block: `head`, then the `body` if any.

    Serialised here rather than by warcio's writer, which would cost more CPU than fetching
    the page on a fast network: the bytes are the same (field order included), and what is
    written is read back by warcio and checked by `warccheck` in the tests."""

    rec_type: str
    fields: list[tuple[str, str]]
    content_type: str
    head: bytes
    body: Body | None = None
    extra: list[tuple[str, str]] = field(default_factory=list)  # added at write time

    def get(self, name: str) -> str | None:
        return next((v for k, v in (*self.fields, *self.extra) if k == name), None)

    @property
    def length(self) -> int:
        return len(self.head) + (self.body.length if self.body is not None else 0)

    def header_bytes(self) -> bytes:
        fields = [*self.fields, *self.extra]
        if self.get("WARC-Block-Digest") is None:
            fields.append(("WARC-Block-Digest", _block_digest(self.head)))
        fields += [("Content-Type", self.content_type), ("Content-Length", str(self.length))]
        lines = [WARC_VERSION, *(f"{name}: {value}" for name, value in fields)]
        text = "\r\n".join(lines) + "\r\n\r\n"
        if "\n" in text.replace("\r\n", ""):
            raise ValueError("a WARC field value holds a line break")
        return text.encode("utf-8")


def _block_digest(block: bytes) -> str:
    return f"sha256:{hashlib.sha256(block).hexdigest()}"


class _Member:
    """One gzip member: compresses a record and counts and hashes the output."""

    def __init__(self, emit: Callable[[bytes], None], offset: int, level: int) -> None:
        self._emit = emit
        self._zlib = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        self.offset = offset
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


def _write_member(record: _Record, member: _Member) -> None:
    """The record as one gzip member; a body that does not give exactly its length is an
    error, so a Content-Length written before the body can never be wrong."""
    member.write(record.header_bytes() + record.head)
    if record.body is not None:
        seen = 0
        for chunk in record.body.chunks():
            seen += len(chunk)
            if seen > record.body.length:
                break
            member.write(chunk)
        if seen != record.body.length:
            raise IntegrityError(f"body gave {seen} bytes, expected {record.body.length}")
    member.write(b"\r\n\r\n")
    member.finish()


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


def _protocol(exchange: Exchange, http_version: str | None = None) -> list[tuple[str, str]]:
    """The protocols an exchange went over, as the IIPC's proposals for WARC-Protocol
    (repeated: HTTP, then TLS) and WARC-Cipher-Suite write them."""
    fields = [("WARC-Protocol", (http_version or exchange.http_version).lower())]
    if exchange.tls is not None:
        fields.append(("WARC-Protocol", exchange.tls.protocol))
        if exchange.tls.cipher_suite:
            fields.append(("WARC-Cipher-Suite", exchange.tls.cipher_suite))
    return fields


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
    return f"<urn:uuid:{uuid.uuid4()}>"


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
        self._level = gzip_level
        self._position = 0  # bytes in the current file
        self._lock = threading.Lock()
        self._serial = 0
        self._file: BinaryIO | None = None
        self._pending = bytearray()  # emitted, not yet written (see _drain)
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
        fields = self._warc_fields(
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
        revisit = _Record("revisit", fields + _protocol(exchange), _HTTP_RESPONSE, head)
        request = self._request(exchange)
        revisit_at, request_at = self._write([revisit, request], pair=True)
        return revisit_at, request_at

    def write_metadata(
        self, refers_to: str, data: Mapping[str, Any], *, concurrent_to: str | None = None
    ) -> RecordLocation:
        """Write a JSON metadata record about record `refers_to`. It has no Target-URI, so
        replay tools never serve it in place of the page it describes."""
        block = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str).encode()
        fields = self._warc_fields(
            "metadata",
            None,
            self._clock(),
            {"WARC-Refers-To": refers_to, "WARC-Concurrent-To": concurrent_to},
        )
        record = _Record("metadata", fields, "application/json", block)
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
    ) -> list[tuple[str, str]]:
        fields = [
            ("WARC-Type", rec_type),
            ("WARC-Record-ID", _new_id()),
            ("WARC-Date", iso(date)),
        ]
        if uri is not None:
            fields.append(("WARC-Target-URI", uri))
        return fields + [(k, v) for k, v in extra.items() if v is not None]

    def _response(self, exchange: Exchange) -> _Record:
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
        return _Record(
            "response", fields + _protocol(exchange), _HTTP_RESPONSE, head, exchange.body
        )

    def _request(self, exchange: Exchange) -> _Record:
        headers = list(exchange.request_headers)
        # http.client always speaks HTTP/1.1, whatever version the server answers in.
        head = _head(f"{exchange.method} {exchange.request_target} HTTP/1.1", headers)
        fields = self._warc_fields("request", exchange.url, exchange.started_at, {})
        fields += _protocol(exchange, http_version="HTTP/1.1")
        return _Record("request", fields, "application/http; msgtype=request", head)

    def _write(self, records: list[_Record], *, pair: bool = False) -> list[RecordLocation]:
        with self._lock:
            if self._file is None:
                self._open_file()
            for record in records:
                record.extra = [("WARC-Warcinfo-ID", self._warcinfo_id)]
            if pair:  # response (or revisit) first; the request names it
                records[1].extra.append(("WARC-Concurrent-To", records[0].get("WARC-Record-ID")))
            locations = self._write_group(records)
            if self._position >= self._rotate_bytes:
                self._finish_file()
        self._report_closed()
        return locations

    def _write_group(self, records: list[_Record]) -> list[RecordLocation]:
        """Write records back to back; on any failure cut the file back to where it was, so
        a half-written member never stays in it."""
        assert self._file is not None
        start, file_hash = self._position, self._file_sha256.copy()
        locations = []
        try:
            for record in records:
                member = _Member(self._emit, self._position, self._level)
                _write_member(record, member)
                self._position += member.length
                locations.append(self._location(record, member))
            self._drain()  # so that every location handed out can be read at once
        except BaseException:
            # Nothing of the group stays: not in our buffer, not on disk (the writes that
            # reached the disk are cut off), so a full disk never leaves a torn record.
            self._pending.clear()
            os.ftruncate(self._file.fileno(), start)
            self._file.seek(start)
            self._position, self._file_sha256 = start, file_hash
            raise
        return locations

    def _location(self, record: _Record, member: _Member) -> RecordLocation:
        digest = None
        if record.rec_type in ("response", "revisit"):
            digest = record.get("WARC-Payload-Digest")
        record_id = record.get("WARC-Record-ID")
        assert record_id is not None
        return RecordLocation(
            warc=self._name,
            offset=member.offset,
            length=member.length,
            record_id=record_id,
            payload_digest=digest,
            record_sha256=member.sha256.hexdigest(),
        )

    def _emit(self, data: bytes) -> None:
        self._pending += data
        self._file_sha256.update(data)
        if len(self._pending) >= _READ_SIZE:
            self._drain()

    def _drain(self) -> None:
        # Our own buffer rather than the file object's: after a failed write, what a
        # BufferedWriter still holds would be written at its next flush, behind our back.
        assert self._file is not None
        written = 0
        while written < len(self._pending):
            written += os.write(self._file.fileno(), self._pending[written:])
        self._pending.clear()

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
            if lock_open_file(fd, self.directory / (name + OPEN_SUFFIX)):
                break
            os.close(fd)  # a sealer took it for an orphan in the instant before the lock
        self._file = os.fdopen(fd, "wb", buffering=0)
        self._name, self._file_sha256 = name, hashlib.sha256()
        self._position = 0
        fields = {
            "software": USER_AGENT,
            "format": "WARC File Format 1.1",
            "conformsTo": CONFORMS_TO,
            "hostname": socket.gethostname(),
            "http-header-user-agent": USER_AGENT,
        } | self._info
        block = "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode()
        warcinfo = _Record(
            "warcinfo",
            self._warc_fields("warcinfo", None, now, {"WARC-Filename": name}),
            "application/warc-fields",
            block,
        )
        self._warcinfo_id = warcinfo.get("WARC-Record-ID") or ""
        try:
            self._write_group([warcinfo])
        except BaseException:  # a file without its warcinfo is no WARC file
            self._file.close()
            self._file = None
            os.unlink(self.directory / (name + OPEN_SUFFIX))
            raise

    def _finish_file(self) -> None:
        assert self._file is not None
        self._file.flush()
        os.fsync(self._file.fileno())
        # Renamed before closing, while still locked: a sealer never sees a finished file
        # as an orphan.
        os.rename(self.directory / (self._name + OPEN_SUFFIX), self.directory / self._name)
        _fsync_dir(self.directory)
        self._file.close()
        self._file = None
        self._closed.append(ClosedWarc(self._name, self._position, self._file_sha256.hexdigest()))

    def _report_closed(self) -> None:
        # Outside the lock: the callback may take its time (it writes to the database).
        while True:
            try:
                closed = self._closed.pop(0)  # atomic: each file is reported once
            except IndexError:
                return
            if self._on_closed is not None:
                self._on_closed(closed)


def lock_open_file(fd: int, path: Path) -> bool:
    """Take the lock that marks the `.open` file `path` (open as `fd`) as being written; the
    system drops it when its writer closes the file or dies, which is how `archive.seal_orphans`
    tells an orphan from a file in use. False if another process holds it, or if `path` is
    no longer this file (a sealer got to it first)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except (BlockingIOError, FileNotFoundError):
        return False


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


def __getattr__(name: str) -> Any:
    # strict_check moved to preserve.warccheck, which imports this module's constants; a
    # lazy re-export keeps `from preserve.warc.records import strict_check` working without a cycle.
    if name in ("strict_check", "WarcProblem"):
        from preserve.warc import check as warccheck

        return getattr(warccheck, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
