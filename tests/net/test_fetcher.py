"""net.fetcher: real servers on 127.0.0.1 (tests/support/sites.py) for every behaviour a
server or the network can show; no test reaches the internet. Bodies as received, and
redirects."""

from __future__ import annotations

import gzip
import hashlib
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from preserve.net.fetcher import Fetcher
from tests.net.helpers import HTML, LOOPBACK
from tests.support.sites import Page, Site, redirect

# --- bodies as received ----------------------------------------------------------------------


def test_plain_page(site: Site, fetcher: Fetcher) -> None:
    site.pages["/p?q=1"] = Page(HTML)  # the site's table is keyed by path and query
    got = fetcher.fetch(site.url("/p?q=1"))
    assert got.error is None and got.detail is None
    final = got.final
    assert final is not None and len(got.exchanges) == 1 and got.redirects == ()
    assert (final.status, final.reason, final.http_version) == (200, "OK", "HTTP/1.1")
    assert final.body.read() == HTML.encode()
    assert final.body.sha256 == hashlib.sha256(HTML.encode()).hexdigest()
    assert final.truncated is None
    assert final.peer_ip == "127.0.0.1"
    assert final.method == "GET" and final.request_target == "/p?q=1"
    assert final.header("content-type") == "text/html; charset=utf-8"
    assert got.url == got.final_url == site.url("/p?q=1")


def test_request_headers_sent_and_recorded(site: Site, fetcher: Fetcher) -> None:
    site.pages["/p"] = Page(HTML)
    final = fetcher.fetch(site.url("/p")).final
    assert final is not None
    sent = site.requests[-1][1]
    assert sent["User-Agent"].startswith("preserve/")
    assert sent["Accept-Encoding"] == "gzip, deflate"
    assert sent["Accept-Language"] == "en"
    assert "Cookie" not in sent
    names = [name for name, _ in final.request_headers]
    assert names[0] == "Host"
    assert dict(final.request_headers)["Host"] == f"127.0.0.1:{site.port}"
    # What is recorded is what went out.
    assert {k: v for k, v in final.request_headers} == {k: v for k, v in sent.items() if k in names}
    assert set(names) == set(sent)


def test_response_headers_keep_case_and_duplicates(site: Site, fetcher: Fetcher) -> None:
    site.pages["/p"] = Page(HTML, headers=[("X-Mixed-Case", "1"), ("Link", "a"), ("Link", "b")])
    final = fetcher.fetch(site.url("/p")).final
    assert final is not None
    assert ("X-Mixed-Case", "1") in final.headers
    assert [v for k, v in final.headers if k == "Link"] == ["a", "b"]


def test_started_at_comes_from_the_clock(site: Site) -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    site.pages["/a"] = redirect("/b")
    site.pages["/b"] = Page(HTML)
    with Fetcher(LOOPBACK, clock=lambda: moment) as f:
        got = f.fetch(site.url("/a"))
    assert [e.started_at for e in got.exchanges] == [moment, moment]
    assert got.started_at == got.ended_at == moment


def test_chunked_gives_the_same_body_as_plain(site: Site, fetcher: Fetcher) -> None:
    site.pages["/plain"] = Page(HTML)
    site.pages["/chunked"] = Page(HTML, chunked=True)
    plain = fetcher.fetch(site.url("/plain")).final
    chunked = fetcher.fetch(site.url("/chunked")).final
    assert plain is not None and chunked is not None
    assert chunked.header("Transfer-Encoding") == "chunked"
    assert chunked.body.sha256 == plain.body.sha256
    assert chunked.body.read() == HTML.encode()


@pytest.mark.parametrize("chunked", [False, True])
def test_gzip_body_stays_compressed(site: Site, fetcher: Fetcher, chunked: bool) -> None:
    site.pages["/gz"] = Page(HTML, gzip=True, chunked=chunked)
    final = fetcher.fetch(site.url("/gz")).final
    assert final is not None
    wire = site.pages["/gz"].payload()
    assert final.header("Content-Encoding") == "gzip"
    assert final.body.read() == wire
    assert final.body.sha256 == hashlib.sha256(wire).hexdigest()
    assert gzip.decompress(final.body.read()) == HTML.encode()


def test_http10_close_delimited_body(site: Site, fetcher: Fetcher) -> None:
    site.pages["/old"] = Page(HTML, close_delimited=True)
    final = fetcher.fetch(site.url("/old")).final
    assert final is not None
    assert final.http_version == "HTTP/1.0"
    assert final.header("Content-Length") is None
    assert final.body.read() == HTML.encode() and final.truncated is None


@pytest.mark.parametrize("status", [404, 410, 500, 503])
def test_error_statuses_are_answers_not_errors(site: Site, fetcher: Fetcher, status: int) -> None:
    site.pages["/x"] = Page("<h1>no</h1>", status=status)
    got = fetcher.fetch(site.url("/x"))
    assert got.error is None
    assert got.final is not None and got.final.status == status
    assert got.final.body.read() == b"<h1>no</h1>"


def test_no_cookies_carried_between_fetches(site: Site, fetcher: Fetcher) -> None:
    site.pages["/set"] = Page(HTML, headers=[("Set-Cookie", "session=abc; Path=/")])
    site.pages["/next"] = Page(HTML)
    assert fetcher.fetch(site.url("/set")).final is not None
    assert fetcher.fetch(site.url("/next")).final is not None
    assert "Cookie" not in site.requests[-1][1]


def test_close_releases_bodies(site: Site, fetcher: Fetcher) -> None:
    site.pages["/p"] = Page(HTML)
    got = fetcher.fetch(site.url("/p"))
    got.close()
    with pytest.raises(ValueError):
        got.exchanges[0].body.read()


def test_concurrent_fetches_from_a_thread_pool(site: Site, fetcher: Fetcher) -> None:
    for n in range(24):
        site.pages[f"/p{n}"] = Page(f"page {n}", chunked=n % 2 == 0)
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda n: fetcher.fetch(site.url(f"/p{n}")), range(24)))
    for n, got in enumerate(results):
        assert got.final is not None and got.final.body.read() == f"page {n}".encode()


# --- redirects -------------------------------------------------------------------------------


def test_redirect_chain_keeps_every_hop(site: Site, fetcher: Fetcher) -> None:
    site.pages["/a"] = redirect("/b", 301)
    site.pages["/b"] = redirect(site.url("/c"), 302)
    site.pages["/c"] = redirect("d?x=1", 308)
    site.pages["/d?x=1"] = Page(HTML)
    got = fetcher.fetch(site.url("/a"))
    assert got.error is None
    assert [e.status for e in got.exchanges] == [301, 302, 308, 200]
    assert [e.url for e in got.exchanges] == [site.url(p) for p in ("/a", "/b", "/c", "/d?x=1")]
    assert len(got.redirects) == 3 and got.final_url == site.url("/d?x=1")
    assert all(e.peer_ip == "127.0.0.1" for e in got.exchanges)


def test_too_many_redirects(site: Site, fetcher: Fetcher) -> None:
    for n in range(30):
        site.pages[f"/hop{n}"] = redirect(f"/hop{n + 1}")
    site.pages["/hop30"] = Page(HTML)
    got = fetcher.fetch(site.url("/hop0"))
    assert got.error == "too-many-redirects"
    assert got.final is None
    # max_redirects (10) redirects were followed: all the hops received are kept.
    assert len(got.exchanges) == LOOPBACK.max_redirects + 1
    assert got.redirects == got.exchanges
    assert site.hits["/hop30"] == 0


def test_redirect_loop(site: Site, fetcher: Fetcher) -> None:
    site.pages["/a"] = redirect("/b")
    site.pages["/b"] = redirect("/a")
    got = fetcher.fetch(site.url("/a"))
    assert got.error == "redirect-loop"
    assert [e.url for e in got.exchanges] == [site.url("/a"), site.url("/b")]
    assert site.hits["/a"] == 1


def test_redirect_to_itself(site: Site, fetcher: Fetcher) -> None:
    site.pages["/a"] = redirect(site.url("/a#frag"))
    got = fetcher.fetch(site.url("/a"))
    assert got.error == "redirect-loop" and len(got.exchanges) == 1


@pytest.mark.parametrize(
    "location",
    ["file:///etc/passwd", "ftp://ftp.example.com/x", "data:text/html,hi", "javascript:alert(1)"],
)
def test_redirect_to_unsupported_scheme(site: Site, fetcher: Fetcher, location: str) -> None:
    site.pages["/a"] = redirect(location)
    got = fetcher.fetch(site.url("/a"))
    assert got.error == "unsupported-scheme"
    assert location.split(":")[0] in (got.detail or "")
    assert len(got.exchanges) == 1 and got.exchanges[0].status == 302


@pytest.mark.parametrize("location", ["http://[::1", "http://exa mple.com/", "http://:80/", " "])
def test_garbage_location(site: Site, fetcher: Fetcher, location: str) -> None:
    site.pages["/a"] = redirect(location)
    got = fetcher.fetch(site.url("/a"))
    assert got.error == "bad-redirect"
    assert len(got.exchanges) == 1


def test_utf8_location_is_read_as_utf8(site: Site, fetcher: Fetcher) -> None:
    # The server sends the UTF-8 bytes of "/café"; http.client hands them over as latin-1.
    site.pages["/a"] = redirect("/café".encode().decode("latin-1"))
    site.pages["/caf%C3%A9"] = Page(HTML)
    got = fetcher.fetch(site.url("/a"))
    assert got.error is None and got.final_url == site.url("/caf%C3%A9")


def test_bad_url_is_not_fetched(fetcher: Fetcher) -> None:
    got = fetcher.fetch("mailto:someone@example.com")
    assert (got.error, got.exchanges) == ("bad-url", ())
    assert got.detail and "mailto" in got.detail
