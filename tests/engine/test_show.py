"""show, end to end: a capture's text or raw bytes, at a time, and damaged records."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path
from typing import Any

from tests.support.capturing import FAST
from tests.support.checked_archive import NEW, OLD, capture_row, kinds, sql, story
from tests.support.checking import NOT_FOUND_TEMPLATE, short_article
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
    flip_a_byte_of(archive, original)
    result = preserve.run(archive, "show", url, "--raw")
    assert result.exit_code == 1 and result.stderr.startswith("Error:")
    assert result.exception is None or isinstance(result.exception, SystemExit)


def flip_a_byte_of(archive: Path, row: dict[str, Any]) -> None:
    """Flip one bit in the middle of a capture's record, as a failing disk would."""
    path = archive / "warcs" / row["warc"]
    data = bytearray(path.read_bytes())
    data[row["offset"] + row["length"] // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_the_text_of_a_damaged_record_is_refused(
    archive: Path, checked_site: Site, preserve: Preserve
) -> None:
    """The text was extracted when the page was captured and is kept in the database: it
    is given out only while the record it came from still reads back as recorded."""
    url = checked_site.url("/2016/10/story")
    latest = capture_row(archive, "/2016/10/story", 1)
    assert latest["record_type"] == "response"
    flip_a_byte_of(archive, latest)

    result = preserve.run(archive, "show", url)

    assert result.exit_code == 1 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"Error: the archived record of {url} at {latest['started_at']}")
    assert "is damaged" in line and "its text is not shown" in line
    assert NEW not in result.output
    # The earlier capture, in a record of its own, is still shown.
    earlier = preserve.run(
        archive, "show", url, "--at", capture_row(archive, "/2016/10/story")["started_at"]
    )
    assert earlier.exit_code == 0 and OLD in earlier.stdout


def test_a_page_a_check_found_to_be_no_page_is_not_shown_as_it(
    tmp_path: Path, site: Site, preserve: Preserve
) -> None:
    """A 2xx answer that a check classified as a soft-404 is no capture of the page: show
    gives the last good one, and says why on stderr."""
    archive = tmp_path / "archive"
    site.not_found = Page(NOT_FOUND_TEMPLATE, status=200)  # every missing page: 200
    site.pages["/news/story"] = Page(short_article("The story", n=5))
    url = site.url("/news/story")
    assert preserve.run(archive, "capture", *FAST, "-q", url).exit_code == 0
    original = preserve.run(archive, "show", url).stdout
    del site.pages["/news/story"]
    (result,) = preserve.json(archive, "check", *FAST)["results"]
    assert (result["outcome"], result["reason"], result["http_status"]) == ("gone", "soft-404", 200)

    shown = preserve.run(archive, "show", url)
    raw = preserve.run(archive, "show", url, "--raw")

    assert shown.exit_code == 0 and shown.stdout == original
    assert "Sorry, we could not find the page" not in shown.stdout
    assert "answered HTTP 200, which counts as gone (soft-404); this is the last good one" in (
        shown.stderr
    )
    assert raw.exit_code == 0 and raw.stdout_bytes == short_article("The story", n=5).encode()
    assert "this is the last good one" in raw.stderr
