"""capture, end to end: which links of an article are its citations, and how they are
recorded. Against real servers on 127.0.0.1 (tests/support/sites.py); every archive written
is checked by tests/support/warc_checks.py."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.capturing import (
    article_capture,
    capture,
    capture_of,
    citation_sources,
    context,
    story,
)
from tests.support.sites import Page, Site
from tests.support.warc_checks import assert_archive_sound, record_at, rows


def test_only_inline_citations_are_captured_in_article_order(
    site: Site, other_site: Site, archive: Path
) -> None:
    urls, links = citation_sources(site, other_site)
    site.pages["/2016/10/harbour"] = Page(
        story(
            *links,
            nav='<a href="/nav-section">Section</a>',
            aside='<li><a href="/most-read-3">Most read three</a></li>',
            footer=f'<a href="{other_site.url("/ads/click?id=9")}">Sponsored</a>',
        )
    )
    url = site.url("/2016/10/harbour")

    document = capture(archive, url)

    assert document["article"]["status"] == "captured"
    assert document["article"]["http_status"] == 200
    assert [c["url"] for c in document["citations"]] == urls
    assert all(c["status"] == "captured" and c["http_status"] == 200 for c in document["citations"])
    for path in (
        "/",
        "/world/",
        "/about",
        "/nav-section",
        "/most-read-1",
        "/most-read-2",
        "/most-read-3",
        "/privacy",
        "/comment-spam",
    ):
        assert site.hits[path] == 0, path
    assert other_site.hits["/ads/click?id=9"] == 0
    assert [
        site.hits["/sources/notice"],
        site.hits["/sources/inspection"],
        other_site.hits["/radio/interview"],
    ] == [1, 1, 1]

    article = article_capture(archive, url)
    cited = rows(
        archive, "SELECT * FROM citations WHERE capture_id = ? ORDER BY position", (article["id"],)
    )
    assert [(c["position"], c["url"]) for c in cited] == list(enumerate(urls))
    assert [c["anchor_text"] for c in cited] == [anchor for _, anchor in links]
    assert [c["context"] for c in cited] == [context(n, a) for n, (_, a) in enumerate(links)]
    for cited_url in urls:
        row = capture_of(archive, cited_url)
        assert (row["role"], row["depth"], row["parent_id"]) == ("citation", 1, article["id"])
    targets = {t["url"]: t for t in rows(archive, "SELECT * FROM targets")}
    assert set(targets) == {url, *urls}
    assert targets[url]["role"] == "article" and targets[url]["cited_by"] is None
    assert all(targets[u]["role"] == "citation" and targets[u]["cited_by"] == url for u in urls)
    # The metadata record carries the same citations.
    (meta,) = rows(archive, "SELECT * FROM records WHERE type = 'metadata'")
    stored = json.loads(record_at(archive, meta["warc"], meta["offset"], meta["length"]).payload)
    assert [c["url"] for c in stored["citations"]] == urls
    assert_archive_sound(archive)


def test_relative_links_base_href_and_duplicates(site: Site, archive: Path) -> None:
    for path in (
        "/docs/report.html",
        "/other/annex.html",
        "/abs/page",
        "/docs/?page=2",
        "/news/2016/sibling.html",
    ):
        site.pages[path] = Page(f"<html><body><p>{path}</p></body></html>")
    site.pages["/news/2016/story.html"] = Page(
        story(
            ("report.html", "the report"),
            ("../other/annex.html", "its annex"),
            ("/abs/page", "an absolute path"),
            ("report.html#section-2", "the same report again"),
            ("?page=2", "the list"),
            (site.url("/docs/report.html"), "the report, spelled in full"),
            ("#top", "back to the top"),
            (site.url("/news/2016/story.html"), "this very page"),
            ("mailto:desk@example.org", "the desk"),
            extra_head=f'<base href="{site.url("/docs/")}">',
        )
    )
    url = site.url("/news/2016/story.html")

    document = capture(archive, url)

    expected = [
        site.url("/docs/report.html"),
        site.url("/other/annex.html"),
        site.url("/abs/page"),
        site.url("/docs/?page=2"),
    ]
    assert [c["url"] for c in document["citations"]] == expected
    assert site.hits["/docs/report.html"] == 1
    assert site.hits["/news/2016/sibling.html"] == 0
    assert site.hits["/news/2016/story.html"] == 1  # the page itself, once
    cited = rows(
        archive,
        "SELECT url, anchor_text FROM citations WHERE capture_id = ? ORDER BY position",
        (article_capture(archive, url)["id"],),
    )
    assert [c["url"] for c in cited] == expected
    assert cited[0]["anchor_text"] == "the report"  # the first of the duplicates
    assert len(rows(archive, "SELECT * FROM captures WHERE url = ?", (expected[0],))) == 1
    assert_archive_sound(archive)


def test_a_url_both_cited_and_shown_is_a_tracked_citation(site: Site, archive: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(200)
    site.pages["/charts/closures.png"] = Page(png, content_type="image/png")
    body = story(("/charts/closures.png", "the chart of closures"))
    site.pages["/a"] = Page(
        body.replace(
            "</main>", '<figure><img src="/charts/closures.png" alt="chart"></figure></main>'
        )
    )

    document = capture(archive, site.url("/a"))

    assert [c["url"] for c in document["citations"]] == [site.url("/charts/closures.png")]
    assert site.hits["/charts/closures.png"] == 1
    assert capture_of(archive, site.url("/charts/closures.png"))["role"] == "citation"
    assert rows(
        archive, "SELECT role FROM targets WHERE url = ?", (site.url("/charts/closures.png"),)
    ) == [{"role": "citation"}]
    assert_archive_sound(archive)
