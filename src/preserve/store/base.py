"""The connection every table family of the store works on: opening the database (SQLite in
WAL mode, or PostgreSQL; migrated on open, so that a fresh archive and an old one behave the
same), transactions that wait for another process's write and say so, and plain INSERTs.

The hash chain is appended as a transaction commits, after whatever must be durable first
(the WARC records its rows point at: `before_commit`), under the chain's lock: so a
transaction holds that lock only for its last statements, whichever engine serialises it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

from preserve.errors import ArchiveError
from preserve.store import chain
from preserve.store.connection import Connection, is_server_url, open_connection, rows_as_dicts


def insert_sql(table: str, columns: Sequence[str]) -> str:
    """A plain INSERT: sqlite-utils' insert reads the table's schema on every call, which was
    half of the time a capture spent in the database."""
    names = ", ".join(f'"{c}"' for c in columns)
    return f'INSERT INTO "{table}" ({names}) VALUES ({", ".join("?" * len(columns))})'


Row = TypeVar("Row")


_SELECT_LISTS: dict[tuple[str, str], str] = {}


def columns_of(row_type: type[Any], alias: str = "") -> str:
    """The SELECT list that reads `row_type`'s fields, in their order (`alias.` before each
    when given): `row_type(*row)` then builds the dataclass from each row."""
    key = (row_type.__qualname__, alias)
    if (found := _SELECT_LISTS.get(key)) is None:
        prefix = f"{alias}." if alias else ""
        found = ", ".join(f'{prefix}"{name}"' for name in row_type.__dataclass_fields__)
        _SELECT_LISTS[key] = found
    return found


class StoreBase:
    """The connection every table family works on: opening, migrating, transactions."""

    def __init__(
        self,
        where: Path | str,
        *,
        on_wait: Callable[[], None] | None = None,
        read_only: bool = False,
    ) -> None:
        """`where`: the SQLite file, or a PostgreSQL URL. `read_only`: open it without
        writing anything (see `sqlite.connect`); every write then fails, and a database
        that an earlier preserve made is refused (it cannot be brought up to date)."""
        self.where = where
        self.path = Path(where) if not is_server_url(where) else None
        self.read_only = read_only
        self.on_wait = on_wait
        # Run just before the outermost transaction commits: what makes the bytes its rows
        # point at durable (an fsync, an upload), so no row ever points at bytes that are not.
        self.before_commit: list[Callable[[], None]] = []
        # Run once, after the next commit (a stored file's spool copy deleted, say).
        self.after_commit: list[Callable[[], None]] = []
        self._unlogged: list[tuple[str, Any]] = []  # rows to log in the chain at commit
        self.conn: Connection = open_connection(where, read_only=read_only, on_wait=on_wait)
        try:
            if self.conn.pending_migrations():
                if read_only:
                    raise ArchiveError(
                        f"{self.conn.where} was made by an earlier version of preserve and "
                        "cannot be brought up to date where it is read-only: open it once "
                        "where it can be written"
                    )
                # Under the write lock: two processes opening a new archive at once would
                # otherwise both create its tables, and one fail.
                with self._write():
                    self.conn.migrate()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise cast(Any, self.conn).open_error(exc) from exc
        except BaseException:
            self.conn.close()
            raise

    @property
    def dialect(self) -> str:
        return self.conn.dialect

    @property
    def db(self) -> Any:
        """SQLite's sqlite-utils `Database` over the connection (scripts and tests that
        read the file with its helpers); a database server has none."""
        found = getattr(self.conn, "db", None)
        if found is None:
            raise ArchiveError(f"{self.conn.where} is not an SQLite database")
        return found

    def close(self) -> None:
        self.conn.close()

    def reconnect(self) -> None:
        """Open the connection again (a worker's, after the server was restarted)."""
        self.conn.close()
        self.conn = open_connection(self.where, read_only=self.read_only, on_wait=self.on_wait)

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction; a nested one joins it. Before it commits, the
        `before_commit` hooks run, then the rows it wrote are logged in the hash chain.

        A nested write is no savepoint: whoever opened the transaction rolls all of it back
        when anything in it fails (nothing goes on after a failed write), so a savepoint
        would be two more statements a write, a fifth of those a capture makes."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.begin()
        try:
            yield
            for hook in self.before_commit:
                hook()
            self._log_pending()
            self.conn.commit()
        except BaseException:
            self._unlogged.clear()
            self.after_commit.clear()
            self._rollback()
            raise
        done, self.after_commit = self.after_commit, []
        for action in done:
            action()

    def _log(self, table: str, key: Any) -> None:
        """Log row `key` of `table` in the hash chain when the transaction commits."""
        self._unlogged.append((table, key))

    def _log_pending(self) -> chain.Entry | None:
        """Append the rows written since the last append to the chain, under its lock; the
        last entry appended."""
        entry = None
        if self._unlogged:
            self.conn.lock_chain()
            for table, key in self._unlogged:
                entry = chain.append(self.conn, table, key, after=entry)
            self._unlogged.clear()
        return entry

    def _rollback(self) -> None:
        self.conn.rollback()

    def transaction(self) -> AbstractContextManager[None]:
        """One write transaction around many writes (each joins it): one commit for a batch
        of captures instead of one per capture."""
        return self._write()

    def _insert(self, table: str, values: dict[str, Any]) -> int:
        """A plain INSERT (sqlite-utils reads the schema first, on every call)."""
        return self.conn.insert(insert_sql(table, list(values)), list(values.values()))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Every row of one statement, as {column: value}: for scripts and tests that look
        inside (what preserve itself reads is a method of the store)."""
        return self._dicts(sql, params)

    def _dicts(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        return rows_as_dicts(self.conn.execute(sql, params))

    def _rows(self, row_type: type[Row], sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """`sql`, whose `{columns}` is the SELECT list of `row_type`, as `row_type` rows."""
        cursor = self.conn.execute(sql.format(columns=columns_of(row_type)), params)
        return [row_type(*row) for row in cursor]

    def _row(self, row_type: type[Row], sql: str, params: Sequence[Any] = ()) -> Row | None:
        rows = self._rows(row_type, sql, params)
        return rows[0] if rows else None

    def _rows_in(
        self,
        row_type: type[Row],
        sql: str,
        values: Sequence[Any],
        *,
        extra: Sequence[Any] = (),
        chunk: int = 500,
    ) -> list[Row]:
        """`_rows` with one `IN ({IN})` over `values` (then the `extra` parameters), run in
        chunks: SQLite caps the parameters of a statement."""
        unique = list(dict.fromkeys(values))
        rows: list[Row] = []
        for start in range(0, len(unique), chunk):
            part = unique[start : start + chunk]
            statement = sql.format(columns=columns_of(row_type), IN=", ".join("?" * len(part)))
            rows += [row_type(*row) for row in self.conn.execute(statement, [*part, *extra])]
        return rows

    def _in(self, sql: str, values: Sequence[Any], chunk: int = 500) -> list[dict[str, Any]]:
        """Run `sql` (with one `IN ({})`) over `values` in chunks: SQLite caps parameters."""
        unique = list(dict.fromkeys(values))
        rows: list[dict[str, Any]] = []
        for start in range(0, len(unique), chunk):
            part = unique[start : start + chunk]
            rows.extend(self._dicts(sql.format(", ".join("?" * len(part))), part))
        return rows
