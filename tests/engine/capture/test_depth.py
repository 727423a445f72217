"""capture, end to end: --depth (citations of citations), and requisites (captured with the
article, not tracked)."""

from __future__ import annotations

from pathlib import Path

from tests.support.capturing import article_capture, capture, capture_of, story
from tests.support.sites import Page, Site
from tests.support.warc_checks import assert_archive_sound, rows


def chain(site: Site) -> str:
    """An article citing /d1, which cites /d2, which cites /d3."""
    site.pages["/a"] = Page(story(("/d1", "the first level")))
    site.pages["/d1"] = Page(story(("/d2", "the second level"), title="Level one"))
    site.pages["/d2"] = Page(story(("/d3", "the third level"), title="Level two"))
    site.pages["/d3"] = Page(story(("/d4", "the fourth level"), title="Level three"))
    return site.url("/a")


def test_depth_2_follows_citations_of_citations(site: Site, archive: Path) -> None:
    url = chain(site)

    document = capture(archive, url, "--depth", "2")

    assert [c["url"] for c in document["citations"]] == [site.url("/d1"), site.url("/d2")]
    assert [site.hits[p] for p in ("/a", "/d1", "/d2", "/d3")] == [1, 1, 1, 0]
    d1, d2 = capture_of(archive, site.url("/d1")), capture_of(archive, site.url("/d2"))
    assert (d1["depth"], d2["depth"]) == (1, 2)
    assert d2["parent_id"] == d1["id"]
    (target,) = rows(archive, "SELECT * FROM targets WHERE url = ?", (site.url("/d2"),))
    assert (target["role"], target["cited_by"]) == ("citation", url)
    assert site.hits["/static/site.css"] == 1  # requisites of the article only
    assert_archive_sound(archive)


def test_depth_0_captures_only_the_article_and_its_requisites(site: Site, archive: Path) -> None:
    url = chain(site)

    document = capture(archive, url, "--depth", "0")

    assert document["citations"] == []
    assert [r["url"] for r in document["requisites"]] == [site.url("/static/site.css")]
    assert site.hits["/d1"] == 0
    assert [t["url"] for t in rows(archive, "SELECT url FROM targets")] == [url]
    # The article's citations are still recorded, though not followed.
    assert [c["url"] for c in rows(archive, "SELECT url FROM citations")] == [site.url("/d1")]
    assert_archive_sound(archive)


def test_requisites_are_captured_but_not_tracked(site: Site, archive: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(100)
    for path in ("/img/photo.png", "/img/photo-2x.png", "/img/photo-3x.png", "/favicon.ico"):
        site.pages[path] = Page(png, content_type="image/png")
    site.pages["/static/site.css"] = Page("body { color: black }", content_type="text/css")
    site.pages["/js/app.js"] = Page("var x = 1;", content_type="application/javascript")
    head = '<link rel="icon" href="/favicon.ico"><script src="/js/app.js"></script>'
    html = story(("/src", "a source"), extra_head=head).replace(
        "</main>",
        '<figure><img src="/img/photo.png" srcset="/img/photo-2x.png 2x, '
        '/img/photo-3x.png 3x" alt="photo"></figure></main>',
    )
    site.pages["/a"] = Page(html)
    site.pages["/src"] = Page(
        '<html><head><link rel="stylesheet" href="/src.css"></head>'
        "<body><p>Source</p></body></html>"
    )
    url = site.url("/a")

    document = capture(archive, url)

    expected = {
        site.url(p)
        for p in (
            "/img/photo.png",
            "/img/photo-2x.png",
            "/img/photo-3x.png",
            "/favicon.ico",
            "/static/site.css",
            "/js/app.js",
        )
    }
    assert {r["url"] for r in document["requisites"]} == expected
    assert all(
        r["status"] == "captured" and r["http_status"] == 200 for r in document["requisites"]
    )
    assert [c["url"] for c in document["citations"]] == [site.url("/src")]
    assert site.hits["/src.css"] == 0  # requisites of sources are not fetched
    article_id = article_capture(archive, url)["id"]
    requisites = rows(archive, "SELECT * FROM captures WHERE role = 'requisite'")
    assert {r["url"] for r in requisites} == expected
    assert all(r["parent_id"] == article_id and r["depth"] == 1 for r in requisites)
    assert {t["url"] for t in rows(archive, "SELECT url FROM targets")} == {url, site.url("/src")}
    assert_archive_sound(archive)
