"""verify, end to end: an archive captured and checked from a local site, intact, then
with database rows edited by hand, each kind of damage named exactly, never a traceback and
never "ok"."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from preserve.store import chain
from preserve.store.sqlite import SqliteConnection
from tests.support.checked_archive import capture_row, kinds, run_verify, sql
from tests.support.cli import Preserve
from tests.support.sites import Site

# --- intact archives ----------------------------------------------------------------------


def test_captured_and_checked_archive_verifies_clean(archive: Path, preserve: Preserve) -> None:
    assert run_verify(archive) == []
    result = preserve.run(archive, "verify", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"ok", "records_checked", "problems"} <= set(data)
    assert data["ok"] is True and data["problems"] == []
    records = sql(archive, "SELECT count(*) AS n FROM records")[0]["n"]
    files = sql(archive, "SELECT count(*) AS n FROM warc_files")[0]["n"]
    assert data["records_checked"] == records + files  # and one warcinfo per file
    assert data["chain"]["head"].startswith("sha256:")
    text = preserve.run(archive, "verify")
    assert text.exit_code == 0 and text.stdout.startswith("OK: no problems")


@pytest.mark.slow
def test_demo_archive_verifies_clean(tmp_path: Path, preserve: Preserve) -> None:
    demo = preserve.run(tmp_path / "demo", "demo")
    assert demo.exit_code == 0, demo.output
    result = preserve.run(tmp_path / "demo", "verify", "--json")
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["ok"] is True


def test_every_logged_row_has_one_chain_entry_in_order(archive: Path) -> None:
    entries = sql(archive, "SELECT * FROM chain ORDER BY seq")
    logged = {(e["table_name"], e["row_id"]) for e in entries}
    for table, key in (("captures", "id"), ("checks", "id"), ("warc_files", "name")):
        for row in sql(archive, f"SELECT {key} AS k FROM {table}"):
            assert (table, str(row["k"])) in logged
    assert len(logged) == len(entries)
    assert entries[0]["prev_hash"] is None
    for before, entry in zip(entries, entries[1:], strict=False):
        assert entry["prev_hash"] == before["entry_hash"]
    # The documented recipe, recomputed by hand for one capture.
    first = entries[0]
    row = sql(archive, "SELECT * FROM captures WHERE id = ?", (int(first["row_id"]),))[0]
    hashed = {
        "prev": None,
        "table": "captures",
        "row": {c: row[c] for c in chain.COLUMNS["captures"]},
    }
    data = json.dumps(hashed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert first["entry_hash"] == "sha256:" + hashlib.sha256(data.encode()).hexdigest()
    # Each closed WARC file's sha256 is in a logged warc_files row.
    for row in sql(archive, "SELECT * FROM warc_files"):
        data_hash = hashlib.sha256((archive / "warcs" / row["name"]).read_bytes()).hexdigest()
        assert row["sha256"] == data_hash


# --- database rows edited by hand ---------------------------------------------------------


def test_edited_http_status(archive: Path, preserve: Preserve) -> None:
    target = capture_row(archive, "/src/report")
    sql(archive, "UPDATE captures SET http_status = 404 WHERE id = ?", (target["id"],))
    problems = run_verify(archive)
    assert problems == [("row-edited", None, target["url"])]
    result = preserve.run(archive, "verify", "--json")
    assert result.exit_code == 1
    (problem,) = json.loads(result.stdout)["problems"]
    assert {"kind", "warc", "offset", "url", "detail"} <= set(problem)
    assert problem["capture_id"] == target["id"]


def test_edited_payload_sha256(archive: Path) -> None:
    target = capture_row(archive, "/src/report")
    sql(archive, "UPDATE captures SET payload_sha256 = ? WHERE id = ?", ("0" * 64, target["id"]))
    assert kinds(archive) == {"row-edited", "payload-sha256"}


def test_deleted_captures_row(archive: Path) -> None:
    target = capture_row(archive, "/src/annex.txt")
    sql(archive, "DELETE FROM captures WHERE id = ?", (target["id"],))
    assert run_verify(archive) == [("row-deleted", None, None)]


def test_two_rows_swapped(archive: Path) -> None:
    first, second = capture_row(archive, "/src/report", 0), capture_row(archive, "/src/report", 1)
    sql(archive, "UPDATE captures SET id = -1 WHERE id = ?", (first["id"],))
    sql(archive, "UPDATE captures SET id = ? WHERE id = ?", (first["id"], second["id"]))
    sql(archive, "UPDATE captures SET id = ? WHERE id = -1", (second["id"],))
    assert kinds(archive) == {"row-reordered"}


def test_chain_entries_swapped_or_deleted(archive: Path) -> None:
    sql(archive, "UPDATE chain SET seq = -1 WHERE seq = 3")
    sql(archive, "UPDATE chain SET seq = 3 WHERE seq = 4")
    sql(archive, "UPDATE chain SET seq = 4 WHERE seq = -1")
    assert kinds(archive) == {"chain-reordered"}
    sql(archive, "UPDATE chain SET seq = -1 WHERE seq = 3")
    sql(archive, "UPDATE chain SET seq = 3 WHERE seq = 4")
    sql(archive, "UPDATE chain SET seq = 4 WHERE seq = -1")
    assert kinds(archive) == set()
    sql(archive, "DELETE FROM chain WHERE seq = 5")
    assert kinds(archive) == {"chain-broken", "row-unlogged"}


def test_edited_warc_files_row_and_text(archive: Path) -> None:
    (row,) = sql(archive, "SELECT name FROM warc_files ORDER BY name LIMIT 1")
    sql(archive, "UPDATE warc_files SET sha256 = ? WHERE name = ?", ("f" * 64, row["name"]))
    assert kinds(archive) == {"row-edited", "file-changed"}
    sql(archive, "UPDATE texts SET text = replace(text, 'confirmed', 'denied')")
    assert "text-sha256" in kinds(archive)
    sql(archive, "DELETE FROM text_search_keys")
    assert "text-unindexed" in kinds(archive)


def test_rows_written_outside_preserve_are_unlogged(archive: Path) -> None:
    sql(archive, "INSERT INTO checks (url, outcome) VALUES ('http://example.org/', 'gone')")
    assert kinds(archive) == {"row-unlogged"}


def rewrite_log(path: Path, statement: str) -> None:
    """What a forger with write access does: edit a logged row, then recompute every chain
    entry from the rows as they now stand, so that the chain is consistent again."""
    sql(path, statement)
    db = Database(path / "preserve.db")
    try:
        prev = None
        for entry in chain.entries(SqliteConnection.over(db.conn, path / "preserve.db")):
            key = chain.KEYS[entry.table_name]
            (row,) = db.query(
                f"SELECT * FROM [{entry.table_name}] WHERE [{key}] = ?", [entry.row_id]
            )
            digest = chain.entry_hash(prev, entry.table_name, row)
            db.execute(
                "UPDATE chain SET prev_hash = ?, entry_hash = ? WHERE seq = ?",
                [prev, digest, entry.seq],
            )
            prev = digest
        db.conn.commit()
    finally:
        db.close()


def test_a_head_noted_down_stays_in_the_chain_until_the_log_is_rewritten(
    archive: Path, checked_site: Site, preserve: Preserve
) -> None:
    noted = json.loads(preserve.run(archive, "verify", "--json").stdout)["chain"]["head"]
    (last,) = sql(archive, "SELECT max(seq) AS seq FROM chain")
    # The archive goes on: a check logs more rows after the head was noted.
    checked = preserve.run(archive, "check", "--allow-private", "--quiet")
    assert checked.exit_code == 0, checked.output
    result = preserve.run(archive, "verify", "--head", noted, "--json")
    assert result.exit_code == 0, result.stdout
    data = json.loads(result.stdout)["chain"]
    assert data["given_heads"] == [{"hash": noted, "seq": last["seq"]}]
    assert data["head"] != noted and data["entries"] > last["seq"]
    text = preserve.run(archive, "verify", "--head", noted).stdout
    assert f"Head {noted} is chain entry {last['seq']}" in text

    # Rewritten, the log is consistent on its own: only the head noted down tells.
    target = capture_row(archive, "/src/report")
    rewrite_log(archive, f"UPDATE captures SET http_status = 404 WHERE id = {target['id']}")
    assert kinds(archive) == set()
    assert kinds(archive, heads=[noted]) == {"chain-head-missing"}
    result = preserve.run(archive, "verify", "--head", noted, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["chain"]["given_heads"] == [{"hash": noted, "seq": None}]


def test_a_malformed_head_is_refused_before_anything_is_read(
    archive: Path, preserve: Preserve
) -> None:
    for bad in ("52aaba36", "sha256:" + "G" * 64, "sha256:" + "a" * 63, "md5:" + "a" * 64):
        result = preserve.run(archive, "verify", "--head", bad)
        assert result.exit_code == 2
        assert result.stderr.startswith("Error: --head") and result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "edit",
    ["offset = NULL", "offset = 'abc'", "length = NULL", "length = -5", "record_sha256 = NULL"],
)
def test_a_hand_edited_capture_row_is_a_problem_not_a_traceback(
    archive: Path, edit: str, preserve: Preserve
) -> None:
    target = capture_row(archive, "/2016/10/story")
    with sqlite3.connect(archive / "preserve.db") as db:
        db.execute(f"UPDATE captures SET {edit} WHERE id = ?", (target["id"],))
    result = preserve.run(archive, "verify")
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"capture {target['id']}" in result.stdout
    assert "row-edited" in result.stdout or "edited after it was logged" in result.stdout
