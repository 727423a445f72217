"""The reads `verify` makes: the rows that point at WARC records, the stored texts, and the
captures a damaged row or text affects.

Functions of a connection rather than methods of the store: verify's workers read on their
own connection (`connection.open_connection`), since one opened before a fork must not be
used after it.
The rows that point at records may number millions, so they are read as plain tuples, in
the order `POINTER_FIELDS` names (what `preserve.evidence.rows.Row` holds after its table):
making an object of each would cost more than reading them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from preserve.store.connection import Connection
from preserve.store.rows import AffectedCapture

# The fields of a row pointing at a record, in the order the tuples below hold them.
POINTER_FIELDS = (
    "type",
    "warc",
    "offset",
    "length",
    "record_id",
    "record_sha256",
    "payload_sha256",
    "url",
    "capture_id",
    "captured_at",
)
Pointer = tuple[Any, ...]  # POINTER_FIELDS' values (or their first seven, then an id)

_RECORD_POINTERS = (
    'SELECT records.type, records.warc, records."offset", records.length, records.record_id,'
    " records.record_sha256, records.payload_sha256, coalesce(captures.url, records.url),"
    " records.capture_id, captures.started_at"
    " FROM records LEFT JOIN captures ON captures.id = records.capture_id"
)


def named_files(conn: Connection) -> set[str]:
    """The WARC files that `records` and `captures` rows name."""
    found = {name for (name,) in conn.execute("SELECT DISTINCT warc FROM records")}
    found |= {name for (name,) in conn.execute("SELECT DISTINCT warc FROM captures")}
    found.discard(None)
    return found


def capture_pointers(conn: Connection) -> Iterable[Pointer]:
    """Every `captures` row that points at a record, as a `Pointer`, in the table's order."""
    return conn.execute(
        'SELECT record_type, warc, "offset", length, record_id, record_sha256, payload_sha256,'
        " url, id, started_at FROM captures WHERE warc IS NOT NULL"
    )


def record_pointers(conn: Connection, warc: str) -> Iterable[Pointer]:
    """The `records` rows of the file `warc`, by offset, each as a `Pointer` named with its
    capture's URL and time."""
    return conn.execute(
        f'{_RECORD_POINTERS} WHERE records.warc = ? ORDER BY records."offset"', [warc]
    )


def record_pointer(conn: Connection, row_id: int) -> Pointer | None:
    """The `records` row `row_id` (its `id`) as a `Pointer`, named as `record_pointers`
    names them."""
    found: Pointer | None = conn.execute(
        f"{_RECORD_POINTERS} WHERE records.id = ?", [row_id]
    ).fetchone()
    return found


def record_starts(conn: Connection, warc: str, size: int) -> list[tuple[int, str]]:
    """Where the `records` rows say the records of file `warc` start, and their types, in
    order: only whole-number offsets inside the file (0 < offset < `size`)."""
    # SQLite stores whatever a hand edit put in a column; PostgreSQL's is typed.
    integer = "typeof(\"offset\") = 'integer'" if conn.dialect == "sqlite" else "TRUE"
    found = conn.execute(
        f'SELECT "offset", type FROM records WHERE warc = ? AND {integer}'
        ' AND "offset" > 0 AND "offset" < ? ORDER BY "offset"',
        [warc, size],
    ).fetchall()
    return [(int(offset), kind) for offset, kind in found]


def records_between(conn: Connection, warc: str, start: int, stop: int | None) -> Iterable[Pointer]:
    """The `records` rows of file `warc` at offsets in [`start`, `stop`) (from the file's
    start when `start` is 0, to its end when `stop` is None), by offset: the first seven
    `POINTER_FIELDS`, then the row's `id` (for `record_pointer`). Not named: a join for
    every row costs more than reading the rows, and nearly all of them are fine."""
    where = ["warc = ?"]
    params: list[Any] = [warc]
    if start:
        where.append('"offset" >= ?')
        params.append(start)
    if stop is not None:
        where.append('"offset" < ?')
        params.append(stop)
    return conn.execute(
        'SELECT type, warc, "offset", length, record_id, record_sha256, payload_sha256, id'
        f' FROM records WHERE {" AND ".join(where)} ORDER BY "offset"',
        params,
    )


def stored_texts(conn: Connection) -> Iterable[tuple[Any, Any, Any]]:
    """Every stored text: (its key, the sha256 it is stored under; the text as stored: in a
    UTF-8 database its UTF-8 bytes, nothing decoded, else str; whether it is one find-text
    must find: not null and not empty)."""
    stored = "text"
    if conn.dialect == "sqlite":
        ((encoding,),) = conn.execute("PRAGMA encoding").fetchall()
        stored = "CAST(text AS BLOB)" if encoding == "UTF-8" else "text"
    return conn.execute(f"SELECT sha256, {stored}, text IS NOT NULL AND text != '' FROM texts")


def search_keys(conn: Connection) -> set[Any]:
    """The keys of the texts find-text's index holds (None among them if a row has none)."""
    return {key for (key,) in conn.execute("SELECT sha256 FROM text_search_keys")}


def logged_capture(conn: Connection, table: str, row_id: str) -> AffectedCapture | None:
    """The capture a logged row of `captures` or `checks` (its `id`, as text) is about, with
    the row's time; None for another table, or a row that is gone."""
    if table == "captures":
        sql = "SELECT id, url, started_at FROM captures WHERE id = ?"
    elif table == "checks":
        sql = "SELECT capture_id, url, checked_at FROM checks WHERE id = ?"
    else:
        return None
    found = conn.execute(sql, [row_id]).fetchone()
    return AffectedCapture(*found) if found else None


def first_capture_with_text(conn: Connection, sha256: str) -> AffectedCapture | None:
    """The first capture whose main text is stored under `sha256`."""
    found = conn.execute(
        "SELECT id, url, started_at FROM captures WHERE text_sha256 = ? ORDER BY id LIMIT 1",
        [sha256],
    ).fetchone()
    return AffectedCapture(*found) if found else None
