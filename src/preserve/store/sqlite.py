"""The SQLite connection (`ARCHIVE/preserve.db`): WAL mode, write transactions that take the
write lock at once and wait for another process's, saying so, and its migrations."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from preserve.errors import ArchiveBusy, ArchiveError

BUSY_TIMEOUT_MS = 60_000
WAIT_NOTICE_MS = 2_000  # a write that waits longer for another process says so


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


class SqliteConnection:
    """`Connection` over one SQLite file (see `connection.Connection`)."""

    dialect = "sqlite"
    for_update = ""

    def __init__(
        self,
        path: Path,
        *,
        read_only: bool = False,
        on_wait: Callable[[], None] | None = None,
    ) -> None:
        self.path = path
        self.where = str(path)
        self.read_only = read_only
        self.on_wait = on_wait  # told once per transaction that must wait for another process
        try:
            self.raw = connect(path, read_only=read_only)
            # No sqlite-utils plugins: whatever else happens to be installed has no business
            # in the connection to an evidence database (they may add SQL functions).
            self.db = Database(self.raw, execute_plugins=False)
            # sqlite3's own methods, unwrapped: a capture runs many statements.
            self.execute = self.raw.execute  # type: ignore[method-assign,assignment]
            self.raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if not read_only:
                self._enable_wal()
            self.raw.execute("PRAGMA foreign_keys = ON")
            self.raw.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            raise self.open_error(exc) from exc

    @classmethod
    def over(cls, raw: sqlite3.Connection, path: Path) -> SqliteConnection:
        """A `Connection` over a sqlite3 connection already open (a migration's), as it is."""
        self = cls.__new__(cls)
        self.path, self.where, self.read_only, self.on_wait = path, str(path), False, None
        self.raw = raw
        self.db = Database(raw, execute_plugins=False)
        self.execute = raw.execute  # type: ignore[method-assign,assignment]
        return self

    def open_error(self, exc: sqlite3.DatabaseError) -> ArchiveError:
        """The one line for a database that cannot be opened (or migrated)."""
        path = self.path
        shm = path.with_name(path.name + "-shm")
        if self.read_only and path.with_name(path.name + "-wal").exists() and not shm.exists():
            return ArchiveError(
                f"cannot open the database {path}: its -wal file holds transactions that "
                f"SQLite reads only with {shm.name}, which is missing and cannot be made "
                "in a read-only folder; copy the archive where it can be written"
            )
        return ArchiveError(f"cannot open the database {path}: {exc}")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:  # replaced in __init__
        return self.raw.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.raw.executemany(sql, rows)

    @property
    def in_transaction(self) -> bool:
        return self.raw.in_transaction

    def insert(self, sql: str, params: Sequence[Any], key: str = "id") -> int:
        cursor = self.raw.execute(sql, params)
        if cursor.lastrowid is None:
            raise ArchiveError("the database made no row for an INSERT")
        return cursor.lastrowid

    def lock_chain(self) -> None:
        """Nothing to take: BEGIN IMMEDIATE took the write lock for the whole transaction."""

    def _enable_wal(self) -> None:
        """WAL mode, waiting out another process that is switching it too: SQLite answers
        "database is locked" at once there, without its busy handler (two runs creating one
        new archive at the same moment)."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        pause = 0.005
        while True:
            try:
                (mode,) = self.raw.execute("PRAGMA journal_mode").fetchone()
                if str(mode).lower() != "wal":
                    self.raw.execute("PRAGMA journal_mode=wal")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)

    def begin(self) -> None:
        """BEGIN IMMEDIATE, waiting up to BUSY_TIMEOUT_MS for another process's write, and
        saying so (`on_wait`) when the wait is longer than WAIT_NOTICE_MS. It takes the
        write lock at once: after a plain (deferred) BEGIN, if another process commits
        before our first write, SQLite cannot upgrade the read snapshot and fails at once
        with "database is locked" (SQLITE_BUSY_SNAPSHOT) instead of waiting."""
        self.raw.execute(f"PRAGMA busy_timeout = {WAIT_NOTICE_MS}")
        try:
            self.raw.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
        finally:
            self.raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if self.on_wait is not None:
            self.on_wait()
        try:
            self.raw.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            raise ArchiveBusy(
                f"another process has been writing to {self.path} for over "
                f"{(BUSY_TIMEOUT_MS + WAIT_NOTICE_MS) // 1000} s; try again later"
            ) from exc

    def commit(self) -> None:
        self.raw.execute("COMMIT")

    def rollback(self) -> None:
        if self.raw.in_transaction:  # a failed COMMIT or a lost connection ends it
            self.raw.execute("ROLLBACK")

    def pending_migrations(self) -> list[str]:
        from preserve.store.migrations import migrations

        return [m.name for m in migrations.pending(self.db)]

    def migrate(self) -> None:
        from preserve.store.migrations import migrations

        migrations.apply(self.db)

    def table_exists(self, name: str) -> bool:
        return bool(self.db[name].exists())

    def close(self) -> None:
        self.raw.close()
