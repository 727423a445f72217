"""store: runs, captures, texts and citations, and the queries behind history, status and
the schedule."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest

from preserve.errors import ArchiveError
from preserve.store.database import Store
from preserve.store.rows import CitationRow
from preserve.times import iso
from tests.support.stored import SOURCE, T0, URL, add, check, new_run

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
    assert store.text(row.text_sha256) == "The article text."
    assert len(list(store.query("SELECT * FROM texts"))) == 1  # stored once
    assert store.text(None) is None and store.text("0" * 64) is None
    assert [(c.position, c.url, c.anchor_text) for c in store.citations(first)] == [
        (0, "https://a.example/", "first"),
        (1, "https://b.example/", "second"),
    ]
    assert store.citations(second) == []
    assert store.capture(9999) is None


def test_a_capture_with_a_bad_reference_is_not_stored_at_all(store: Store) -> None:
    # SQLite's own error; PostgreSQL's as one line that names the server.
    with pytest.raises((sqlite3.IntegrityError, ArchiveError)):
        add(store, 999, citations=(CitationRow(0, "https://a.example/", "a", "A."),))
    assert list(store.query("SELECT * FROM captures")) == []
    assert list(store.query("SELECT * FROM citations")) == []
    assert list(store.query("SELECT * FROM texts")) == []


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
