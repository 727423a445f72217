"""Evidence packages of rendered pages: the WACZ lists the page with its screenshot, its index
has the DOM and screenshot resource records, and pywb replays the page, the JSON its script
fetched, its DOM and its screenshot from the package."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import requests

from tests.support.cli import Preserve
from tests.support.rendering import api_paragraphs, latest, needs_chromium, resource, scripted_page
from tests.support.replay import AVAILABLE as replay_available
from tests.support.replay import pywb
from tests.support.sites import Page, Site

pytestmark = [*needs_chromium, pytest.mark.replay]


@pytest.mark.skipif(not replay_available, reason="pywb is not installed")
def test_a_rendered_page_is_listed_with_its_screenshot_and_replays_in_pywb(
    site: Site, tmp_path: Path, preserve: Preserve
) -> None:
    archive = tmp_path / "archive"
    site.pages["/api.json"] = Page(json.dumps(api_paragraphs()), content_type="application/json")
    site.pages["/story"] = Page(scripted_page())
    url = site.url("/story")
    assert preserve.run(archive, "capture", "--allow-private", url).exit_code == 0
    package = tmp_path / "story.wacz"
    exported = preserve.run(archive, "export", url, "--wacz", str(package))
    assert exported.exit_code == 0, exported.output

    with zipfile.ZipFile(package) as wacz:
        pages = [json.loads(line) for line in wacz.read("pages/pages.jsonl").splitlines()]
        index = wacz.read("indexes/index.cdx.gz")
    (page,) = [p for p in pages[1:] if p["url"] == url]
    assert page["screenshot"] == "urn:fullPage:" + url
    assert page["thumbnail"] == "urn:thumbnail:" + url
    assert page["title"] == "Accord signed in the capital"
    assert index  # gzip: read through pywb below

    row = latest(archive, url)
    _, png = resource(archive, row["id"], "urn:fullPage:")
    stamp = row["started_at"].replace("-", "").replace("T", "").replace(":", "")[:14]
    with pywb(tmp_path / "pywb", package, unpack_wacz=True) as base:
        shot = requests.get(f"{base}/{stamp}id_/urn:fullPage:{url}", timeout=20)
        assert shot.status_code == 200 and shot.content == png
        assert shot.headers["Content-Type"] == "image/png"
        api = requests.get(f"{base}/{stamp}id_/{site.url('/api.json')}", timeout=20)
        assert api.status_code == 200 and api.json() == api_paragraphs()
        page_reply = requests.get(f"{base}/{stamp}id_/{url}", timeout=20)
        assert page_reply.status_code == 200 and b"Loading..." in page_reply.content
        # As a browser replaying the page asks for its JSON: through pywb's rewriting.
        rewritten = requests.get(f"{base}/{stamp}mp_/{site.url('/api.json')}", timeout=20)
        assert rewritten.status_code == 200 and rewritten.json() == api_paragraphs()
        dom = requests.get(f"{base}/{stamp}id_/urn:dom:{url}", timeout=20)
        replayed = replayed_text(f"{base}/{stamp}/{url}")
    assert dom.status_code == 200
    assert b"Paragraph 5: the minister signed the accord" in dom.content
    # In a browser, pywb's page runs the archived script, which fetches the archived JSON
    # and builds the article again, inside pywb's replay frame.
    assert "Paragraph 5: the minister signed the accord" in replayed


def replayed_text(replay_url: str) -> str:
    """The text of pywb's replay frame (its `mp_` frame) once the archived page's script
    has built it, in Chromium talking to pywb on 127.0.0.1 directly (preserve's own
    rendering, which answers every request through its fetcher, is not what replays)."""
    from playwright.sync_api import sync_playwright

    from preserve.browser.chromium import find_chromium

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=find_chromium(), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(replay_url, wait_until="load", timeout=60_000)
            # pywb's banner page adds the replay frame from its own script.
            page.wait_for_selector("iframe", state="attached", timeout=60_000)
            frame = next(f for f in page.frames if "mp_/" in f.url)
            frame.wait_for_selector("article p", timeout=60_000)
            return frame.inner_text("body")
        finally:
            browser.close()
