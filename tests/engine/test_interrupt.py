"""Ctrl-C and SIGTERM, sent to `preserve` as a real process while a fetch hangs: the first
stops the run at once, keeping what was fetched, tracking what a capture meant to fetch as
failed/interrupted and leaving what a check did not check due; a second stops at once. The
archive passes `verify` either way, and the exit code is 130."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.checked_archive import sql
from tests.support.checking import short_article
from tests.support.cli import Preserve
from tests.support.processes import Proc, Ran, assert_verify_clean
from tests.support.sites import Page, Site, article_html
from tests.support.warc_checks import rows

# One fetch at a time, in the order the URLs are queued, and no deadline that would end the
# hanging fetch before the signal does.
ONE_AT_A_TIME = ("--allow-private", "--workers", "1", "--per-host", "1", "--timeout", "60")
# How long a stopped run may take to exit: it takes well under a second; this is a bound
# for a loaded machine, not a measurement.
STOPS_WITHIN = 10.0


def hanging(title: str) -> Page:
    """A page whose body comes a byte every 50 ms: its fetch is under way for a minute."""
    return Page(short_article(title), drip=0.05)


def wait_for(proc: Proc, what: str, condition: Callable[[], bool]) -> None:
    """Poll until `condition` holds, while the process runs (a minute at most)."""
    ends = time.monotonic() + 60
    while not condition():
        assert proc.popen.poll() is None, f"preserve ended before {what}: {proc.stderr_so_far()}"
        assert time.monotonic() < ends, f"still waiting for {what}: {proc.stderr_so_far()}"
        time.sleep(0.01)


def stop(proc: Proc, signum: int) -> Ran:
    proc.signal(signum)
    return proc.wait(timeout=STOPS_WITHIN)


def assert_said_it_stopped(ran: Ran, interrupted: str) -> None:
    assert ran.code == 130, (ran.stdout, ran.stderr)
    assert "Traceback" not in ran.stderr, ran.stderr
    assert "Stopping: the fetches under way end now" in ran.stderr
    assert interrupted in ran.stderr


def target_states(archive: Path) -> dict[str, tuple[str, str | None]]:
    return {
        t["url"]: (t["state"], t["reason"])
        for t in rows(archive, "SELECT url, state, reason FROM targets")
    }


def story_citing(site: Site, *paths: str) -> str:
    """An article at /a citing `paths` in that order; its URL."""
    links = " ".join(f'See <a href="{p}">the report {p}</a>.' for p in paths)
    site.pages["/a"] = Page(article_html("Story", [links]))
    return site.url("/a")


# --- capture ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signum",
    [
        pytest.param(signal.SIGINT, id="SIGINT"),
        pytest.param(signal.SIGTERM, id="SIGTERM", marks=pytest.mark.slow),  # the same path
    ],
)
def test_a_stopped_capture_keeps_what_it_fetched_and_tracks_the_rest(
    tmp_path: Path, site: Site, preserve: Preserve, signum: int
) -> None:
    archive = tmp_path / "archive"
    article = story_citing(site, "/fast", "/slow", "/never")
    site.pages["/fast"] = Page(short_article("Fast"))
    site.pages["/slow"] = hanging("Slow")
    site.pages["/never"] = Page(short_article("Never"))
    fast, slow, never = site.url("/fast"), site.url("/slow"), site.url("/never")

    proc = Proc(archive, "capture", *ONE_AT_A_TIME, article)
    wait_for(proc, "the hanging fetch", lambda: site.hits["/slow"] > 0)
    ran = stop(proc, signum)

    assert_said_it_stopped(ran, "Interrupted: what was captured is stored")
    assert site.hits["/never"] == 0  # queued behind the hanging fetch, never started
    assert f"Article  {article}" in ran.stdout
    captures = {r["url"]: r for r in rows(archive, "SELECT * FROM captures")}
    assert (captures[article]["status"], captures[fast]["status"]) == ("captured", "captured")
    assert (captures[slow]["status"], captures[slow]["error"]) == ("failed", "interrupted")
    assert captures[slow]["warc"] is None  # the half-read body is no answer of the server's
    assert never not in captures
    assert target_states(archive) == {
        article: ("new", None),
        fast: ("new", None),
        slow: ("failed", "interrupted"),
        never: ("failed", "interrupted"),
    }
    assert_verify_clean(archive)

    # The next check fetches what the capture did not.
    site.pages["/slow"] = Page(short_article("Slow"))
    checked = preserve.json(archive, "check", "--allow-private")["results"]
    assert {r["url"] for r in checked} == {article, fast, slow, never}
    assert site.hits["/never"] == 1
    assert {url: state for url, (state, _) in target_states(archive).items()} == {
        article: "unchanged",
        fast: "unchanged",
        slow: "new",
        never: "new",
    }


@pytest.mark.slow
@pytest.mark.parametrize("command", ["capture", "check"])
def test_a_second_ctrl_c_stops_at_once_and_the_archive_stays_whole(
    tmp_path: Path, site: Site, preserve: Preserve, command: str
) -> None:
    archive = tmp_path / "archive"
    article = story_citing(site, "/fast", "/slow")
    site.pages["/fast"] = Page(short_article("Fast"))
    site.pages["/slow"] = Page(short_article("Slow"))
    if command == "check":
        assert preserve.run(archive, "capture", "--allow-private", "-q", article).exit_code == 0
    site.pages["/slow"] = hanging("Slow")
    fetches = site.hits["/slow"]

    proc = Proc(archive, command, *ONE_AT_A_TIME, *([article] if command == "capture" else []))
    wait_for(proc, "the hanging fetch", lambda: site.hits["/slow"] > fetches)
    proc.signal(signal.SIGINT)
    wait_for(proc, "the first Ctrl-C to be heard", lambda: "Stopping:" in proc.stderr_so_far())
    ran = stop(proc, signal.SIGINT)

    # 130; or, when the second lands in the last instant of the interpreter's exit (once it
    # has put the default handlers back), killed by SIGINT, which a shell reports as 130.
    assert ran.code in (130, -signal.SIGINT), (ran.stdout, ran.stderr)
    assert "Traceback" not in ran.stderr, ran.stderr
    assert "Interrupted" in ran.stderr
    assert_verify_clean(archive)


# --- check ------------------------------------------------------------------------------------


def test_a_stopped_check_leaves_the_urls_it_did_not_check_due(
    tmp_path: Path, site: Site, preserve: Preserve
) -> None:
    archive = tmp_path / "archive"
    article = story_citing(site, "/s1", "/s2", "/s3")
    for n in (1, 2, 3):
        site.pages[f"/s{n}"] = Page(short_article(f"Source {n}"))
    s1, s2, s3 = (site.url(f"/s{n}") for n in (1, 2, 3))
    assert preserve.run(archive, "capture", "--allow-private", "-q", article).exit_code == 0
    sql(archive, "UPDATE targets SET next_due = '2026-01-01T00:00:00.000000Z'")  # all due
    site.pages["/s2"] = hanging("Source 2")

    # Due URLs are checked in the order of their due time, then of their URL: /a, /s1, /s2…
    proc = Proc(archive, "check", "--due", *ONE_AT_A_TIME)
    wait_for(proc, "the hanging fetch", lambda: site.hits["/s2"] > 1)
    ran = stop(proc, signal.SIGINT)

    assert_said_it_stopped(ran, "Interrupted: the checks above are stored; the URLs not")
    assert site.hits["/s3"] == 1  # the capture's fetch only
    assert [line.split()[-1] for line in ran.stdout.splitlines() if "http" in line] == [
        article,
        s1,
    ]
    checks = rows(archive, "SELECT url FROM checks ORDER BY id")
    assert [c["url"] for c in checks] == [article, s1]
    (interrupted,) = rows(archive, "SELECT * FROM captures WHERE error = 'interrupted'")
    assert interrupted["url"] == s2
    assert target_states(archive)[s2] == ("new", None)  # nothing was seen of it
    assert_verify_clean(archive)

    site.pages["/s2"] = Page(short_article("Source 2"))
    due = preserve.json(archive, "check", "--due", "--allow-private")["results"]
    assert [r["url"] for r in due] == [s2, s3]
    assert {r["outcome"] for r in due} == {"unchanged"}
