"""The hash chain: old archives logged when opened, processes appending at once, failed
writes, and rows without a WARC record."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlite_utils import Database

from preserve.store import chain
from preserve.store.database import Store
from preserve.store.migrations import migrations
from preserve.store.rows import NewCapture
from tests.support.checked_archive import OLD


def test_an_archive_from_before_the_chain_is_logged_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = Database(path)
    migrations.apply(db, stop_before="m003_chain_and_text_search")
    db["runs"].insert({"id": 1, "command": "capture"})
    db["captures"].insert(
        {
            "id": 1,
            "run_id": 1,
            "url": "http://example.org/",
            "started_at": "2026-01-01T00:00:00.000000Z",
            "status": "failed",
        }
    )
    db["texts"].insert({"sha256": hashlib.sha256(OLD.encode()).hexdigest(), "text": OLD})
    db.close()
    store = Store(path)
    try:
        problems, entries = chain.check(store.conn)
        assert problems == [] and entries == 1
        hits = list(
            store.db.query(
                "SELECT rowid FROM text_search WHERE text_search MATCH ?", ['"wiretap order"']
            )
        )
        assert len(hits) == 1
    finally:
        store.close()


APPEND = """
import sys
from pathlib import Path
from preserve.store.database import Store
from preserve.store.rows import NewCapture
store = Store(Path(sys.argv[1]))
for i in range(int(sys.argv[2])):
    store.add_capture(NewCapture(run_id=None, url=f"http://example.org/{sys.argv[3]}/{i}",
                                 role="article", depth=0, parent_id=None,
                                 started_at="2026-01-01T00:00:00.000000Z",
                                 ended_at="2026-01-01T00:00:00.000000Z", status="failed"))
store.close()
"""


def test_two_processes_appending_at_once_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "preserve.db"
    Store(path).close()
    writers = [
        subprocess.Popen([sys.executable, "-c", APPEND, str(path), "150", name])
        for name in ("a", "b")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    store = Store(path)
    try:
        problems, entries = chain.check(store.conn)
        assert problems == [] and entries == 300
    finally:
        store.close()


def test_a_failed_write_leaves_no_chain_entry(tmp_path: Path) -> None:
    store = Store(tmp_path / "preserve.db")
    try:
        with pytest.raises(sqlite3.IntegrityError):
            store.add_capture(
                NewCapture(
                    run_id=12345,
                    url="http://example.org/",
                    role="article",
                    depth=0,
                    parent_id=None,
                    started_at="x",
                    ended_at="x",
                    status="failed",
                )
            )
        assert list(store.db.query("SELECT * FROM chain")) == []
    finally:
        store.close()


def test_store_rejects_nothing_new(tmp_path: Path) -> None:
    """NewCapture rows keep working without a WARC record (failed fetches)."""
    store = Store(tmp_path / "preserve.db")
    try:
        store.db["runs"].insert({"id": 1, "command": "capture"})
        store.add_capture(
            NewCapture(
                run_id=1,
                url="http://example.org/",
                role="article",
                depth=0,
                parent_id=None,
                started_at="x",
                ended_at="x",
                status="failed",
            )
        )
        assert chain.check(store.conn) == ([], 1)
    finally:
        store.close()
