"""Reading the WARC files for `verify`: each once, and held against its rows.

Either here, in one pass, or on worker processes in parts that are joined afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from preserve.evidence.files import WarcFile
from preserve.evidence.parts import (
    Part,
    PartResult,
    between,
    check_part,
    cuts,
    known_offsets,
    part_size,
)
from preserve.evidence.pool import Pool
from preserve.evidence.problems import Problem
from preserve.evidence.rows import CaptureRows, check_file, file_rows, rows_by_offset, scan_problems
from preserve.store.connection import Connection
from preserve.store.database import Store
from preserve.warc.check import WarcProblem
from preserve.warc.scan import FileScan, join, scan

Checked = tuple[list[Problem], int, int]  # a file's problems, records read, bytes read


def checked_files(
    db: Connection,
    store: Store,
    files: list[WarcFile],
    captures: CaptureRows,
    pool: Pool | None,
    digests: Iterator[tuple[int, str] | None] | None,
) -> Iterator[Checked]:
    """Each file read once and held against its rows, in order. With a pool (and the
    files' `digests` coming from it), the reading starts before this returns: the caller
    can do other work meanwhile."""
    if pool is None or digests is None:
        return (_check_here(db, f, captures) for f in files)
    known = {f.name: known_offsets(db, f) for f in files}
    target = part_size(files, known, pool.count)
    plans = [(f, cuts(known[f.name], target)) for f in files]
    parts = [
        Part(
            f.name,
            f.path,
            store.where,
            store.read_only,
            start,
            stop,
            between(captures.get(f.name, []), start, stop),
        )
        for f, starts in plans
        if f.path
        for start, stop in zip(starts, [*starts[1:], None], strict=True)
    ]
    # All at once: results are small (problems, not members), and the workers must not
    # wait for this process, busy with the chain meanwhile, to take results.
    results = pool.map(check_part, parts, ahead=len(parts))
    return (
        _check_joined(db, f, next(digests), [next(results) for _ in starts], captures)
        for f, starts in plans
    )


def _check_here(db: Connection, f: WarcFile, captures: CaptureRows) -> Checked:
    """A file read in one pass in this process."""
    assert f.path is not None
    result = _scan(f.path)
    return check_file(f, result, file_rows(db, f.name, captures)), len(result.members), result.size


def _check_joined(
    db: Connection,
    f: WarcFile,
    digest: tuple[int, str] | None,
    checked: list[PartResult],
    captures: CaptureRows,
) -> Checked:
    """A file read in parts on the workers, with its size and sha256 (None: unreadable)."""
    scans = [part.scan for part in checked if part.scan is not None]
    joined = None
    if digest is not None and len(scans) == len(checked):
        assert f.path is not None
        joined = join(f.path, scans, *digest)
    if joined is None:  # damage across the parts' bounds, or a part unreadable
        return _check_here(db, f, captures)
    by_offset = rows_by_offset(file_rows(db, f.name, captures)) if joined.problems else {}
    problems = scan_problems(f, joined, by_offset)
    problems += [problem for part in checked for problem in part.row_problems]
    return problems, sum(part.records for part in checked), joined.size


def _scan(path: Path) -> FileScan:
    try:
        return scan(path)
    except OSError as exc:  # unreadable, or gone since it was listed
        result = FileScan(path)
        result.problems.append(WarcProblem("unreadable", 0, f"cannot read {path.name}: {exc}"))
        return result
