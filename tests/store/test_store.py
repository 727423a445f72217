"""store and migrations: the schema of a fresh database, and the queries behind history,
status and the schedule; plus `history` and `status` on the command line."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from preserve.cli.main import cli
from preserve.errors import ArchiveError
from preserve.store.database import Store
from preserve.store.rows import CitationRow, NewCapture, NewCheck
from preserve.times import iso, parse_iso

T0 = datetime(2026, 11, 1, 12, 0, 0, 123456, tzinfo=UTC)
URL = "https://example.org/2016/10/some-article"
SOURCE = "https://gov.example/statements/briefing"

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


@pytest.fixture
def store(tmp_path: Path) -> Any:
    opened = Store(tmp_path / "preserve.db")
    yield opened
    opened.close()


def new_run(store: Store, at: datetime = T0) -> int:
    return store.start_run(
        "capture", {"urls": [URL]}, started_at=at, tool_version="0.1.0", host="test-host", pid=1234
    )


def add(
    store: Store,
    run_id: int,
    url: str = URL,
    *,
    at: datetime = T0,
    status: str = "captured",
    http_status: int | None = 200,
    role: str = "article",
    text: str | None = "Some text.",
    payload: str = "a" * 64,
    citations: tuple[CitationRow, ...] = (),
    error: str | None = None,
) -> int:
    text_sha = hashlib.sha256(text.encode()).hexdigest() if text else None
    return store.add_capture(
        NewCapture(
            run_id=run_id,
            url=url,
            role=role,
            depth=0,
            parent_id=None,
            started_at=iso(at),
            ended_at=iso(at + timedelta(seconds=1)),
            status=status,
            error=error,
            http_status=http_status if status == "captured" else None,
            final_url=url,
            payload_sha256=payload if status == "captured" else None,
            text_sha256=text_sha if status == "captured" else None,
            text=text,
            visible_text=text,
            norm_version=1,
            warc="preserve-x.warc.gz" if status == "captured" else None,
            offset=100 if status == "captured" else None,
            length=50 if status == "captured" else None,
            record_type="response" if status == "captured" else None,
            record_id="<urn:uuid:1>" if status == "captured" else None,
            citations=citations,
        )
    )


def check(
    store: Store,
    run_id: int,
    capture_id: int,
    *,
    at: datetime,
    outcome: str,
    url: str = URL,
    baseline: int | None = None,
    new_baseline: bool = False,
    reason: str | None = None,
) -> int:
    return store.add_check(
        NewCheck(
            run_id=run_id,
            url=url,
            role="article",
            checked_at=iso(at),
            capture_id=capture_id,
            baseline_capture_id=baseline,
            probe_capture_id=None,
            outcome=outcome,
            reason=reason,
            confirmed=0,
            rule="test",
            http_status=200,
            new_url=None,
            detail="{}",
            new_baseline=new_baseline,
        )
    )


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


# --- runs, captures, texts, citations -------------------------------------------------------


def test_runs_record_who_ran_what_and_when(store: Store) -> None:
    run_id = new_run(store)
    store.end_run(run_id, T0 + timedelta(seconds=5))

    (row,) = store.runs()
    assert (row.id, row.command, row.host, row.pid, row.tool_version) == (
        run_id,
        "capture",
        "test-host",
        1234,
        "0.1.0",
    )
    assert (row.started_at, row.ended_at) == (iso(T0), iso(T0 + timedelta(seconds=5)))
    assert json.loads(row.options) == {"urls": [URL]}


def test_a_capture_is_stored_with_its_text_and_citations(store: Store) -> None:
    run_id = new_run(store)
    cited = (
        CitationRow(1, "https://b.example/", "second", "The second one."),
        CitationRow(0, "https://a.example/", "first", "The first one."),
    )
    first = add(store, run_id, citations=cited, text="The article text.")
    second = add(store, run_id, at=T0 + timedelta(hours=1), text="The article text.")

    row = store.capture(first)
    assert row is not None and (row.url, row.status, row.http_status) == (
        URL,
        "captured",
        200,
    )
    assert store.capture(second).text_sha256 == row.text_sha256
    assert store.text(row.text_sha256) == ("The article text.", "The article text.")
    assert len(list(store.db.query("SELECT * FROM texts"))) == 1  # stored once
    assert store.text(None) is None and store.text("0" * 64) is None
    assert [(c.position, c.url, c.anchor_text) for c in store.citations(first)] == [
        (0, "https://a.example/", "first"),
        (1, "https://b.example/", "second"),
    ]
    assert store.citations(second) == []
    assert store.capture(9999) is None


def test_a_capture_with_a_bad_reference_is_not_stored_at_all(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        add(store, 999, citations=(CitationRow(0, "https://a.example/", "a", "A."),))
    assert list(store.db.query("SELECT * FROM captures")) == []
    assert list(store.db.query("SELECT * FROM citations")) == []
    assert list(store.db.query("SELECT * FROM texts")) == []


def test_warc_files_are_recorded_once_by_name(store: Store) -> None:
    run_id = new_run(store)
    store.add_warc_file("w.warc.gz", run_id, size=10, sha256="0" * 64, closed_at=T0)
    store.add_warc_file("w.warc.gz", run_id, size=20, sha256="1" * 64, closed_at=T0)

    (row,) = store.warc_files()
    assert (row.name, row.run_id, row.size, row.sha256) == (
        "w.warc.gz",
        run_id,
        20,
        "1" * 64,
    )


# --- history --------------------------------------------------------------------------------


def test_history_is_oldest_first_without_probes_with_check_outcomes(store: Store) -> None:
    run_id = new_run(store)
    later = add(store, run_id, at=T0 + timedelta(days=2), payload="c" * 64)
    first = add(store, run_id, at=T0)
    failed = add(store, run_id, at=T0 + timedelta(days=1), status="failed", error="timeout")
    add(store, run_id, at=T0 + timedelta(days=1, hours=1), role="probe")
    add(store, run_id, SOURCE, at=T0)  # another URL
    store.track(URL, role="article", every_seconds=86400, now=T0, baseline_capture_id=first)
    check(store, run_id, later, at=T0 + timedelta(days=2), outcome="edited", baseline=first)

    history = store.history(URL)

    assert [h.capture.id for h in history] == [first, failed, later]
    assert [h.outcome for h in history] == [None, None, "edited"]
    assert history[1].capture.error == "timeout" and history[1].capture.status == "failed"
    assert store.history("https://never.example/") == []
    assert [c.id for c in store.good_captures(URL)] == [first, later]


# --- targets: tracking, state, schedule -----------------------------------------------------


def test_tracking_keeps_roles_schedules_and_baselines(store: Store) -> None:
    run_id = new_run(store)
    good = add(store, run_id, SOURCE)
    store.track(
        SOURCE, role="citation", every_seconds=3600, now=T0, cited_by=URL, baseline_capture_id=good
    )
    store.track(
        SOURCE,
        role="citation",
        every_seconds=60,
        now=T0 + timedelta(hours=1),
        cited_by="https://other.example/",
    )

    target = store.target(SOURCE)
    assert target is not None
    assert (target.role, target.every_seconds, target.cited_by) == (
        "citation",
        3600,
        URL,
    )  # a second article citing it changes nothing
    assert target.baseline_capture_id == good
    assert (target.added_at, target.next_due) == (iso(T0), iso(T0 + timedelta(hours=1)))

    store.track(SOURCE, role="article", every_seconds=600, now=T0 + timedelta(hours=2))
    target = store.target(SOURCE)
    assert (target.role, target.every_seconds) == ("article", 600)  # article wins
    assert target.baseline_capture_id == good  # untouched when not given
    assert store.target("https://never.example/") is None


def test_state_due_and_schedule(store: Store) -> None:
    store.track(URL, role="article", every_seconds=86400, now=T0)
    store.track(
        SOURCE, role="citation", every_seconds=86400, now=T0 + timedelta(minutes=1), cited_by=URL
    )
    store.track(
        "https://elsewhere.example/",
        role="citation",
        every_seconds=86400,
        now=T0 + timedelta(minutes=2),
        cited_by="https://other.example/",
    )

    assert [t.url for t in store.targets()] == [URL, SOURCE, "https://elsewhere.example/"]
    assert [t.url for t in store.targets([SOURCE, "https://nope.example/", URL])] == [
        SOURCE,
        URL,
    ]
    # just captured: each is due one interval after it was tracked
    assert store.due(T0) == []
    assert [t.url for t in store.due(T0 + timedelta(days=1))] == [URL]
    assert len(store.due(T0 + timedelta(days=1, hours=1))) == 3
    assert store.next_due() == iso(T0 + timedelta(days=1))

    store.set_state(SOURCE, "failed", "dns", T0, confirmed=False)
    target = store.target(SOURCE)
    assert (target.state, target.reason, target.confirmed) == ("failed", "dns", 0)
    assert target.last_checked_at == target.last_change_at == iso(T0)

    assert store.set_schedule(URL, 3600, include_citations=True) == 2
    assert {t.url: t.every_seconds for t in store.targets()} == {
        URL: 3600,
        SOURCE: 3600,
        "https://elsewhere.example/": 86400,
    }
    # the next due time follows the new interval, from the last check or the tracking
    assert store.target(URL).next_due == iso(T0 + timedelta(hours=1))
    assert store.target(SOURCE).next_due == iso(T0 + timedelta(hours=1))
    assert store.set_schedule(URL, 60, include_citations=False) == 1


def test_a_check_moves_the_target_on(store: Store) -> None:
    run_id = new_run(store)
    baseline = add(store, run_id)
    store.track(URL, role="article", every_seconds=3600, now=T0, baseline_capture_id=baseline)
    store.set_state(URL, "new", None, T0)
    at = T0 + timedelta(days=1)

    failed = add(store, run_id, at=at, status="failed", error="timeout")
    check(store, run_id, failed, at=at, outcome="unreachable", reason="timeout", baseline=baseline)
    target = store.target(URL)
    assert (target.state, target.reason) == ("unreachable", "timeout")
    assert target.baseline_capture_id == baseline  # an error never replaces it
    assert target.next_due == iso(at + timedelta(hours=1))
    assert target.last_change_at == iso(at)

    later = at + timedelta(days=1)
    edited = add(store, run_id, at=later, payload="e" * 64, text="Edited text.")
    check(store, run_id, edited, at=later, outcome="edited", baseline=baseline, new_baseline=True)
    assert store.target(URL).baseline_capture_id == edited
    assert [c.outcome for c in store.past_checks(URL)] == ["unreachable", "edited"]

    quiet = later + timedelta(days=1)
    same = add(store, run_id, at=quiet, payload="e" * 64, text="Edited text.")
    check(store, run_id, same, at=quiet, outcome="unchanged", baseline=edited)
    check(store, run_id, same, at=quiet + timedelta(hours=1), outcome="unchanged", baseline=edited)
    target = store.target(URL)
    assert target.last_change_at == iso(quiet)  # a repeated "unchanged" is no change
    assert target.last_checked_at == iso(quiet + timedelta(hours=1))


# --- history and status on the command line -------------------------------------------------


def test_history_and_status_need_an_archive(tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here"
    for args in (["history", URL], ["status"], ["status", "--json"]):
        result = CliRunner().invoke(cli, ["--archive", str(missing), *args])
        assert result.exit_code == 2, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: no archive at"), result.stderr
        assert not missing.exists()


def test_history_and_status_of_an_empty_archive(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    Store(archive / "preserve.db").close()

    def invoke(*args: str) -> Any:
        result = CliRunner().invoke(cli, ["--archive", str(archive), *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    assert json.loads(invoke("history", "--json", URL)) == {"url": URL, "captures": []}
    assert json.loads(invoke("status", "--json")) == {"targets": []}
    assert "No captures" in invoke("history", URL)
    # URLs are compared in their canonical form.
    assert (
        json.loads(
            invoke("history", "--json", "HTTPS://Example.org:443/2016/10/some-article#comments")
        )["url"]
        == URL
    )
    result = CliRunner().invoke(cli, ["--archive", str(archive), "history", "ftp://x/"])
    assert result.exit_code == 2 and result.stderr.startswith("Error: ")


def test_history_and_status_from_a_populated_archive(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    store = Store(archive / "preserve.db")
    try:
        run_id = new_run(store)
        first = add(store, run_id)
        failed = add(store, run_id, at=T0 + timedelta(days=1), status="failed", error="dns")
        store.track(URL, role="article", every_seconds=86400, now=T0, baseline_capture_id=first)
        store.set_state(URL, "new", None, T0)
        check(
            store,
            run_id,
            failed,
            at=T0 + timedelta(days=1),
            outcome="gone",
            reason="dns",
            baseline=first,
        )
    finally:
        store.close()

    result = CliRunner().invoke(cli, ["--archive", str(archive), "history", "--json", URL])
    assert result.exit_code == 0, result.output
    captures = json.loads(result.stdout)["captures"]
    assert [(c["outcome"], c["http_status"], c["error"]) for c in captures] == [
        ("new", 200, None),
        ("gone", None, "dns"),
    ]
    assert captures[0]["captured_at"] == iso(T0)
    assert (captures[0]["warc"], captures[0]["offset"], captures[0]["length"]) == (
        "preserve-x.warc.gz",
        100,
        50,
    )
    assert captures[1]["sha256"] is None and captures[1]["warc"] is None

    result = CliRunner().invoke(cli, ["--archive", str(archive), "status", "--json"])
    assert result.exit_code == 0, result.output
    (target,) = json.loads(result.stdout)["targets"]
    assert (target["url"], target["role"], target["state"], target["reason"]) == (
        URL,
        "article",
        "gone",
        "dns",
    )
    assert target["every"] == "1d" and target["confirmed"] is False
    assert target["last_checked_at"] == iso(T0 + timedelta(days=1))
