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
  `row-unlogged` (see `preserve.chain`); `text-sha256` (a stored text that no longer hashes
  to its key), `text-unindexed` (a text find-text cannot find).

`since` limits the reading to files closed at or after that time (and to files not closed
yet); every file is still looked for on disk and its size compared, and the chain and the
texts are always checked in full (they live in the database and are quick to read).
"""

from __future__ import annotations

import fcntl
import hashlib
import multiprocessing
import os
import socket
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from preserve import chain
from preserve.archive import Archive
from preserve.warc import OPEN_SUFFIX
from preserve.warccheck import FileScan, Member, WarcProblem, read_warcinfo, scan

# Reading files on several processes (forked, so they start at once) pays from about this
# much to read.
PARALLEL_BYTES = 32 << 20


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
        return {"kind": self.kind, "warc": self.warc, "offset": self.offset, "url": self.url,
                "detail": self.detail, "capture_id": self.capture_id,
                "captured_at": self.captured_at}


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

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "records_checked": self.records_checked,
                "files_checked": self.files_checked, "bytes_read": self.bytes_read,
                "chain": {"entries": self.chain_entries, "head": self.chain_head},
                "in_progress": list(self.in_progress),
                "problems": [p.to_json() for p in self.problems]}


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


def verify(archive: Archive, *, since: str | None = None, workers: int | None = None
           ) -> Verification:
    """Check everything; see the module docstring. Never raises for damage it finds."""
    store = archive.store
    db = store.db
    closed = {row["name"]: row for row in db.query("SELECT * FROM warc_files")}
    captures = _capture_rows(db)
    known = set(closed) | {r["warc"] for r in db.query("SELECT DISTINCT warc FROM records")} \
        | {row.warc for row in captures}
    known.discard(None)
    files, extra, in_progress = _locate(archive, known, closed, since)
    problems = [p for f in files for p in f.problems] + extra

    to_read = [f for f in files if f.read and f.path is not None]
    rows_by_file: dict[str, list[_Row]] = {}
    for row in captures:
        rows_by_file.setdefault(row.warc, []).append(row)
    for f in files:
        if f.path is None:  # missing: each capture in it is affected
            problems += [_row_problem("record-missing", row, f"its WARC file {f.name} is missing")
                         for row in rows_by_file.get(f.name, [])]
    records_checked = bytes_read = 0
    for f, result in zip(to_read, _scan_all([f.path for f in to_read if f.path], workers),
                         strict=True):
        records_checked += len(result.members)
        bytes_read += result.size
        rows = _record_rows(db, f.name) + rows_by_file.get(f.name, [])
        problems += _check_file(f, result, rows)
    problems.sort(key=lambda p: (p.warc or "", p.offset if p.offset is not None else -1))

    chain_problems, entries = chain.check(db)
    problems += _chain_problems(db, chain_problems)
    problems += _text_problems(db)
    head = chain.head(db)
    return Verification(tuple(problems), records_checked, len(to_read), bytes_read, entries,
                        head.entry_hash if head else None, tuple(in_progress))


# --- files --------------------------------------------------------------------------------


def _locate(archive: Archive, known: set[str], closed: dict[str, dict[str, Any]],
            since: str | None) -> tuple[list[_File], list[Problem], list[str]]:
    """Match the files the database knows with those on disk, by name and by the name each
    file's warcinfo gives itself (so a renamed file is found, and said to be renamed)."""
    disk = {p.name: p for p in sorted(archive.warcs.iterdir()) if p.is_file()} \
        if archive.warcs.is_dir() else {}
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
            f.problems.append(Problem("file-missing", name, None, None,
                                      f"{name} is not in {archive.warcs}"))
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
                f.problems.append(Problem(
                    "file-unfinished", name, None, None,
                    f"{on_disk} was never finished (its run ended without closing it: a "
                    "crash?); its complete records are still checked"))
        elif on_disk != name:
            f.problems.append(Problem("file-renamed", name, None, None,
                                      f"{name} is on disk as {on_disk}"))
        elif f.closed is None and infos[on_disk].get("preserve-run") not in live:
            f.problems.append(Problem(
                "file-unrecorded", name, None, None,
                f"{name} is closed on disk but not in warc_files, so its hash is in no "
                "log"))
        if not f.read and f.closed is not None and f.path.stat().st_size != f.closed["size"]:
            f.problems.append(Problem(
                "file-changed", name, None, None,
                f"{on_disk} has {f.path.stat().st_size} bytes, warc_files says "
                f"{f.closed['size']}"))
    extra: list[Problem] = []
    for name in sorted(set(disk) - used):
        if name.endswith(OPEN_SUFFIX) and _being_written(disk[name], infos[name], live):
            in_progress.append(name)
        elif name.endswith(OPEN_SUFFIX) and infos[name].get("preserve-run"):
            f = _File(name, path=disk[name])
            f.problems.append(Problem(
                "file-unfinished", name, None, None,
                f"{name} was never finished and no capture in the database uses it (its "
                "run crashed before storing any)"))
            files.append(f)
        else:
            extra.append(Problem("file-extra", name, None, None,
                                 f"{name} is in {archive.warcs} but unknown to the database"))
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
    for run in archive.store.db.query(
            "SELECT id, host, pid FROM runs WHERE ended_at IS NULL"):
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


def _scan_all(paths: list[Path], workers: int | None) -> Iterator[FileScan]:
    """Each file scanned once, in order: on several processes when there is much to read
    and this process has no other threads (forking copies locks held by threads), a few
    files ahead of the caller; one by one otherwise, or once a worker dies."""
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    total = sum(p.stat().st_size for p in paths if p.exists())
    if (workers <= 1 or len(paths) <= 1 or total < PARALLEL_BYTES
            or threading.active_count() > 1):
        yield from map(_scan, paths)
        return
    done = 0
    try:
        with ProcessPoolExecutor(max_workers=workers,
                                 mp_context=multiprocessing.get_context("fork")) as pool:
            ahead: deque[Future[FileScan]] = deque()
            for path in paths:
                ahead.append(pool.submit(_scan, path))
                if len(ahead) > 2 * workers:
                    yield ahead.popleft().result()
                    done += 1
            while ahead:
                yield ahead.popleft().result()
                done += 1
    except BrokenProcessPool:  # a worker was killed (out of memory?): carry on here
        yield from map(_scan, paths[done:])


def _scan(path: Path) -> FileScan:
    try:
        return scan(path)
    except OSError as exc:  # unreadable, or gone since it was listed
        result = FileScan(path)
        result.problems.append(WarcProblem("unreadable", 0, f"cannot read {path.name}: {exc}"))
        return result


# --- rows against records -----------------------------------------------------------------


# Rows are read as plain tuples, in _Row's field order: there may be millions.
def _capture_rows(db: Any) -> list[_Row]:
    return [_Row("captures", *r) for r in db.execute(
        "SELECT record_type, warc, offset, length, record_id, record_sha256, payload_sha256,"
        " url, id, started_at FROM captures WHERE warc IS NOT NULL")]


def _record_rows(db: Any, warc: str) -> list[_Row]:
    return [_Row("records", *r) for r in db.execute(
        "SELECT records.type, records.warc, records.offset, records.length, records.record_id,"
        " records.record_sha256, records.payload_sha256, coalesce(captures.url, records.url),"
        " records.capture_id, captures.started_at"
        " FROM records LEFT JOIN captures ON captures.id = records.capture_id"
        " WHERE records.warc = ? ORDER BY records.offset", [warc])]


def _check_file(f: _File, result: FileScan, rows: list[_Row]) -> list[Problem]:
    """Problems of one file read once: its own, its records', and its rows'."""
    problems: list[Problem] = []
    by_offset: dict[int, _Row] = {}
    for row in rows:  # captures rows last: a capture names the URL better than its hop
        by_offset[row.offset] = row
    if f.closed is not None:
        if (result.size, result.sha256) != (f.closed["size"], f.closed["sha256"]):
            problems.append(Problem(
                "file-changed", f.name, None, None,
                f"{f.name} has {result.size} bytes with sha256 {result.sha256}; warc_files "
                f"says {f.closed['size']} bytes with sha256 {f.closed['sha256']}"))
    for warc_problem in result.problems:
        row = by_offset.get(warc_problem.offset)
        problems.append(Problem(
            warc_problem.kind, f.name, warc_problem.offset, row.url if row else None,
            warc_problem.detail, row.capture_id if row else None,
            row.captured_at if row else None))
    members = {m.offset: m for m in result.members}
    seen: set[tuple[str, int]] = set()
    for row in rows:
        for kind, detail in _row_mismatches(row, members.get(row.offset), result.size):
            if (kind, row.offset) not in seen:
                seen.add((kind, row.offset))
                problems.append(_row_problem(kind, row, detail))
    return problems


def _row_mismatches(row: _Row, member: Member | None, size: int
                    ) -> Iterable[tuple[str, str]]:
    where = f"{row.table} row of capture {row.capture_id}"
    if member is None:
        yield "record-missing", (f"{where}: no record starts at offset {row.offset}"
                                 + (f" (the file has {size} bytes)" if row.offset >= size
                                    else ""))
        return
    if not member.whole:
        return  # the damage is reported at this offset already, with this row's URL
    if row.length != member.length:
        yield "record-length", f"{where}: length {row.length}, the record has {member.length}"
    if row.record_sha256 != member.sha256:
        yield "record-sha256", (f"{where}: record sha256 {row.record_sha256}, the bytes "
                                f"hash to {member.sha256}")
    if row.record_id != member.record_id:
        yield "record-id", f"{where}: record id {row.record_id}, the record is {member.record_id}"
    if row.type != member.rec_type:
        yield "record-type", f"{where}: type {row.type}, the record is a {member.rec_type}"
    if row.payload_sha256 and member.rec_type in ("response", "revisit") and (
            member.payload_digest != f"sha256:{row.payload_sha256}"):
        yield "payload-sha256", (f"{where}: payload sha256 {row.payload_sha256}, the record "
                                 f"says {member.payload_digest}")


def _row_problem(kind: str, row: _Row, detail: str) -> Problem:
    return Problem(kind, row.warc, row.offset, row.url, detail, row.capture_id,
                   row.captured_at)


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
        problems.append(Problem(item.kind, warc, None, url, item.detail, capture_id,
                                captured_at))
    return problems


def _logged_row(db: Any, table: str | None, row_id: str | None) -> dict[str, Any] | None:
    if table not in ("captures", "checks") or row_id is None:
        return None
    rows = list(db.query(f"SELECT * FROM [{table}] WHERE id = ?", [row_id]))
    return rows[0] if rows else None


def _text_problems(db: Any) -> list[Problem]:
    """Texts are stored once under their sha256 (of the UTF-8 normalised text)."""
    problems = []
    for row in db.query("SELECT sha256, text FROM texts"):
        text = row["text"] or ""
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        if digest != row["sha256"]:
            users = list(db.query("SELECT id, url, started_at FROM captures"
                                  " WHERE text_sha256 = ? ORDER BY id LIMIT 1", [row["sha256"]]))
            user = users[0] if users else {"id": None, "url": None, "started_at": None}
            problems.append(Problem(
                "text-sha256", None, None, user["url"],
                f"the text stored as {row['sha256']} hashes to {digest}: edited (find-text "
                "and show read this text)", user["id"], user["started_at"]))
    for (sha256,) in db.execute(
            "SELECT sha256 FROM texts WHERE text IS NOT NULL AND text != '' AND sha256 NOT IN"
            " (SELECT sha256 FROM text_search_keys)"):
        problems.append(Problem("text-unindexed", None, None, None,
                                f"the text {sha256} is not in the search index: find-text "
                                "cannot find it"))
    return problems



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
    read = (f"{result.files_checked} WARC file(s), {result.bytes_read:,} bytes, "
            f"{result.records_checked} records; {result.chain_entries} chain entries")
    if result.ok:
        lines.append(f"OK: no problems ({read}).")
    else:
        lines.append(f"{len(result.problems)} problem(s) ({read}).")
    if result.in_progress:
        lines.append(f"Not checked, still being written: {', '.join(result.in_progress)}")
    lines.append(f"Chain head: {result.chain_head}")
    return "\n".join(lines) + "\n"
