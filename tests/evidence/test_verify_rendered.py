"""verify of rendered captures: the DOM and screenshot records are held against their rows like
any record, and a byte flipped in a screenshot is found and named."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.checked_archive import run_verify
from tests.support.cli import Preserve
from tests.support.rendering import api_paragraphs, latest, needs_chromium, scripted_page
from tests.support.sites import Page, Site
from tests.support.warc_checks import rows

pytestmark = needs_chromium


def test_a_byte_flipped_in_a_screenshot_record_is_found(
    site: Site, tmp_path: Path, preserve: Preserve
) -> None:
    archive = tmp_path / "archive"
    site.pages["/api.json"] = Page(json.dumps(api_paragraphs()))
    site.pages["/story"] = Page(scripted_page())
    url = site.url("/story")
    captured = preserve.run(archive, "capture", "--allow-private", "--timeout", "2", url)
    assert captured.exit_code == 0, captured.output
    assert run_verify(archive) == []
    row = latest(archive, url)
    (shot,) = rows(
        archive,
        "SELECT * FROM records WHERE capture_id = ? AND url LIKE 'urn:fullPage:%'",
        (row["id"],),
    )

    path = archive / "warcs" / shot["warc"]
    data = bytearray(path.read_bytes())
    data[shot["offset"] + shot["length"] // 2] ^= 0x01
    path.write_bytes(bytes(data))

    problems = run_verify(archive)
    assert problems, "a flipped byte passed"
    assert {warc for _, warc, _ in problems} == {shot["warc"]}
    assert ("file-changed", shot["warc"], None) in problems  # the file's sha256 in the chain
    damaged = [(kind, named) for kind, _, named in problems if kind != "file-changed"]
    assert damaged and all(named in (url, "urn:fullPage:" + url) for _, named in damaged)
    result = preserve.run(archive, "verify")
    assert result.exit_code == 1
