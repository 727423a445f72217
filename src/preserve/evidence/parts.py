"""Reading a WARC file in parts on worker processes, for `verify` when there is much to read.

Each file is cut into parts at records the database knows of, each part scanned on a worker
and held against its rows there; only problems come back. If the database is wrong about
where records start, the parts do not join, and `verify` reads the file again in one pass.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from preserve.evidence.files import WarcFile
from preserve.evidence.hashing import sha256_of_path
from preserve.evidence.pool import Pool
from preserve.evidence.problems import Problem
from preserve.evidence.rows import Row, fits, row_offset, row_problems
from preserve.processes import cpus, may_fork
from preserve.store import integrity
from preserve.store.connection import Connection, open_connection
from preserve.store.integrity import Pointer
from preserve.warc.check import Member
from preserve.warc.scan import RangeScan, scan_range

# Reading files on several processes (forked, so they start at once) pays from about this
# much to read.
PARALLEL_BYTES = 8 << 20
# A record costs about as much to check as this many more bytes of file (its header, its
# digests, its rows): parts are cut to cost the same, not to hold as many bytes.
_RECORD_COST = 1300
_PARTS_PER_WORKER = 6  # small enough parts that the workers finish together
_MIN_PART = 4 << 20


def workers_for(
    files: Sequence[WarcFile], workers: int | None
) -> AbstractContextManager[Pool | None]:
    """Worker processes, when there is much to read and they may be forked from this
    process (`processes.may_fork`: forking copies locks held by threads); else None."""
    workers = workers if workers is not None else min(cpus(), 4)
    total = sum(size_of(f.path) for f in files if f.path)
    if workers <= 1 or total < PARALLEL_BYTES or not may_fork():
        return nullcontext()
    return Pool(workers)


def size_of(path: Path) -> int:
    """A file's size, or 0 if it cannot be read (it is then said so where it is read)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


@dataclass(frozen=True)
class Part:
    """A job: the members of a file from `start` until `stop`, with its `captures` rows."""

    name: str
    path: Path
    db_where: Path | str  # the store's database: a file, or a server's URL
    db_read_only: bool
    start: int
    stop: int | None
    captures: list[Pointer]


@dataclass(frozen=True)
class PartResult:
    """What a worker sends back for a part: no members, and only the rows that do not fit."""

    scan: RangeScan | None  # None: unreadable; its members are left out (only counted)
    records: int
    row_problems: list[Problem]


def known_offsets(conn: Connection, f: WarcFile) -> list[tuple[int, str]]:
    """Where the database says the records of a file start, and their types, in order
    (only offsets inside the file)."""
    assert f.path is not None
    return integrity.record_starts(conn, f.name, size_of(f.path))


def part_size(
    files: Sequence[WarcFile], known: dict[str, list[tuple[int, str]]], workers: int
) -> int:
    """How much reading (in bytes, a record counting as `_RECORD_COST` more) a part holds."""
    total = sum(size_of(f.path) + len(known[f.name]) * _RECORD_COST for f in files if f.path)
    return max(total // (workers * _PARTS_PER_WORKER), _MIN_PART)


def cuts(known: list[tuple[int, str]], target: int) -> list[int]:
    """Where the parts of a file start: 0, then the first response or revisit at least
    `target` further on (a request names the response before it: they stay together),
    from where the database says its records are. If it is wrong about the file, the
    parts do not join, and the file is read again in one pass."""
    starts, cost, before = [0], 0, 0
    for offset, rec_type in known:
        cost += offset - before + _RECORD_COST
        before = offset
        if cost >= target and rec_type in ("response", "revisit") and offset > starts[-1]:
            starts.append(offset)
            cost = 0
    return starts


def between(rows: list[Pointer], start: int, stop: int | None) -> list[Pointer]:
    """The rows (sorted by offset, the third field) whose offset is in [start, stop); the
    first part also takes those before 0, the last those past the end."""
    offsets = [row_offset(row) for row in rows]
    low = bisect.bisect_left(offsets, start) if start else 0
    high = bisect.bisect_left(offsets, stop) if stop is not None else len(rows)
    return rows[low:high]


# --- on the workers -----------------------------------------------------------------------


def digest(path: Path) -> tuple[int, str] | None:
    """A file's size and sha256, on a worker (None if unreadable)."""
    try:
        return sha256_of_path(path)
    except OSError:
        return None


def check_part(part: Part) -> PartResult:
    """A part scanned and held against its rows; the members are counted and dropped,
    so that only problems go back to verify."""
    try:
        scanned = scan_range(part.path, part.start, part.stop)
        size = part.path.stat().st_size
        members = {m.offset: m for m in scanned.members}
        rows = _suspect_rows(part, members)
    except Exception:  # read again in verify's own process, which says why
        return PartResult(None, 0, [])
    problems = row_problems(rows, members, size)
    records = len(scanned.members)
    scanned.members = []
    return PartResult(scanned, records, problems)


_worker_db: dict[Path | str, Connection] = {}  # a worker's own connection, once opened


def _suspect_rows(part: Part, members: dict[int, Member]) -> list[Row]:
    """The rows of a part that do not hold what their records do, in the order a single
    pass takes them (records rows, then captures rows); the others, nearly all, are told
    apart as plain tuples. Read on the worker, on its own connection (one opened before
    the fork must not be used after it)."""
    db = _worker_db.get(part.db_where)
    if db is None:
        db = _worker_db[part.db_where] = open_connection(part.db_where, read_only=part.db_read_only)
    suspects = [
        row
        for row in integrity.records_between(db, part.name, part.start, part.stop)
        if not fits(row, members.get(row[2]))
    ]
    # Named (with their capture's URL and time) only now: a join for every row costs more
    # than reading the rows.
    rows = [
        Row("records", *named)
        for row in suspects
        if (named := integrity.record_pointer(db, row[7])) is not None
    ]
    return rows + [
        Row("captures", *row) for row in part.captures if not fits(row, members.get(row[2]))
    ]
