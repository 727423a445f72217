"""store and migrations: the schema of a fresh database, its migrations, and times."""

from __future__ import annotations

import sqlite3
from datetime import timedelta, timezone
from pathlib import Path

import pytest

from preserve.errors import ArchiveError
from preserve.store.database import Store
from preserve.times import iso, parse_iso
from tests.support.stored import T0, URL, add, new_run

# What the issue asks the store to keep (deliver, item 7), column by column.
SCHEMA = {
    "runs": {"id", "command", "started_at", "ended_at", "tool_version", "host", "options"},
    "targets": {
        "url",
        "role",
        "every_seconds",
        "next_due",
        "cited_by",
        "baseline_capture_id",
        "state",
        "reason",
        "confirmed",
        "last_checked_at",
        "last_change_at",
    },
    "captures": {
        "id",
        "run_id",
        "url",
        "role",
        "final_url",
        "redirects",
        "status",
        "error",
        "error_detail",
        "http_status",
        "headers",
        "peer_ip",
        "started_at",
        "ended_at",
        "payload_sha256",
        "decoded_sha256",
        "text_sha256",
        "warc",
        "offset",
        "length",
        "record_id",
        "truncated",
        "kind",
        "content_type",
        "title",
    },
    "texts": {"sha256", "norm_version", "text", "visible_text"},
    "records": {
        "id",
        "capture_id",
        "hop",
        "type",
        "url",
        "http_status",
        "warc",
        "offset",
        "length",
        "record_id",
        "record_sha256",
        "payload_sha256",
    },
    "citations": {"id", "capture_id", "position", "url", "anchor_text", "context"},
    "warc_files": {"name", "run_id", "size", "sha256", "closed_at"},
    "checks": {
        "id",
        "run_id",
        "url",
        "role",
        "checked_at",
        "capture_id",
        "baseline_capture_id",
        "outcome",
        "reason",
        "confirmed",
        "http_status",
        "new_url",
        "detail",
    },
}


# --- the schema -----------------------------------------------------------------------------


def columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def test_a_fresh_database_has_every_table_and_column(tmp_path: Path) -> None:
    Store(tmp_path / "preserve.db").close()

    db = sqlite3.connect(tmp_path / "preserve.db")
    try:
        tables = {
            row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        assert set(SCHEMA) <= tables
        for table, wanted in SCHEMA.items():
            assert wanted <= columns(db, table), (table, wanted - columns(db, table))
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        applied = [
            row[0]
            for row in db.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = 'preserve' ORDER BY id"
            )
        ]
        assert applied[:2] == ["m001_capture", "m002_checks"]
        indexed = {
            (row[0], row[1])
            for row in db.execute(
                "SELECT m.name, i.name FROM sqlite_master m, pragma_index_list(m.name) l,"
                " pragma_index_info(l.name) i WHERE m.type = 'table'"
            )
        }
        for table, column in [
            ("targets", "next_due"),
            ("captures", "url"),
            ("captures", "payload_sha256"),
            ("records", "capture_id"),
            ("citations", "url"),
            ("checks", "url"),
        ]:
            assert (table, column) in indexed, (table, column)
        foreign = {
            (row[2], row[3])
            for row in db.execute("SELECT * FROM pragma_foreign_key_list('captures')")
        }
        assert ("runs", "run_id") in foreign
    finally:
        db.close()


def test_migrations_apply_once(tmp_path: Path) -> None:
    path = tmp_path / "preserve.db"
    first = Store(path)
    run_id = new_run(first)
    add(first, run_id)
    first.close()

    again = Store(path)  # opening an existing archive migrates nothing twice, loses nothing
    try:
        migrations = list(again.db.query("SELECT name FROM _sqlite_migrations"))
        assert len(migrations) == len({m["name"] for m in migrations})
        assert len(again.history(URL)) == 1
        assert again.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        again.close()


def test_a_file_that_is_not_a_database_is_an_archive_error(tmp_path: Path) -> None:
    path = tmp_path / "preserve.db"
    path.write_bytes(b"this is not SQLite" * 100)

    with pytest.raises(ArchiveError, match="cannot open the database"):
        Store(path)


def test_times_sort_as_text_and_round_trip() -> None:
    assert iso(T0) == "2026-11-01T12:00:00.123456Z"
    assert parse_iso(iso(T0)) == T0
    assert iso(T0.replace(microsecond=0)) == "2026-11-01T12:00:00.000000Z"
    other_zone = T0.astimezone(timezone(timedelta(hours=5)))
    assert iso(other_zone) == iso(T0)
