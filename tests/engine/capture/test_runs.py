"""capture, end to end: the library and the `preserve` command against real servers on
127.0.0.1 (tests/sites.py); every archive written is checked by tests/warc_checks.py."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import socket
import sqlite3
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from preserve.cli.main import cli
from preserve.config import load_config
from preserve.engine.archive import Archive, Run
from preserve.engine.capture import capture_articles
from preserve.times import utc_now
from preserve.warc.records import REVISIT_PROFILE
from tests.support.sites import Page, Site, article_html, redirect
from tests.support.tls import OPENSSL, make_localhost_certificate, server_context
from tests.support.warc_checks import assert_archive_sound, record_at, rows

BIN = Path(sys.executable).parent
FAST = ("--allow-private", "--timeout", "2")
SHA256_HEX = set("0123456789abcdef")

COMMENTS = """<section id="comments" class="comments"><h3>Comments</h3>
<div class="comment"><p>Great piece! More on this <a href="/comment-spam">here</a>.</p>
</div></section>"""


# --- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared_sites() -> Iterator[tuple[Site, Site]]:
    """Two servers for the module: stopping a server takes half a second."""
    one, two = Site(), Site()
    yield one, two
    one.close()
    two.close()


def _fresh(server: Site) -> Site:
    server.pages.clear()
    server.hits.clear()
    server.requests.clear()
    return server


@pytest.fixture
def site(shared_sites: tuple[Site, Site]) -> Site:
    return _fresh(shared_sites[0])


@pytest.fixture
def other_site(shared_sites: tuple[Site, Site]) -> Site:
    return _fresh(shared_sites[1])


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return tmp_path / "archive"


def free_port() -> int:
    """A port nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def paragraph(n: int, href: str, anchor: str) -> str:
    """A paragraph of prose that cites `href`; its middle sentence is the link's context."""
    return (
        f"Reporters covered development number {n} of the harbour story all week long. "
        f'Officials said on Monday, according to <a href="{href}">{anchor}</a>, that '
        f"matter {n} was under review. Further remarks followed in the afternoon session "
        "of the council, where members asked for the full documents."
    )


CLOSING = (
    "Residents gathered at the quay in the evening to ask when the ferry would run "
    "again; nobody from the port authority came to answer their questions that night."
)


def story(
    *cited: tuple[str, str],
    title: str = "Harbour closed after moorings fail",
    comments: str = COMMENTS,
    **kwargs: str,
) -> str:
    """A news page citing (href, anchor) pairs inline, with nav, sidebar, comments, footer."""
    paragraphs = [paragraph(n, href, anchor) for n, (href, anchor) in enumerate(cited)]
    html = article_html(title, [*paragraphs, CLOSING], **kwargs)
    return html.replace("</main>", comments + "</main>")


def context(n: int, anchor: str) -> str:
    return f"Officials said on Monday, according to {anchor}, that matter {n} was under review."


def invoke(archive: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--archive", str(archive), *args])


def capture(archive: Path, *args: str, code: int = 0) -> dict[str, Any]:
    """`preserve capture --json ARGS` with loopback allowed; the parsed document."""
    result = invoke(archive, "capture", "--json", *FAST, *args)
    assert result.exit_code == code, (result.output, result.stderr, result.exception)
    return json.loads(result.stdout)


def article_capture(archive: Path, url: str) -> dict[str, Any]:
    (row,) = rows(
        archive,
        "SELECT * FROM captures WHERE url = ? AND role = 'article' ORDER BY id DESC LIMIT 1",
        (url,),
    )
    return row


def capture_of(archive: Path, url: str) -> dict[str, Any]:
    found = rows(archive, "SELECT * FROM captures WHERE url = ? ORDER BY id", (url,))
    assert len(found) == 1, found
    return found[0]


def by_url(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["url"]: c for c in document["citations"]}


def assert_one_error_line(result: Result) -> None:
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert result.stdout == ""


def citation_sources(site: Site, other: Site) -> tuple[list[str], list[tuple[str, str]]]:
    """Three sources (relative, absolute on this site, on another site) with their links."""
    site.pages["/sources/notice"] = Page("<html><body><p>Notice text</p></body></html>")
    site.pages["/sources/inspection"] = Page("<html><body><p>Inspection</p></body></html>")
    other.pages["/radio/interview"] = Page("<html><body><p>Interview</p></body></html>")
    urls = [
        site.url("/sources/notice"),
        site.url("/sources/inspection"),
        other.url("/radio/interview"),
    ]
    links = [
        ("/sources/notice", "a notice from the maritime authority"),
        (urls[1], "an inspection report"),
        (urls[2] + "#t=120", "a local radio station"),
    ]
    return urls, links


# --- what is cited, and how -------------------------------------------------------------------


def test_only_inline_citations_are_captured_in_article_order(
    site: Site, other_site: Site, archive: Path
) -> None:
    urls, links = citation_sources(site, other_site)
    site.pages["/2016/10/harbour"] = Page(
        story(
            *links,
            nav='<a href="/nav-section">Section</a>',
            aside='<li><a href="/most-read-3">Most read three</a></li>',
            footer=f'<a href="{other_site.url("/ads/click?id=9")}">Sponsored</a>',
        )
    )
    url = site.url("/2016/10/harbour")

    document = capture(archive, url)

    assert document["article"]["status"] == "captured"
    assert document["article"]["http_status"] == 200
    assert [c["url"] for c in document["citations"]] == urls
    assert all(c["status"] == "captured" and c["http_status"] == 200 for c in document["citations"])
    for path in (
        "/",
        "/world/",
        "/about",
        "/nav-section",
        "/most-read-1",
        "/most-read-2",
        "/most-read-3",
        "/privacy",
        "/comment-spam",
    ):
        assert site.hits[path] == 0, path
    assert other_site.hits["/ads/click?id=9"] == 0
    assert [
        site.hits["/sources/notice"],
        site.hits["/sources/inspection"],
        other_site.hits["/radio/interview"],
    ] == [1, 1, 1]

    article = article_capture(archive, url)
    cited = rows(
        archive, "SELECT * FROM citations WHERE capture_id = ? ORDER BY position", (article["id"],)
    )
    assert [(c["position"], c["url"]) for c in cited] == list(enumerate(urls))
    assert [c["anchor_text"] for c in cited] == [anchor for _, anchor in links]
    assert [c["context"] for c in cited] == [context(n, a) for n, (_, a) in enumerate(links)]
    for cited_url in urls:
        row = capture_of(archive, cited_url)
        assert (row["role"], row["depth"], row["parent_id"]) == ("citation", 1, article["id"])
    targets = {t["url"]: t for t in rows(archive, "SELECT * FROM targets")}
    assert set(targets) == {url, *urls}
    assert targets[url]["role"] == "article" and targets[url]["cited_by"] is None
    assert all(targets[u]["role"] == "citation" and targets[u]["cited_by"] == url for u in urls)
    # The metadata record carries the same citations.
    (meta,) = rows(archive, "SELECT * FROM records WHERE type = 'metadata'")
    stored = json.loads(record_at(archive, meta["warc"], meta["offset"], meta["length"]).payload)
    assert [c["url"] for c in stored["citations"]] == urls
    assert_archive_sound(archive)


def test_relative_links_base_href_and_duplicates(site: Site, archive: Path) -> None:
    for path in (
        "/docs/report.html",
        "/other/annex.html",
        "/abs/page",
        "/docs/?page=2",
        "/news/2016/sibling.html",
    ):
        site.pages[path] = Page(f"<html><body><p>{path}</p></body></html>")
    site.pages["/news/2016/story.html"] = Page(
        story(
            ("report.html", "the report"),
            ("../other/annex.html", "its annex"),
            ("/abs/page", "an absolute path"),
            ("report.html#section-2", "the same report again"),
            ("?page=2", "the list"),
            (site.url("/docs/report.html"), "the report, spelled in full"),
            ("#top", "back to the top"),
            (site.url("/news/2016/story.html"), "this very page"),
            ("mailto:desk@example.org", "the desk"),
            extra_head=f'<base href="{site.url("/docs/")}">',
        )
    )
    url = site.url("/news/2016/story.html")

    document = capture(archive, url)

    expected = [
        site.url("/docs/report.html"),
        site.url("/other/annex.html"),
        site.url("/abs/page"),
        site.url("/docs/?page=2"),
    ]
    assert [c["url"] for c in document["citations"]] == expected
    assert site.hits["/docs/report.html"] == 1
    assert site.hits["/news/2016/sibling.html"] == 0
    assert site.hits["/news/2016/story.html"] == 1  # the page itself, once
    cited = rows(
        archive,
        "SELECT url, anchor_text FROM citations WHERE capture_id = ? ORDER BY position",
        (article_capture(archive, url)["id"],),
    )
    assert [c["url"] for c in cited] == expected
    assert cited[0]["anchor_text"] == "the report"  # the first of the duplicates
    assert len(rows(archive, "SELECT * FROM captures WHERE url = ?", (expected[0],))) == 1
    assert_archive_sound(archive)


def test_a_url_both_cited_and_shown_is_a_tracked_citation(site: Site, archive: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(200)
    site.pages["/charts/closures.png"] = Page(png, content_type="image/png")
    body = story(("/charts/closures.png", "the chart of closures"))
    site.pages["/a"] = Page(
        body.replace(
            "</main>", '<figure><img src="/charts/closures.png" alt="chart"></figure></main>'
        )
    )

    document = capture(archive, site.url("/a"))

    assert [c["url"] for c in document["citations"]] == [site.url("/charts/closures.png")]
    assert site.hits["/charts/closures.png"] == 1
    assert capture_of(archive, site.url("/charts/closures.png"))["role"] == "citation"
    assert rows(
        archive, "SELECT role FROM targets WHERE url = ?", (site.url("/charts/closures.png"),)
    ) == [{"role": "citation"}]
    assert_archive_sound(archive)


# --- what sources can be --------------------------------------------------------------------


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


def test_unreachable_sources_are_failed_captures_with_a_reason(site: Site, archive: Path) -> None:
    site.pages["/slow"] = Page("<html><body><p>Late</p></body></html>", delay=5)
    refused = f"http://127.0.0.1:{free_port()}/nothing-here"
    site.pages["/a"] = Page(
        story(
            ("http://nowhere.invalid/page", "a vanished site"),
            (refused, "a closed port"),
            ("/slow", "a slow server"),
        )
    )

    result = invoke(
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


# --- the private-address guard --------------------------------------------------------------


def guarded_article(site: Site, other_site: Site) -> str:
    site.pages["/local-source"] = Page("<html><body><p>Local</p></body></html>")
    other_site.pages["/other-source"] = Page("<html><body><p>Other</p></body></html>")
    site.pages["/a"] = Page(
        story(
            ("/local-source", "a local source"), (other_site.url("/other-source"), "another source")
        )
    )
    return site.url("/a")


def test_loopback_citations_are_refused_without_allow_private(
    site: Site, other_site: Site, archive: Path
) -> None:
    url = guarded_article(site, other_site)

    result = invoke(archive, "capture", "--json", "--timeout", "2", url)

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["article"]["status"], document["article"]["http_status"]) == ("captured", 200)
    assert [(c["status"], c["error"]) for c in document["citations"]] == [
        ("failed", "blocked-private-address")
    ] * 2
    assert all("--allow-private" in (c["error_detail"] or "") for c in document["citations"])
    assert [(r["status"], r["error"]) for r in document["requisites"]] == [
        ("failed", "blocked-private-address")
    ]
    assert site.hits["/local-source"] == 0 and site.hits["/static/site.css"] == 0
    assert other_site.hits["/other-source"] == 0
    assert [path for path, _ in site.requests] == ["/a"]
    assert_archive_sound(archive)


@pytest.mark.parametrize("how", ["option", "environment"])
def test_loopback_citations_are_captured_when_allowed(
    site: Site, other_site: Site, archive: Path, how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = guarded_article(site, other_site)
    options = ["--allow-private"] if how == "option" else []
    if how == "environment":
        monkeypatch.setenv("PRESERVE_ALLOW_PRIVATE", "1")

    result = invoke(archive, "capture", "--json", "--timeout", "2", *options, url)

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [(c["status"], c["http_status"]) for c in document["citations"]] == [
        ("captured", 200)
    ] * 2
    assert site.hits["/local-source"] == 1 and other_site.hits["/other-source"] == 1
    assert_archive_sound(archive)


def test_a_typed_article_may_not_redirect_to_loopback(site: Site, archive: Path) -> None:
    site.pages["/short"] = redirect("/a")
    site.pages["/a"] = Page(story(("/x", "x")))

    result = invoke(archive, "capture", "--json", "--timeout", "2", site.url("/short"))

    assert result.exit_code == 1
    article = json.loads(result.stdout)["article"]
    assert (article["status"], article["error"]) == ("failed", "blocked-private-address")
    assert site.hits["/a"] == 0
    row = capture_of(archive, site.url("/short"))
    assert row["status"] == "failed"
    (hop,) = rows(
        archive, "SELECT * FROM records WHERE capture_id = ? AND type = 'response'", (row["id"],)
    )  # the redirect received is kept as evidence
    assert hop["http_status"] == 302
    assert_archive_sound(archive)


# --- the command line -----------------------------------------------------------------------


def test_capture_json_history_json_and_status_json(site: Site, archive: Path) -> None:
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

    result = invoke(archive, "history", "--json", url)
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

    result = invoke(archive, "status", "--json")
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
    result = invoke(archive, "history", url)
    assert result.exit_code == 0 and article["sha256"][:12] in result.stdout
    result = invoke(archive, "status")
    assert result.exit_code == 0 and url in result.stdout
    assert_archive_sound(archive)


def test_capture_text_output(site: Site, archive: Path) -> None:
    site.pages["/a"] = Page(story(("/missing", "a missing page")))

    result = invoke(archive, "capture", *FAST, site.url("/a"))

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
def test_bad_urls_are_refused_before_anything_is_written(archive: Path, url: str) -> None:
    result = invoke(archive, "capture", *FAST, "http://127.0.0.1:9/fine", url)

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
    archive: Path, options: list[str]
) -> None:
    urls = ["http://127.0.0.1:9/"] if options else []  # [] is: no URL at all
    result = invoke(archive, "capture", *options, *urls)

    assert_one_error_line(result)
    assert not archive.exists()


def test_https_with_an_authority_of_ones_own(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTPS sites are checked against certifi's authorities, or those `ca_bundle` names (an
    intranet's, a TLS-inspecting proxy's): from the environment or the archive's
    preserve.toml. A bundle that is no bundle is refused before anything is written."""
    if OPENSSL is None:
        pytest.skip("openssl is missing: no certificate for the HTTPS server")
    authority = make_localhost_certificate(tmp_path / "tls")
    secure = Site(tls=server_context(tmp_path / "tls"))
    try:
        secure.pages["/src"] = Page("<html><body><p>Source</p></body></html>")
        secure.pages["/a"] = Page(story(("/src", "a source")))
        url = secure.url("/a")

        refused = capture(archive, url, code=1)
        assert refused["article"]["error"] == "tls" and secure.hits["/a"] == 0

        monkeypatch.setenv("PRESERVE_CA_BUNDLE", str(authority))
        document = capture(archive, url)
        assert document["article"]["http_status"] == 200
        assert [c["http_status"] for c in document["citations"]] == [200]

        monkeypatch.delenv("PRESERVE_CA_BUNDLE")
        (archive / "preserve.toml").write_text(f"ca_bundle = {str(authority)!r}\n")
        assert capture(archive, url)["article"]["record_type"] == "revisit"
        assert_archive_sound(archive)

        not_a_bundle = tmp_path / "bundle.pem"
        not_a_bundle.write_text("not a certificate\n")
        monkeypatch.setenv("PRESERVE_CA_BUNDLE", str(not_a_bundle))
        other = tmp_path / "other-archive"
        result = invoke(other, "capture", *FAST, url)
        assert_one_error_line(result)
        assert "ca_bundle" in result.stderr and not other.exists()
    finally:
        secure.close()


def test_a_capture_over_https_records_who_the_server_proved_to_be(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, site: Site
) -> None:
    """Each record says the protocols it went over (the IIPC's WARC-Protocol and
    WARC-Cipher-Suite proposals), and a capture over HTTPS keeps the server's certificate
    by its sha256 (what Certificate Transparency logs are searched by) in a metadata record
    beside the page and in the database: an authenticity signal alongside the page."""
    if OPENSSL is None:
        pytest.skip("openssl is missing: no certificate for the HTTPS server")
    folder = tmp_path / "tls"
    monkeypatch.setenv("PRESERVE_CA_BUNDLE", str(make_localhost_certificate(folder)))
    served = ssl.PEM_cert_to_DER_cert((folder / "localhost.pem").read_text())
    secure = Site(tls=server_context(folder))
    try:
        secure.pages["/src"] = Page(article_html("Source", ["The source says so."]))
        secure.pages["/a"] = Page(story(("/src", "a source")))
        site.pages["/plain"] = Page(story(("/plain-src", "a plain source")))
        url = secure.url("/a")
        capture(archive, url)
        capture(archive, url)  # again: a revisit carries them too
        capture(archive, site.url("/plain"))
    finally:
        secure.close()
    for row in rows(archive, "SELECT * FROM records WHERE type IN ('response', 'revisit')"):
        record = record_at(archive, row["warc"], row["offset"], row["length"])
        protocols = [v for k, v in record.headers if k == "WARC-Protocol"]
        if record.target_uri and record.target_uri.startswith("https:"):
            assert protocols == ["http/1.1", "tls/1.3"], record.headers
            assert (record.header("WARC-Cipher-Suite") or "").startswith("TLS_")
        else:
            assert protocols == ["http/1.1"] and record.header("WARC-Cipher-Suite") is None
    https = rows(archive, "SELECT * FROM captures WHERE url LIKE 'https:%' AND role != 'requisite'")
    assert len(https) == 4
    for capture_row in https:
        tls = json.loads(capture_row["tls"])
        assert tls["certificate_sha256"] == hashlib.sha256(served).hexdigest()
        assert (tls["protocol"], tls["subject"], tls["names"]) == (
            "tls/1.3",
            "CN=localhost",
            ["localhost"],
        )
        assert tls["issuer"] and tls["not_after"] > capture_row["started_at"]
        stored = record_at(
            archive, capture_row["warc"], capture_row["offset"], capture_row["length"]
        )
        (metadata,) = rows(
            archive,
            "SELECT * FROM records WHERE capture_id = ? AND type = 'metadata'",
            (capture_row["id"],),
        )
        about = record_at(archive, metadata["warc"], metadata["offset"], metadata["length"])
        assert about.header("WARC-Refers-To") == stored.record_id
        assert json.loads(about.payload)["tls"] == tls
    plain = rows(archive, "SELECT tls FROM captures WHERE url LIKE 'http:%'")
    assert len(plain) >= 2 and all(row["tls"] is None for row in plain)
    assert_archive_sound(archive)
    certificate = hashlib.sha256(served).hexdigest()
    shown = invoke(archive, "show", url)
    assert f"server certificate sha256:{certificate} (CN=localhost" in shown.stderr
    # The report's evidence names it beside each capture.
    html = tmp_path / "report.html"
    assert invoke(archive, "report", url, "--html", str(html)).exit_code == 0
    assert f"TLS certificate sha256:{certificate}" in html.read_text()
    (dossier,) = json.loads(invoke(archive, "report", url, "--json").stdout)["articles"]
    assert dossier["first_capture"]["certificate_sha256"] == certificate


def test_a_malformed_settings_file_is_refused_before_anything_is_fetched(
    site: Site, archive: Path
) -> None:
    archive.mkdir()
    (archive / "preserve.toml").write_text("timeout = [\n")
    result = invoke(archive, "capture", *FAST, site.url("/a"))
    assert result.exit_code == 2
    assert_one_error_line(result)
    assert "preserve.toml" in result.stderr
    assert [p.name for p in archive.iterdir()] == ["preserve.toml"]


def test_bad_input_leaves_an_existing_archive_alone(site: Site, archive: Path) -> None:
    site.pages["/a"] = Page(story(("/missing", "a missing page")))
    capture(archive, site.url("/a"))
    before = rows(archive, "SELECT count(*) AS n FROM runs")
    warcs = sorted(p.name for p in (archive / "warcs").iterdir())

    assert_one_error_line(invoke(archive, "capture", site.url("/a"), "gopher://x/"))

    assert rows(archive, "SELECT count(*) AS n FROM runs") == before
    assert sorted(p.name for p in (archive / "warcs").iterdir()) == warcs
    assert_archive_sound(archive)


def test_an_archive_under_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("not a folder")
    archive = tmp_path / "file.txt" / "archive"

    result = invoke(archive, "capture", "http://127.0.0.1:9/")

    assert_one_error_line(result)
    assert str(archive) in result.stderr
    assert (tmp_path / "file.txt").read_text() == "not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_an_unwritable_archive_folder_is_refused(tmp_path: Path) -> None:
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        if os.access(parent, os.W_OK):
            pytest.skip("running as a user (root) that chmod cannot stop from writing")
        result = invoke(parent / "archive", "capture", "http://127.0.0.1:9/")
        assert_one_error_line(result)
        assert list(parent.iterdir()) == []
    finally:
        parent.chmod(0o700)


def test_an_article_that_cannot_be_fetched_exits_1(site: Site, archive: Path) -> None:
    site.pages["/a"] = Page(story(("/missing", "a missing page")))
    dead = f"http://127.0.0.1:{free_port()}/article"

    result = invoke(archive, "capture", "--json", *FAST, dead, site.url("/a"))

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

    text = invoke(archive, "capture", *FAST, dead)
    assert text.exit_code == 1
    assert "refused" in text.stdout
    assert_archive_sound(archive)


# --- many URLs, depth, requisites -----------------------------------------------------------


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
    site: Site, archive: Path, tmp_path: Path
) -> None:
    site.pages["/a"] = Page("<html><body><p>A</p></body></html>")
    listing = tmp_path / "urls.txt"
    listing.write_text(
        f"{site.url('/a')}\nftp://files.example/report.pdf\n# fine\nnot a url\n", encoding="utf-8"
    )

    result = invoke(archive, "capture", *FAST, "--from-file", str(listing))

    assert result.exit_code == 2
    assert f"{listing}:2: unsupported scheme 'ftp'" in result.stderr
    assert f"{listing}:4: not an absolute URL" in result.stderr
    assert "Traceback" not in result.output
    assert site.hits["/a"] == 0  # refused before anything was fetched


def test_a_url_list_in_a_legacy_encoding_gets_a_clear_error(archive: Path, tmp_path: Path) -> None:
    listing = tmp_path / "urls.txt"
    listing.write_bytes("https://example.org/caf\xe9\n".encode("latin-1"))

    result = invoke(archive, "capture", *FAST, "--from-file", str(listing))

    assert result.exit_code == 2
    assert "not UTF-8" in result.stderr and "UTF-16" in result.stderr


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


# --- recapture, files -----------------------------------------------------------------------


def test_capturing_twice_writes_revisits_and_compares_with_the_baseline(
    site: Site, archive: Path
) -> None:
    site.pages["/src"] = Page("<html><body><p>Source</p></body></html>")
    site.pages["/a"] = Page(story(("/src", "a source")))
    url = site.url("/a")
    first = capture(archive, url)
    (target,) = rows(archive, "SELECT * FROM targets WHERE url = ?", (url,))

    second = capture(archive, url)

    assert first["article"]["record_type"] == "response"
    assert second["article"]["record_type"] == "revisit"
    assert second["article"]["sha256"] == first["article"]["sha256"]
    assert second["citations"][0]["record_type"] == "revisit"
    assert second["requisites"][0]["record_type"] == "revisit"
    revisit = record_at(
        archive, second["article"]["warc"], second["article"]["offset"], second["article"]["length"]
    )
    original = record_at(
        archive, first["article"]["warc"], first["article"]["offset"], first["article"]["length"]
    )
    assert revisit.rec_type == "revisit" and revisit.payload == b""
    assert revisit.header("WARC-Profile") == REVISIT_PROFILE
    assert revisit.header("WARC-Refers-To") == original.record_id
    assert revisit.header("WARC-Refers-To-Target-URI") == url
    assert revisit.header("WARC-Refers-To-Date") == original.date
    assert revisit.payload_digest == original.payload_digest
    assert revisit.http_status == 200
    # Captured again: compared with the baseline as a check would, which found it the same
    # and made the newer capture the baseline; the schedule and role stay the target's.
    (after,) = rows(archive, "SELECT * FROM targets WHERE url = ?", (url,))
    assert (after["state"], after["baseline_capture_id"]) == (
        "unchanged",
        second["article"]["capture_id"],
    )
    assert {k: after[k] for k in ("role", "every_seconds", "added_at", "cited_by")} == {
        k: target[k] for k in ("role", "every_seconds", "added_at", "cited_by")
    }
    (check,) = rows(archive, "SELECT outcome, capture_id FROM checks WHERE url = ?", (url,))
    assert check == {"outcome": "unchanged", "capture_id": second["article"]["capture_id"]}
    assert (
        len(
            rows(
                archive, "SELECT * FROM texts WHERE sha256 = ?", (first["article"]["text_sha256"],)
            )
        )
        == 1
    )
    assert first["article"]["warc"] != second["article"]["warc"]
    assert_archive_sound(archive)


def test_a_revisit_names_the_record_it_repeats(site: Site, archive: Path) -> None:
    """A source that first answered through a redirect, then directly with the same bytes:
    the revisit must point at a record whose URI and date are the ones it names."""
    body = "<html><body><p>The statement, unchanged.</p></body></html>"
    site.pages["/statement"] = redirect("/archive/statement", 301)
    site.pages["/archive/statement"] = Page(body)
    site.pages["/a"] = Page(story(("/statement", "the statement")))
    capture(archive, site.url("/a"))
    site.pages["/statement"] = Page(body)

    capture(archive, site.url("/a"))

    assert site.hits["/statement"] == 2
    assert_archive_sound(archive)


def test_one_warc_file_per_run(site: Site, archive: Path) -> None:
    site.pages["/src"] = Page("<html><body><p>Source</p></body></html>")
    site.pages["/a"] = Page(story(("/src", "a source")))
    runs = [capture(archive, site.url("/a"))["run"] for _ in range(2)]

    files = sorted((archive / "warcs").iterdir())
    assert len(files) == 2 and all(f.name.endswith(".warc.gz") for f in files)
    closed = rows(archive, "SELECT * FROM warc_files ORDER BY run_id")
    assert [f["run_id"] for f in closed] == runs
    for row in closed:
        path = archive / "warcs" / row["name"]
        assert row["size"] == path.stat().st_size
        assert row["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert {
            c["warc"]
            for c in rows(archive, "SELECT warc FROM captures WHERE run_id = ?", (row["run_id"],))
        } == {row["name"]}
    for run in rows(archive, "SELECT * FROM runs"):
        assert run["ended_at"] >= run["started_at"]
        assert run["command"] == "capture"
    assert_archive_sound(archive)


def test_library_capture(site: Site, other_site: Site, tmp_path: Path) -> None:
    """The same job without the command line: what `capture` calls."""
    urls, links = citation_sources(site, other_site)
    site.pages["/a"] = Page(story(*links))
    path = tmp_path / "lib-archive"
    config = load_config(path, allow_private=True, timeout=2.0)
    archive = Archive(path)
    try:
        run = Run(archive, "capture", config, utc_now, {"urls": [site.url("/a")]})
        try:
            results = list(capture_articles(run, [site.url("/a")], every_seconds=3600))
        finally:
            run.finish()
    finally:
        archive.close()

    (entry,) = results
    assert entry.ok and entry.article is not None and entry.article.ok
    assert [c.job.url for c in entry.citations] == urls
    assert [c.job.role for c in entry.citations] == ["citation"] * 3
    assert [r.job.url for r in entry.requisites] == [site.url("/static/site.css")]
    assert {t["every_seconds"] for t in rows(path, "SELECT * FROM targets")} == {3600}
    assert_archive_sound(path)


def test_demo(tmp_path: Path) -> None:
    archive = tmp_path / "demo"

    result = invoke(archive, "demo")

    assert result.exit_code == 0, (result.output, result.exception)
    lines = result.stdout.splitlines()
    for word in ("captured", "edited", "gone", "moved"):
        assert any(line.lstrip().startswith(word) for line in lines), word
    assert "Citations  6 of 6 captured" in result.stdout
    assert_archive_sound(archive)


def test_two_articles_citing_the_same_source(site: Site, archive: Path) -> None:
    site.pages["/shared"] = Page("<html><body><p>Shared</p></body></html>")
    site.pages["/one"] = Page(story(("/shared", "the shared source"), ("/only-one", "one's")))
    site.pages["/two"] = Page(story(("/only-two", "two's"), ("/shared", "the shared source")))

    document = capture(archive, site.url("/one"), site.url("/two"))

    one, two = document["articles"]
    assert [c["url"] for c in one["citations"]] == [site.url("/shared"), site.url("/only-one")]
    assert [c["url"] for c in two["citations"]] == [site.url("/only-two"), site.url("/shared")]
    assert site.hits["/shared"] == 1
    assert_archive_sound(archive)


def test_the_report_of_a_run_is_written_as_it_is_read_back(site: Site, archive: Path) -> None:
    """A run keeps nothing of its pages: the report is read back from the archive an article
    at a time and written as it comes. The JSON is the same, byte for byte, as one document
    dumped at once, and the text lists every article once, in the order given."""
    site.pages["/src"] = Page("<html><body><p>Source</p></body></html>")
    # A line separator in a title: text tools split lines there, JSON does not.
    site.pages["/one"] = Page(story(("/src", "a source"), title="One\u2028two\u2029three \u0085"))
    site.pages["/two"] = Page(story(("/src", "the same source"), ("/gone", "a gone page")))
    site.pages["/three"] = Page(story())
    urls = [site.url("/two"), site.url("/one"), site.url("/three")]

    result = invoke(archive, "capture", "--json", *FAST, *urls)

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

    result = invoke(archive, "capture", *FAST, *urls)

    assert result.exit_code == 0, result.output
    blocks = result.stdout.split("\n\n")
    assert [b.split("\n")[0] for b in blocks] == [f"Article  {url}" for url in urls]
    assert result.stdout.split("\n")[-2].startswith("Archive: ")
    assert "Citations  2 of 2 captured" in blocks[0]  # a 404 is captured, with its status
    assert_archive_sound(archive)


def test_a_source_one_article_shows_and_another_cites(site: Site, archive: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(100)
    site.pages["/chart.png"] = Page(png, content_type="image/png")
    site.pages["/shows"] = Page(
        story(("/x", "x")).replace(
            "</main>", '<figure><img src="/chart.png" alt="chart"></figure></main>'
        )
    )
    # Later than /shows, so that the image is first fetched as the requisite of /shows.
    site.pages["/cites"] = Page(story(("/chart.png", "the chart")), delay=0.3)

    document = capture(archive, site.url("/shows"), site.url("/cites"))

    shows, cites = document["articles"]
    assert site.url("/chart.png") in {r["url"] for r in shows["requisites"]}
    assert [c["url"] for c in cites["citations"]] == [site.url("/chart.png")]
    assert site.hits["/chart.png"] == 1
    (target,) = rows(archive, "SELECT * FROM targets WHERE url = ?", (site.url("/chart.png"),))
    assert (target["role"], target["cited_by"], target["state"]) == (
        "citation",
        site.url("/cites"),
        "new",
    )
    assert target["baseline_capture_id"] == capture_of(archive, site.url("/chart.png"))["id"]
    assert_archive_sound(archive)


def test_nothing_a_server_sends_stops_the_run(site: Site, archive: Path) -> None:
    for n in range(12):  # an endless chain, past the 10 redirects allowed
        site.pages[f"/endless/{n}"] = redirect(f"/endless/{n + 1}")
    site.pages["/loop-a"] = redirect("/loop-b")
    site.pages["/loop-b"] = redirect("/loop-a")
    site.pages["/to-ftp"] = redirect("ftp://example.org/file")
    site.pages["/bad-location"] = redirect("http://[broken")
    site.pages["/broken-gzip"] = Page(
        b"\x1f\x8b\x08\x00garbage", content_type="text/html", headers=[("Content-Encoding", "gzip")]
    )
    site.pages["/bad-charset"] = Page(
        "<p>Caf\u00e9 ol\u00e9 and more words</p>".encode(),
        content_type="text/html; charset=no-such-charset",
    )
    site.pages["/garbage"] = Page(bytes(range(256)) * 20, content_type="text/html")
    site.pages["/empty"] = Page(b"")
    sources = [
        ("/endless/0", "too many redirects", "failed", "too-many-redirects"),
        ("/loop-a", "a loop", "failed", "redirect-loop"),
        ("/to-ftp", "an ftp redirect", "failed", "unsupported-scheme"),
        ("/bad-location", "a bad redirect", "failed", "bad-redirect"),
        ("/broken-gzip", "broken gzip", "captured", None),
        ("/bad-charset", "a bad charset", "captured", None),
        ("/garbage", "garbage", "captured", None),
        ("/empty", "nothing at all", "captured", None),
    ]
    site.pages["/a"] = Page(story(*[(path, anchor) for path, anchor, _, _ in sources]))

    document = capture(archive, site.url("/a"))

    assert [(c["url"], c["status"], c["error"]) for c in document["citations"]] == [
        (site.url(path), status, error) for path, _, status, error in sources
    ]
    # The hops received before a failure are kept as evidence.
    endless = capture_of(archive, site.url("/endless/0"))
    assert (
        len(
            rows(
                archive,
                "SELECT * FROM records WHERE capture_id = ? AND type = 'response'",
                (endless["id"],),
            )
        )
        == 11
    )
    assert_archive_sound(archive)


def test_the_archive_check_catches_damage(site: Site, archive: Path) -> None:
    """tests/warc_checks.py itself: a wrong hash in the database, or a cut file, fails it."""
    site.pages["/a"] = Page(story(("/missing", "a missing page")))
    capture(archive, site.url("/a"))
    assert_archive_sound(archive)

    (good,) = rows(archive, "SELECT payload_sha256 FROM captures WHERE role = 'article'")

    def set_article_hash(value: str) -> None:
        db = sqlite3.connect(archive / "preserve.db")
        try:
            with db:
                db.execute(
                    "UPDATE captures SET payload_sha256 = ? WHERE role = 'article'", (value,)
                )
        finally:
            db.close()

    set_article_hash("0" * 64)
    with pytest.raises(AssertionError):
        assert_archive_sound(archive)
    set_article_hash(good["payload_sha256"])
    assert_archive_sound(archive)

    (path,) = (archive / "warcs").glob("*.warc.gz")
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(AssertionError):
        assert_archive_sound(archive)


def test_a_run_keeps_only_the_count_of_a_sources_citations(site: Site, archive: Path) -> None:
    """A source's own citations are in the database, and its summary in the run's output
    counts them; the run does not hold them in memory until it ends."""
    site.pages["/src/inquiry"] = Page(
        story(("/src/a", "a letter"), ("/src/b", "the minutes"), title="Inquiry report")
    )
    site.pages["/a"] = Page(story(("/src/inquiry", "the inquiry report")))
    document = capture(archive, site.url("/a"))
    (cited,) = document["citations"]
    assert cited["url"] == site.url("/src/inquiry") and cited["citations"] == 2
    stored = rows(
        archive,
        "SELECT url FROM citations WHERE capture_id = ? ORDER BY position",
        (cited["capture_id"],),
    )
    assert [row["url"] for row in stored] == [site.url("/src/a"), site.url("/src/b")]


def test_a_command_ends_its_extraction_workers(site: Site, archive: Path) -> None:
    """The workers hold nothing once a command is done: they are ended with it, not left
    to wind down in the interpreter's exit."""
    from preserve.extract import pool as extractpool

    site.pages["/a"] = Page(story(("/src/inquiry", "the inquiry report")))
    site.pages["/src/inquiry"] = Page(story(title="Inquiry report"))
    if extractpool.cpus() < 2:
        pytest.skip("one CPU: pages are extracted in the calling thread, with no workers")
    extractpool.start()
    pool = extractpool._pool
    assert pool is not None
    workers = list(pool._processes.values())  # type: ignore[attr-defined]
    assert workers and all(worker.is_alive() for worker in workers)
    capture(archive, site.url("/a"))
    for worker in workers:
        worker.join(timeout=10)  # reaped: killed, not waiting for more pages
    assert all(worker.exitcode is not None for worker in workers)
    assert extractpool._pool is None


def test_extraction_workers_killed_between_pages_cost_no_page(site: Site, archive: Path) -> None:
    """A worker the kernel kills (the out-of-memory killer, an operator's kill -9) breaks
    the pool: the pages given to it go to a new one, and every page still gets its text."""
    import signal

    from preserve.extract import pool as extractpool

    if extractpool.cpus() < 2:
        pytest.skip("one CPU: pages are extracted in the calling thread, with no workers")
    sources = [(f"/src/{n}", f"document {n}") for n in range(6)]
    site.pages["/a"] = Page(story(*sources))
    for path, _ in sources:
        site.pages[path] = Page(story(title=f"Source {path}"))
    extractpool.start()
    pool = extractpool._pool
    assert pool is not None
    for worker in list(pool._processes.values()):  # type: ignore[attr-defined]
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(timeout=10)
    document = capture(archive, site.url("/a"))
    assert pool._broken  # type: ignore[attr-defined]  # it was found broken, and its pages redone
    pages = {site.url("/a"), *(site.url(path) for path, _ in sources)}
    texts = {r["url"]: r["text_sha256"] for r in rows(archive, "SELECT * FROM captures")}
    assert pages <= set(texts) and all(texts[url] for url in pages), texts
    assert len(document["citations"]) == len(sources)


def test_the_archive_may_be_named_after_the_command_too(site: Site, tmp_path: Path) -> None:
    """`preserve status --archive X` was "No such option"."""
    site.pages["/a"] = Page("<html><body><p>A</p></body></html>")
    folder = tmp_path / "investigation"
    runner = CliRunner()

    captured = runner.invoke(cli, ["capture", *FAST, site.url("/a"), "--archive", str(folder)])
    status = runner.invoke(cli, ["status", "--json", "--archive", str(folder)])
    later_wins = runner.invoke(
        cli, ["--archive", str(tmp_path / "other"), "status", "--archive", str(folder)]
    )

    assert captured.exit_code == 0, captured.output
    assert [t["url"] for t in json.loads(status.stdout)["targets"]] == [site.url("/a")]
    assert later_wins.exit_code == 0 and site.url("/a") in later_wins.stdout
    assert not (tmp_path / "other").exists()


def test_a_mistyped_archive_path_is_not_made_into_a_tree_of_folders(
    site: Site, tmp_path: Path
) -> None:
    site.pages["/a"] = Page("<html><body><p>A</p></body></html>")
    deep = tmp_path / "no" / "such" / "archive"

    result = invoke(deep, "capture", *FAST, site.url("/a"))

    assert result.exit_code == 2
    assert f"its parent folder {deep.parent} does not exist" in result.stderr
    assert not (tmp_path / "no").exists() and site.hits["/a"] == 0


@pytest.mark.slow
def test_the_demo_ends_with_commands_that_can_be_typed_as_printed(tmp_path: Path) -> None:
    """After `make demo`, `preserve` is not on the PATH: the demo's "Try next" lines must
    say how to run it, and work when typed."""
    program = BIN / "preserve"
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [str(program), "--archive", str(tmp_path / "demo"), "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    suggested = done.stdout.split("Try next:", 1)[1].strip().splitlines()
    assert suggested and all(line.strip().startswith(str(program)) for line in suggested)
    status = subprocess.run(
        suggested[1].strip(), shell=True, env=env, capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 0 and "edited" in status.stdout, status.stderr


def test_capturing_again_updates_the_state_of_what_was_captured(site: Site, tmp_path: Path) -> None:
    """A first capture without --allow-private left every cited source `failed` (refused);
    the same capture with it said `2 of 2 captured`, yet status kept `failed` until a check
    ran. A newer good capture is the state: a stale failure never outlives it."""
    archive = tmp_path / "archive"
    site.pages["/story"] = Page(
        story(("/one", "the first source"), ("/two", "the second source"), title="Story")
    )
    site.pages["/one"] = Page("<html><body><p>One.</p></body></html>")
    site.pages["/two"] = Page("<html><body><p>Two.</p></body></html>")

    refused = invoke(archive, "capture", "--json", "--timeout", "2", site.url("/story"))
    states = {t["url"]: t["state"] for t in status_of(archive)}
    assert states[site.url("/one")] == states[site.url("/two")] == "failed"
    assert json.loads(refused.stdout)["articles"][0]["citations"][0]["status"] == "failed"

    capture(archive, site.url("/story"))

    now = {t["url"]: (t["state"], t["reason"]) for t in status_of(archive)}
    assert now[site.url("/one")] == now[site.url("/two")] == ("new", None)
    assert now[site.url("/story")][0] == "unchanged"  # captured again: compared, same text
    report = invoke(archive, "report", "--json")
    sources = json.loads(report.stdout)["articles"][0]["citations"]
    assert [s["standing"]["state"] for s in sources] == ["new", "new"]


def status_of(archive: Path) -> list[dict[str, Any]]:
    result = invoke(archive, "status", "--json")
    assert result.exit_code == 0, result.output
    targets: list[dict[str, Any]] = json.loads(result.stdout)["targets"]
    return targets
