"""Strict checking of `.warc.gz` files: one pass over a file that inflates each gzip member
on its own, checks the record it holds (exact lengths, sha256 block and payload digests,
preserve's header rules) and says where every member is and what it hashes to, so that
`verify` can hold the database's rows against it without reading the file again. A big
file can be read in parts instead, on several processes (`scan_range`), and the parts
joined into exactly what one pass says (`join`), or found not to fit together (damage
across their bounds), and then read in one pass.

Stricter than `warcio check`, which passes a file cut off mid-record, a Content-Length
longer than its gzip member, and skips revisits (see the WARC notes, section 11).
"""

from __future__ import annotations

import hashlib
import queue
import re
import threading
import zlib
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from preserve.warc.records import NOT_MODIFIED_PROFILE, REVISIT_PROFILE, WARC_VERSION

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
_REQUIRED_SET = frozenset(_REQUIRED)
_NEEDS_TARGET = ("response", "request", "revisit", "resource")
_HTTP_FRAMING = re.compile(rb"\r\n(transfer-encoding|content-length)[ \t]*:([^\r\n]*)", re.I)
_GZIP_MAGIC = b"\x1f\x8b\x08"  # ID1, ID2 and CM=deflate: where a gzip member can begin
_INFO_LIMIT = 64 << 10  # bytes of a warcinfo block kept (its fields name the file and run)

# Fields a record may carry more than once: WARC 1.1's WARC-Concurrent-To, and the proposed
# WARC-Protocol (one for HTTP, one for TLS), as the IIPC's warc-specifications issue 42 has it.
_REPEATABLE = frozenset({"warc-concurrent-to", "warc-protocol"})


@dataclass(frozen=True)
class WarcProblem:
    """One thing wrong in a WARC file, at the offset of the gzip member that holds it."""

    kind: str
    offset: int
    detail: str
    record_id: str | None = None


class Member(NamedTuple):
    """One gzip member as read: `[offset, offset + length)` of the file, the sha256 hex of
    those compressed bytes, and the record it holds (None where its header was unreadable).
    `whole` is False for a member cut off by the end of the file or by broken deflate data;
    its length and hash then run to the end of the file or to the next gzip header.
    (A named tuple: a big file has hundreds of thousands, made and pickled cheaply.)"""

    offset: int
    length: int
    sha256: str
    whole: bool
    rec_type: str | None = None
    record_id: str | None = None
    target_uri: str | None = None
    date: str | None = None
    payload_digest: str | None = None  # as declared (a revisit declares its original's)


@dataclass
class FileScan:
    """Everything one pass over a file found: its size and sha256, its members in file
    order, its problems, and the first warcinfo's WARC-Filename and block fields."""

    path: Path
    size: int = 0
    sha256: str = ""
    members: list[Member] = field(default_factory=list)
    problems: list[WarcProblem] = field(default_factory=list)
    filename: str | None = None
    info: dict[str, str] = field(default_factory=dict)


# (offset, record id, header, target id, (uri, date) a response must have, or None for a
# warcinfo)
_Reference = tuple[int, str, str, str, "tuple[str | None, str] | None"]


@dataclass
class RangeScan:
    """One pass over the members that start in `[start, end)` of a file (`scan_range`): what
    `FileScan` says of them, and what `join` needs to hold them against the other parts."""

    start: int
    end: int  # where the pass stopped: where the next member starts, or the end of the file
    members: list[Member]
    problems: list[WarcProblem]  # all but bad references, which need the whole file
    records: int  # records read whole and checked
    # Its record ids, each as 8 bytes of its hash: compared with the other parts' only,
    # and small to hold and send (two ids with one hash just mean a pass over the whole).
    ids: array[int]
    warcinfos: set[str]
    references: list[_Reference]  # those that name no record of this part
    damaged: set[str]  # ids of records whose member is broken
    filename: str | None  # the first warcinfo's WARC-Filename (first part only)
    info: dict[str, str]
    # The id of the warcinfo that opens the file, when references to it were taken as
    # answered (a part after the first: most of its records name that warcinfo).
    assumed: str | None = None


def strict_check(path: Path) -> list[WarcProblem]:
    """Every problem found in a `.warc.gz` file, in file order; an empty list means it is
    sound. Damage is reported, never raised (an unreadable path still raises OSError).

    Beyond `warcio check`: each gzip member whole and holding exactly one record, whose
    Content-Length is exact; a cut-off tail or trailing garbage reported; sha256 block and
    payload digests verified; preserve's header rules (WARC/1.1, warcinfo first, required
    headers, ASCII target URIs, none on metadata, no Transfer-Encoding on a stored de-chunked
    body, complete revisits, references that resolve within the file).
    """
    return scan(path).problems


def scan(path: Path) -> FileScan:
    """`strict_check`, and where each member is and what it hashes to, in one pass.

    After broken deflate data the scan carries on at the next gzip header in the file, so
    one damaged record hides none of those after it.
    """
    with open(path, "rb") as raw:
        file = _HashingReader(raw)
        part = _scan_part(file.read, 0, None, keys=False)
        file.drain()
    joined = join(Path(path), [part], file.size, file.sha256.hexdigest())
    assert joined is not None  # one part always joins
    return joined


def scan_range(path: Path, start: int, stop: int | None) -> RangeScan:
    """The members of a file from the one at `start` on, until one starts at or after
    `stop` (None: to the end of the file), checked as `scan` checks them; for reading one
    big file on several processes. `start` must be where a member starts (or the pass will
    not `join`); a member that runs past `stop` is read to its end."""
    opening = _opening_record(path)[0].get("warc-record-id") if start else None
    with open(path, "rb") as raw:
        raw.seek(start)
        return _scan_part(raw.read, start, stop, opening)


def join(path: Path, parts: list[RangeScan], size: int, sha256: str) -> FileScan | None:
    """The `FileScan` of the whole file from passes over consecutive parts of it, the first
    at offset 0; `size` and `sha256` are the whole file's. None when the parts do not fit
    together exactly as one pass would have read them (a part ran past the start of the
    next, or what a record is checked against lies in another part: no warcinfo checked in
    the first part, a record id in two parts, a request naming a response of another
    part): then scan the file in one pass."""
    if parts[0].start != 0 or any(a.end != b.start for a, b in pairwise(parts)):
        return None
    first = parts[0]
    # No warcinfo named the file in the first part (so none was checked there either: the
    # first record checked, and the warcinfo that names the file, may lie further on).
    if len(parts) > 1 and (first.filename is None or _shared(parts)):
        return None
    warcinfos = set().union(*(part.warcinfos for part in parts))
    damaged = set().union(*(part.damaged for part in parts))
    if any(part.assumed is not None and part.assumed not in warcinfos for part in parts):
        return None
    problems = [problem for part in parts for problem in part.problems]
    for part in parts:
        for offset, record_id, header, target, uri_date in part.references:
            if target in damaged or (uri_date is None and target in warcinfos):
                continue  # a broken record is reported once, as broken
            if uri_date is not None and len(parts) > 1:
                return None  # the response it names may be in another part
            detail = f"{header} {target} names no matching record in this file"
            problems.append(WarcProblem("bad-reference", offset, detail, record_id))
    problems.sort(key=lambda problem: problem.offset)
    members = first.members if len(parts) == 1 else [m for part in parts for m in part.members]
    return FileScan(Path(path), size, sha256, members, problems, first.filename, first.info)


def _shared(parts: list[RangeScan]) -> bool:
    """Does a record id occur in two parts (one pass would call the second a duplicate)?"""
    seen: set[int] = set()
    for part in parts:
        keys = set(part.ids)
        if not seen.isdisjoint(keys):
            return True
        seen |= keys
    return False


def _keys(ids: Iterable[str]) -> array[int]:
    return array(
        "Q",
        [
            int.from_bytes(
                hashlib.blake2b(record_id.encode("utf-8", "surrogatepass"), digest_size=8).digest(),
                "big",
            )
            for record_id in ids
        ],
    )


def _scan_part(
    read: Any, start: int, stop: int | None, opening: str | None = None, *, keys: bool = True
) -> RangeScan:
    """One pass from `start` (where `read` is) until a member starts at or after `stop`;
    references to `opening` (the file's first warcinfo) are taken as answered. Without
    `keys`, the ids are left out (a single pass needs no others')."""
    check = _FileCheck(first=start == 0, opening=opening)
    members: list[Member] = []
    record = _RecordCheck(check, start)
    end = start
    for events in _batches(read, start, stop):
        for kind, value in events:
            if kind == "member":
                offset, data, length, digest = value
                record = _RecordCheck(check, offset)
                record.feed(data)
                record.close(True)
                members.append(record.member(length, digest, True))
                end = offset + length
            elif kind == "data":
                record.feed(value)
            elif kind == "start":
                record = _RecordCheck(check, value)
            elif kind == "end":
                length, digest, whole = value
                record.close(whole)
                members.append(record.member(length, digest, whole))
                end = record.offset + length
            else:
                check.add(kind, record.offset, value, record.id)
    check.resolve()
    return RangeScan(
        start,
        end,
        members,
        check.problems,
        check.records,
        _keys(check.ids if keys else ()),
        check.warcinfos,
        check.references,
        check.damaged,
        check.filename,
        check.info,
        opening if check.assumed else None,
    )


def read_warcinfo(path: Path) -> tuple[str | None, dict[str, str]]:
    """The WARC-Filename and block fields of the warcinfo record that opens a file, read
    from its first gzip member alone: (None, {}) when that is not a readable warcinfo."""
    fields, block = _opening_record(path)
    length = fields.get("content-length", "")
    block = block[: int(length)] if length.isdigit() else block
    return fields.get("warc-filename"), _info_fields(block)


def _opening_record(path: Path) -> tuple[dict[str, str], bytes]:
    """The header fields (names in lower case) and the start of the block of the warcinfo
    record that opens a file: ({}, b"") when that is not a readable warcinfo."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        with open(path, "rb") as file:
            raw = inflater.decompress(file.read(_FIRST_STEP * 16), _INFO_LIMIT)
    except (OSError, zlib.error):
        return {}, b""
    head, _, block = raw.partition(b"\r\n\r\n")
    fields = {name.lower(): value for name, value in _info_fields(head).items()}
    if fields.get("warc-type") != "warcinfo":
        return {}, b""
    return fields, block


class _HashingReader:
    """A file's reads, hashed and counted on the way: the whole file's sha256 comes from the
    same pass that inflates it."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file
        self.sha256 = hashlib.sha256()
        self.size = 0

    def read(self, size: int) -> bytes:
        data = self._file.read(size)
        self.sha256.update(data)
        self.size += len(data)
        return data

    def drain(self) -> None:
        """Read what the check left unread (after a cut-off member), for the file's hash."""
        while self.read(_READ_SIZE):
            pass


_Events = list[tuple[str, Any]]


def _inflate(read: Any, begin: int, stop: int | None) -> Iterator[_Events]:
    """The file's gzip members from `begin` (where `read` reads next) until one starts at
    or after `stop`, inflated one by one (a fresh decompressor each, so member boundaries
    are exact), as batches of events: ("start", offset), ("data", bytes), ("end", (length,
    sha256 hex, whole)), or a problem ("truncated" / "bad-gzip" / "no-warcinfo", detail); a
    member inflated whole in its first step (most are) is one event, ("member", (offset,
    bytes, length, sha256 hex))."""
    buffer, position, offset = read(_READ_SIZE), 0, begin
    view = memoryview(buffer)
    batch: _Events = [] if buffer or begin else [("no-warcinfo", "empty file")]
    batched = 0
    decompressobj, sha256 = zlib.decompressobj, hashlib.sha256
    while buffer and (stop is None or offset < stop):
        inflater = decompressobj(16 + zlib.MAX_WBITS)
        start, member = offset, None  # its hash, once it takes more than one step
        # Start with small steps, because zlib copies whatever follows a member's end into
        # unused_data and most records are small; grow them for the big ones.
        step_size = _FIRST_STEP
        broken = False
        try:
            while True:
                if position == len(buffer):
                    buffer, position = read(_READ_SIZE), 0
                    view = memoryview(buffer)
                step = view[position : position + step_size]
                out = inflater.decompress(step, _INFLATE_LIMIT)
                used = len(step) - len(inflater.unconsumed_tail) - len(inflater.unused_data)
                position, offset = position + used, offset + used
                batched += len(out) + 256
                if member is None:
                    if inflater.eof:
                        digest = sha256(step[:used]).hexdigest()
                        batch.append(("member", (start, out, used, digest)))
                        break
                    member = sha256()
                    batch.append(("start", start))
                batch.append(("data", out))
                member.update(step[:used])
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
            if member is None:
                member = sha256()
                batch.append(("start", start))
            if offset == start:  # nothing of it inflated yet: recover what comes before the break
                batch.append(("data", _salvage(step)))
            batch.append(("bad-gzip", f"not a gzip member: {exc}"))
            broken = True
        if broken:
            # Carry on at the next gzip header: the member ends where the next one begins.
            buffer, position, offset = _skip_to_member(
                read, buffer, position, offset, member, first=offset == start
            )
            view = memoryview(buffer)
        if member is not None:
            batch.append(("end", (offset - start, member.hexdigest(), inflater.eof)))
            if not inflater.eof and not broken:
                break  # the file ended inside the member
        if position == len(buffer):
            buffer, position = read(_READ_SIZE), 0
            view = memoryview(buffer)
        if batched > _BATCH_BYTES:
            yield batch
            batch, batched = [], 0
    yield batch


def _salvage(data: memoryview) -> bytes:
    """What a broken member inflates to before the break (so its record is named)."""
    inflater, out = zlib.decompressobj(16 + zlib.MAX_WBITS), []
    for start in range(0, len(data), 256):
        try:
            out.append(inflater.decompress(data[start : start + 256], _INFLATE_LIMIT))
        except zlib.error:
            break
    return b"".join(out)


def _skip_to_member(
    read: Any, buffer: bytes, position: int, offset: int, member: Any, *, first: bool
) -> tuple[bytes, int, int]:
    """Move to the next gzip header (not the one at `position` when `first`), hashing the
    bytes passed over into `member`; returns (buffer, position, offset) there, or an empty
    buffer at the end of the file."""
    search = position + 1 if first else position
    while True:
        found = buffer.find(_GZIP_MAGIC, search)
        if found >= 0:
            member.update(memoryview(buffer)[position:found])
            return buffer, found, offset + found - position
        # Keep the last bytes, which may be the start of a header cut by the read.
        keep = max(position, len(buffer) - len(_GZIP_MAGIC) + 1, search)
        member.update(memoryview(buffer)[position:keep])
        offset += keep - position
        more = read(_READ_SIZE)
        if not more:
            member.update(memoryview(buffer)[keep:])
            return b"", 0, offset + len(buffer) - keep
        buffer, position = buffer[keep:] + more, 0
        search = 0


def _batches(read: Any, start: int, stop: int | None) -> Iterator[_Events]:
    """`_inflate(...)`, on a helper thread if the records are big. Measured: with big
    records the two threads overlap inflating with hashing (zlib and hashlib release the
    GIL) and check 1.5x faster; with small ones they fight over the GIL and run slower."""
    batches = _inflate(read, start, stop)
    first = next(batches)
    members = sum(1 for kind, _ in first if kind in ("start", "member"))
    inflated = sum(len(value) for kind, value in first if kind == "data") + sum(
        len(value[1]) for kind, value in first if kind == "member"
    )
    yield first
    if inflated > _BIG_RECORD * members:
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
    """What a file's records must agree on between them, as far as one part of it shows
    (`first`: the part at the start of the file)."""

    def __init__(self, first: bool = True, opening: str | None = None) -> None:
        self.first = first
        self.opening = opening  # a warcinfo in another part, taken as there (`join` checks)
        self.assumed = False  # and a record named it
        self.problems: list[WarcProblem] = []
        self.records = 0
        self.ids: set[str] = set()
        self.warcinfos: set[str] = set()
        self.responses: dict[str, tuple[str | None, str]] = {}  # id → (uri, date)
        self.references: list[_Reference] = []
        self.filename: str | None = None  # the first warcinfo's WARC-Filename
        self.damaged: set[str] = set()  # ids of records whose member is broken: reported once
        self.info: dict[str, str] = {}  # and its block's fields

    def add(self, kind: str, offset: int, detail: str, record_id: str | None = None) -> None:
        self.problems.append(WarcProblem(kind, offset, detail, record_id))

    def refer(self, offset: int, record_id: str, target: str) -> None:
        """A record names the warcinfo `target`: answered now if that was seen before it
        (warcinfos are only ever added), else looked for at the end."""
        if target in self.warcinfos:
            return
        if target == self.opening:
            self.assumed = True
        else:
            self.references.append((offset, record_id, "WARC-Warcinfo-ID", target, None))

    def resolve(self) -> None:
        """Keep only the references no record of this part answers (`join` looks for
        them in the others)."""
        warcinfos, responses = self.warcinfos, self.responses
        self.references = [
            ref for ref in self.references
            if not (ref[3] in warcinfos if ref[4] is None else responses.get(ref[3]) == ref[4])
        ]  # fmt: skip


class _RecordCheck:
    """One gzip member, fed its decompressed bytes in pieces: WARC header, block, and the
    CRLF CRLF that must end it; then the checks that need the whole record."""

    __slots__ = ("file", "offset", "id", "state", "buffer", "fields", "remaining", "block",
                 "payload", "payload_length", "http", "http_head", "tail", "info",
                 "pending")  # fmt: skip

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
        self.info: bytearray | None = None  # the block of the file's first warcinfo
        # Held until the member's gzip trailer is checked: bytes inflated from broken deflate
        # data can say anything (a wrong length, a bad header), and the break is the news.
        self.pending: list[tuple[str, str]] = []

    def member(self, length: int, sha256: str, whole: bool) -> Member:
        """This record's gzip member, as `FileScan.members` lists it."""
        get = self.fields.get
        return Member(
            self.offset,
            length,
            sha256,
            whole,
            get("warc-type"),
            self.id,
            get("warc-target-uri"),
            get("warc-date"),
            get("warc-payload-digest"),
        )

    def add(self, kind: str, detail: str) -> None:
        self.pending.append((kind, detail))

    def close(self, whole: bool) -> None:
        """The member ended: report what was found in it if its gzip data was sound."""
        if whole:
            self.finish()
            for kind, detail in self.pending:
                self.file.add(kind, self.offset, detail, self.id)
        elif self.id:
            self.file.damaged.add(self.id)
        self.pending = []

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
        if self.info is not None and len(self.info) < _INFO_LIMIT:
            self.info += block
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
        fields: dict[str, str] = {}
        colon = ""
        for line in lines:  # the common case; anything odd takes the careful path below
            name, colon, value = line.partition(":")
            if not colon:
                break
            fields[name.lower()] = value.strip()
        if not colon or len(fields) != len(lines) or "\r\n " in text or "\r\n\t" in text:
            fields = self.careful_fields(lines)
        self.fields = fields
        self.id = fields.get("warc-record-id")
        if not fields.keys() >= _REQUIRED_SET:
            missing = [name for name in _REQUIRED if name not in fields]
            self.fail("missing-header", f"missing {', '.join(missing)}")
            return False
        if not fields["content-length"].isdigit():
            self.fail("bad-header", f"Content-Length {fields['content-length']!r}")
            return False
        self.remaining = int(fields["content-length"])
        rec_type = fields["warc-type"]
        if rec_type == "warcinfo" and self.file.first and self.file.filename is None:
            self.info = bytearray()
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
            elif name.lower() in fields and name.lower() not in _REPEATABLE:
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
        if file.records == 0 and file.first and rec_type != "warcinfo":
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
            if self.info is not None:
                file.filename = fields.get("warc-filename")
                file.info = _info_fields(bytes(self.info))
            if "warc-filename" not in fields:
                self.add("missing-header", "warcinfo without WARC-Filename")
        elif "warc-warcinfo-id" not in fields:
            self.add("missing-header", "no WARC-Warcinfo-ID")
        else:
            file.refer(self.offset, record_id, fields["warc-warcinfo-id"])
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


def _info_fields(block: bytes) -> dict[str, str]:
    """The `name: value` lines of a warcinfo block (application/warc-fields)."""
    fields: dict[str, str] = {}
    for line in block.decode("utf-8", "replace").split("\r\n"):
        name, colon, value = line.partition(":")
        if colon and name.strip():
            fields.setdefault(name.strip(), value.strip())
    return fields
