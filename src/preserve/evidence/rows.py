"""Database rows against the WARC records they point at, for `verify`.

Every `records` and `captures` row must name a whole record at its offset, of its length,
with its sha256, record id, type and payload digest."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from preserve.evidence.files import WarcFile
from preserve.evidence.problems import Problem
from preserve.store import integrity
from preserve.store.connection import Connection
from preserve.store.integrity import Pointer
from preserve.warc.check import Member
from preserve.warc.scan import FileScan


@dataclass(slots=True)
class Row:
    """A `records` or `captures` row pointing at a record, with the capture it belongs to:
    its table, then `integrity.POINTER_FIELDS` (`Row(table, *pointer)`)."""

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


# Rows are read as plain tuples (`integrity.Pointer`, in Row's field order from `type`):
# there may be millions.
CaptureRows = dict[str, list[Pointer]]  # by file, sorted by offset


def capture_rows(conn: Connection) -> CaptureRows:
    """`captures` rows that point at a record, by file, sorted by offset (stably: rows at
    one offset keep the table's order)."""
    by_file: CaptureRows = {}
    for row in integrity.capture_pointers(conn):
        by_file.setdefault(row[1], []).append(row)
    for rows in by_file.values():
        rows.sort(key=row_offset)
    return by_file


def row_offset(row: Pointer) -> int:
    """A row's offset (its third field), or -1 where a hand edit left none."""
    return row[2] if isinstance(row[2], int) else -1


def file_rows(conn: Connection, warc: str, captures: CaptureRows) -> list[Row]:
    """Every row pointing into the file `warc`: its records rows, then its captures rows."""
    records = [Row("records", *r) for r in integrity.record_pointers(conn, warc)]
    return records + [Row("captures", *r) for r in captures.get(warc, [])]


def rows_by_offset(rows: list[Row]) -> dict[int, Row]:
    """The row that names the record at each offset, for problems found there."""
    by_offset: dict[int, Row] = {}
    for row in rows:  # captures rows last: a capture names the URL better than its hop
        by_offset[row.offset] = row
    return by_offset


def check_file(f: WarcFile, result: FileScan, rows: list[Row]) -> list[Problem]:
    """Problems of one file read once: its own, its records', and its rows'."""
    members = {m.offset: m for m in result.members}
    return scan_problems(f, result, rows_by_offset(rows)) + row_problems(rows, members, result.size)


def scan_problems(f: WarcFile, result: FileScan, by_offset: dict[int, Row]) -> list[Problem]:
    """The file's own problems and its records', named by the rows at their offsets."""
    problems: list[Problem] = []
    if f.closed is not None:
        if (result.size, result.sha256) != (f.closed.size, f.closed.sha256):
            problems.append(
                Problem(
                    "file-changed",
                    f.name,
                    None,
                    None,
                    f"{f.name} has {result.size} bytes with sha256 {result.sha256}; warc_files "
                    f"says {f.closed.size} bytes with sha256 {f.closed.sha256}",
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


def row_problems(rows: list[Row], members: dict[int, Member], size: int) -> list[Problem]:
    """Each row held against the member at its offset (`size`: the file's)."""
    problems: list[Problem] = []
    seen: set[tuple[str, int]] = set()
    for row in rows:
        for kind, detail in _mismatches(row, members.get(row.offset), size):
            if (kind, row.offset) not in seen:
                seen.add((kind, row.offset))
                problems.append(row_problem(kind, row, detail))
    return problems


def fits(row: Pointer, member: Member | None) -> bool:
    """Would `_mismatches` find nothing wrong with this row (a tuple in `Row`'s field
    order, from `type`)? Nearly every row fits: told apart without making a `Row`."""
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
            and member.rec_type in ("response", "revisit", "resource")
            and member.payload_digest != f"sha256:{payload_sha256}"
        )
    )


def _mismatches(row: Row, member: Member | None, size: int) -> Iterable[tuple[str, str]]:
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
        and member.rec_type in ("response", "revisit", "resource")
        and (member.payload_digest != f"sha256:{row.payload_sha256}")
    ):
        yield (
            "payload-sha256",
            (
                f"{where}: payload sha256 {row.payload_sha256}, the record "
                f"says {member.payload_digest}"
            ),
        )


def row_problem(kind: str, row: Row, detail: str) -> Problem:
    """A problem with a row, where it points, naming its capture."""
    return Problem(kind, row.warc, row.offset, row.url, detail, row.capture_id, row.captured_at)
