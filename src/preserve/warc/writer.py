"""Writing WARC files: records into rotating `.open` files, each record located exactly.

Invariants of every file written here: one gzip member per record; a warcinfo record first
and its id in `WARC-Warcinfo-ID` on every other record; a file is written as `NAME.open`
and renamed to `NAME` only once complete; a record pair is never split between files.
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from preserve import USER_AGENT
from preserve.config import WARC_ROTATE_BYTES
from preserve.warc.files import OPEN_SUFFIX, fsync_dir, lock_open_file
from preserve.warc.records import (
    CONFORMS_TO,
    GZIP_LEVEL,
    OriginalRef,
    Record,
    Records,
    WrittenMember,
)

if TYPE_CHECKING:  # annotations only
    from preserve.net.exchange import Exchange

_WRITE_SIZE = 1 << 20  # compressed bytes held before they are written to the file


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
        self._records = Records(gzip_level)
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
        response = self._records.response(exchange)
        request = self._records.request(exchange, response.record_id)
        response_at, request_at = self._write([response, request])
        return response_at, request_at

    def write_revisit(
        self, exchange: Exchange, original: OriginalRef
    ) -> tuple[RecordLocation, RecordLocation]:
        """Write a revisit (HTTP headers only, payload identical to `original`'s) and its
        request record; returns (revisit, request)."""
        revisit = self._records.revisit(exchange, original)
        request = self._records.request(exchange, revisit.record_id)
        revisit_at, request_at = self._write([revisit, request])
        return revisit_at, request_at

    def write_metadata(
        self, refers_to: str, data: Mapping[str, Any], *, concurrent_to: str | None = None
    ) -> RecordLocation:
        """Write a JSON metadata record about record `refers_to`. It has no Target-URI, so
        replay tools never serve it in place of the page it describes."""
        record = self._records.metadata(refers_to, data, self._clock(), concurrent_to)
        (location,) = self._write([record])
        return location

    def write_resource(
        self,
        uri: str,
        content_type: str,
        data: bytes,
        *,
        date: datetime,
        concurrent_to: str | None = None,
    ) -> RecordLocation:
        """Write a resource record of bytes preserve made (see `Records.resource`), dated
        when they were made."""
        record = self._records.resource(uri, date, content_type, data, concurrent_to)
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

    def _write(self, records: list[Record]) -> list[RecordLocation]:
        with self._lock:
            if self._file is None:
                self._open_file()
            for record in records:
                record.add_field("WARC-Warcinfo-ID", self._warcinfo_id)
            locations = self._write_group(records)
            if self._position >= self._rotate_bytes:
                self._finish_file()
        self._report_closed()
        return locations

    def _write_group(self, records: list[Record]) -> list[RecordLocation]:
        """Write records back to back; on any failure cut the file back to where it was, so
        a half-written member never stays in it."""
        assert self._file is not None
        start, file_hash = self._position, self._file_sha256.copy()
        locations = []
        try:
            for record in records:
                member = self._records.write(record, self._emit, self._position)
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

    def _location(self, record: Record, member: WrittenMember) -> RecordLocation:
        return RecordLocation(
            warc=self._name,
            offset=member.offset,
            length=member.length,
            record_id=record.record_id,
            payload_digest=record.payload_digest,
            record_sha256=member.sha256,
        )

    def _emit(self, data: bytes) -> None:
        self._pending += data
        self._file_sha256.update(data)
        if len(self._pending) >= _WRITE_SIZE:
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
        info = {
            "software": USER_AGENT,
            "format": "WARC File Format 1.1",
            "conformsTo": CONFORMS_TO,
            "hostname": socket.gethostname(),
            "http-header-user-agent": USER_AGENT,
        } | self._info
        warcinfo = self._records.warcinfo(name, now, info)
        self._warcinfo_id = warcinfo.record_id
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
        fsync_dir(self.directory)
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


def _hostname() -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname()) or "localhost"
