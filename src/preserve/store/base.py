"""The connection every table family of the store works on: opening the database (WAL mode,
migrated on open, so that a fresh archive and an old one behave the same), transactions
that wait for another process's write and say so, and plain INSERTs."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from preserve.errors import ArchiveBusy, ArchiveError
from preserve.store.migrations import migrations

BUSY_TIMEOUT_MS = 60_000
WAIT_NOTICE_MS = 2_000  # a write that waits longer for another process says so


def insert_sql(table: str, columns: Sequence[str]) -> str:
    """A plain INSERT: sqlite-utils' insert reads the table's schema on every call, which was
    half of the time a capture spent in the database."""
    names = ", ".join(f"[{c}]" for c in columns)
    return f"INSERT INTO [{table}] ({names}) VALUES ({', '.join('?' * len(columns))})"


def connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection to the database at `path`. `read_only`: for a database in a folder that
    cannot be written (read-only media, a read-only mount). SQLite reads a WAL database
    there through its -wal and -shm files when they exist (a copy taken while a run was
    writing has them, and the -wal may hold its latest transactions); without a -wal, all
    of it is in the file, which is opened as immutable (no locks, no -shm to create)."""
    if not read_only:
        return sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    wal = path.with_name(path.name + "-wal").exists()
    query = "mode=ro" if wal else "mode=ro&immutable=1"
    return sqlite3.connect(
        f"{path.resolve().as_uri()}?{query}",
        uri=True,
        timeout=BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,
    )


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The rowid the INSERT just run made."""
    if cursor.lastrowid is None:
        raise ArchiveError("the database made no row for an INSERT")
    return cursor.lastrowid


Row = TypeVar("Row")


_SELECT_LISTS: dict[tuple[str, str], str] = {}


def columns_of(row_type: type[Any], alias: str = "") -> str:
    """The SELECT list that reads `row_type`'s fields, in their order (`alias.` before each
    when given): `row_type(*row)` then builds the dataclass from each row."""
    key = (row_type.__qualname__, alias)
    if (found := _SELECT_LISTS.get(key)) is None:
        prefix = f"{alias}." if alias else ""
        found = ", ".join(f"{prefix}[{name}]" for name in row_type.__dataclass_fields__)
        _SELECT_LISTS[key] = found
    return found


class StoreBase:
    """The connection every table family works on: opening, migrating, transactions."""

    def __init__(
        self,
        path: Path,
        *,
        on_wait: Callable[[], None] | None = None,
        read_only: bool = False,
    ) -> None:
        """`read_only`: open it without writing anything (see `connect`); every write then
        fails, and a database that an earlier preserve made is refused (it cannot be brought
        up to date)."""
        self.path = path
        self.on_wait = on_wait  # told once per transaction that must wait for another process
        self.read_only = read_only
        try:
            conn = connect(path, read_only=read_only)
            # No sqlite-utils plugins: whatever else happens to be installed has no business
            # in the connection to an evidence database (they may add SQL functions).
            self.db = Database(conn, execute_plugins=False)
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not read_only:
                self._enable_wal()
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA synchronous = NORMAL")
            if migrations.pending(self.db):
                if read_only:
                    raise ArchiveError(
                        f"{path} was made by an earlier version of preserve and cannot be "
                        "brought up to date where it is read-only: open it once where it can "
                        "be written"
                    )
                # Under the write lock: two processes opening a new archive at once would
                # otherwise both create its tables, and one fail.
                with self._write():
                    migrations.apply(self.db)
        except sqlite3.DatabaseError as exc:
            shm = path.with_name(path.name + "-shm")
            if read_only and path.with_name(path.name + "-wal").exists() and not shm.exists():
                raise ArchiveError(
                    f"cannot open the database {path}: its -wal file holds transactions that "
                    f"SQLite reads only with {shm.name}, which is missing and cannot be made "
                    "in a read-only folder; copy the archive where it can be written"
                ) from exc
            raise ArchiveError(f"cannot open the database {path}: {exc}") from exc

    def _enable_wal(self) -> None:
        """WAL mode, waiting out another process that is switching it too: SQLite answers
        "database is locked" at once there, without its busy handler (two runs creating one
        new archive at the same moment)."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        pause = 0.005
        while True:
            try:
                (mode,) = self.db.execute("PRAGMA journal_mode").fetchone()
                if str(mode).lower() != "wal":
                    self.db.execute("PRAGMA journal_mode=wal")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def _write(self) -> Iterator[None]:
        """One write transaction; a nested one joins it. BEGIN IMMEDIATE takes the write
        lock at once: after a plain (deferred) BEGIN, sqlite-utils reads the schema before
        its INSERT, and if another process commits in between, SQLite cannot upgrade that
        read snapshot and fails at once with "database is locked" (SQLITE_BUSY_SNAPSHOT)
        instead of waiting out the busy timeout.

        A nested write is no savepoint: whoever opened the transaction rolls all of it back
        when anything in it fails (nothing goes on after a failed write), so a savepoint
        would be two more statements a write, a fifth of those a capture makes."""
        if self.db.conn.in_transaction:
            yield
            return
        self._begin()
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        self.db.execute("COMMIT")

    def _rollback(self) -> None:
        if self.db.conn.in_transaction:  # a failed COMMIT or a lost connection ends it
            self.db.execute("ROLLBACK")

    def transaction(self) -> AbstractContextManager[None]:
        """One write transaction around many writes (each joins it): one commit for a batch
        of captures instead of one per capture."""
        return self._write()

    def _begin(self) -> None:
        """BEGIN IMMEDIATE, waiting up to BUSY_TIMEOUT_MS for another process's write, and
        saying so (`on_wait`) when the wait is longer than WAIT_NOTICE_MS."""
        self.db.execute(f"PRAGMA busy_timeout = {WAIT_NOTICE_MS}")
        try:
            self.db.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
        finally:
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if self.on_wait is not None:
            self.on_wait()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            raise ArchiveBusy(
                f"another process has been writing to {self.path} for over "
                f"{(BUSY_TIMEOUT_MS + WAIT_NOTICE_MS) // 1000} s; try again later"
            ) from exc

    # runs -------------------------------------------------------------------------------

    # captures ---------------------------------------------------------------------------

    # targets ----------------------------------------------------------------------------

    def _insert(self, table: str, values: dict[str, Any]) -> int:
        """A plain INSERT (sqlite-utils reads the schema first, on every call)."""
        return inserted_id(self.db.execute(insert_sql(table, list(values)), list(values.values())))

    def _rows(self, row_type: type[Row], sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """`sql`, whose `{columns}` is the SELECT list of `row_type`, as `row_type` rows."""
        cursor = self.db.conn.execute(sql.format(columns=columns_of(row_type)), params)
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
            rows += [row_type(*row) for row in self.db.conn.execute(statement, [*part, *extra])]
        return rows

    def _in(self, sql: str, values: Sequence[Any], chunk: int = 500) -> list[dict[str, Any]]:
        """Run `sql` (with one `IN ({})`) over `values` in chunks: SQLite caps parameters."""
        unique = list(dict.fromkeys(values))
        rows: list[dict[str, Any]] = []
        for start in range(0, len(unique), chunk):
            part = unique[start : start + chunk]
            rows.extend(self.db.query(sql.format(", ".join("?" * len(part))), part))
        return rows
