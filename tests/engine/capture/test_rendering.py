"""capture, end to end, of pages built by scripts: rendered in real Chromium, every response
the page loaded recorded, the DOM and screenshots as resource records, the text and citations
taken from the rendered DOM; and when a page is not rendered."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.support.capturing import capture
from tests.support.rendering import (
    api_paragraphs,
    latest,
    needs_chromium,
    outcomes,
    png_size,
    render_of,
    resource,
    scripted_page,
)
from tests.support.sites import Page, Site
from tests.support.warc_checks import assert_archive_sound, rows

pytestmark = needs_chromium


def json_page(site: Site, data: dict[str, object]) -> Page:
    return Page(json.dumps(data), content_type="application/json")


# --- text built from a JSON fetch --------------------------------------------------------


def test_text_built_from_a_json_fetch_is_what_is_archived(site: Site, archive: Path) -> None:
    site.pages["/api.json"] = json_page(site, api_paragraphs())
    site.pages["/story"] = Page(scripted_page())

    document = capture(archive, site.url("/story"))

    article = document["article"]
    assert (article["status"], article["rendered"], article["text_gap"]) == (
        "captured",
        "complete",
        None,
    )
    assert article["title"] == "Accord signed in the capital"
    assert article["text_words"] > 60
    row = latest(archive, site.url("/story"))
    (text,) = rows(archive, "SELECT text FROM texts WHERE sha256 = ?", (row["text_sha256"],))
    assert "Paragraph 5: the minister signed the accord" in text["text"]
    assert "Loading" not in text["text"]
    # The page's own bytes were fetched once; the browser was given them, not a second fetch.
    assert site.hits["/story"] == 1 and site.hits["/api.json"] == 1
    records = rows(archive, "SELECT * FROM records WHERE capture_id = ?", (row["id"],))
    api = [r for r in records if r["url"] == site.url("/api.json")]
    assert [(r["type"], r["http_status"]) for r in api] == [("response", 200), ("request", None)]
    render = render_of(archive, site.url("/story"))
    assert render["state"] == "complete"
    settings = render["settings"]
    assert settings["viewport"] == {"width": 1280, "height": 800}
    assert "Chrome/" in settings["user_agent"] and "preserve/" in settings["user_agent"]
    assert settings["browser_version"] and settings["waited_ms"] > 0
    assert "quiet" in settings["wait_rule"]
    served = [(s["url"], s["outcome"]) for s in render["requests"] if s["kind"] == "document"]
    assert served == [(site.url("/story"), "served")]
    assert_archive_sound(archive)


def test_the_dom_and_screenshot_records_agree_with_their_sha256_in_the_database(
    site: Site, archive: Path
) -> None:
    site.pages["/api.json"] = json_page(site, api_paragraphs())
    site.pages["/story"] = Page(scripted_page())

    capture(archive, site.url("/story"))

    row = latest(archive, site.url("/story"))
    shot_row, png = resource(archive, row["id"], "urn:fullPage:")
    assert shot_row["url"] == "urn:fullPage:" + site.url("/story")
    assert png_size(png)[0] == 1280
    assert hashlib.sha256(png).hexdigest() == row["screenshot_sha256"] == shot_row["payload_sha256"]
    dom_row, dom = resource(archive, row["id"], "urn:dom:")
    assert hashlib.sha256(dom).hexdigest() == row["dom_sha256"] == dom_row["payload_sha256"]
    assert b"Paragraph 3: the minister signed" in dom
    _, thumbnail = resource(archive, row["id"], "urn:thumbnail:")
    assert thumbnail[:3] == b"\xff\xd8\xff"  # a JPEG
    render = render_of(archive, site.url("/story"))
    assert (
        render["records"]["urn:fullPage:" + site.url("/story")]
        == "sha256:" + (row["screenshot_sha256"])
    )


# --- citations a script adds ---------------------------------------------------------------


def test_a_link_a_script_adds_is_a_citation_and_is_captured(site: Site, archive: Path) -> None:
    site.pages["/api.json"] = json_page(site, {**api_paragraphs(), "cite": "/statement"})
    site.pages["/statement"] = Page(
        "<html><body><article><p>" + "The ministry stated that the accord holds. " * 8
        + "</p></article></body></html>"
    )  # fmt: skip
    site.pages["/story"] = Page(scripted_page())

    document = capture(archive, site.url("/story"))

    assert document["article"]["citations"] == 1
    (cited,) = document["citations"]
    assert (cited["url"], cited["status"]) == (site.url("/statement"), "captured")
    assert cited["rendered"] is None  # it has its text: not rendered
    (citation,) = rows(
        archive,
        "SELECT * FROM citations WHERE capture_id = ?",
        (latest(archive, site.url("/story"))["id"],),
    )
    assert citation["anchor_text"] == "its statement"


# --- lazy images ---------------------------------------------------------------------------

LAZY = """<!doctype html><html><head><title>Gallery</title></head><body>
<div id="root"></div>
<div style="height: 5000px">tall</div>
<img loading="lazy" src="/native.png" width="10" height="10">
<img id="observed" data-src="/observed.png" width="10" height="10">
<script>
new IntersectionObserver((entries, observer) => {
  for (const e of entries) if (e.isIntersecting) {
    e.target.src = e.target.dataset.src; observer.unobserve(e.target);
  }
}).observe(document.getElementById('observed'));
</script></body></html>"""

PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def test_lazy_images_load_as_the_page_is_scrolled(site: Site, archive: Path) -> None:
    site.pages["/gallery"] = Page(LAZY)
    site.pages["/native.png"] = Page(PIXEL, content_type="image/png")
    site.pages["/observed.png"] = Page(PIXEL, content_type="image/png")

    document = capture(archive, "--browser", "always", site.url("/gallery"))

    assert document["article"]["rendered"] == "complete"
    assert site.hits["/native.png"] == 1 and site.hits["/observed.png"] == 1
    row = latest(archive, site.url("/gallery"))
    fetched = {
        r["url"]
        for r in rows(archive, "SELECT url FROM records WHERE capture_id = ?", (row["id"],))
    }
    assert {site.url("/native.png"), site.url("/observed.png")} <= fetched
    assert render_of(archive, site.url("/gallery"))["settings"]["scrolls"] >= 5
    _, png = resource(archive, row["id"], "urn:fullPage:")
    assert png_size(png)[1] > 5000  # the whole page, not the viewport


# --- when a page is rendered ---------------------------------------------------------------


def test_auto_leaves_a_page_that_has_its_text_alone(site: Site, archive: Path) -> None:
    site.pages["/full"] = Page(
        "<html><head><title>Full</title></head><body><article><p>"
        + "The council met and voted on the harbour budget for the year. " * 8
        + "</p></article></body></html>"
    )

    document = capture(archive, site.url("/full"))

    assert document["article"]["rendered"] is None
    assert rows(archive, "SELECT * FROM records WHERE type = 'resource'") == []
    assert site.hits["/favicon.ico"] == 0  # no browser looked at it


@pytest.mark.parametrize("mode", ["never", "always"])
def test_never_and_always_are_obeyed_and_remembered(site: Site, archive: Path, mode: str) -> None:
    site.pages["/api.json"] = json_page(site, api_paragraphs())
    site.pages["/story"] = Page(scripted_page())

    document = capture(archive, "--browser", mode, site.url("/story"))

    rendered = document["article"]["rendered"]
    assert rendered == (None if mode == "never" else "complete")
    if mode == "never":
        assert document["article"]["text_gap"] == "no-text"
        assert site.hits["/api.json"] == 0
    (target,) = rows(archive, "SELECT browser FROM targets WHERE url = ?", (site.url("/story"),))
    assert target["browser"] == mode


def test_a_script_shell_with_words_is_rendered_under_auto(site: Site, archive: Path) -> None:
    words = " ".join(["Please enable JavaScript to read this site, we are sorry."] * 6)
    site.pages["/api.json"] = json_page(site, api_paragraphs())
    site.pages["/shell"] = Page(
        scripted_page(extra=f"<noscript>You need to enable JavaScript. {words}</noscript>")
    )

    document = capture(archive, site.url("/shell"))

    assert document["article"]["rendered"] == "complete"
    assert outcomes(render_of(archive, site.url("/shell")))["fetched"]
