"""One connection to the archive's database, SQLite or PostgreSQL, behind one interface: the
store's SQL is written once, in the spelling both engines read (`?` placeholders, names in
double quotes, `ON CONFLICT … DO NOTHING`, `RETURNING`), and what differs is said here."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol


class Cursor(Protocol):
    """What a statement gives back, as both drivers' cursors have it."""

    @property
    def rowcount(self) -> int: ...

    @property
    def description(self) -> Any: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A connection to the archive's database, SQLite's or PostgreSQL's."""

    # "sqlite" or "postgresql": the few statements that differ ask (textsearch, integrity).
    dialect: str
    # What the database is, for people: a path, or a URL without its password.
    where: str
    # Appended to a SELECT that reads a row the transaction will then change: PostgreSQL
    # locks it (two workers may write one row); SQLite's writer holds the whole database.
    for_update: str

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None: ...

    @property
    def in_transaction(self) -> bool: ...

    def begin(self) -> None:
        """Start a write transaction (waiting for another process's, and saying so)."""

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def insert(self, sql: str, params: Sequence[Any], key: str = "id") -> int:
        """Run an INSERT of one row; the new row's `key` (its integer primary key)."""

    def lock_chain(self) -> None:
        """Hold the hash chain for this transaction: appends of other processes wait until
        it ends, so the head read next stays the head until this one commits."""

    def pending_migrations(self) -> list[str]:
        """The names of the migrations this database lacks."""

    def migrate(self) -> None:
        """Apply them, in a transaction the caller holds."""

    def table_exists(self, name: str) -> bool: ...

    def close(self) -> None: ...


def is_server_url(where: str | Path) -> bool:
    """Whether `where` names a PostgreSQL server rather than an SQLite file."""
    return isinstance(where, str) and where.startswith(("postgresql://", "postgres://"))


def rows_as_dicts(cursor: Cursor) -> list[dict[str, Any]]:
    """Every row of `cursor`, as {column: value}."""
    columns = [_name(d) for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor]


def _name(description: Any) -> str:
    name = getattr(description, "name", None)
    return str(name if name is not None else description[0])


def open_connection(
    where: str | Path, *, read_only: bool = False, on_wait: Any = None
) -> Connection:
    """A connection to the database at `where`: an SQLite file's path, or a PostgreSQL URL.
    Neither migrates: `StoreBase` does."""
    if is_server_url(where):
        from preserve.store.postgres import PostgresConnection

        return PostgresConnection(str(where))
    from preserve.store.sqlite import SqliteConnection

    return SqliteConnection(Path(where), read_only=read_only, on_wait=on_wait)
