"""Copying a whole database into an empty one (`preserve migrate`): every table's rows as
they are stored, keys and chain entries included, in an order its foreign keys accept; then
PostgreSQL's key sequences moved past the copied keys, and find-text's index made anew (each
engine indexes its own way)."""

from __future__ import annotations

from collections.abc import Callable

from preserve.errors import UsageError
from preserve.store import textsearch
from preserve.store.base import StoreBase

# Parents before children; captures by id (a capture's parent has a smaller id).
TABLES = (
    ("runs", "id"),
    ("warc_files", "name"),
    ("texts", "sha256"),
    ("visible_texts", "sha256"),
    ("targets", "url"),
    ("captures", "id"),
    ("records", "id"),
    ("citations", "id"),
    ("checks", "id"),
    ("chain", "seq"),
    ("recoveries", "id"),
    ("exports", "id"),
    ("jobs", "id"),
)
BATCH = 2000  # rows read and written at a time


def columns(store: StoreBase, table: str) -> list[str]:
    """The columns of `table`, in the order the database has them."""
    cursor = store.conn.execute(f'SELECT * FROM "{table}" LIMIT 0')
    return [getattr(d, "name", None) or d[0] for d in cursor.description]


def copy_database(
    source: StoreBase, target: StoreBase, on_table: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Copy every row of `source` into `target`, which must hold none; how many rows of
    each table. All in one transaction of the target: a copy that fails leaves it empty."""
    for table, _ in TABLES:
        if target.conn.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone() is not None:
            raise UsageError(f"the database {target.conn.where} is not empty ({table} has rows)")
    copied: dict[str, int] = {}
    with target.transaction():
        for table, key in TABLES:
            names = columns(source, table)
            wanted = [n for n in names if n in set(columns(target, table))]
            listed = ", ".join(f'"{n}"' for n in wanted)
            insert = f'INSERT INTO "{table}" ({listed}) VALUES ({", ".join("?" * len(wanted))})'
            rows = source.conn.execute(f'SELECT {listed} FROM "{table}" ORDER BY "{key}"')
            count = 0
            while batch := rows.fetchmany(BATCH):
                target.conn.executemany(insert, batch)
                count += len(batch)
            copied[table] = count
            if on_table is not None:
                on_table(table, count)
        for sha256, text in list(target.conn.execute("SELECT sha256, text FROM texts")):
            if text is not None:
                textsearch.index_text(target.conn, sha256, text)
        if target.dialect == "postgresql":
            for table, key in TABLES:
                if key in ("id", "seq"):
                    target.conn.execute(
                        f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{key}'),"
                        f' coalesce((SELECT max("{key}") FROM "{table}"), 0) + 1, false)'
                    )
    return copied
