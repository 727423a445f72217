"""One check for every test that writes an archive: its WARC files pass `warcio check` and
preserve's strict check, and every row of the database re-opens the record it names."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from preserve.warc.reader import StoredRecord, read_record
from preserve.warc.records import REVISIT_PROFILE
from preserve.warc.scan import strict_check

BIN = Path(sys.executable).parent


def rows(archive: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """Query an archive's database (read-only) as a list of dicts."""
    conn = sqlite3.connect(f"file:{archive / 'preserve.db'}?mode=ro", uri=True)
    try:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(sql, params)]
    finally:
        conn.close()


def warcio_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "warcio"), "check", "-v", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def record_at(archive: Path, warc: str, offset: int, length: int) -> StoredRecord:
    return read_record(archive / "warcs" / warc, offset, length)


def assert_archive_sound(archive: Path) -> None:
    """Every WARC file passes both validators and matches its `warc_files` row; every
    `captures` and `records` row re-opens the record it names, with the stored hashes."""
    warcs = archive / "warcs"
    assert not list(warcs.glob("*.open")), "a WARC file was left open"
    files = sorted(warcs.glob("*.warc.gz"))
    closed = {row["name"]: row for row in rows(archive, "SELECT * FROM warc_files")}
    assert sorted(closed) == [path.name for path in files]
    if files:  # one process for all files: starting Python is the slow part
        result = warcio_check(*files)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "fail" not in result.stdout.lower(), result.stdout
    for path in files:
        assert strict_check(path) == [], path.name
        data = path.read_bytes()
        assert closed[path.name]["size"] == len(data)
        assert closed[path.name]["sha256"] == hashlib.sha256(data).hexdigest()

    for row in rows(archive, "SELECT * FROM records"):
        record = record_at(archive, row["warc"], row["offset"], row["length"])
        where = f"records row {row['id']} ({row['type']} {row['url']})"
        assert record.record_id == row["record_id"], where
        assert record.rec_type == row["type"], where
        with (warcs / row["warc"]).open("rb") as file:
            file.seek(row["offset"])
            member = file.read(row["length"])
        assert hashlib.sha256(member).hexdigest() == row["record_sha256"], where
        if row["type"] == "metadata":
            assert record.target_uri is None, where
        else:
            assert record.target_uri == row["url"], where
        _assert_payload(archive, record, row["type"], row["payload_sha256"], where)
        if row["type"] in ("response", "revisit"):
            assert record.http_status == row["http_status"], where

    for row in rows(archive, "SELECT * FROM captures"):
        where = f"capture {row['id']} ({row['url']})"
        if row["status"] == "failed":
            assert row["error"], where
            assert row["warc"] is None and row["payload_sha256"] is None, where
            continue
        record = record_at(archive, row["warc"], row["offset"], row["length"])
        assert record.record_id == row["record_id"], where
        assert record.rec_type == row["record_type"], where
        assert record.target_uri == row["final_url"], where
        assert record.http_status == row["http_status"], where
        _assert_payload(archive, record, row["record_type"], row["payload_sha256"], where)
        if row["truncated"]:
            assert record.header("WARC-Truncated") == row["truncated"], where
        elif row["record_type"] == "response":
            assert record.header("WARC-Truncated") is None, where
            assert len(record.payload) == row["payload_length"], where
        if row["metadata_record_id"]:
            (meta,) = rows(
                archive, "SELECT * FROM records WHERE record_id = ?", (row["metadata_record_id"],)
            )
            stored = record_at(archive, meta["warc"], meta["offset"], meta["length"])
            assert stored.header("WARC-Refers-To") == row["record_id"], where


def _assert_payload(
    archive: Path, record: StoredRecord, kind: str, payload_sha256: str | None, where: str
) -> None:
    if kind in ("response", "resource"):  # a resource: a rendered page's DOM, screenshots
        assert payload_sha256 is not None, where
        assert hashlib.sha256(record.payload).hexdigest() == payload_sha256, where
        assert record.payload_digest == "sha256:" + payload_sha256, where
    elif kind == "revisit":
        assert payload_sha256 is not None, where
        assert record.payload_digest == "sha256:" + payload_sha256, where
        _assert_revisit_resolves(archive, record, where)
    else:
        assert payload_sha256 is None, where


def _assert_revisit_resolves(archive: Path, revisit: StoredRecord, where: str) -> None:
    """A revisit names its original by id, target URI and date: all three must agree with
    the original response record, whose payload digest is the revisit's."""
    assert revisit.header("WARC-Profile") == REVISIT_PROFILE, where
    assert revisit.header("WARC-Truncated") == "length", where
    originals = rows(
        archive, "SELECT * FROM records WHERE record_id = ?", (revisit.header("WARC-Refers-To"),)
    )
    assert len(originals) == 1, f"{where}: WARC-Refers-To names no record of this archive"
    row = originals[0]
    original = record_at(archive, row["warc"], row["offset"], row["length"])
    assert original.rec_type == "response", where
    assert original.payload_digest == revisit.payload_digest, where
    assert revisit.header("WARC-Refers-To-Target-URI") == original.target_uri, where
    assert revisit.header("WARC-Refers-To-Date") == original.date, where
