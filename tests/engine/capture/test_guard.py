"""capture, end to end: the private-address guard, and --allow-private."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.capturing import capture_of, story
from tests.support.cli import Preserve
from tests.support.sites import Page, Site, redirect
from tests.support.warc_checks import assert_archive_sound, rows


def guarded_article(site: Site, other_site: Site) -> str:
    site.pages["/local-source"] = Page("<html><body><p>Local</p></body></html>")
    other_site.pages["/other-source"] = Page("<html><body><p>Other</p></body></html>")
    site.pages["/a"] = Page(
        story(
            ("/local-source", "a local source"), (other_site.url("/other-source"), "another source")
        )
    )
    return site.url("/a")


def test_loopback_citations_are_refused_without_allow_private(
    site: Site, other_site: Site, archive: Path, preserve: Preserve
) -> None:
    url = guarded_article(site, other_site)

    result = preserve.run(archive, "capture", "--json", "--timeout", "2", url)

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["article"]["status"], document["article"]["http_status"]) == ("captured", 200)
    assert [(c["status"], c["error"]) for c in document["citations"]] == [
        ("failed", "blocked-private-address")
    ] * 2
    assert all("--allow-private" in (c["error_detail"] or "") for c in document["citations"])
    assert [(r["status"], r["error"]) for r in document["requisites"]] == [
        ("failed", "blocked-private-address")
    ]
    assert site.hits["/local-source"] == 0 and site.hits["/static/site.css"] == 0
    assert other_site.hits["/other-source"] == 0
    assert [path for path, _ in site.requests] == ["/a"]
    assert_archive_sound(archive)


@pytest.mark.parametrize("how", ["option", "environment"])
def test_loopback_citations_are_captured_when_allowed(
    site: Site,
    other_site: Site,
    archive: Path,
    how: str,
    monkeypatch: pytest.MonkeyPatch,
    preserve: Preserve,
) -> None:
    url = guarded_article(site, other_site)
    options = ["--allow-private"] if how == "option" else []
    if how == "environment":
        monkeypatch.setenv("PRESERVE_ALLOW_PRIVATE", "1")

    result = preserve.run(archive, "capture", "--json", "--timeout", "2", *options, url)

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [(c["status"], c["http_status"]) for c in document["citations"]] == [
        ("captured", 200)
    ] * 2
    assert site.hits["/local-source"] == 1 and other_site.hits["/other-source"] == 1
    assert_archive_sound(archive)


def test_a_typed_article_may_not_redirect_to_loopback(
    site: Site, archive: Path, preserve: Preserve
) -> None:
    site.pages["/short"] = redirect("/a")
    site.pages["/a"] = Page(story(("/x", "x")))

    result = preserve.run(archive, "capture", "--json", "--timeout", "2", site.url("/short"))

    assert result.exit_code == 1
    article = json.loads(result.stdout)["article"]
    assert (article["status"], article["error"]) == ("failed", "blocked-private-address")
    assert site.hits["/a"] == 0
    row = capture_of(archive, site.url("/short"))
    assert row["status"] == "failed"
    (hop,) = rows(
        archive, "SELECT * FROM records WHERE capture_id = ? AND type = 'response'", (row["id"],)
    )  # the redirect received is kept as evidence
    assert hop["http_status"] == 302
    assert_archive_sound(archive)
