"""show --screenshot: the full-page PNG of a rendered capture, as archived, to a file or to
stdout; and a clear error for a capture that was not rendered."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.support.cli import Preserve
from tests.support.rendering import api_paragraphs, latest, needs_chromium, png_size, scripted_page
from tests.support.sites import Page, Site

pytestmark = needs_chromium


def test_show_writes_the_screenshot_of_a_rendered_capture(
    site: Site, tmp_path: Path, preserve: Preserve
) -> None:
    archive = tmp_path / "archive"
    site.pages["/api.json"] = Page(json.dumps(api_paragraphs()))
    site.pages["/story"] = Page(scripted_page())
    site.pages["/plain"] = Page(
        "<html><body><article><p>" + "A page with all of its words in it. " * 8
        + "</p></article></body></html>"
    )  # fmt: skip
    url = site.url("/story")
    done = preserve.run(archive, "capture", "--allow-private", url, site.url("/plain"))
    assert done.exit_code == 0, done.output

    written = tmp_path / "page.png"
    result = preserve.run(archive, "show", url, "--screenshot", str(written))

    assert result.exit_code == 0, result.output
    png = written.read_bytes()
    assert png_size(png)[0] == 1280
    assert hashlib.sha256(png).hexdigest() == latest(archive, url)["screenshot_sha256"]
    assert "screenshot sha256:" in result.stderr
    to_stdout = preserve.run(archive, "show", url, "--screenshot")
    assert to_stdout.exit_code == 0 and to_stdout.stdout_bytes == png
    unrendered = preserve.run(archive, "show", site.url("/plain"), "--screenshot")
    assert unrendered.exit_code == 2
    assert "no rendered capture" in unrendered.stderr
