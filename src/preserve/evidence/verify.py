"""Integrity of a whole archive, as a list of problems (empty: intact).

One pass over each WARC file (`warccheck.scan`: every gzip member whole, exact lengths, block
and payload digests, the member hashes and the file hash), holding the database against what
that pass saw: every `records` and `captures` row must name a whole member at its offset, of
its length, with its sha256, record id, type and payload digest; every closed file must have
the size and sha256 that `warc_files` (and so the hash chain) says. Then the hash chain
(`preserve.chain`) and the stored texts are recomputed.

Problem kinds:

- files: `file-missing` (known to the database, not on disk), `file-extra` (on disk, unknown),
  `file-renamed` (found under another name, told by its warcinfo's WARC-Filename),
  `file-unfinished` (still `NAME.open` with no writer alive: a crashed run; its complete
  records are still checked and readable), `file-unrecorded` (closed on disk, never entered
  in `warc_files`), `file-changed` (size or sha256 differs from `warc_files`);
- WARC content, as `warccheck` names it: `truncated`, `bad-gzip`, `block-digest`,
  `payload-digest`, `length-mismatch`, `bad-header`, …;
- rows against records: `record-missing` (no record starts at the row's offset, or its file
  is missing), `record-length`, `record-sha256`, `record-id`, `record-type`, `payload-sha256`;
- the log: `chain-broken`, `chain-reordered`, `row-edited`, `row-deleted`, `row-reordered`,
  `row-unlogged` (see `preserve.chain`); `chain-head-missing` (a head noted down earlier and
  given to check against is no entry of the chain: the log was rewritten after it was noted);
  `text-sha256` (a stored text that no longer hashes to its key), `text-unindexed` (a text
  find-text cannot find).

`since` limits the reading to files closed at or after that time (and to files not closed
yet); every file is still looked for on disk and its size compared, and the chain and the
texts are always checked in full (they live in the database and are quick to read).

When there is much to read, the files are read on worker processes (`verifypool`), cut into
parts at records the database knows of, each part scanned (`warccheck.scan_range`) and held
against its rows there; this process checks the chain and the texts meanwhile, then joins
the parts (`warccheck.join`). Parts that do not join (damage across their bounds) are read
again here, in one pass, so the answer is always the one a single pass gives.
"""

from __future__ import annotations

import bisect
import fcntl
import hashlib
import os
import socket
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from preserve.engine.archive import Archive
from preserve.evidence.pool import Pool, cpus
from preserve.store import chain
from preserve.store.base import connect
from preserve.store.database import Store
from preserve.warc.check import Member, WarcProblem
from preserve.warc.files import OPEN_SUFFIX
from preserve.warc.scan import FileScan, RangeScan, join, read_warcinfo, scan, scan_range

# Reading files on several processes (forked, so they start at once) pays from about this
# much to read.
PARALLEL_BYTES = 8 << 20
# A record costs about as much to check as this many more bytes of file (its header, its
# digests, its rows): parts are cut to cost the same, not to hold as many bytes.
_RECORD_COST = 1300
_PARTS_PER_WORKER = 6  # small enough parts that the workers finish together
_MIN_PART = 4 << 20
_READ_SIZE = 1 << 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong: what (`kind`), where (`warc` file and `offset` of the record, when
    it is about one), which URL and capture it affects, and a sentence for people."""

    kind: str
    warc: str | None
    offset: int | None
    url: str | None
    detail: str
    capture_id: int | None = None
    captured_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "warc": self.warc,
            "offset": self.offset,
            "url": self.url,
            "detail": self.detail,
            "capture_id": self.capture_id,
            "captured_at": self.captured_at,
        }


@dataclass(frozen=True)
class Verification:
    """What `verify` found and how much it read."""

    problems: tuple[Problem, ...]
    records_checked: int
    files_checked: int
    bytes_read: int
    chain_entries: int
    chain_head: str | None
    in_progress: tuple[str, ...] = ()  # `.open` files of a run still writing: not checked
    # Heads noted down earlier and given to check against: (hash, seq of its entry or None).
    given_heads: tuple[tuple[str, int | None], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records_checked": self.records_checked,
            "files_checked": self.files_checked,
            "bytes_read": self.bytes_read,
            "chain": {
                "entries": self.chain_entries,
                "head": self.chain_head,
                "given_heads": [{"hash": h, "seq": seq} for h, seq in self.given_heads],
            },
            "in_progress": list(self.in_progress),
            "problems": [p.to_json() for p in self.problems],
        }


@dataclass(slots=True)
class _Row:
    """A `records` or `captures` row pointing at a record, with the capture it belongs to."""

    table: str
    type: str | None
    warc: str
    offset: int
    length: int | None
    record_id: str | None
    record_sha256: str | None
    payload_sha256: str | None
    url: str | None
    capture_id: int | None
    captured_at: str | None


@dataclass
class _File:
    """A known WARC file (or an unknown one) and where it is on disk."""

    name: str
    path: Path | None = None
    closed: dict[str, Any] | None = None  # its warc_files row
    problems: list[Problem] = field(default_factory=list)
    read: bool = True


def verify(
    archive: Archive,
    *,
    since: str | None = None,
    workers: int | None = None,
    heads: Sequence[str] = (),
) -> Verification:
    """Check everything; see the module docstring. Never raises for damage it finds.

    `heads`: chain heads noted down earlier (printed by an earlier verify, or carried by an
    exported package), each of which must still be an entry of the chain. The chain only
    grows, so an old head is an entry somewhere in it; one that is not means the log was
    rewritten since, however consistent it is now."""
    store = archive.store
    db = store.db
    closed = {row["name"]: row for row in db.query("SELECT * FROM warc_files")}
    known = (
        set(closed)
        | {r for (r,) in db.execute("SELECT DISTINCT warc FROM records")}
        | {r for (r,) in db.execute("SELECT DISTINCT warc FROM captures")}
    )
    known.discard(None)
    files, extra, in_progress = _locate(archive, known, closed, since)
    problems = [p for f in files for p in f.problems] + extra

    to_read = [f for f in files if f.read and f.path is not None]
    records_checked = bytes_read = 0
    with _pool(to_read, workers) as pool:  # None: read here, one file after another
        # The files' hashes first: the workers start on them while the rows are read here.
        digests = (
            pool.map(_digest, [f.path for f in to_read if f.path], ahead=len(to_read))
            if pool
            else None
        )
        captures = _capture_rows(db)
        for f in files:
            if f.path is None:  # missing: each capture in it is affected
                problems += [
                    _row_problem(
                        "record-missing",
                        _Row("captures", *row),
                        f"its WARC file {f.name} is missing",
                    )
                    for row in captures.get(f.name, [])
                ]
        checked = _checked_files(db, store, to_read, captures, pool, digests)
        # The log and the texts, while the workers (if any) read the files.
        chain_problems, entries = chain.check(db)
        logged = _chain_problems(db, chain_problems) + _text_problems(db)
        for file_problems, records, size in checked:
            records_checked += records
            bytes_read += size
            problems += file_problems
    problems.sort(key=lambda p: (p.warc or "", p.offset if p.offset is not None else -1))
    problems += logged
    given = []
    for noted in heads:
        entry = chain.find(db, noted)
        given.append((noted, entry.seq if entry else None))
        if entry is None:
            problems.append(
                Problem(
                    "chain-head-missing",
                    None,
                    None,
                    None,
                    f"no chain entry has the hash {noted}: the log was rewritten after that "
                    "head was noted down (or the head is another archive's)",
                )
            )
    head = chain.head(db)
    return Verification(
        tuple(problems),
        records_checked,
        len(to_read),
        bytes_read,
        entries,
        head.entry_hash if head else None,
        tuple(in_progress),
        tuple(given),
    )


# --- files --------------------------------------------------------------------------------


def _locate(
    archive: Archive, known: set[str], closed: dict[str, dict[str, Any]], since: str | None
) -> tuple[list[_File], list[Problem], list[str]]:
    """Match the files the database knows with those on disk, by name and by the name each
    file's warcinfo gives itself (so a renamed file is found, and said to be renamed)."""
    disk = (
        {p.name: p for p in sorted(archive.warcs.iterdir()) if p.is_file()}
        if archive.warcs.is_dir()
        else {}
    )
    claims: dict[str, list[str]] = {}  # the name a file was written as → names on disk
    infos: dict[str, dict[str, str]] = {}
    for name, path in disk.items():
        written_as, info = read_warcinfo(path)
        infos[name] = info
        base = name.removesuffix(OPEN_SUFFIX)
        claims.setdefault(written_as or base, []).append(name)
        if written_as and written_as != base:
            claims.setdefault(base, [])
    live = _live_runs(archive)
    used: set[str] = set()
    files: list[_File] = []
    in_progress: list[str] = []
    for name in sorted(known):
        f = _File(name, closed=closed.get(name))
        files.append(f)
        found = claims.get(name, [])
        if not found and name in disk and not _claimed_elsewhere(name, claims):
            found = [name]
        found = sorted(found, key=lambda n: (n != name, n != name + OPEN_SUFFIX, n))
        if not found:
            f.problems.append(
                Problem("file-missing", name, None, None, f"{name} is not in {archive.warcs}")
            )
            continue
        on_disk = found[0]
        used.add(on_disk)
        f.path = disk[on_disk]
        f.read = since is None or f.closed is None or (f.closed["closed_at"] or "") >= since
        if on_disk == name + OPEN_SUFFIX and f.closed is None:
            if _being_written(f.path, infos[on_disk], live):
                in_progress.append(on_disk)
                f.read = False
            else:
                f.problems.append(
                    Problem(
                        "file-unfinished",
                        name,
                        None,
                        None,
                        f"{on_disk} was never finished (its run ended without closing it: a "
                        "crash?); its complete records are still checked",
                    )
                )
        elif on_disk != name:
            f.problems.append(
                Problem("file-renamed", name, None, None, f"{name} is on disk as {on_disk}")
            )
        elif f.closed is None and infos[on_disk].get("preserve-run") not in live:
            f.problems.append(
                Problem(
                    "file-unrecorded",
                    name,
                    None,
                    None,
                    f"{name} is closed on disk but not in warc_files, so its hash is in no log",
                )
            )
        if not f.read and f.closed is not None and f.path.stat().st_size != f.closed["size"]:
            f.problems.append(
                Problem(
                    "file-changed",
                    name,
                    None,
                    None,
                    f"{on_disk} has {f.path.stat().st_size} bytes, warc_files says "
                    f"{f.closed['size']}",
                )
            )
    extra: list[Problem] = []
    for name in sorted(set(disk) - used):
        if name.endswith(OPEN_SUFFIX) and _being_written(disk[name], infos[name], live):
            in_progress.append(name)
        elif name.endswith(OPEN_SUFFIX) and infos[name].get("preserve-run"):
            f = _File(name, path=disk[name])
            f.problems.append(
                Problem(
                    "file-unfinished",
                    name,
                    None,
                    None,
                    f"{name} was never finished and no capture in the database uses it (its "
                    "run crashed before storing any)",
                )
            )
            files.append(f)
        else:
            extra.append(
                Problem(
                    "file-extra",
                    name,
                    None,
                    None,
                    f"{name} is in {archive.warcs} but unknown to the database",
                )
            )
    return files, extra, in_progress


def _claimed_elsewhere(name: str, claims: dict[str, list[str]]) -> bool:
    return any(name in names for written_as, names in claims.items() if written_as != name)


def _being_written(path: Path, info: dict[str, str], live: set[str]) -> bool:
    """Is this `.open` file still being written: its writer holds its lock (see
    `warc.lock_open_file`; the system drops it when the writer dies), or its run is alive
    (covering the instant between creating the file and locking it)."""
    if info.get("preserve-run") in live:
        return True
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # and with it our lock, if we took one


def _live_runs(archive: Archive) -> set[str]:
    """Ids of runs still writing on this host: started, not ended, their process alive."""
    host = socket.gethostname()
    live = set()
    for run in archive.store.db.query("SELECT id, host, pid FROM runs WHERE ended_at IS NULL"):
        if run["host"] == host and run["pid"] and _alive(run["pid"]):
            live.add(str(run["id"]))
    return live


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


# --- reading the files ----------------------------------------------------------------------

_Checked = tuple[list[Problem], int, int]  # a file's problems, records read, bytes read


def _pool(files: list[_File], workers: int | None) -> AbstractContextManager[Pool | None]:
    """Worker processes, when there is much to read and this process has no other threads
    (forking copies locks held by threads); else None."""
    workers = workers if workers is not None else min(cpus(), 4)
    total = sum(_size(f.path) for f in files if f.path)
    if workers <= 1 or total < PARALLEL_BYTES or threading.active_count() > 1:
        return nullcontext()
    return Pool(workers)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _checked_files(
    db: Any,
    store: Store,
    files: list[_File],
    captures: dict[str, list[tuple[Any, ...]]],
    pool: Pool | None,
    digests: Iterator[tuple[int, str] | None] | None,
) -> Iterator[_Checked]:
    """Each file read once and held against its rows, in order. With a pool (and the
    files' `digests` coming from it), the reading starts before this returns: the caller
    can do other work meanwhile."""
    if pool is None or digests is None:
        return (_check_here(db, f, captures) for f in files)
    known = {f.name: _known_offsets(db, f) for f in files}
    target = _target(files, known, pool.count)
    plans = [(f, _cuts(known[f.name], target)) for f in files]
    parts = [
        _Part(
            f.name,
            f.path,
            store.path,
            store.read_only,
            start,
            stop,
            _between(captures.get(f.name, []), start, stop),
        )
        for f, cuts in plans
        if f.path
        for start, stop in zip(cuts, [*cuts[1:], None], strict=True)
    ]
    # All at once: results are small (problems, not members), and the workers must not
    # wait for this process, busy with the chain meanwhile, to take results.
    results = pool.map(_check_part, parts, ahead=len(parts))
    return (
        _check_joined(db, f, next(digests), [next(results) for _ in cuts], captures)
        for f, cuts in plans
    )


def _check_here(db: Any, f: _File, captures: dict[str, list[tuple[Any, ...]]]) -> _Checked:
    """A file read in one pass in this process."""
    assert f.path is not None
    result = _scan(f.path)
    rows = _record_rows(db, f.name) + [_Row("captures", *r) for r in captures.get(f.name, [])]
    return _check_file(f, result, rows), len(result.members), result.size


def _check_joined(
    db: Any,
    f: _File,
    digest: tuple[int, str] | None,
    checked: list[_PartResult],
    captures: dict[str, list[tuple[Any, ...]]],
) -> _Checked:
    """A file read in parts on the workers, with its size and sha256 (None: unreadable)."""
    scans = [part.scan for part in checked if part.scan is not None]
    joined = None
    if digest is not None and len(scans) == len(checked):
        assert f.path is not None
        joined = join(f.path, scans, *digest)
    if joined is None:  # damage across the parts' bounds, or a part unreadable
        return _check_here(db, f, captures)
    by_offset = (
        _rows_by_offset(
            _record_rows(db, f.name) + [_Row("captures", *r) for r in captures.get(f.name, [])]
        )
        if joined.problems
        else {}
    )
    problems = _scan_problems(f, joined, by_offset)
    problems += [problem for part in checked for problem in part.row_problems]
    return problems, sum(part.records for part in checked), joined.size


def _known_offsets(db: Any, f: _File) -> list[tuple[int, str]]:
    """Where the database says the records of a file start, and their types, in order
    (only offsets inside the file)."""
    assert f.path is not None
    return db.execute(
        "SELECT offset, type FROM records WHERE warc = ? AND typeof(offset) = 'integer'"
        " AND offset > 0 AND offset < ? ORDER BY offset",
        [f.name, _size(f.path)],
    ).fetchall()


def _target(files: list[_File], known: dict[str, list[tuple[int, str]]], workers: int) -> int:
    """How much reading (in bytes, a record counting as `_RECORD_COST` more) a part holds."""
    total = sum(_size(f.path) + len(known[f.name]) * _RECORD_COST for f in files if f.path)
    return max(total // (workers * _PARTS_PER_WORKER), _MIN_PART)


def _cuts(known: list[tuple[int, str]], target: int) -> list[int]:
    """Where the parts of a file start: 0, then the first response or revisit at least
    `target` further on (a request names the response before it: they stay together),
    from where the database says its records are. If it is wrong about the file, the
    parts do not join, and the file is read again in one pass."""
    cuts, cost, before = [0], 0, 0
    for offset, rec_type in known:
        cost += offset - before + _RECORD_COST
        before = offset
        if cost >= target and rec_type in ("response", "revisit") and offset > cuts[-1]:
            cuts.append(offset)
            cost = 0
    return cuts


def _between(rows: list[tuple[Any, ...]], start: int, stop: int | None) -> list[tuple[Any, ...]]:
    """The rows (sorted by offset, the third field) whose offset is in [start, stop); the
    first part also takes those before 0, the last those past the end."""
    offsets = [_offset(row) for row in rows]
    low = bisect.bisect_left(offsets, start) if start else 0
    high = bisect.bisect_left(offsets, stop) if stop is not None else len(rows)
    return rows[low:high]


@dataclass(frozen=True)
class _Part:
    """A job: the members of a file from `start` until `stop`, with its `captures` rows."""

    name: str
    path: Path
    db_path: Path
    db_read_only: bool
    start: int
    stop: int | None
    captures: list[tuple[Any, ...]]


@dataclass(frozen=True)
class _PartResult:
    """What a worker sends back for a part: no members, and only the rows that do not fit."""

    scan: RangeScan | None  # None: unreadable; its members are left out (only counted)
    records: int
    row_problems: list[Problem]


def _digest(path: Path) -> tuple[int, str] | None:
    """A file's size and sha256, on a worker (None if unreadable)."""
    sha256, size = hashlib.sha256(), 0
    try:
        with open(path, "rb") as file:
            while data := file.read(_READ_SIZE):
                sha256.update(data)
                size += len(data)
    except OSError:
        return None
    return size, sha256.hexdigest()


def _check_part(part: _Part) -> _PartResult:
    """A part scanned and held against its rows; the members are counted and dropped,
    so that only problems go back to verify."""
    try:
        scanned = scan_range(part.path, part.start, part.stop)
        size = part.path.stat().st_size
        members = {m.offset: m for m in scanned.members}
        rows = _suspect_rows(part, members)
    except (OSError, sqlite3.Error):  # read again in verify's own process, which says why
        return _PartResult(None, 0, [])
    problems = _row_problems(rows, members, size)
    records = len(scanned.members)
    scanned.members = []
    return _PartResult(scanned, records, problems)


_worker_db: dict[Path, sqlite3.Connection] = {}  # a worker's own connection, once opened


def _suspect_rows(part: _Part, members: dict[int, Member]) -> list[_Row]:
    """The rows of a part that do not hold what their records do, in `_check_file`'s
    order (records rows, then captures rows); the others, nearly all, are told apart as
    plain tuples. Read on the worker, on its own connection (one opened before the fork
    must not be used after it)."""
    db = _worker_db.get(part.db_path)
    if db is None:
        db = _worker_db[part.db_path] = connect(part.db_path, read_only=part.db_read_only)
    where = ["warc = ?"]
    params: list[Any] = [part.name]
    if part.start:
        where.append("offset >= ?")
        params.append(part.start)
    if part.stop is not None:
        where.append("offset < ?")
        params.append(part.stop)
    suspects = [
        row
        for row in db.execute(
            "SELECT type, warc, offset, length, record_id, record_sha256, payload_sha256, id"
            f" FROM records WHERE {' AND '.join(where)} ORDER BY offset",
            params,
        )
        if not _fits(row, members.get(row[2]))
    ]
    # Named (with their capture's URL and time) only now: a join for every row costs more
    # than reading the rows.
    rows = [
        _Row("records", *named)
        for row in suspects
        for named in db.execute(f"{_RECORD_ROWS} WHERE records.id = ?", [row[7]])
    ]
    return rows + [
        _Row("captures", *row) for row in part.captures if not _fits(row, members.get(row[2]))
    ]


def _fits(row: tuple[Any, ...], member: Member | None) -> bool:
    """Would `_row_mismatches` find nothing wrong with this row (a tuple in `_Row`'s field
    order, from `type`)?"""
    if member is None:
        return False
    if not member.whole:
        return True
    rec_type, _, _, length, record_id, record_sha256, payload_sha256 = row[:7]
    return (
        length == member.length
        and record_sha256 == member.sha256
        and record_id == member.record_id
        and rec_type == member.rec_type
        and not (
            payload_sha256
            and member.rec_type in ("response", "revisit")
            and member.payload_digest != f"sha256:{payload_sha256}"
        )
    )


def _scan(path: Path) -> FileScan:
    try:
        return scan(path)
    except OSError as exc:  # unreadable, or gone since it was listed
        result = FileScan(path)
        result.problems.append(WarcProblem("unreadable", 0, f"cannot read {path.name}: {exc}"))
        return result


# --- rows against records -----------------------------------------------------------------


# Rows are read as plain tuples, in _Row's field order: there may be millions.
def _capture_rows(db: Any) -> dict[str, list[tuple[Any, ...]]]:
    """`captures` rows that point at a record, by file, sorted by offset (stably: rows at
    one offset keep the table's order)."""
    by_file: dict[str, list[tuple[Any, ...]]] = {}
    for row in db.execute(
        "SELECT record_type, warc, offset, length, record_id, record_sha256, payload_sha256,"
        " url, id, started_at FROM captures WHERE warc IS NOT NULL"
    ):
        by_file.setdefault(row[1], []).append(row)
    for rows in by_file.values():
        rows.sort(key=_offset)
    return by_file


def _offset(row: tuple[Any, ...]) -> int:
    """A row's offset (its third field), or -1 where a hand edit left none."""
    return row[2] if isinstance(row[2], int) else -1


_RECORD_ROWS = (
    "SELECT records.type, records.warc, records.offset, records.length, records.record_id,"
    " records.record_sha256, records.payload_sha256, coalesce(captures.url, records.url),"
    " records.capture_id, captures.started_at"
    " FROM records LEFT JOIN captures ON captures.id = records.capture_id"
)


def _record_rows(db: Any, warc: str) -> list[_Row]:
    return [
        _Row("records", *r)
        for r in db.execute(
            f"{_RECORD_ROWS} WHERE records.warc = ? ORDER BY records.offset", [warc]
        )
    ]


def _rows_by_offset(rows: list[_Row]) -> dict[int, _Row]:
    by_offset: dict[int, _Row] = {}
    for row in rows:  # captures rows last: a capture names the URL better than its hop
        by_offset[row.offset] = row
    return by_offset


def _check_file(f: _File, result: FileScan, rows: list[_Row]) -> list[Problem]:
    """Problems of one file read once: its own, its records', and its rows'."""
    members = {m.offset: m for m in result.members}
    return _scan_problems(f, result, _rows_by_offset(rows)) + _row_problems(
        rows, members, result.size
    )


def _scan_problems(f: _File, result: FileScan, by_offset: dict[int, _Row]) -> list[Problem]:
    """The file's own problems and its records', named by the rows at their offsets."""
    problems: list[Problem] = []
    if f.closed is not None:
        if (result.size, result.sha256) != (f.closed["size"], f.closed["sha256"]):
            problems.append(
                Problem(
                    "file-changed",
                    f.name,
                    None,
                    None,
                    f"{f.name} has {result.size} bytes with sha256 {result.sha256}; warc_files "
                    f"says {f.closed['size']} bytes with sha256 {f.closed['sha256']}",
                )
            )
    for warc_problem in result.problems:
        row = by_offset.get(warc_problem.offset)
        problems.append(
            Problem(
                warc_problem.kind,
                f.name,
                warc_problem.offset,
                row.url if row else None,
                warc_problem.detail,
                row.capture_id if row else None,
                row.captured_at if row else None,
            )
        )
    return problems


def _row_problems(rows: list[_Row], members: dict[int, Member], size: int) -> list[Problem]:
    """Each row held against the member at its offset (`size`: the file's)."""
    problems: list[Problem] = []
    seen: set[tuple[str, int]] = set()
    for row in rows:
        for kind, detail in _row_mismatches(row, members.get(row.offset), size):
            if (kind, row.offset) not in seen:
                seen.add((kind, row.offset))
                problems.append(_row_problem(kind, row, detail))
    return problems


def _row_mismatches(row: _Row, member: Member | None, size: int) -> Iterable[tuple[str, str]]:
    where = f"{row.table} row of capture {row.capture_id}"
    if member is None:
        yield (
            "record-missing",
            (
                f"{where}: no record starts at offset {row.offset}"
                + (
                    f" (the file has {size} bytes)"
                    if isinstance(row.offset, int) and row.offset >= size
                    else ""
                )
            ),
        )
        return
    if not member.whole:
        return  # the damage is reported at this offset already, with this row's URL
    if row.length != member.length:
        yield "record-length", f"{where}: length {row.length}, the record has {member.length}"
    if row.record_sha256 != member.sha256:
        yield (
            "record-sha256",
            (f"{where}: record sha256 {row.record_sha256}, the bytes hash to {member.sha256}"),
        )
    if row.record_id != member.record_id:
        yield "record-id", f"{where}: record id {row.record_id}, the record is {member.record_id}"
    if row.type != member.rec_type:
        yield "record-type", f"{where}: type {row.type}, the record is a {member.rec_type}"
    if (
        row.payload_sha256
        and member.rec_type in ("response", "revisit")
        and (member.payload_digest != f"sha256:{row.payload_sha256}")
    ):
        yield (
            "payload-sha256",
            (
                f"{where}: payload sha256 {row.payload_sha256}, the record "
                f"says {member.payload_digest}"
            ),
        )


def _row_problem(kind: str, row: _Row, detail: str) -> Problem:
    return Problem(kind, row.warc, row.offset, row.url, detail, row.capture_id, row.captured_at)


# --- the log and the texts ----------------------------------------------------------------


def _chain_problems(db: Any, found: list[chain.ChainProblem]) -> list[Problem]:
    problems = []
    for item in found:
        url = warc = capture_id = captured_at = None
        row = _logged_row(db, item.table, item.row_id)
        if item.table == "captures" and row:
            url, capture_id, captured_at = row["url"], row["id"], row["started_at"]
        elif item.table == "checks" and row:
            url, capture_id, captured_at = row["url"], row["capture_id"], row["checked_at"]
        elif item.table == "warc_files":
            warc = item.row_id
        problems.append(Problem(item.kind, warc, None, url, item.detail, capture_id, captured_at))
    return problems


def _logged_row(db: Any, table: str | None, row_id: str | None) -> dict[str, Any] | None:
    if table not in ("captures", "checks") or row_id is None:
        return None
    rows = list(db.query(f"SELECT * FROM [{table}] WHERE id = ?", [row_id]))
    return rows[0] if rows else None


def _text_problems(db: Any) -> list[Problem]:
    """Texts are stored once under their sha256 (of the UTF-8 normalised text). Read once,
    as the bytes stored (in a UTF-8 database, the text's UTF-8: nothing to decode and
    encode again), with whether each is one find-text must find."""
    ((encoding,),) = db.execute("PRAGMA encoding").fetchall()
    stored = "CAST(text AS BLOB)" if encoding == "UTF-8" else "text"
    problems = []
    searchable = []
    for sha256, text, nonempty in db.execute(
        f"SELECT sha256, {stored}, text IS NOT NULL AND text != '' FROM texts"
    ):
        if isinstance(text, str):
            text = text.encode("utf-8", "surrogatepass")
        digest = hashlib.sha256(text or b"").hexdigest()
        if digest != sha256:
            problems.append(_edited_text(db, sha256, digest))
        if nonempty and sha256 is not None:
            searchable.append(sha256)
    indexed = {key for (key,) in db.execute("SELECT sha256 FROM text_search_keys")}
    if None in indexed:  # as SQL's NOT IN has it: nothing is "not in" a set holding NULL
        return problems
    for sha256 in searchable:
        if sha256 not in indexed:
            problems.append(
                Problem(
                    "text-unindexed",
                    None,
                    None,
                    None,
                    f"the text {sha256} is not in the search index: find-text cannot find it",
                )
            )
    return problems


def _edited_text(db: Any, sha256: str, digest: str) -> Problem:
    users = list(
        db.query(
            "SELECT id, url, started_at FROM captures WHERE text_sha256 = ? ORDER BY id LIMIT 1",
            [sha256],
        )
    )
    user = users[0] if users else {"id": None, "url": None, "started_at": None}
    return Problem(
        "text-sha256",
        None,
        None,
        user["url"],
        f"the text stored as {sha256} hashes to {digest}: edited (find-text "
        "and show read this text)",
        user["id"],
        user["started_at"],
    )


def render(result: Verification) -> str:
    """verify for a terminal: each problem with the file, offset, URL and capture it
    affects, then a summary with the chain head (worth noting down: it stands for the
    whole log)."""
    lines = []
    for p in result.problems:
        where = p.warc or ""
        if p.warc and p.offset is not None:
            where += f" @ {p.offset}"
        lines.append(f"{p.kind:<16} {where}".rstrip())
        if p.url:
            lines.append(f"    affects {p.url} (capture {p.capture_id}, {p.captured_at})")
        lines.append(f"    {p.detail}")
    read = (
        f"{result.files_checked} WARC file(s), {result.bytes_read:,} bytes, "
        f"{result.records_checked} records; {result.chain_entries} chain entries"
    )
    if result.ok:
        lines.append(f"OK: no problems ({read}).")
    else:
        lines.append(f"{len(result.problems)} problem(s) ({read}).")
    if result.in_progress:
        lines.append(f"Not checked, still being written: {', '.join(result.in_progress)}")
    for noted, seq in result.given_heads:
        if seq is not None:
            lines.append(f"Head {noted} is chain entry {seq}: the log up to it is still there.")
    lines.append(f"Chain head: {result.chain_head}")
    return "\n".join(lines) + "\n"
