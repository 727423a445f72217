"""The HTML report of rendered pages: a thumbnail for each rendered capture, and an edited
page's before and after screenshots side by side, embedded so the report stays one file."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

from tests.support.cli import Preserve
from tests.support.rendering import api_paragraphs, needs_chromium, scripted_page
from tests.support.sites import Page, Site

pytestmark = needs_chromium

DATA_URI = re.compile(r'<img src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"')


def test_an_edited_rendered_page_shows_before_and_after_side_by_side(
    site: Site, tmp_path: Path, preserve: Preserve
) -> None:
    archive = tmp_path / "archive"
    site.pages["/api.json"] = Page(json.dumps(api_paragraphs()))
    site.pages["/story"] = Page(scripted_page())
    url = site.url("/story")
    assert preserve.run(archive, "capture", "--allow-private", url).exit_code == 0
    site.pages["/api.json"] = Page(json.dumps(api_paragraphs(claim="refused to sign")))
    assert preserve.run(archive, "check", url).exit_code == 0

    report = tmp_path / "report.html"
    result = preserve.run(archive, "report", "--html", str(report))

    assert result.exit_code == 0, result.output
    html = report.read_text()
    images = DATA_URI.findall(html)
    assert len(images) >= 4  # first and latest capture, before and after the edit
    assert all(base64.b64decode(data)[:3] == b"\xff\xd8\xff" for data in images)
    edit = html[html.index('<div class="edit"') :]
    shots = edit[edit.index('<div class="shots">') :]
    shots = shots[: shots.index("</div>")]
    assert re.findall(r"<figcaption>(before|after) ", shots) == ["before", "after"]
    assert "<figcaption>first capture" in html and "<figcaption>latest capture" in html
    assert "http://" not in "".join(re.findall(r'<img src="([^"]*)"', html))  # nothing fetched
