"""capture, end to end: what a cited source can be (another encoding, a PDF, a chain of
redirects, an error status, unreachable, too big, too slow, chunked or gzipped)."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.capturing import by_url, capture, capture_of, story
from tests.support.cli import Preserve
from tests.support.sites import Page, Site, free_port, redirect
from tests.support.warc_checks import assert_archive_sound, record_at, rows

RUSSIAN = (
    "Министр заявил во вторник, что правительство располагает новыми доказательствами. "
    "По его словам, записи будут переданы международным наблюдателям в течение недели."
)


def cyrillic_page(meta: bool) -> bytes:
    head = '<meta charset="windows-1251">' if meta else ""
    paragraphs = "".join(f"<p>{RUSSIAN} Абзац номер {n}.</p>" for n in range(4))
    html = (
        f"<!DOCTYPE html><html><head>{head}<title>Новости дня</title></head><body>"
        f"<article><h1>Новости дня</h1>{paragraphs}</article></body></html>"
    )
    return html.encode("windows-1251")


@pytest.mark.parametrize("declared", ["header", "meta"])
def test_windows_1251_source_text_comes_out_right(site: Site, archive: Path, declared: str) -> None:
    content_type = "text/html; charset=windows-1251" if declared == "header" else "text/html"
    site.pages["/ru/news"] = Page(cyrillic_page(meta=declared == "meta"), content_type=content_type)
    site.pages["/a"] = Page(story(("/ru/news", "a Russian report")))

    document = capture(archive, site.url("/a"))

    (cited,) = document["citations"]
    assert cited["status"] == "captured" and cited["title"] == "Новости дня"
    row = capture_of(archive, site.url("/ru/news"))
    assert row["payload_sha256"] == hashlib.sha256(cyrillic_page(declared == "meta")).hexdigest()
    (text,) = rows(archive, "SELECT text FROM texts WHERE sha256 = ?", (row["text_sha256"],))
    assert RUSSIAN in text["text"]
    assert "Абзац номер 3." in text["text"]
    assert hashlib.sha256(text["text"].encode()).hexdigest() == row["text_sha256"]
    assert_archive_sound(archive)


PDF = (
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
)


def test_pdf_source(site: Site, archive: Path) -> None:
    site.pages["/docs/annex-2015.pdf"] = Page(PDF, content_type="application/pdf")
    site.pages["/a"] = Page(story(("/docs/annex-2015.pdf", "the annex (PDF)")))

    document = capture(archive, site.url("/a"))

    (cited,) = document["citations"]
    assert (cited["status"], cited["http_status"]) == ("captured", 200)
    assert cited["sha256"] == hashlib.sha256(PDF).hexdigest()
    row = capture_of(archive, site.url("/docs/annex-2015.pdf"))
    assert (row["kind"], row["content_type"]) == ("pdf", "application/pdf")
    assert record_at(archive, row["warc"], row["offset"], row["length"]).payload == PDF
    assert_archive_sound(archive)


def test_redirect_chain_source(site: Site, archive: Path) -> None:
    site.pages["/r1"] = redirect("/r2", 301)
    site.pages["/r2"] = redirect(site.url("/r3"), 302)
    site.pages["/r3"] = redirect("/final?x=1", 307)
    site.pages["/final?x=1"] = Page("<html><body><p>Arrived</p></body></html>")
    site.pages["/a"] = Page(story(("/r1", "a moved page")))

    document = capture(archive, site.url("/a"))

    (cited,) = document["citations"]
    assert cited["url"] == site.url("/r1")
    assert (cited["status"], cited["http_status"]) == ("captured", 200)
    assert cited["final_url"] == site.url("/final?x=1")
    row = capture_of(archive, site.url("/r1"))
    assert row["final_url"] == site.url("/final?x=1")
    assert json.loads(row["redirects"]) == [
        [site.url("/r1"), 301],
        [site.url("/r2"), 302],
        [site.url("/r3"), 307],
    ]
    hops = rows(
        archive,
        "SELECT hop, url, http_status, record_id FROM records"
        " WHERE capture_id = ? AND type = 'response' ORDER BY hop",
        (row["id"],),
    )
    assert [(h["hop"], h["url"], h["http_status"]) for h in hops] == [
        (0, site.url("/r1"), 301),
        (1, site.url("/r2"), 302),
        (2, site.url("/r3"), 307),
        (3, site.url("/final?x=1"), 200),
    ]
    assert hops[-1]["record_id"] == row["record_id"]
    requests = rows(
        archive,
        "SELECT hop FROM records WHERE capture_id = ? AND type = 'request' ORDER BY hop",
        (row["id"],),
    )
    assert [r["hop"] for r in requests] == [0, 1, 2, 3]
    assert_archive_sound(archive)


def test_404_and_500_sources_are_captured_with_their_status(site: Site, archive: Path) -> None:
    site.pages["/broken"] = Page("<html><body><p>Oops</p></body></html>", status=500)
    site.pages["/a"] = Page(
        story(("/gone", "a removed page"), ("/broken", "a broken page"), ("/fine", "a fine page"))
    )
    site.pages["/fine"] = Page("<html><body><p>Fine</p></body></html>")

    document = capture(archive, site.url("/a"))

    assert document["article"]["status"] == "captured"
    cited = by_url(document)
    assert [(c["status"], c["http_status"], c["error"]) for c in document["citations"]] == [
        ("captured", 404, None),
        ("captured", 500, None),
        ("captured", 200, None),
    ]
    assert (
        cited[site.url("/gone")]["sha256"] == hashlib.sha256(site.not_found.payload()).hexdigest()
    )
    states = {t["url"]: t for t in rows(archive, "SELECT * FROM targets")}
    assert states[site.url("/fine")]["baseline_capture_id"] is not None
    assert states[site.url("/gone")]["baseline_capture_id"] is None  # not a good capture
    assert (states[site.url("/gone")]["state"], states[site.url("/gone")]["reason"]) == (
        "failed",
        "http-404",
    )
    assert_archive_sound(archive)


def test_unreachable_sources_are_failed_captures_with_a_reason(
    site: Site, archive: Path, preserve: Preserve
) -> None:
    site.pages["/slow"] = Page("<html><body><p>Late</p></body></html>", delay=5)
    refused = f"http://127.0.0.1:{free_port()}/nothing-here"
    site.pages["/a"] = Page(
        story(
            ("http://nowhere.invalid/page", "a vanished site"),
            (refused, "a closed port"),
            ("/slow", "a slow server"),
        )
    )

    result = preserve.run(
        archive, "capture", "--json", "--allow-private", "--timeout", "1", site.url("/a")
    )

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["article"]["status"] == "captured"
    assert [
        (c["url"], c["status"], c["error"], c["http_status"], c["sha256"])
        for c in document["citations"]
    ] == [
        ("http://nowhere.invalid/page", "failed", "dns", None, None),
        (refused, "failed", "refused", None, None),
        (site.url("/slow"), "failed", "timeout", None, None),
    ]
    for row in rows(archive, "SELECT * FROM captures WHERE role = 'citation'"):
        assert row["status"] == "failed" and row["error_detail"], row
        assert row["warc"] is None and row["record_id"] is None
    assert not rows(
        archive,
        "SELECT * FROM records WHERE capture_id IN"
        " (SELECT id FROM captures WHERE status = 'failed')",
    )
    states = {t["url"]: (t["state"], t["reason"]) for t in rows(archive, "SELECT * FROM targets")}
    assert states["http://nowhere.invalid/page"] == ("failed", "dns")
    assert states[refused] == ("failed", "refused")
    assert_archive_sound(archive)


def test_oversized_body_is_cut_and_marked(site: Site, archive: Path) -> None:
    big = (
        "<html><body>" + "<p>a long line of text in a big page</p>" * 200 + "</body></html>"
    ).encode()
    site.pages["/big"] = Page(big)
    site.pages["/a"] = Page(
        '<html><body><article><p>See <a href="/big">the big page</a> for '
        "the details of the story.</p></article></body></html>"
    )

    document = capture(archive, site.url("/a"), "--max-bytes", "1000")

    (cited,) = document["citations"]
    assert (cited["status"], cited["http_status"], cited["truncated"]) == (
        "captured",
        200,
        "length",
    )
    assert cited["sha256"] == hashlib.sha256(big[:1000]).hexdigest()
    row = capture_of(archive, site.url("/big"))
    assert (row["truncated"], row["payload_length"]) == ("length", 1000)
    record = record_at(archive, row["warc"], row["offset"], row["length"])
    assert record.header("WARC-Truncated") == "length"
    assert record.payload == big[:1000]
    assert record.http_header("Content-Length") == str(len(big))  # as the server declared it
    assert document["article"]["truncated"] is None
    assert_archive_sound(archive)


@pytest.mark.slow
def test_a_dripping_source_is_cut_at_the_deadline(site: Site, archive: Path) -> None:
    site.pages["/drip"] = Page(b"<html><body>" + b"x" * 200 + b"</body></html>", drip=0.05)
    site.pages["/a"] = Page(story(("/drip", "a slow drip")))

    document = capture(archive, site.url("/a"), "--deadline", "2")

    (cited,) = document["citations"]
    assert (cited["status"], cited["truncated"]) == ("captured", "time")
    assert_archive_sound(archive)


BODY = (
    "<html><head><title>Same</title></head><body><article>"
    + "<p>The same words in every transfer encoding, repeated to fill chunks.</p>" * 60
    + "</article></body></html>"
).encode()


def test_chunked_plain_and_gzip_bodies(site: Site, archive: Path) -> None:
    site.pages["/plain"] = Page(BODY)
    site.pages["/chunked"] = Page(BODY, chunked=True)
    site.pages["/gzip"] = Page(BODY, gzip=True)
    site.pages["/a"] = Page(
        story(("/plain", "plain"), ("/chunked", "chunked"), ("/gzip", "gzipped"))
    )

    capture(archive, site.url("/a"))

    plain, chunked, zipped = (
        capture_of(archive, site.url(p)) for p in ("/plain", "/chunked", "/gzip")
    )
    assert plain["payload_sha256"] == chunked["payload_sha256"] == hashlib.sha256(BODY).hexdigest()
    assert zipped["payload_sha256"] == hashlib.sha256(gzip.compress(BODY, mtime=0)).hexdigest()
    assert plain["decoded_sha256"] == chunked["decoded_sha256"] == zipped["decoded_sha256"]
    assert plain["text_sha256"] == chunked["text_sha256"] == zipped["text_sha256"] is not None

    def record(row: dict[str, Any]) -> Any:
        return record_at(archive, row["warc"], row["offset"], row["length"])

    assert record(plain).payload_digest == record(chunked).payload_digest
    stored = record(chunked)
    assert stored.payload == BODY
    assert stored.http_header("Transfer-Encoding") is None
    assert stored.http_header("X-Orig-Transfer-Encoding") == "chunked"
    assert stored.http_header("Content-Length") == str(len(BODY))
    stored = record(zipped)
    assert stored.payload[:2] == b"\x1f\x8b"
    assert gzip.decompress(stored.payload) == BODY
    assert stored.http_header("Content-Encoding") == "gzip"
    assert_archive_sound(archive)
