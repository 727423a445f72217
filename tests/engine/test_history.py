"""history, end to end: where a capture was redirected, where a check found a URL moved, and
the history of the URL it moved to, as text and as --json."""

from __future__ import annotations

from pathlib import Path

from tests.support.capturing import FAST
from tests.support.checking import short_article
from tests.support.cli import Preserve
from tests.support.sites import Page, Site, redirect


def test_a_capture_through_a_redirect_says_where_it_went(
    tmp_path: Path, site: Site, preserve: Preserve
) -> None:
    archive = tmp_path / "archive"
    site.pages["/short/1"] = redirect(site.url("/2026/12/landing"))
    site.pages["/2026/12/landing"] = Page(short_article("Landing"))
    short, landing = site.url("/short/1"), site.url("/2026/12/landing")
    assert preserve.run(archive, "capture", *FAST, "-q", short).exit_code == 0

    (fetched,) = preserve.json(archive, "history", short)["captures"]
    (arrived,) = preserve.json(archive, "history", landing)["captures"]
    fetched_text = preserve.run(archive, "history", short).stdout
    arrived_text = preserve.run(archive, "history", landing).stdout

    assert (fetched["url"], fetched["final_url"], fetched["new_url"]) == (short, landing, None)
    assert (fetched["outcome"], fetched["http_status"]) == ("new", 200)
    assert f"redirected to {landing}" in fetched_text
    assert arrived == fetched  # the same capture, seen from where it ended
    assert f"fetched as {short}, which redirected here" in arrived_text


def test_a_page_that_moved_shows_in_the_history_of_both_urls(
    tmp_path: Path, site: Site, preserve: Preserve
) -> None:
    archive = tmp_path / "archive"
    site.pages["/2016/10/story"] = Page(short_article("The story", n=6))
    old, new = site.url("/2016/10/story"), site.url("/2026/12/story")
    assert preserve.run(archive, "capture", *FAST, "-q", old).exit_code == 0
    site.pages["/2026/12/story"] = site.pages.pop("/2016/10/story")
    site.pages["/2016/10/story"] = redirect(new, status=301)
    (result,) = preserve.json(archive, "check", *FAST)["results"]
    assert (result["outcome"], result["new_url"]) == ("moved", new)
    assert preserve.run(archive, "check", *FAST, "-q", new).exit_code == 0

    old_history = preserve.json(archive, "history", old)["captures"]
    new_history = preserve.json(archive, "history", new)["captures"]
    old_text = preserve.run(archive, "history", old).stdout
    new_text = preserve.run(archive, "history", new).stdout

    assert [(e["url"], e["outcome"], e["new_url"]) for e in old_history] == [
        (old, "new", None),
        (old, "moved", new),
    ]
    assert old_history[1]["final_url"] == new and old_history[1]["http_status"] == 200
    assert f"moved to {new}" in old_text
    # The new URL's history starts with the check that found the page there.
    assert new_history[0] == old_history[1]
    assert [(e["url"], e["outcome"]) for e in new_history] == [(old, "moved"), (new, "unchanged")]
    assert f"fetched as {old}, which redirected here" in new_text
    assert new_text.count("redirected here") == 1  # its own capture is no arrival
