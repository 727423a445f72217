"""`preserve capture` on the command line: its --json and text output, --from-file, and
bad input refused with one `Error:` line before anything is written."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.support.capturing import BIN, FAST, SHA256_HEX, capture, capture_of, story
from tests.support.cli import Preserve, assert_one_error_line
from tests.support.sites import Page, Site, free_port
from tests.support.warc_checks import assert_archive_sound, rows

# --- the command line -----------------------------------------------------------------------


def test_capture_json_history_json_and_status_json(
    site: Site, archive: Path, preserve: Preserve
) -> None:
    site.pages["/src"] = Page("<html><body><p>Source</p></body></html>")
    site.pages["/a"] = Page(story(("/src", "a source"), ("/missing", "a missing page")))
    url = site.url("/a")

    document = capture(archive, url, "--every", "6h")

    assert {"run", "article", "citations", "requisites"} <= set(document)
    assert isinstance(document["run"], int)
    keys = {"url", "status", "error", "http_status", "sha256"}
    article = document["article"]
    assert keys <= set(article)
    assert (article["url"], article["status"], article["error"], article["http_status"]) == (
        url,
        "captured",
        None,
        200,
    )
    assert set(article["sha256"]) <= SHA256_HEX and len(article["sha256"]) == 64
    assert len(document["citations"]) == 2
    for entry in document["citations"] + document["requisites"]:
        assert keys <= set(entry)
    assert [r["url"] for r in document["requisites"]] == [site.url("/static/site.css")]

    result = preserve.run(archive, "history", "--json", url)
    assert result.exit_code == 0, result.output
    history = json.loads(result.stdout)
    assert history["url"] == url
    (entry,) = history["captures"]
    assert {
        "captured_at",
        "http_status",
        "outcome",
        "sha256",
        "text_sha256",
        "warc",
        "offset",
        "length",
    } <= set(entry)
    assert entry["sha256"] == article["sha256"] and entry["http_status"] == 200
    assert entry["text_sha256"] == article["text_sha256"] is not None
    assert (entry["warc"], entry["offset"], entry["length"]) == (
        article["warc"],
        article["offset"],
        article["length"],
    )
    assert entry["captured_at"].endswith("Z")

    result = preserve.run(archive, "status", "--json")
    assert result.exit_code == 0, result.output
    status = {t["url"]: t for t in json.loads(result.stdout)["targets"]}
    assert set(status) == {url, site.url("/src"), site.url("/missing")}
    assert (status[url]["role"], status[url]["state"], status[url]["every"]) == (
        "article",
        "new",
        "6h",
    )
    assert status[site.url("/src")]["every"] == "6h"
    assert status[site.url("/src")]["cited_by"] == url
    assert (status[site.url("/missing")]["state"], status[site.url("/missing")]["reason"]) == (
        "failed",
        "http-404",
    )

    # The text forms say the same, for people.
    result = preserve.run(archive, "history", url)
    assert result.exit_code == 0 and article["sha256"][:12] in result.stdout
    result = preserve.run(archive, "status")
    assert result.exit_code == 0 and url in result.stdout
    assert_archive_sound(archive)


def test_capture_text_output(site: Site, archive: Path, preserve: Preserve) -> None:
    site.pages["/a"] = Page(story(("/missing", "a missing page")))

    result = preserve.run(archive, "capture", *FAST, site.url("/a"))

    assert result.exit_code == 0, result.output
    assert f"Article  {site.url('/a')}" in result.stdout
    assert "Citations  1 of 1 captured" in result.stdout
    assert f"Archive: {archive}" in result.stdout
    # No progress line when stderr is not a terminal: only the setting it remembered.
    assert result.stderr.startswith("Remembered allow_private = true")
    assert "\r" not in result.stderr and "Capturing" not in result.stderr
    assert_archive_sound(archive)


def test_json_on_stdout_only_in_a_real_process(site: Site, archive: Path) -> None:
    site.pages["/a"] = Page(story(("/missing", "a missing page")))

    result = subprocess.run(
        [
            str(BIN / "preserve"),
            "--archive",
            str(archive),
            "capture",
            "--json",
            *FAST,
            site.url("/a"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PRESERVE_ALLOW_PRIVATE": ""},
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["article"]["status"] == "captured"
    # stdout is the JSON alone; stderr only says which setting the archive now remembers
    assert result.stderr.startswith("Remembered allow_private") and result.stderr.count("\n") == 1
    assert_archive_sound(archive)


def test_the_report_of_a_run_is_written_as_it_is_read_back(
    site: Site, archive: Path, preserve: Preserve
) -> None:
    """A run keeps nothing of its pages: the report is read back from the archive an article
    at a time and written as it comes. The JSON is the same, byte for byte, as one document
    dumped at once, and the text lists every article once, in the order given."""
    site.pages["/src"] = Page("<html><body><p>Source</p></body></html>")
    # A line separator in a title: text tools split lines there, JSON does not.
    site.pages["/one"] = Page(story(("/src", "a source"), title="One\u2028two\u2029three \u0085"))
    site.pages["/two"] = Page(story(("/src", "the same source"), ("/gone", "a gone page")))
    site.pages["/three"] = Page(story())
    urls = [site.url("/two"), site.url("/one"), site.url("/three")]

    result = preserve.run(archive, "capture", "--json", *FAST, *urls)

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert result.stdout == json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    assert [a["article"]["url"] for a in document["articles"]] == urls
    assert {k: document[k] for k in ("run", "article", "citations", "requisites")} == (
        document["articles"][0]
    )
    two, one, three = document["articles"]
    assert [c["url"] for c in two["citations"]] == [site.url("/src"), site.url("/gone")]
    assert [c["url"] for c in one["citations"]] == [site.url("/src")]
    assert three["citations"] == [] and three["article"]["citations"] == 0
    assert two["article"]["citations"] == 2

    result = preserve.run(archive, "capture", *FAST, *urls)

    assert result.exit_code == 0, result.output
    blocks = result.stdout.split("\n\n")
    assert [b.split("\n")[0] for b in blocks] == [f"Article  {url}" for url in urls]
    assert result.stdout.split("\n")[-2].startswith("Archive: ")
    assert "Citations  2 of 2 captured" in blocks[0]  # a 404 is captured, with its status
    assert_archive_sound(archive)


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "not a url",
        "ftp://example.org/file.txt",
        "http://",
        "/relative/path",
        "http://exa mple.org/",
    ],
)
def test_bad_urls_are_refused_before_anything_is_written(
    archive: Path, url: str, preserve: Preserve
) -> None:
    result = preserve.run(archive, "capture", *FAST, "http://127.0.0.1:9/fine", url)

    assert_one_error_line(result)
    if url.startswith("ftp"):
        assert "scheme" in result.stderr
    assert not archive.exists()


def test_bad_input_in_a_real_process(archive: Path) -> None:
    result = subprocess.run(
        [str(BIN / "preserve"), "--archive", str(archive), "capture", "ftp://example.org/x"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Error: ")
    assert not archive.exists()


@pytest.mark.parametrize(
    "options",
    [["--every", "often"], ["--depth", "-1"], ["--timeout", "0"], ["--max-bytes", "0"], []],
)
def test_bad_options_are_refused_before_anything_is_written(
    archive: Path, options: list[str], preserve: Preserve
) -> None:
    urls = ["http://127.0.0.1:9/"] if options else []  # [] is: no URL at all
    result = preserve.run(archive, "capture", *options, *urls)

    assert_one_error_line(result)
    assert not archive.exists()


def test_a_malformed_settings_file_is_refused_before_anything_is_fetched(
    site: Site, archive: Path, preserve: Preserve
) -> None:
    archive.mkdir()
    (archive / "preserve.toml").write_text("timeout = [\n")
    result = preserve.run(archive, "capture", *FAST, site.url("/a"))
    assert result.exit_code == 2
    assert_one_error_line(result)
    assert "preserve.toml" in result.stderr
    assert [p.name for p in archive.iterdir()] == ["preserve.toml"]


def test_bad_input_leaves_an_existing_archive_alone(
    site: Site, archive: Path, preserve: Preserve
) -> None:
    site.pages["/a"] = Page(story(("/missing", "a missing page")))
    capture(archive, site.url("/a"))
    before = rows(archive, "SELECT count(*) AS n FROM runs")
    warcs = sorted(p.name for p in (archive / "warcs").iterdir())

    assert_one_error_line(preserve.run(archive, "capture", site.url("/a"), "gopher://x/"))

    assert rows(archive, "SELECT count(*) AS n FROM runs") == before
    assert sorted(p.name for p in (archive / "warcs").iterdir()) == warcs
    assert_archive_sound(archive)


def test_an_archive_under_a_file_is_refused(tmp_path: Path, preserve: Preserve) -> None:
    (tmp_path / "file.txt").write_text("not a folder")
    archive = tmp_path / "file.txt" / "archive"

    result = preserve.run(archive, "capture", "http://127.0.0.1:9/")

    assert_one_error_line(result)
    assert str(archive) in result.stderr
    assert (tmp_path / "file.txt").read_text() == "not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_an_unwritable_archive_folder_is_refused(tmp_path: Path, preserve: Preserve) -> None:
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        if os.access(parent, os.W_OK):
            pytest.skip("running as a user (root) that chmod cannot stop from writing")
        result = preserve.run(parent / "archive", "capture", "http://127.0.0.1:9/")
        assert_one_error_line(result)
        assert list(parent.iterdir()) == []
    finally:
        parent.chmod(0o700)


def test_an_article_that_cannot_be_fetched_exits_1(
    site: Site, archive: Path, preserve: Preserve
) -> None:
    site.pages["/a"] = Page(story(("/missing", "a missing page")))
    dead = f"http://127.0.0.1:{free_port()}/article"

    result = preserve.run(archive, "capture", "--json", *FAST, dead, site.url("/a"))

    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    articles = {a["article"]["url"]: a for a in document["articles"]}
    failed = articles[dead]["article"]
    assert (failed["status"], failed["error"], failed["http_status"]) == ("failed", "refused", None)
    assert articles[dead]["citations"] == []
    assert articles[site.url("/a")]["article"]["status"] == "captured"  # the rest went on
    row = capture_of(archive, dead)
    assert (row["status"], row["error"], row["role"]) == ("failed", "refused", "article")
    (target,) = rows(archive, "SELECT * FROM targets WHERE url = ?", (dead,))
    assert (target["state"], target["reason"], target["baseline_capture_id"]) == (
        "failed",
        "refused",
        None,
    )

    text = preserve.run(archive, "capture", *FAST, dead)
    assert text.exit_code == 1
    assert "refused" in text.stdout
    assert_archive_sound(archive)


# --- URL lists: --from-file ---------------------------------------------------------------


def test_from_file_with_comments_and_blank_lines(site: Site, archive: Path, tmp_path: Path) -> None:
    urls = [site.url(f"/articles/{n}") for n in range(5)]
    for n in range(5):
        site.pages[f"/articles/{n}"] = Page(
            story((f"/sources/{n}", f"source {n}"), title=f"Article {n}")
        )
        site.pages[f"/sources/{n}"] = Page(f"<html><body><p>Source {n}</p></body></html>")
    listing = tmp_path / "urls.txt"
    listing.write_text(
        "# articles to keep\n\n" + "\n".join(urls[:3]) + "\n   # indented\n"
        f"  {urls[3]}  \n\n{urls[0]}\n",
        encoding="utf-8",
    )

    document = capture(archive, "--from-file", str(listing), urls[4])

    # Arguments first, then the file's lines in order, each URL once.
    assert [a["article"]["url"] for a in document["articles"]] == [urls[4], *urls[:4]]
    for n, entry in zip([4, 0, 1, 2, 3], document["articles"], strict=True):
        assert entry["article"]["title"] == f"Article {n}"
        assert [c["url"] for c in entry["citations"]] == [site.url(f"/sources/{n}")]
    assert all(site.hits[f"/articles/{n}"] == 1 for n in range(5))
    assert len(rows(archive, "SELECT * FROM runs")) == 1
    assert {
        t["url"] for t in rows(archive, "SELECT url FROM targets WHERE role = 'article'")
    } == set(urls)
    assert_archive_sound(archive)


@pytest.mark.parametrize(
    "encoding, bom",
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
    ],
)
def test_a_url_list_is_read_in_the_encodings_editors_save(
    site: Site, archive: Path, tmp_path: Path, encoding: str, bom: bytes
) -> None:
    """PowerShell saves UTF-16 with a byte-order mark, Notepad UTF-8 with one: the first URL
    of such a file used to be refused, or the whole list to end in a traceback."""
    site.pages["/a"] = Page("<html><body><p>A</p></body></html>")
    site.pages["/b"] = Page("<html><body><p>B</p></body></html>")
    listing = tmp_path / "urls.txt"
    listing.write_bytes(bom + f"{site.url('/a')}\r\n{site.url('/b')}\r\n".encode(encoding))

    document = capture(archive, "--from-file", str(listing))

    assert [a["article"]["url"] for a in document["articles"]] == [site.url("/a"), site.url("/b")]


def test_a_url_list_with_bad_lines_is_refused_whole_naming_each(
    site: Site, archive: Path, tmp_path: Path, preserve: Preserve
) -> None:
    site.pages["/a"] = Page("<html><body><p>A</p></body></html>")
    listing = tmp_path / "urls.txt"
    listing.write_text(
        f"{site.url('/a')}\nftp://files.example/report.pdf\n# fine\nnot a url\n", encoding="utf-8"
    )

    result = preserve.run(archive, "capture", *FAST, "--from-file", str(listing))

    assert result.exit_code == 2
    assert f"{listing}:2: unsupported scheme 'ftp'" in result.stderr
    assert f"{listing}:4: not an absolute URL" in result.stderr
    assert "Traceback" not in result.output
    assert site.hits["/a"] == 0  # refused before anything was fetched


def test_a_url_list_in_a_legacy_encoding_gets_a_clear_error(
    archive: Path, tmp_path: Path, preserve: Preserve
) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_bytes("https://example.org/caf\xe9\n".encode("latin-1"))

    result = preserve.run(archive, "capture", *FAST, "--from-file", str(listing))

    assert result.exit_code == 2
    assert "not UTF-8" in result.stderr and "UTF-16" in result.stderr


def test_a_page_that_needs_rendering_says_why_it_was_not_rendered(
    site: Site, archive: Path, preserve: Preserve, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a browser to start, a script-built page is archived as served, and the
    capture says it was not rendered and what rendering needs (no Chromium here: none is
    started)."""
    monkeypatch.setenv("PRESERVE_CHROMIUM", str(archive.parent / "no-such-chromium"))
    site.pages["/app"] = Page(
        '<html><head><title>App</title></head><body><div id="app">Loading...</div>'
        '<script src="/app.js"></script></body></html>'
    )

    shown = preserve.run(archive, "capture", *FAST, "--browser", "auto", site.url("/app"))
    data = preserve.json(archive, "capture", *FAST, "--browser", "auto", "--json", site.url("/app"))

    assert shown.exit_code == 0, shown.output
    assert "not rendered: the browser could not start" in shown.stdout
    assert "docs/browser.md" in shown.stdout
    (entry,) = data["articles"]
    assert (entry["article"]["rendered"], entry["article"]["text_gap"]) == ("failed", "no-text")
