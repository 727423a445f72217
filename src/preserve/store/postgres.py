"""The PostgreSQL connection (psycopg 3): the store's `?` placeholders turned into psycopg's,
transactions begun and ended by hand as on SQLite, the hash chain held by an advisory lock,
and every driver error turned into one line that names the server without its password."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from preserve.config import redacted
from preserve.errors import ArchiveBusy, ArchiveError, ServerUnavailable

# Advisory lock keys (pg_advisory_xact_lock takes any 64-bit number): the hash chain's
# appends, and the migrations, each serialised across every process on the database.
CHAIN_LOCK = 0x70726573_63686E  # "pres" "chn"
MIGRATION_LOCK = 0x70726573_6D6967  # "pres" "mig"
# A worker on a machine that vanished holds its locks until the server notices the
# connection is dead: keepalives make that about half a minute, not hours.
KEEPALIVES: dict[str, Any] = {"keepalives": 1, "keepalives_idle": 15, "keepalives_interval": 5,
              "keepalives_count": 3}  # fmt: skip
CONNECT_TIMEOUT = 10


class PostgresConnection:
    """`Connection` over one psycopg connection (see `connection.Connection`)."""

    dialect = "postgresql"
    for_update = " FOR UPDATE"

    def __init__(self, url: str) -> None:
        import psycopg

        self._psycopg = psycopg
        self.url = url
        self.where = redacted(url)
        self._translated: dict[str, str] = {}
        try:
            self.raw = psycopg.connect(
                url,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT,
                application_name="preserve",
                **KEEPALIVES,
            )
        except psycopg.Error as exc:
            raise self._error(exc) from exc

    def _error(self, exc: Exception) -> ArchiveError:
        """One line for a driver error, the server named without its password."""
        errors = self._psycopg.errors
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        first = first.replace(self.url, self.where)
        if isinstance(exc, errors.DeadlockDetected | errors.SerializationFailure):
            return ArchiveBusy(f"the database {self.where} broke off a transaction: {first}")
        if isinstance(exc, self._psycopg.OperationalError | self._psycopg.InterfaceError):
            return ServerUnavailable(f"the database {self.where} cannot be used: {first}")
        return ArchiveError(f"the database {self.where} refused a statement: {first}")

    def _pg(self, sql: str) -> str:
        found = self._translated.get(sql)
        if found is None:
            found = self._translated[sql] = sql.replace("%", "%%").replace("?", "%s")
        return found

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        try:
            if params:
                return self.raw.execute(self._pg(sql), list(params))
            return self.raw.execute(sql)
        except self._psycopg.Error as exc:
            raise self._error(exc) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        try:
            with self.raw.cursor() as cursor:
                cursor.executemany(self._pg(sql), [list(r) for r in rows])
        except self._psycopg.Error as exc:
            raise self._error(exc) from exc

    @property
    def in_transaction(self) -> bool:
        from psycopg.pq import TransactionStatus

        return bool(self.raw.info.transaction_status != TransactionStatus.IDLE)

    @property
    def broken(self) -> bool:
        """Whether the connection was lost (a server restart): open another."""
        return bool(self.raw.broken or self.raw.closed)

    def begin(self) -> None:
        self.execute("BEGIN")

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        if self.raw.closed or self.raw.broken:
            return  # the server ended the transaction with the connection
        try:
            if self.in_transaction:
                self.raw.execute("ROLLBACK")
        except self._psycopg.Error:
            pass  # lost on the way: so is the transaction

    def insert(self, sql: str, params: Sequence[Any], key: str = "id") -> int:
        row = self.execute(f'{sql} RETURNING "{key}"', params).fetchone()
        return int(row[0])

    def lock_chain(self) -> None:
        """pg_advisory_xact_lock: held until this transaction ends, released by the server
        however it ends (commit, rollback, a dropped connection, a killed worker)."""
        self.execute("SELECT pg_advisory_xact_lock(?)", [CHAIN_LOCK])

    def table_exists(self, name: str) -> bool:
        row = self.execute("SELECT to_regclass(?)", [name]).fetchone()
        return row is not None and row[0] is not None

    def pending_migrations(self) -> list[str]:
        from preserve.store.pgmigrations import pending

        return pending(self)

    def migrate(self) -> None:
        from preserve.store.pgmigrations import apply

        self.execute("SELECT pg_advisory_xact_lock(?)", [MIGRATION_LOCK])
        apply(self)

    def close(self) -> None:
        try:
            self.raw.close()
        except self._psycopg.Error:
            pass
