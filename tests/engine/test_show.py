"""show, end to end: a capture's text or raw bytes, at a time, and damaged records."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

from tests.support.checked_archive import NEW, OLD, capture_row, kinds, sql, story
from tests.support.cli import Preserve
from tests.support.sites import Page, Site, article_html


def test_show_text_raw_and_at(archive: Path, checked_site: Site, preserve: Preserve) -> None:
    url = checked_site.url("/2016/10/story")
    old, new = sql(archive, "SELECT * FROM captures WHERE url = ? ORDER BY id", (url,))
    latest = preserve.run(archive, "show", url)
    assert latest.exit_code == 0 and NEW in latest.stdout and OLD not in latest.stdout
    assert f"capture {new['id']}" in latest.stderr
    earlier = preserve.run(archive, "show", url, "--at", old["started_at"])
    assert OLD in earlier.stdout
    raw = preserve.run(archive, "show", url, "--raw", "--at", old["started_at"])
    assert raw.exit_code == 0
    assert hashlib.sha256(raw.stdout_bytes).hexdigest() == old["payload_sha256"]
    assert raw.stdout_bytes == story(OLD).encode()
    assert preserve.run(archive, "show", url, "--at", "2020-01-01").exit_code == 2
    assert "got a different text" in earlier.stderr  # an old text is never taken for today's


def test_show_text_of_a_capture_without_text(
    archive: Path, checked_site: Site, preserve: Preserve
) -> None:
    checked_site.pages["/blob"] = Page(b"\x89PNG\r\n\x1a\n" + bytes(64), content_type="image/png")
    assert (
        preserve.run(archive, "capture", checked_site.url("/blob"), "--allow-private").exit_code
        == 0
    )
    result = preserve.run(archive, "show", checked_site.url("/blob"))
    assert result.exit_code == 2 and "use --raw" in result.stderr
    raw = preserve.run(archive, "show", checked_site.url("/blob"), "--raw")
    assert raw.stdout_bytes == b"\x89PNG\r\n\x1a\n" + bytes(64)
    assert kinds(archive) == set()


def test_show_raw_of_a_revisit_gives_the_original_bytes(
    archive: Path, checked_site: Site, preserve: Preserve
) -> None:
    url = checked_site.url("/src/annex.txt")
    rows = sql(archive, "SELECT * FROM captures WHERE url = ? ORDER BY id", (url,))
    assert [r["record_type"] for r in rows] == ["response", "revisit"]
    raw = preserve.run(archive, "show", url, "--raw")
    assert raw.stdout_bytes == b"Annex A. Dates of the hearings.\n"
    assert "a revisit of" in raw.stderr


def test_show_raw_keeps_content_encoding(tmp_path: Path, site: Site, preserve: Preserve) -> None:
    body = article_html("Zipped", ["Sent gzip-encoded by the server."])
    site.pages["/zipped"] = Page(body, gzip=True)
    path = tmp_path / "archive"
    result = preserve.run(path, "capture", site.url("/zipped"), "--allow-private")
    assert result.exit_code == 0, result.output
    raw = preserve.run(path, "show", site.url("/zipped"), "--raw")
    assert raw.stdout_bytes[:2] == b"\x1f\x8b"
    assert gzip.decompress(raw.stdout_bytes) == body.encode()
    assert (
        "Sent gzip-encoded by the server." in preserve.run(path, "show", site.url("/zipped")).stdout
    )


def test_show_of_a_damaged_record_is_an_error_not_a_traceback(
    archive: Path, checked_site: Site, preserve: Preserve
) -> None:
    url = checked_site.url("/src/report")
    target = capture_row(archive, "/src/report", 1)
    original = capture_row(archive, "/src/report", 0)
    assert target["record_type"] == "revisit"
    path = archive / "warcs" / original["warc"]
    data = bytearray(path.read_bytes())
    data[original["offset"] + original["length"] // 2] ^= 0x01
    path.write_bytes(bytes(data))
    result = preserve.run(archive, "show", url, "--raw")
    assert result.exit_code == 1 and result.stderr.startswith("Error:")
    assert result.exception is None or isinstance(result.exception, SystemExit)
