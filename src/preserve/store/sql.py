"""Rows as dicts, read straight from sqlite3. sqlite-utils' `Database.query` guards each
statement with a savepoint (two more statements a query, each a trip through the GIL), which
on a capture's hot path cost more than the queries themselves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database


def select(db: Database, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Every row `sql` returns, as {column: value}."""
    cursor = db.conn.execute(sql, params)
    columns = [description[0] for description in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor]
