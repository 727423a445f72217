"""check, end to end: what is news, and what `--on-change` (and `watch`) are told."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from preserve.changes.model import Outcome, PastCheck
from preserve.changes.news import is_news
from preserve.report.build import build_report
from tests.support.checking import (
    BIN,
    CLAIM,
    DAY,
    HOUR,
    Lab,
    after_redesign,
    before_redesign,
    long_paragraphs,
    redesign_body,
    short_article,
)
from tests.support.cli import Preserve
from tests.support.clock import T0
from tests.support.sites import Page, Site, article_html


def test_news_is_a_change_of_what_is_known_not_a_repetition(lab: Lab, site: Site) -> None:
    """A takedown is news when first seen and when confirmed, not at every check in
    between; every edit and every return is news; an unchanged page never is."""
    site.pages["/doc"] = Page(short_article())
    url = site.url("/doc")
    lab.capture(url)
    seen = []
    for status, wait in ((200, HOUR), (410, HOUR), (410, HOUR / 4), (410, 2 * HOUR), (410, HOUR)):
        if status == 410:
            site.pages["/doc"] = Page("<html><body><p>Removed.</p></body></html>", 410)
        lab.clock.advance(wait)
        result = lab.check_one(url)
        seen.append((result.outcome.outcome, result.outcome.confirmed, result.news))
        assert result.to_json()["news"] is result.news
    assert seen == [
        ("unchanged", True, False),
        ("gone", False, True),  # first seen
        ("gone", False, False),  # seen again: nothing new
        ("gone", True, True),  # confirmed: news again
        ("gone", True, False),
    ]
    site.pages["/doc"] = Page(short_article())
    lab.clock.advance(HOUR)
    back = lab.check_one(url)
    assert (back.outcome.outcome, back.news) == ("restored", True)


@pytest.mark.parametrize(
    ("outcome", "reason", "confirmed", "last", "news"),
    [
        ("edited", "text", True, ("edited", "text", True), True),  # every edit
        ("moved", None, True, None, True),
        ("moved", None, True, ("moved", None, True), False),
        ("restricted", "paywall", False, ("unchanged", None, True), True),
        ("restricted", "paywall", True, ("restricted", "paywall", False), True),
        ("restricted", "paywall", True, ("restricted", "paywall", True), False),
        ("gone", "http-404", False, ("gone", "http-410", True), True),  # another reason
        ("unreachable", "timeout", False, None, False),  # a fetch that did not work, once
        ("cosmetic", "markup", True, None, False),
        ("failed", "http-404", False, None, False),
    ],
)
def test_what_is_news(
    outcome: str,
    reason: str | None,
    confirmed: bool,
    last: tuple[str, str | None, bool] | None,
    news: bool,
) -> None:
    before = PastCheck(T0, *last) if last else None
    assert is_news(Outcome(outcome, reason, confirmed, "rule"), before) is news


def test_on_change_runs_the_command_with_the_news_only(
    lab: Lab, site: Site, tmp_path: Path, preserve: Preserve
) -> None:
    site.pages["/a"] = Page(short_article(seed="a"))
    site.pages["/b"] = Page(short_article(seed="b"))
    lab.capture(site.url("/a"))
    lab.capture(site.url("/b"))
    told = tmp_path / "told.json"
    command = f'cat > {told} && echo "$PRESERVE_NEWS $PRESERVE_RUN" >> {told}.env'
    site.pages["/a"] = Page(short_article("Council approves the harbour budget, again", seed="a"))
    ran = preserve.run(lab.path, "check", "--allow-private", "--json", "--on-change", command)
    assert ran.exit_code == 0, (ran.stdout, ran.stderr)
    everything = json.loads(ran.stdout)  # the command's doings are not in preserve's output
    news = json.loads(told.read_text())
    assert news["archive"] == str(lab.path) and news["run"] == everything["run"]
    assert [(r["url"], r["outcome"], r["news"]) for r in news["results"]] == [
        (site.url("/a"), "edited", True)
    ]
    assert news["results"][0] == next(r for r in everything["results"] if r["news"])
    assert (tmp_path / "told.json.env").read_text() == f"1 {everything['run']}\n"

    told.unlink()
    quiet = preserve.run(lab.path, "check", "--allow-private", "--quiet", "--on-change", command)
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    assert not told.exists()  # no news: not run


@pytest.mark.slow
def test_watch_runs_checks_as_they_fall_due_and_tells_the_news(
    site: Site, tmp_path: Path, preserve: Preserve
) -> None:
    """`preserve watch` as a real process: it checks what falls due, runs --on-change with
    the news, and stops cleanly on SIGTERM."""
    archive = tmp_path / "archive"
    site.pages["/a"] = Page(short_article(seed="watched"))
    url = site.url("/a")
    captured = preserve.run(archive, "capture", url, "--allow-private", "--every", "1s", "--quiet")
    assert captured.exit_code == 0, captured.stderr
    site.pages["/a"] = Page(
        short_article("Harbour budget approved, then withdrawn", seed="watched")
    )
    told = tmp_path / "told.json"
    watcher = subprocess.Popen(
        [str(BIN / "preserve"), "--archive", str(archive), "watch", "--interval", "1"]
        + [
            "--allow-private",
            "--quiet",
            "--on-change",
            f"cat > {told}.part && mv {told}.part {told}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not told.exists() and time.monotonic() < deadline and watcher.poll() is None:
            time.sleep(0.1)
    finally:
        watcher.send_signal(signal.SIGTERM)
        out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    assert (out, err) == (b"", b"")
    news = json.loads(told.read_text())
    assert [(r["url"], r["outcome"], r["reason"]) for r in news["results"]] == [
        (url, "edited", "title-only")
    ]


def test_a_failing_on_change_command_is_said_and_loses_nothing(
    lab: Lab, site: Site, preserve: Preserve
) -> None:
    site.pages["/a"] = Page(short_article(seed="a"))
    url = site.url("/a")
    lab.capture(url)
    site.pages["/a"] = Page("<html><body><p>Removed.</p></body></html>", 410)
    command = "cat > /dev/null; echo 'mail: no route to host'; exit 3"
    ran = preserve.run(lab.path, "check", "--allow-private", "--quiet", "--on-change", command)
    assert ran.exit_code == 0 and ran.stdout == ""
    assert ran.stderr == (
        "Warning: the --on-change command failed (exit 3): mail: no route to host\n"
    )
    (check,) = lab.rows("SELECT outcome FROM checks WHERE url = ?", [url])
    assert check["outcome"] == "gone"


def test_a_relative_time_in_the_text_is_cosmetic_and_a_counter_is_an_edit(
    lab: Lab, site: Site
) -> None:
    """Pinned: "Updated 5 minutes ago" changes at every fetch and is not an
    edit; a view counter in the main text is, since nothing tells it from a stated number."""
    body = long_paragraphs(count=5)

    def served(when: str, views: str) -> Page:
        return Page(article_html("Wiretap inquiry", [f"Updated {when} by the desk.", *body, views]))

    site.pages["/story"] = served("5 minutes ago", "Read 1,204 times.")
    url = site.url("/story")
    lab.capture(url)
    site.pages["/story"] = served("2 hours ago", "Read 1,204 times.")
    lab.clock.advance(HOUR)
    later = lab.check_one(url).outcome
    assert (later.outcome, later.reason) == ("cosmetic", "relative-time")
    site.pages["/story"] = served("3 hours ago", "Read 1,873 times.")
    lab.clock.advance(HOUR)
    counted = lab.check_one(url).outcome
    assert (counted.outcome, counted.reason) == ("edited", "text")
    assert counted.edit is not None and counted.edit.words_added == 1


def test_a_chinese_article_edited_by_one_character_is_edited_not_gone(lab: Lab, site: Site) -> None:
    """Through a real server: Chinese has no spaces between words, and a
    one-character edit of a paragraph must not read as a replaced page."""
    paragraphs = [
        "市议会周二批准了港口预算，议员们以十二票对三票通过了这项计划，反对者表示将继续上诉。",
        "港口管理局表示，工程将于明年春天开始，预计耗时三年，总投资约为四千万元人民币。",
        "环保组织对此表示担忧，认为新码头可能影响附近湿地的候鸟栖息地，并要求重新评估。",
    ]
    brief = "".join(paragraphs)  # one paragraph: one whitespace "word"
    site.pages["/zh"] = Page(article_html("市议会批准港口预算", [brief]))
    url = site.url("/zh")
    (captured,) = lab.capture(url)
    assert captured.article is not None and captured.article.text_sha256
    edited = brief.replace("十二票", "十一票")
    site.pages["/zh"] = Page(article_html("市议会批准港口预算", [edited]))
    lab.clock.advance(HOUR)
    outcome = lab.check_one(url).outcome
    assert (outcome.outcome, outcome.reason) == ("edited", "text")
    assert outcome.edit is not None and "十一票" in outcome.edit.first_changed_new


def test_a_cookie_consent_wall_is_restricted_never_gone(lab: Lab, site: Site) -> None:
    site.pages["/story"] = Page(article_html("Wiretap inquiry", long_paragraphs(count=5)))
    url = site.url("/story")
    lab.capture(url)
    wall = (
        "We value your privacy. We and our partners use cookies and similar technologies to "
        "store and access information on your device, for personalised ads and content and "
        "to measure them. Click Accept all to agree, or Manage options to make your choices."
    )
    site.pages["/story"] = Page(article_html("Before you continue", [wall]))
    seen = []
    for _ in range(2):
        lab.clock.advance(DAY)
        outcome = lab.check_one(url).outcome
        seen.append((outcome.outcome, outcome.reason, outcome.confirmed))
    assert seen == [("restricted", "consent", False), ("restricted", "consent", True)]


def test_a_live_blog_edited_at_every_check_is_one_event_with_its_totals(
    lab: Lab, site: Site
) -> None:
    """A page edited at every check (a live blog) is one event in the report's
    timeline, with its totals; every edit keeps its own diff. An edit after a quiet check
    is an event of its own."""
    posts = long_paragraphs(count=5)
    site.pages["/live"] = Page(article_html("Live: harbour vote", posts))
    url = site.url("/live")
    lab.capture(url)
    added = []
    for n in range(1, 5):
        update = f"Update {n}: councillor number {n} has now spoken against the plan."
        added.append(len(update.split()))
        posts = [update, *posts]
        site.pages["/live"] = Page(article_html("Live: harbour vote", posts))
        lab.clock.advance(HOUR)
        assert lab.check_one(url).outcome.reason == "text"
    lab.clock.advance(HOUR)
    assert lab.check_one(url).outcome.outcome == "unchanged"
    site.pages["/live"] = Page(article_html("Live: harbour vote", ["Closing note.", *posts]))
    lab.clock.advance(HOUR)
    assert lab.check_one(url).outcome.reason == "text"
    report = build_report(lab.store, [url], archive="a", generated_at="now", tool_version="t")
    (dossier,) = report.articles
    events = [e.describe() for e in dossier.standing.events]
    assert events == [
        "first captured",
        f"edited (text changed, 4 times): +{sum(added)} / -0 words in all",
        "edited (text changed): +2 / -0 words",
    ]
    assert len(dossier.edits) == 5


def redesigned_with_an_edit(lab: Lab, site: Site) -> Any:
    body = redesign_body()
    site.pages["/story"] = before_redesign(body)
    url = site.url("/story")
    lab.capture(url)
    site.pages["/story"] = after_redesign(body.replace("<p>", f"<p>{CLAIM} ", 1))
    lab.clock.advance(HOUR)
    return lab.check_one(url).outcome


def test_a_real_edit_inside_a_redesign_is_still_an_edit(lab: Lab, site: Site) -> None:
    outcome = redesigned_with_an_edit(lab, site)
    assert (outcome.outcome, outcome.reason) == ("edited", "text")
    assert outcome.edit is not None and outcome.edit.words_removed == 0
    assert CLAIM in " ".join(" ".join(h.new) for h in outcome.edit.hunks)


def test_a_real_edit_inside_a_redesign_reports_only_the_real_span(lab: Lab, site: Site) -> None:
    outcome = redesigned_with_an_edit(lab, site)
    assert outcome.edit is not None
    assert [" ".join(h.new) for h in outcome.edit.hunks] == [CLAIM]
    assert outcome.edit.words_added == len(CLAIM.split())
