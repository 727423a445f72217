"""Every SQL statement: runs, tracked targets, captures with their WARC records and
citations, closed WARC files. Opens the database in WAL mode and migrates it on open, so a
fresh archive and an old one behave the same."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from preserve.errors import ArchiveBusy, ArchiveError
from preserve.store import chain
from preserve.store.migrations import migrations
from preserve.store.sql import select
from preserve.times import iso, parse_iso

BUSY_TIMEOUT_MS = 60_000
WAIT_NOTICE_MS = 2_000  # a write that waits longer for another process says so


@dataclass(frozen=True)
class RecordRow:
    """One WARC record written for a capture."""

    hop: int
    type: str
    url: str
    date: str | None
    http_status: int | None
    warc: str
    offset: int
    length: int
    record_id: str
    record_sha256: str
    payload_sha256: str | None


@dataclass(frozen=True)
class CitationRow:
    position: int
    url: str
    anchor_text: str
    context: str


@dataclass(frozen=True)
class NewCapture:
    """Everything known about one fetched URL, ready to be stored in one transaction."""

    run_id: int
    url: str
    role: str
    depth: int
    parent_id: int | None
    started_at: str
    ended_at: str
    status: str  # captured | failed
    error: str | None = None
    error_detail: str | None = None
    http_status: int | None = None
    final_url: str | None = None
    redirects: str = "[]"
    headers: str = "[]"
    peer_ip: str | None = None
    content_type: str | None = None
    kind: str | None = None
    truncated: str | None = None
    payload_sha256: str | None = None
    payload_length: int | None = None
    decoded_sha256: str | None = None
    text_sha256: str | None = None
    loose_sha256: str | None = None
    links_sha256: str | None = None
    norm_version: int | None = None
    title: str | None = None
    # What the page says of itself besides its title: "" when it says nothing, None when
    # not recorded (no extraction, or a capture made before preserve recorded them).
    byline: str | None = None
    modified: str | None = None  # its stated dateModified, as written
    tls: str | None = None  # over HTTPS, JSON: protocol, cipher suite, the server's certificate
    record_type: str | None = None
    warc: str | None = None
    offset: int | None = None
    length: int | None = None
    record_id: str | None = None
    record_sha256: str | None = None
    metadata_record_id: str | None = None
    text: str | None = field(default=None, repr=False)
    visible_text: str | None = field(default=None, repr=False)
    records: tuple[RecordRow, ...] = ()
    citations: tuple[CitationRow, ...] = ()


_CAPTURE_COLUMNS = tuple(
    name
    for name in NewCapture.__dataclass_fields__
    if name not in ("text", "visible_text", "records", "citations")
)


def _insert_sql(table: str, columns: Sequence[str]) -> str:
    """A plain INSERT: sqlite-utils' insert reads the table's schema on every call, which was
    half of the time a capture spent in the database."""
    names = ", ".join(f"[{c}]" for c in columns)
    return f"INSERT INTO [{table}] ({names}) VALUES ({', '.join('?' * len(columns))})"


_INSERT_CAPTURE = _insert_sql("captures", _CAPTURE_COLUMNS)
_INSERT_RECORD = _insert_sql("records", ("capture_id", *RecordRow.__dataclass_fields__))
_INSERT_CITATION = _insert_sql("citations", ("capture_id", *CitationRow.__dataclass_fields__))
_record_values = attrgetter(*RecordRow.__dataclass_fields__)
_citation_values = attrgetter(*CitationRow.__dataclass_fields__)


@dataclass(frozen=True)
class NewExport:
    """An evidence package made from the archive, as logged (m010)."""

    exported_at: str
    wacz: str  # the package's path
    bytes: int
    sha256: str  # of the .wacz file
    digest: str  # of its datapackage.json
    articles: str  # JSON list of the article URLs asked for
    captures: int
    records: int
    signed_by: str | None
    timestamps: str  # JSON
    tool_version: str
    host: str
    pid: int


@dataclass(frozen=True)
class NewCheck:
    """One check of one URL, as stored."""

    run_id: int
    url: str
    role: str
    checked_at: str
    capture_id: int
    baseline_capture_id: int | None
    probe_capture_id: int | None
    outcome: str
    reason: str | None
    confirmed: int
    rule: str
    http_status: int | None
    new_url: str | None
    detail: str  # JSON
    new_baseline: bool = field(default=False, metadata={"column": False})

    def row(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "new_baseline"}


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


class Store:
    """The archive's SQLite database."""

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
                self.db.enable_wal()
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
            if self.db.conn.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

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

    def start_run(
        self,
        command: str,
        options: dict[str, Any],
        *,
        started_at: datetime,
        tool_version: str,
        host: str,
        pid: int,
    ) -> int:
        with self._write():
            table = self.db["runs"].insert(
                {
                    "command": command,
                    "started_at": iso(started_at),
                    "tool_version": tool_version,
                    "host": host,
                    "pid": pid,
                    "options": json.dumps(options, sort_keys=True, default=str),
                }
            )
        return int(table.last_pk)

    def end_run(self, run_id: int, ended_at: datetime) -> None:
        with self._write():
            self.db["runs"].update(run_id, {"ended_at": iso(ended_at)})

    def open_runs(self) -> list[dict[str, Any]]:
        """Runs that started and have not ended: still going, or dead."""
        return select(
            self.db, "SELECT id, host, pid, started_at FROM runs WHERE ended_at IS NULL ORDER BY id"
        )

    def run_exists(self, run_id: int) -> bool:
        return bool(select(self.db, "SELECT 1 FROM runs WHERE id = ?", [run_id]))

    def end_dead_run(self, run_id: int, *, by_run_id: int, now: datetime, detail: str) -> bool:
        """End a run whose process died, at the end of its last stored capture (or at its
        start), and say so in `recoveries`. False if it had been ended already."""
        with self._write():
            ended = self.db.execute(
                "UPDATE runs SET ended_at = coalesce((SELECT max(ended_at) FROM captures"
                " WHERE run_id = runs.id), started_at) WHERE id = ? AND ended_at IS NULL",
                [run_id],
            ).rowcount
            if ended:
                self.add_recovery(now, by_run_id, "dead-run", run_id, detail=detail)
        return bool(ended)

    def add_recovery(
        self,
        recovered_at: datetime,
        by_run_id: int,
        kind: str,
        run_id: int | None,
        *,
        warc: str | None = None,
        kept_bytes: int = 0,
        cut_bytes: int = 0,
        records: int = 0,
        detail: str = "",
    ) -> None:
        """Log what a run repaired of what a dead run left behind (see m004_recoveries)."""
        with self._write():
            self.db["recoveries"].insert(
                {
                    "recovered_at": iso(recovered_at),
                    "by_run_id": by_run_id,
                    "run_id": run_id,
                    "kind": kind,
                    "warc": warc,
                    "kept_bytes": kept_bytes,
                    "cut_bytes": cut_bytes,
                    "records": records,
                    "detail": detail,
                }
            )

    def rows_end(self, warc: str) -> int:
        """Where the last record that any row points at in file `warc` ends (0: none)."""
        rows = select(
            self.db,
            "SELECT max(e) AS e FROM (SELECT max(offset + length) AS e FROM records"
            " WHERE warc = ? UNION ALL SELECT max(offset + length) FROM captures"
            " WHERE warc = ?)",
            [warc, warc],
        )
        return int(rows[0]["e"] or 0)

    def add_warc_file(
        self, name: str, run_id: int, *, size: int, sha256: str, closed_at: datetime
    ) -> None:
        with self._write():
            self.db["warc_files"].upsert(
                {
                    "name": name,
                    "run_id": run_id,
                    "closed_at": iso(closed_at),
                    "size": size,
                    "sha256": sha256,
                },
                pk="name",
            )
            chain.append(self.db, "warc_files", name)

    def add_export(self, export: NewExport) -> chain.Entry:
        """Log an evidence package made from the archive (an `exports` row, m010) in the
        hash chain: the chain entry that covers it."""
        with self._write():
            export_id = self._insert("exports", asdict(export))
            return chain.append(self.db, "exports", export_id)

    # captures ---------------------------------------------------------------------------

    def add_capture(self, capture: NewCapture) -> int:
        """Store a capture with its records, citations and text, all or nothing."""
        row = [getattr(capture, name) for name in _CAPTURE_COLUMNS]
        with self._write():
            capture_id = int(self.db.execute(_INSERT_CAPTURE, row).lastrowid)
            if capture.text_sha256 and capture.text is not None:
                added = self.db.execute(
                    "INSERT OR IGNORE INTO texts (sha256, norm_version, text, visible_text)"
                    " VALUES (?, ?, ?, ?)",
                    [capture.text_sha256, capture.norm_version, capture.text, capture.visible_text],
                ).rowcount
                if added:  # a new text: index it for find-text (see m003)
                    key = self._insert("text_search_keys", {"sha256": capture.text_sha256})
                    self.db.execute(
                        "INSERT INTO text_search (rowid, text) VALUES (?, ?)", [key, capture.text]
                    )
            if capture.records:
                self.db.conn.executemany(
                    _INSERT_RECORD,
                    [(capture_id, *_record_values(record)) for record in capture.records],
                )
            if capture.citations:
                self.db.conn.executemany(
                    _INSERT_CITATION,
                    [(capture_id, *_citation_values(citation)) for citation in capture.citations],
                )
            chain.append(self.db, "captures", capture_id)
        return capture_id

    def capture(self, capture_id: int) -> dict[str, Any] | None:
        rows = select(self.db, "SELECT * FROM captures WHERE id = ?", [capture_id])
        return rows[0] if rows else None

    def text(self, text_sha256: str | None) -> tuple[str, str] | None:
        """(text, visible_text) stored under a text hash. The visible text is "" when the
        archive does not hold it: a capture leaves it out (see `check._with_visible_text`)."""
        if not text_sha256:
            return None
        rows = select(
            self.db, "SELECT text, visible_text FROM texts WHERE sha256 = ?", [text_sha256]
        )
        return (rows[0]["text"] or "", rows[0]["visible_text"] or "") if rows else None

    def citations(self, capture_id: int) -> list[dict[str, Any]]:
        return select(
            self.db,
            "SELECT position, url, anchor_text, context FROM citations"
            " WHERE capture_id = ? ORDER BY position",
            [capture_id],
        )

    def extraction(
        self, final_url: str, payload_sha256: str, norm_version: int
    ) -> dict[str, Any] | None:
        """What was extracted before from these exact bytes at this URL, under this
        normalisation: the capture's extraction columns, its `text` and `visible_text` and
        its `citations`. Extraction depends on nothing else, so a recapture of unchanged
        bytes can reuse it instead of parsing the page again."""
        rows = select(
            self.db,
            "SELECT id, kind, title, byline, modified, decoded_sha256, text_sha256,"
            " loose_sha256, links_sha256 FROM captures"
            " WHERE payload_sha256 = ? AND final_url = ? AND norm_version = ?"
            " AND status = 'captured' AND kind IS NOT NULL AND byline IS NOT NULL"
            " ORDER BY id DESC LIMIT 1",
            [payload_sha256, final_url, norm_version],
        )
        if not rows:
            return None
        row = rows[0]
        texts = self.text(row["text_sha256"]) if row["text_sha256"] else ("", "")
        if texts is None:
            return None
        return {
            **row,
            "text": texts[0],
            "visible_text": texts[1],
            "citations": self.citations(row["id"]),
        }

    def original_for(self, url: str, payload_sha256: str) -> dict[str, Any] | None:
        """The earliest full response record of this URL with this payload: what a revisit
        record refers to (record_id, url, date, warc, offset, length). Same URL only, since
        replay tools resolve revisits by URL."""
        rows = select(
            self.db,
            "SELECT record_id, url, date, warc, offset, length FROM records"
            " WHERE url = ? AND payload_sha256 = ? AND type = 'response'"
            " ORDER BY id LIMIT 1",
            [url, payload_sha256],
        )
        return rows[0] if rows else None

    def history(self, url: str) -> list[dict[str, Any]]:
        """Every capture of a URL, oldest first, with the outcome of the check it was for
        (or `new`/`failed` for captures made by `capture`)."""
        return select(
            self.db,
            "SELECT captures.*, checks.outcome AS outcome, checks.reason AS reason,"
            " checks.confirmed AS confirmed FROM captures"
            " LEFT JOIN checks ON checks.capture_id = captures.id"
            " WHERE captures.url = ? AND captures.role != 'probe'"
            " ORDER BY captures.started_at, captures.id",
            [url],
        )

    def descendants(self, capture_id: int) -> list[dict[str, Any]]:
        """The captures made because of this one, in the order they were stored: what it
        cited and showed, what those cited, and so on (see `Job.parent_id`)."""
        return select(
            self.db,
            "WITH RECURSIVE tree(id) AS (SELECT id FROM captures WHERE parent_id = ?"
            " UNION ALL SELECT captures.id FROM captures JOIN tree"
            " ON captures.parent_id = tree.id)"
            " SELECT captures.* FROM captures JOIN tree USING (id) ORDER BY captures.id",
            [capture_id],
        )

    def run_captures_of(self, run_id: int, urls: Sequence[str]) -> dict[str, dict[str, Any]]:
        """This run's capture of each of these URLs, by URL (a run fetches a URL once; if it
        did more, the first)."""
        found: dict[str, dict[str, Any]] = {}
        for row in self._in(
            f"SELECT * FROM captures WHERE run_id = {int(run_id)} AND url IN ({{}}) ORDER BY id",
            urls,
        ):
            found.setdefault(row["url"], row)
        return found

    def cited_requisites(
        self, run_id: int, articles: Sequence[str]
    ) -> list[tuple[str, dict[str, Any]]]:
        """(article URL, capture row) for each URL that one of these articles cites and this
        run fetched as a requisite (of it or of another article)."""
        rows = self._in(
            "SELECT article.url AS cited_by, shown.* FROM captures AS article"
            " JOIN citations ON citations.capture_id = article.id"
            " JOIN captures AS shown ON shown.url = citations.url"
            f" AND shown.run_id = {int(run_id)} AND shown.role = 'requisite'"
            f" WHERE article.url IN ({{}}) AND article.run_id = {int(run_id)}"
            " AND article.role = 'article' ORDER BY article.id, citations.position",
            articles,
        )
        return [(row.pop("cited_by"), row) for row in rows]

    def citation_counts(self, capture_ids: Sequence[int]) -> dict[int, int]:
        """How many citations each of these captures has (absent: none)."""
        return {
            row["capture_id"]: row["n"]
            for row in self._in(
                "SELECT capture_id, count(*) AS n FROM citations WHERE capture_id IN ({})"
                " GROUP BY capture_id",
                capture_ids,
            )
        }

    def records(self) -> Iterator[dict[str, Any]]:
        yield from self.db.query("SELECT * FROM records ORDER BY warc, offset")

    # targets ----------------------------------------------------------------------------

    def track(
        self,
        url: str,
        *,
        role: str,
        every_seconds: int,
        now: datetime,
        cited_by: str | None = None,
        baseline_capture_id: int | None = None,
        first_state: tuple[str, str | None] | None = None,
    ) -> None:
        """Track a URL for checks, first due one interval after now (it was just captured).
        An existing target keeps its role ("article" wins over "citation") and its schedule
        unless this call is for an article. `first_state`: the (state, reason) of a URL not
        tracked before, as `set_state` would record it, in the same statement."""
        with self._write():
            existing = self.target(url)  # read under the write lock: two runs may race
            if existing is None:
                row = {
                    "url": url,
                    "role": role,
                    "every_seconds": every_seconds,
                    "added_at": iso(now),
                    "next_due": iso(now + timedelta(seconds=every_seconds)),
                    "cited_by": cited_by,
                    "baseline_capture_id": baseline_capture_id,
                }
                if first_state is not None:
                    row.update(
                        state=first_state[0],
                        reason=first_state[1],
                        confirmed=0,
                        last_checked_at=iso(now),
                        last_change_at=iso(now),
                    )
                self._insert("targets", row)
                return
            update: dict[str, Any] = {}
            if role == "article":
                update.update(role="article", every_seconds=every_seconds)
            if baseline_capture_id is not None:
                update["baseline_capture_id"] = baseline_capture_id
            if update:
                self._update_target(url, update)

    def target(self, url: str) -> dict[str, Any] | None:
        rows = select(self.db, "SELECT * FROM targets WHERE url = ?", [url])
        return rows[0] if rows else None

    def iter_targets(self, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """These columns of every target, oldest first, as tuples, read as they are used:
        `status` lists a million targets without holding them (or a dict each) at once."""
        names = ", ".join(f"[{c}]" for c in columns)
        yield from self.db.conn.execute(  # the order of `targets`, which an index has (m006)
            f"SELECT {names} FROM targets ORDER BY added_at, role != 'article', url"
        )

    def targets(self, urls: Sequence[str] | None = None) -> list[dict[str, Any]]:
        if urls is None:
            return select(
                self.db, "SELECT * FROM targets ORDER BY added_at, role != 'article', url"
            )
        return [t for url in urls if (t := self.target(url)) is not None]

    def set_state(
        self,
        url: str,
        state: str,
        reason: str | None,
        now: datetime,
        *,
        confirmed: bool = False,
        changed: bool = True,
    ) -> None:
        """Record a target's latest outcome (denormalised here so `status` stays fast)."""
        update: dict[str, Any] = {
            "state": state,
            "reason": reason,
            "confirmed": int(confirmed),
            "last_checked_at": iso(now),
        }
        if changed:
            update["last_change_at"] = iso(now)
        with self._write():
            self._update_target(url, update)

    def _insert(self, table: str, values: dict[str, Any]) -> int:
        """A plain INSERT (sqlite-utils reads the schema first, on every call)."""
        return int(
            self.db.execute(_insert_sql(table, list(values)), list(values.values())).lastrowid
        )

    def _update_target(self, url: str, values: dict[str, Any]) -> None:
        sets = ", ".join(f"[{name}] = ?" for name in values)
        self.db.execute(f"UPDATE targets SET {sets} WHERE url = ?", [*values.values(), url])

    def due_urls(self, now: datetime) -> list[str]:
        """The URLs `due` gives, in its order."""
        return [
            url
            for (url,) in self.db.conn.execute(
                "SELECT url FROM targets WHERE next_due <= ? ORDER BY next_due, url", [iso(now)]
            )
        ]

    def target_urls(self) -> list[str]:
        """The URLs `targets()` gives, in its order."""
        return [
            url
            for (url,) in self.db.conn.execute(
                "SELECT url FROM targets ORDER BY added_at, role != 'article', url"
            )
        ]

    def due(self, now: datetime) -> list[dict[str, Any]]:
        return select(
            self.db, "SELECT * FROM targets WHERE next_due <= ? ORDER BY next_due, url", [iso(now)]
        )

    def next_due(self) -> str | None:
        rows = select(self.db, "SELECT min(next_due) AS due FROM targets")
        return rows[0]["due"] if rows else None

    def good_captures(self, url: str) -> list[dict[str, Any]]:
        """Captures of a URL with a 2xx answer and a text, oldest first."""
        return select(
            self.db,
            "SELECT * FROM captures WHERE url = ? AND status = 'captured'"
            " AND http_status BETWEEN 200 AND 299 AND role != 'probe'"
            " ORDER BY started_at, id",
            [url],
        )

    def versions_before(self, url: str, capture_id: int, limit: int = 1000) -> list[dict[str, Any]]:
        """What the URL's good captures (2xx) before capture `capture_id` said, newest first,
        at most `limit` of them: the versions an edit may bring back."""
        return select(
            self.db,
            "SELECT id, started_at, kind, title, text_sha256, links_sha256, payload_sha256"
            " FROM captures WHERE url = ? AND id < ? AND status = 'captured'"
            " AND http_status BETWEEN 200 AND 299 ORDER BY id DESC LIMIT ?",
            [url, capture_id, limit],
        )

    def past_checks(self, url: str) -> list[dict[str, Any]]:
        """Earlier checks of a URL, oldest first (what confirmation rules look at)."""
        return select(
            self.db,
            "SELECT checked_at, outcome, reason, confirmed FROM checks WHERE url = ?"
            " ORDER BY checked_at, id",
            [url],
        )

    def add_check(self, check: NewCheck) -> int:
        """Store a check and move its target on: state, next due time, and the baseline when
        the check produced a good capture (an error never replaces the baseline)."""
        with self._write():
            target = self.target(check.url)
            check_id = self._insert("checks", check.row())
            chain.append(self.db, "checks", check_id)
            if target is not None:
                changed = (target["state"], target["reason"]) != (
                    check.outcome,
                    check.reason,
                ) or check.outcome not in ("unchanged", "cosmetic")
                update: dict[str, Any] = {
                    "state": check.outcome,
                    "reason": check.reason,
                    "confirmed": check.confirmed,
                    "last_checked_at": check.checked_at,
                    "next_due": iso(
                        parse_iso(check.checked_at) + timedelta(seconds=target["every_seconds"])
                    ),
                }
                if changed:
                    update["last_change_at"] = check.checked_at
                if check.new_baseline:
                    update["baseline_capture_id"] = check.capture_id
                self._update_target(check.url, update)
        return check_id

    def set_schedule(self, url: str, every_seconds: int, *, include_citations: bool) -> int:
        """Set a target's interval (and that of the citations it brought in), and move each
        one's next due time to its last check (or its tracking) plus the new interval;
        returns how many targets changed."""
        where = "url = ?" + (
            " OR (cited_by = ? AND role != 'article')" if include_citations else ""
        )
        params = [url, url] if include_citations else [url]
        with self._write():
            rows = self.db.execute(
                f"SELECT url, coalesce(last_checked_at, added_at) FROM targets WHERE {where}",
                params,
            ).fetchall()
            for target_url, since in rows:
                due = parse_iso(since) + timedelta(seconds=every_seconds)
                self.db.execute(
                    "UPDATE targets SET every_seconds = ?, next_due = ? WHERE url = ?",
                    [every_seconds, iso(due), target_url],
                )
        return len(rows)

    # reports: bulk reads for `preserve report` (one query per table, not one per URL) -----

    def articles(self, urls: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Tracked articles, oldest first (all, or those among `urls`, in their order)."""
        if urls is None:
            return select(
                self.db, "SELECT * FROM targets WHERE role = 'article' ORDER BY added_at, url"
            )
        found = {
            t["url"]: t
            for t in self._in("SELECT * FROM targets WHERE role = 'article' AND url IN ({})", urls)
        }
        return [found[url] for url in urls if url in found]

    def targets_of(self, urls: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Target rows by URL (URLs that are not tracked are absent)."""
        return {t["url"]: t for t in self._in("SELECT * FROM targets WHERE url IN ({})", urls)}

    def captures_of(self, urls: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Every capture of these URLs (probes excluded) with the outcome of the check it was
        made for, oldest first, without the bulky columns (headers, redirects)."""
        grouped: dict[str, list[dict[str, Any]]] = {url: [] for url in urls}
        rows = self._in(
            "SELECT captures.id, captures.run_id, captures.url, captures.role,"
            " captures.started_at, captures.status, captures.error, captures.http_status,"
            " captures.final_url, captures.kind, captures.payload_sha256,"
            " captures.payload_length, captures.text_sha256, captures.title,"
            " captures.record_type, captures.warc, captures.offset, captures.length,"
            " captures.record_id, checks.id AS check_id,"
            " CASE WHEN json_valid(captures.tls)"
            " THEN json_extract(captures.tls, '$.certificate_sha256') END AS certificate_sha256"
            " FROM captures"
            " LEFT JOIN checks ON checks.capture_id = captures.id"
            " WHERE captures.role != 'probe' AND captures.url IN ({})",
            urls,
        )
        for row in sorted(rows, key=lambda r: (r["started_at"], r["id"])):
            grouped[row["url"]].append(row)
        return grouped

    def citations_of(self, capture_ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
        """The citations of these captures, in article order, by capture id."""
        grouped: dict[int, list[dict[str, Any]]] = {i: [] for i in capture_ids}
        rows = self._in(
            "SELECT capture_id, position, url, anchor_text, context FROM citations"
            " WHERE capture_id IN ({})",
            capture_ids,
        )
        for row in sorted(rows, key=lambda r: (r["capture_id"], r["position"])):
            grouped[row["capture_id"]].append(row)
        return grouped

    def checks_of(self, urls: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Every check of these URLs, oldest first, by URL."""
        grouped: dict[str, list[dict[str, Any]]] = {url: [] for url in urls}
        rows = self._in("SELECT * FROM checks WHERE url IN ({})", urls)
        for row in sorted(rows, key=lambda r: (r["checked_at"], r["id"])):
            grouped[row["url"]].append(row)
        return grouped

    def texts_of(self, hashes: Sequence[str]) -> dict[str, str]:
        """Normalised main texts by their sha256."""
        return {
            r["sha256"]: r["text"] or ""
            for r in self._in("SELECT sha256, text FROM texts WHERE sha256 IN ({})", hashes)
        }

    def warc_files(self) -> list[dict[str, Any]]:
        return select(self.db, "SELECT * FROM warc_files ORDER BY name")

    def runs(self) -> list[dict[str, Any]]:
        return select(
            self.db,
            "SELECT id, command, started_at, ended_at, tool_version, host, pid FROM runs"
            " ORDER BY id",
        )

    # evidence packages: what `export` selects (wacz.select) -------------------------------

    def export_captures_of(self, urls: Sequence[str]) -> list[dict[str, Any]]:
        """Every capture of these URLs but probes, all columns."""
        return self._in("SELECT * FROM captures WHERE role != 'probe' AND url IN ({})", urls)

    def export_captures_by_id(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        return self._in("SELECT * FROM captures WHERE id IN ({})", ids)

    def export_children_of(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        """Captures made on behalf of these (requisites, deeper citations), probes excluded."""
        return self._in(
            "SELECT id, url, role FROM captures WHERE role != 'probe' AND parent_id IN ({})", ids
        )

    def export_sources_of(self, articles: Sequence[str]) -> list[str]:
        """URLs tracked as sources of these articles (cited, moved to, added by an edit)."""
        return [
            r["url"]
            for r in self._in(
                "SELECT url FROM targets WHERE cited_by IN ({}) ORDER BY added_at, url", articles
            )
        ]

    def export_records_of(self, capture_ids: Sequence[int]) -> list[dict[str, Any]]:
        return self._in("SELECT * FROM records WHERE capture_id IN ({})", capture_ids)

    def export_record_by_id(self, record_id: str) -> dict[str, Any] | None:
        rows = select(self.db, "SELECT * FROM records WHERE record_id = ? LIMIT 1", [record_id])
        return rows[0] if rows else None

    def export_checks_of(self, capture_ids: Sequence[int]) -> list[dict[str, Any]]:
        """The checks whose recapture is one of these captures, oldest first."""
        rows = self._in("SELECT * FROM checks WHERE capture_id IN ({})", capture_ids)
        return sorted(rows, key=lambda r: (r["checked_at"], r["id"]))

    def export_runs(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        return sorted(self._in("SELECT * FROM runs WHERE id IN ({})", ids), key=lambda r: r["id"])

    def export_chain(self, rows: dict[str, Sequence[Any]]) -> dict[str, Any] | None:
        """The hash-chain entries of these rows (table name -> row ids), oldest first, and
        the chain's latest entry; None if this archive keeps no chain."""
        if not self.db["chain"].exists():
            return None
        entries: list[dict[str, Any]] = []
        for table, ids in rows.items():
            unique = list(dict.fromkeys(str(i) for i in ids))  # row_id is the key as text
            for start in range(0, len(unique), 500):
                part = unique[start : start + 500]
                entries += self.db.query(
                    "SELECT * FROM chain WHERE table_name = ? AND row_id IN ({})".format(
                        ", ".join("?" * len(part))
                    ),
                    [table, *part],
                )
        head = select(self.db, "SELECT * FROM chain ORDER BY seq DESC LIMIT 1")
        return {
            "entries": sorted(entries, key=lambda e: e["seq"]),
            "head": head[0] if head else None,
        }

    def export_rows(
        self, table: str, key: str, columns: Sequence[str], keys: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """Rows of `table` by their key as text, with just these columns (names from
        `preserve.chain`, never from input)."""
        names = ", ".join(f"[{c}]" for c in columns)
        rows = self._in(
            f"SELECT {names} FROM [{table}] WHERE CAST([{key}] AS TEXT) IN ({{}})", list(keys)
        )
        return {str(row[key]): row for row in rows}

    def _in(self, sql: str, values: Sequence[Any], chunk: int = 500) -> list[dict[str, Any]]:
        """Run `sql` (with one `IN ({})`) over `values` in chunks: SQLite caps parameters."""
        unique = list(dict.fromkeys(values))
        rows: list[dict[str, Any]] = []
        for start in range(0, len(unique), chunk):
            part = unique[start : start + chunk]
            rows.extend(self.db.query(sql.format(", ".join("?" * len(part))), part))
        return rows
