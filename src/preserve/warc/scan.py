"""Scanning `.warc.gz` files strictly: one pass, or parts on several processes joined.

One pass over a file inflates each gzip member on its own, checks the record it holds
(`preserve.warc.check`) and says where every member is and what it hashes to, so that
`verify` can hold the database's rows against it without reading the file again. A big
file can be read in parts instead, on several processes (`scan_range`), and the parts
joined into exactly what one pass says (`join`), or found not to fit together (damage
across their bounds), and then read in one pass.

Stricter than `warcio check`, which passes a file cut off mid-record, a Content-Length
longer than its gzip member, and skips the digests of revisits.
"""

from __future__ import annotations

import hashlib
import zlib
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, BinaryIO

from preserve.warc.check import (
    INFO_LIMIT,
    FileCheck,
    Member,
    RecordCheck,
    Reference,
    WarcProblem,
    info_fields,
)
from preserve.warc.inflate import FIRST_STEP, READ_SIZE, batches


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
    references: list[Reference]  # those that name no record of this part
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
    with path.open("rb") as raw:
        file = _HashingReader(raw)
        part = _scan_part(file.read, 0, None, keys=False)
        file.drain()
    joined = join(path, [part], file.size, file.sha256.hexdigest())
    assert joined is not None  # one part always joins
    return joined


def scan_range(path: Path, start: int, stop: int | None) -> RangeScan:
    """The members of a file from the one at `start` on, until one starts at or after
    `stop` (None: to the end of the file), checked as `scan` checks them; for reading one
    big file on several processes. `start` must be where a member starts (or the pass will
    not `join`); a member that runs past `stop` is read to its end."""
    opening = _opening_record(path)[0].get("warc-record-id") if start else None
    with path.open("rb") as raw:
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
    return FileScan(path, size, sha256, members, problems, first.filename, first.info)


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
    check = FileCheck(first=start == 0, opening=opening)
    members: list[Member] = []
    record = RecordCheck(check, start)
    end = start
    for events in batches(read, start, stop):
        for kind, value in events:
            if kind == "member":
                offset, data, length, digest = value
                record = RecordCheck(check, offset)
                record.feed(data)
                record.close(True)
                members.append(record.member(length, digest, True))
                end = offset + length
            elif kind == "data":
                record.feed(value)
            elif kind == "start":
                record = RecordCheck(check, value)
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
    return fields.get("warc-filename"), info_fields(block)


def _opening_record(path: Path) -> tuple[dict[str, str], bytes]:
    """The header fields (names in lower case) and the start of the block of the warcinfo
    record that opens a file: ({}, b"") when that is not a readable warcinfo."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        with path.open("rb") as file:
            raw = inflater.decompress(file.read(FIRST_STEP * 16), INFO_LIMIT)
    except (OSError, zlib.error):
        return {}, b""
    head, _, block = raw.partition(b"\r\n\r\n")
    fields = {name.lower(): value for name, value in info_fields(head).items()}
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
        while self.read(READ_SIZE):
            pass
