"""Runs at once on one archive: two captures, a run that must wait for another, and two
checks that must not fetch the same URL twice."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from tests.hostile.helpers import captured_article, many_pages, rows
from tests.support.processes import Proc, assert_verify_clean
from tests.support.sites import Page, Site

# Long end-to-end runs: real processes waiting on each other (make test-fast skips).
pytestmark = pytest.mark.slow

# --- concurrent runs -------------------------------------------------------------------------


def test_two_runs_at_once_lose_nothing(tmp_path: Path) -> None:
    site = Site()
    try:
        archive = tmp_path / "archive"
        first = many_pages(site, 1, articles=4, sources=12)
        # Two captures on a new archive at once (each creating it), overlapping sources.
        a = Proc(archive, "capture", first[0], first[1], "--allow-private", "--json")
        b = Proc(archive, "capture", first[1], first[2], "--allow-private", "--json")
        ran_a, ran_b = a.wait(), b.wait()
        assert (ran_a.code, ran_b.code) == (0, 0), ran_a.stderr + ran_b.stderr
        # Then a check and a capture at once.
        c = Proc(archive, "check", "--allow-private", "--json")
        d = Proc(archive, "capture", first[3], "--allow-private", "--json")
        ran_c, ran_d = c.wait(), d.wait()
        assert (ran_c.code, ran_d.code) == (0, 0), ran_c.stderr + ran_d.stderr
        for ran in (ran_a, ran_b, ran_d):
            document = ran.json()
            fetched = sum(
                1 + len(entry["citations"]) + len(entry["requisites"])
                for entry in document["articles"]
            )
            stored = rows(
                archive, "SELECT count(*) AS n FROM captures WHERE run_id = ?", (document["run"],)
            )[0]["n"]
            assert stored == fetched
        checks = rows(
            archive, "SELECT count(*) AS n FROM checks WHERE run_id = ?", (ran_c.json()["run"],)
        )[0]["n"]
        assert checks == len(ran_c.json()["results"]) > 0
        files = rows(archive, "SELECT run_id, count(*) AS n FROM warc_files GROUP BY run_id")
        assert len(files) == 4  # each run its own file
        shared = rows(
            archive,
            "SELECT records.warc FROM records JOIN captures ON captures.id"
            " = records.capture_id GROUP BY records.warc"
            " HAVING count(DISTINCT captures.run_id) > 1",
        )
        assert shared == []
        assert_verify_clean(archive)
    finally:
        site.close()


def test_a_run_that_must_wait_says_so(tmp_path: Path, site: Site) -> None:
    archive = captured_article(tmp_path, site)
    conn = sqlite3.connect(archive / "preserve.db", isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")  # another writer, holding the database
    proc = Proc(archive, "capture", site.url("/a"), "--allow-private", "-q")
    threading.Timer(4.0, conn.commit).start()
    ran = proc.wait()
    conn.close()
    assert ran.code == 0, ran.stderr
    assert ran.stderr.startswith("Waiting: another preserve process is writing to this archive")
    assert ran.seconds > 3.5
    assert_verify_clean(archive)


def test_two_checks_at_once_do_not_fetch_the_same_url_twice(tmp_path: Path) -> None:
    """Two `check`s at once each fetched everything. A check holds the URLs it is checking;
    another one running then skips them, and says so."""
    site = Site()
    try:
        archive = tmp_path / "archive"
        site.pages["/slow"] = Page("<html><body><p>Slow but sure.</p></body></html>")
        site.pages["/quick"] = Page("<html><body><p>Quick.</p></body></html>")
        for path in ("/slow", "/quick"):
            ran = Proc(archive, "capture", site.url(path), "--allow-private").wait()
            assert ran.code == 0, ran.stderr
        site.pages["/slow"] = Page("<html><body><p>Slow but sure.</p></body></html>", delay=3)

        first = Proc(archive, "check", site.url("/slow"), "--allow-private", "--json")
        deadline = time.monotonic() + 20
        while not rows(archive, "SELECT 1 FROM targets WHERE check_run IS NOT NULL"):
            assert time.monotonic() < deadline, "the first check never held its URL"
            time.sleep(0.05)
        second = Proc(archive, "check", "--allow-private", "--json").wait()
        ran = first.wait()

        assert (ran.code, second.code) == (0, 0), ran.stderr + second.stderr
        assert [r["url"] for r in second.json()["results"]] == [site.url("/quick")]
        assert "Skipped 1 URL(s) that another check" in second.stderr
        assert [r["url"] for r in ran.json()["results"]] == [site.url("/slow")]
        assert site.hits["/slow"] == 2  # the capture and the first check; never the second
        assert rows(archive, "SELECT url FROM targets WHERE check_run IS NOT NULL") == []
    finally:
        site.close()
