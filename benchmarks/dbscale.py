"""An archive database at scale, generated directly with SQL (no fetching): N capture rows
over N / 10 tracked URLs, with their records and checks, so that `status` and the due
selection of `check --due` can be timed at 1,000,000 rows."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from preserve.store.database import Store
from preserve.times import iso

OUTCOMES = (
    "unchanged",
    "unchanged",
    "unchanged",
    "unchanged",
    "cosmetic",
    "edited",
    "gone",
    "unreachable",
    "restricted",
    "moved",
)


def _iso(seconds: str) -> str:
    """SQL for the database's time spelling of a Unix time (whole seconds)."""
    return f"strftime('%Y-%m-%dT%H:%M:%S', {seconds}, 'unixepoch') || '.000000Z'"


def generate(
    archive: Path, *, captures: int = 1_000_000, per_target: int = 10, now: datetime | None = None
) -> dict[str, int | float]:
    """Create `archive/preserve.db` with `captures` capture rows (and two record rows and
    one check row each) over `captures // per_target` targets, whose next check falls
    between 1 and 25 hours after `now`. Returns row counts and the seconds it took."""
    clock = time.perf_counter()
    archive.mkdir(parents=True, exist_ok=True)
    (archive / "warcs").mkdir(exist_ok=True)
    Store(archive / "preserve.db").close()  # the schema, by the migrations
    now = now or datetime.now(UTC)
    targets = captures // per_target
    db = sqlite3.connect(archive / "preserve.db", isolation_level=None)
    db.execute("PRAGMA journal_mode = OFF")  # written once, straight into the file
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1000000")  # 1 GB: the indexes are built in memory
    db.execute("BEGIN")
    db.execute(
        "INSERT INTO runs (id, command, started_at, ended_at, tool_version, host, pid,"
        " options) VALUES (1, 'capture', ?, ?, 'bench', 'bench', 1, '{}')",
        [iso(now), iso(now)],
    )
    base = int((now - timedelta(days=per_target)).timestamp())
    due_base = int(now.timestamp()) + 3600
    # Captures: target t has captures t, t + T, t + 2T, … one day apart, the last one its
    # baseline; URLs spread over 1,000 sites.
    url = f"'https://site' || ((i % {targets}) % 1000) || '.example/p-' || (i % {targets})"
    started = _iso(f"{base} + (i / {targets}) * 86400 + (i % {targets})")
    ended = _iso(f"{base} + (i / {targets}) * 86400 + (i % {targets}) + 1")
    due = _iso(f"{due_base} + ((id * 7919) % {targets}) * 86400 / {targets}")
    db.execute("CREATE TEMP TABLE outcomes (i INTEGER PRIMARY KEY, outcome TEXT)")
    db.executemany("INSERT INTO outcomes VALUES (?, ?)", enumerate(OUTCOMES))
    db.execute(
        f"""WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {captures - 1})
        INSERT INTO captures (id, run_id, url, role, depth, started_at, ended_at, status,
            http_status, final_url, redirects, headers, content_type, kind, payload_sha256,
            payload_length, text_sha256, norm_version, title, record_type, warc, offset,
            length, record_id, record_sha256)
        SELECT i + 1, 1,
            {url},
            CASE WHEN (i % {targets}) % 11 = 0 THEN 'article' ELSE 'citation' END, 0,
            {started},
            {ended},
            'captured', 200,
            {url},
            '[]', '[["Content-Type", "text/html"]]', 'text/html', 'html',
            printf('%064x', i % {targets}), 20000, printf('%064x', i % {targets}), 1,
            'A page', CASE WHEN i >= {targets} THEN 'revisit' ELSE 'response' END,
            'preserve-' || (i / 5000) || '.warc.gz', (i % 5000) * 2000, 1900,
            '<urn:uuid:' || printf('%032x', i) || '>', printf('%064x', i)
        FROM n"""
    )
    db.execute(
        """INSERT INTO records (capture_id, hop, type, url, date, http_status, warc, offset,
            length, record_id, record_sha256, payload_sha256)
        SELECT id, 0, record_type, url, started_at, 200, warc, offset, length, record_id,
            record_sha256, payload_sha256 FROM captures"""
    )
    db.execute(
        """INSERT INTO records (capture_id, hop, type, url, date, warc, offset, length,
            record_id, record_sha256)
        SELECT id, 0, 'request', url, started_at, warc, offset + 1900, 100,
            '<urn:uuid:r' || id || '>', record_sha256 FROM captures"""
    )
    db.execute(
        f"""INSERT INTO checks (run_id, url, role, checked_at, capture_id, baseline_capture_id,
            outcome, reason, confirmed, rule, http_status, detail)
        SELECT 1, url, role, ended_at, id, id - {targets},
            (SELECT outcome FROM outcomes WHERE i = id % 10), NULL, 0, 'bench', 200,
            '{{}}' FROM captures WHERE id > {targets}"""
    )
    db.execute(
        f"""INSERT INTO targets (url, role, every_seconds, added_at, next_due, cited_by,
            baseline_capture_id, state, reason, confirmed, last_checked_at, last_change_at)
        SELECT url, role, 86400, started_at,
            {due},
            CASE WHEN role = 'article' THEN NULL
                 ELSE 'https://site0.example/p-' || (id - id % 11) END,
            id + {targets} * {per_target - 1}, (SELECT outcome FROM outcomes WHERE i = id % 10),
            NULL, 0, started_at, started_at
        FROM captures WHERE id <= {targets}"""
    )
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = WAL")
    counts = {
        table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("captures", "records", "checks", "targets")
    }
    db.close()
    return {**counts, "seconds": round(time.perf_counter() - clock, 1)}
