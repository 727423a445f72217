"""fetch: real servers on 127.0.0.1 (tests/sites.py) for every behaviour a server or the
network can show; no test reaches the internet."""

from __future__ import annotations

import gzip
import hashlib
import socket
import ssl
import string
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import urllib3.connection
from hypothesis import given, settings
from hypothesis import strategies as st

from preserve.config import FetchLimits
from preserve.errors import BadURL
from preserve.net import connections, deadline
from preserve.net import fetcher as fetcher_module
from preserve.net.connections import request_target
from preserve.net.exchange import Exchange
from preserve.net.fetcher import Fetched, Fetcher
from preserve.net.guard import is_public_address
from preserve.net.tls import distinguished_name, iana_cipher_suite, protocol_name
from preserve.urls import canonical
from tests.support.sites import Page, Site, redirect
from tests.support.tls import OPENSSL, make_localhost_certificate, server_context

LOOPBACK = FetchLimits(allow_private=True, timeout=2)
HTML = "<html><head><title>T</title></head><body>" + "<p>words and more words</p>" * 60


@pytest.fixture
def site(shared_site: Site) -> Site:
    """One server for the module, emptied for each test: stopping a server takes 0.5 s."""
    shared_site.reset()
    return shared_site


@pytest.fixture(autouse=True)
def close_results(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Bodies are spooled files: every result is closed, as the capture code must."""
    results: list[Fetched] = []
    original = Fetcher.fetch

    def fetch_and_keep(self: Fetcher, url: str, *, typed: bool = False) -> Fetched:
        results.append(original(self, url, typed=typed))
        return results[-1]

    monkeypatch.setattr(Fetcher, "fetch", fetch_and_keep)
    yield
    for got in results:
        got.close()


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(LOOPBACK) as f:
        yield f


def fetch(url: str, limits: FetchLimits = LOOPBACK, *, typed: bool = False) -> Fetched:
    with Fetcher(limits) as f:
        return f.fetch(url, typed=typed)


def free_port() -> int:
    """A port nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    wire = site.pages["/gz"].payload()  # type: ignore[union-attr]
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


# --- failures --------------------------------------------------------------------------------


def test_refused(fetcher: Fetcher) -> None:
    got = fetcher.fetch(f"http://127.0.0.1:{free_port()}/")
    assert got.error == "refused" and got.exchanges == ()


def test_name_not_found(fetcher: Fetcher) -> None:
    got = fetcher.fetch("http://no-such-host.invalid/")
    assert got.error == "dns"
    assert got.detail and "no-such-host.invalid" in got.detail


def test_tls_error(site: Site, fetcher: Fetcher) -> None:
    got = fetcher.fetch(f"https://127.0.0.1:{site.port}/")  # a plain-HTTP server
    assert got.error == "tls"


@pytest.fixture(scope="module")
def https_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Site, str]]:
    """An HTTPS server for localhost, with the certificate authority that signed it."""
    if OPENSSL is None:
        pytest.skip("openssl is missing: no certificate for the HTTPS server")
    folder = tmp_path_factory.mktemp("tls")
    authority = make_localhost_certificate(folder)
    server = Site(tls=server_context(folder))
    server.pages["/p"] = Page(HTML)
    yield server, str(authority)
    server.close()


def test_https_certificate_from_an_unknown_authority_is_refused(
    https_site: tuple[Site, str], fetcher: Fetcher
) -> None:
    site, _ = https_site
    hits = site.hits["/p"]
    got = fetcher.fetch(site.url("/p"))
    assert got.error == "tls" and got.detail and "certificate verify failed" in got.detail
    assert got.exchanges == () and site.hits["/p"] == hits  # nothing was sent


def test_https_pages_share_one_tls_context_and_are_checked(
    https_site: tuple[Site, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One TLS context serves every connection (making one per connection cost 28 ms of
    CPU each), and it still checks everything: the authority (here the one `ca_bundle`
    names), and the host name."""
    site, authority = https_site
    made: list[ssl.SSLContext] = []

    def counted(make: Callable[..., ssl.SSLContext]) -> Callable[..., ssl.SSLContext]:
        def make_and_count(*args: object, **kwargs: object) -> ssl.SSLContext:
            made.append(make(*args, **kwargs))
            return made[-1]

        return make_and_count

    # Ours, and the one urllib3 calls for a connection given no context of its own.
    for module in (connections, urllib3.connection):
        make = counted(module.create_urllib3_context)
        monkeypatch.setattr(module, "create_urllib3_context", make)
    connections.tls_context.cache_clear()
    with Fetcher(replace(LOOPBACK, ca_bundle=authority)) as fetcher:
        for page in ("/p", "/p?again", "/p?third"):  # each on a connection of its own
            site.pages[page] = Page(HTML, headers=[("Connection", "close")])
            got = fetcher.fetch(site.url(page))
            assert got.error is None and got.final is not None and got.final.status == 200
            assert got.final.body.read() == HTML.encode() and got.final.peer_ip == "127.0.0.1"
        assert len(made) == 1 and made[0] is connections.tls_context(authority)
        assert made[0].verify_mode == ssl.CERT_REQUIRED and made[0].check_hostname

        # The certificate names localhost only.
        got = fetcher.fetch(f"https://127.0.0.1:{site.port}/p")
        assert got.error == "tls" and got.detail and "127.0.0.1" in got.detail


@pytest.mark.parametrize(
    ("openssl", "iana"),
    [
        ("TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384"),  # TLS 1.3: already IANA's
        ("ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
        ("ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
        ("DHE-RSA-AES256-GCM-SHA384", "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"),
        ("AES128-GCM-SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256"),
        ("ECDHE-RSA-CHACHA20-POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
        ("ECDHE-RSA-AES128-SHA", None),  # CBC: not spelled rather than guessed
        ("weird", None),
    ],
)
def test_cipher_suites_are_given_their_iana_names(openssl: str, iana: str | None) -> None:
    assert iana_cipher_suite(openssl) == iana


def test_tls_versions_and_names_as_warc_and_people_write_them() -> None:
    assert [protocol_name(v) for v in ("TLSv1.3", "TLSv1.2", "SSLv3")] == [
        "tls/1.3",
        "tls/1.2",
        "ssl/3",
    ]
    subject = (
        (("countryName", "US"),),
        (("organizationName", "Let's Encrypt"),),
        (("commonName", "R3"),),
    )
    assert distinguished_name(subject) == "C=US, O=Let's Encrypt, CN=R3"
    assert distinguished_name(()) is None


def test_https_exchanges_say_who_the_server_proved_to_be(https_site: tuple[Site, str]) -> None:
    site, authority = https_site
    folder = Path(authority).parent
    served = ssl.PEM_cert_to_DER_cert((folder / "localhost.pem").read_text())
    with Fetcher(replace(LOOPBACK, ca_bundle=authority)) as fetcher:
        first, again = (fetcher.fetch(site.url("/p")).final for _ in range(2))  # one connection
    assert first is not None and again is not None
    assert first.tls is not None and again.tls == first.tls
    assert first.tls.certificate_sha256 == hashlib.sha256(served).hexdigest()
    assert (first.tls.protocol, first.tls.subject, first.tls.names) == (
        "tls/1.3",
        "CN=localhost",
        ("localhost",),
    )
    assert (
        first.tls.not_before and first.tls.not_after and first.tls.not_before < first.tls.not_after
    )


def test_plain_http_exchanges_have_no_tls(site: Site, fetcher: Fetcher) -> None:
    site.pages["/plain"] = Page(HTML)
    got = fetcher.fetch(site.url("/plain")).final
    assert got is not None and got.tls is None


def _hang_up(handler: BaseHTTPRequestHandler) -> None:
    handler.close_connection = True


def test_closed_without_a_response_is_reset(site: Site, fetcher: Fetcher) -> None:
    site.pages["/x"] = _hang_up
    got = fetcher.fetch(site.url("/x"))
    assert got.error == "reset" and got.exchanges == ()


def test_slow_server_times_out(site: Site) -> None:
    site.pages["/slow"] = Page(HTML, delay=1.5)
    began = time.monotonic()
    got = fetch(site.url("/slow"), FetchLimits(allow_private=True, timeout=0.4))
    assert got.error == "timeout"
    assert time.monotonic() - began < 1.5  # gave up before the server would have answered


@pytest.mark.parametrize("close_delimited", [False, True])
def test_drip_body_is_cut_at_the_deadline(site: Site, close_delimited: bool) -> None:
    site.pages["/drip"] = Page(b"x" * 400, drip=0.05, close_delimited=close_delimited)
    limits = FetchLimits(allow_private=True, timeout=0.5, deadline=1.0)
    began = time.monotonic()
    got = fetch(site.url("/drip"), limits)
    elapsed = time.monotonic() - began
    assert elapsed < 2.0
    assert got.error is None and got.final is not None
    assert got.final.truncated == "time"
    assert 0 < got.final.body.length < 400
    assert got.final.body.read() == b"x" * got.final.body.length


# --- connections kept alive -------------------------------------------------------------------


def test_fetches_from_one_site_share_a_kept_alive_connection(site: Site) -> None:
    site.pages["/a"] = Page(HTML)
    site.pages["/b"] = redirect("/a")
    with Fetcher(LOOPBACK) as fetcher:
        first = fetcher.fetch(site.url("/a"))
        second = fetcher.fetch(site.url("/b"))  # two hops, on the same connection
    assert first.final is not None and first.final.status == 200
    assert [e.status for e in second.exchanges] == [302, 200]
    assert second.final is not None and second.final.body.read() == HTML.encode()
    assert second.final.peer_ip == "127.0.0.1"
    assert site.hits == {"/a": 2, "/b": 1} and site.connections == 1


def test_a_connection_is_not_kept_after_a_cut_or_closing_answer(site: Site) -> None:
    site.pages["/big"] = Page(HTML)
    site.pages["/closing"] = Page(HTML, headers=[("Connection", "close")])
    site.pages["/a"] = Page(HTML)
    with Fetcher(FetchLimits(allow_private=True, max_bytes=100)) as fetcher:
        assert fetcher.fetch(site.url("/big")).final.truncated == "length"  # type: ignore[union-attr]
        fetcher.fetch(site.url("/closing"))
        fetcher.fetch(site.url("/a"))
    assert site.connections == 3  # the rest of a cut body would be read as the next answer


def _answer_once_per_connection(handler: BaseHTTPRequestHandler) -> None:
    """Answers the first request of a connection; on the next, hangs up without a word, as a
    server does that closes an idle connection just as a request arrives on it."""
    served = getattr(handler, "served", 0)
    handler.served = served + 1  # type: ignore[attr-defined]
    if served:
        handler.close_connection = True
        return
    Site.serve(handler, Page(HTML))


def test_a_kept_connection_closed_by_the_server_is_replaced(site: Site) -> None:
    site.pages["/once"] = _answer_once_per_connection
    with Fetcher(LOOPBACK) as fetcher:
        results = [fetcher.fetch(site.url("/once")) for _ in range(3)]
    for got in results:
        assert got.error is None and got.final is not None and got.final.status == 200
        assert len(got.exchanges) == 1  # the request lost with the connection is not an exchange
    assert site.hits["/once"] == 5 and site.connections == 3


def test_a_kept_connection_idle_past_its_time_is_not_used(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.pages["/a"] = Page(HTML)
    monkeypatch.setattr(connections, "KEEP_ALIVE_SECONDS", 0.2)
    with Fetcher(LOOPBACK) as fetcher:
        fetcher.fetch(site.url("/a"))
        time.sleep(0.3)
        got = fetcher.fetch(site.url("/a"))
    assert got.final is not None and got.final.status == 200 and site.connections == 2


def test_the_deadline_holds_on_a_kept_connection(site: Site) -> None:
    site.pages["/a"] = Page(HTML)
    site.pages["/drip"] = Page(b"x" * 400, drip=0.05)
    with Fetcher(FetchLimits(allow_private=True, timeout=0.5, deadline=1.0)) as fetcher:
        fetcher.fetch(site.url("/a"))
        began = time.monotonic()
        got = fetcher.fetch(site.url("/drip"))
    assert time.monotonic() - began < 2.0
    assert got.final is not None and got.final.truncated == "time"
    assert site.connections == 1


def test_a_kept_connection_to_a_private_address_serves_no_guarded_hop(site: Site) -> None:
    """A URL typed by the user may be private; what it links to may not, even over the
    connection its fetch left open."""
    site.pages["/typed"] = Page(HTML)
    site.pages["/cited"] = Page(HTML)
    with Fetcher(GUARDED) as fetcher:
        typed = fetcher.fetch(site.url("/typed"), typed=True)
        cited = fetcher.fetch(site.url("/cited"))
    assert typed.final is not None and typed.final.status == 200
    assert cited.error == "blocked-private-address" and "/cited" not in site.hits


def test_ended_fetches_leave_no_watchdog_behind(site: Site, fetcher: Fetcher) -> None:
    """Each fetch's deadline is watched by one shared thread; a fetch that ended does not
    stay in its heap until its deadline (a minute), which in a fast check held tens of
    thousands of them."""
    site.pages["/a"] = Page(HTML)
    for _ in range(50):
        assert fetcher.fetch(site.url("/a")).error is None
    assert len(deadline._DEADLINES._heap) <= 2


def test_ended_fetches_behind_a_long_one_are_swept_out(
    site: Site, fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long fetch at the top of the deadline heap holds the ended ones behind it until
    they are swept out, when the heap reaches its sweep size."""
    monkeypatch.setattr(deadline._DEADLINES, "_sweep_at", 40)
    monkeypatch.setattr(deadline._Deadlines, "SWEEP_AT", 40)
    site.pages["/a"] = Page(HTML)
    site.pages["/slow"] = Page(HTML, delay=1.5)
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(fetcher.fetch, site.url("/slow"))
        _until(lambda: site.hits["/slow"] == 1)
        for _ in range(100):
            assert fetcher.fetch(site.url("/a")).error is None
        assert len(deadline._DEADLINES._heap) <= 41  # not 101
        assert slow.result().error is None


def test_closing_the_fetcher_closes_its_kept_connections() -> None:
    site = Site()  # its own: the shared one may still be hanging up on earlier tests
    try:
        site.pages["/a"] = Page(HTML)
        fetcher = Fetcher(LOOPBACK)
        fetcher.fetch(site.url("/a"))
        time.sleep(0.2)
        assert site.hung_up == 0  # kept open
        fetcher.close()
        _until(lambda: site.hung_up == 1)
        fetcher.fetch(site.url("/a"))  # a closed fetcher still fetches, keeping nothing
        _until(lambda: site.hung_up == 2)
        assert site.connections == 2
    finally:
        site.close()


def test_past_the_total_the_longest_idle_connection_goes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connections, "KEEP_ALIVE_TOTAL", 1)
    first, second = Site(), Site()  # their own: the shared one may be hanging up on others
    try:
        with Fetcher(LOOPBACK) as fetcher:
            for site in (first, second):
                site.pages["/a"] = Page(HTML)
                assert fetcher.fetch(site.url("/a")).error is None
            _until(lambda: first.hung_up == 1)
            time.sleep(0.2)
            assert second.hung_up == 0  # still kept
        _until(lambda: second.hung_up == 1)  # closed with the fetcher
    finally:
        first.close()
        second.close()


def _until(condition: Callable[[], bool], seconds: float = 3.0) -> None:
    ends = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < ends, "not within the time allowed"
        time.sleep(0.02)


def _trickle_headers(handler: BaseHTTPRequestHandler) -> None:
    handler.wfile.write(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    for _ in range(100):
        handler.wfile.write(b"z")
        handler.wfile.flush()
        time.sleep(0.05)


def test_trickling_headers_are_cut_at_the_deadline(site: Site) -> None:
    site.pages["/trickle"] = _trickle_headers
    limits = FetchLimits(allow_private=True, timeout=0.5, deadline=1.0)
    began = time.monotonic()
    got = fetch(site.url("/trickle"), limits)
    assert time.monotonic() - began < 2.0
    assert got.error == "timeout" and got.exchanges == ()
    assert got.detail and "deadline" in got.detail


def test_deadline_spans_redirect_hops(site: Site) -> None:
    site.pages["/a"] = redirect("/drip")
    site.pages["/drip"] = Page(b"x" * 400, drip=0.05)
    limits = FetchLimits(allow_private=True, timeout=0.5, deadline=1.0)
    got = fetch(site.url("/a"), limits)
    assert [e.status for e in got.exchanges] == [302, 200]
    assert got.exchanges[-1].truncated == "time"


@pytest.mark.parametrize("chunked", [False, True])
def test_oversize_body_is_cut_at_max_bytes(site: Site, chunked: bool) -> None:
    site.pages["/big"] = Page(b"a" * 5000, chunked=chunked)
    got = fetch(site.url("/big"), FetchLimits(allow_private=True, timeout=2, max_bytes=1000))
    final = got.final
    assert final is not None
    assert final.body.length == 1000 and final.body.read() == b"a" * 1000
    assert final.truncated == "length"


def test_body_of_exactly_max_bytes_is_whole(site: Site) -> None:
    site.pages["/fit"] = Page(b"a" * 1000)
    got = fetch(site.url("/fit"), FetchLimits(allow_private=True, timeout=2, max_bytes=1000))
    assert got.final is not None
    assert got.final.body.length == 1000 and got.final.truncated is None


def _short_body(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    handler.wfile.write(b"b" * 100)
    handler.wfile.flush()
    handler.close_connection = True


def test_disconnect_mid_body_keeps_what_arrived(site: Site, fetcher: Fetcher) -> None:
    site.pages["/short"] = _short_body
    got = fetcher.fetch(site.url("/short"))
    assert got.error is None and got.final is not None
    assert got.final.truncated == "disconnect"
    assert got.final.body.read() == b"b" * 100


def test_unexpected_exception_becomes_internal(
    site: Site, fetcher: Fetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(exchange: Exchange) -> str:
        raise RuntimeError("a bug")

    monkeypatch.setattr(fetcher_module, "_redirect_target", broken)
    site.pages["/a"] = redirect("/b")
    got = fetcher.fetch(site.url("/a"))
    assert got.error == "internal" and got.detail == "RuntimeError: a bug"
    assert [e.status for e in got.exchanges] == [302]  # what arrived is still kept


# --- the private-address guard ---------------------------------------------------------------

GUARDED = FetchLimits(timeout=2)


def test_loopback_refused_by_default_and_nothing_sent(site: Site) -> None:
    site.pages["/p"] = Page(HTML)
    got = fetch(site.url("/p"), GUARDED)
    assert got.error == "blocked-private-address" and got.exchanges == ()
    assert got.detail and "127.0.0.1" in got.detail
    assert "--allow-private" in got.detail and "PRESERVE_ALLOW_PRIVATE=1" in got.detail
    assert not site.hits


@pytest.mark.parametrize(
    "host",
    ["localhost", "2130706433", "0177.0.0.1", "0x7f.1", "127.1", "[::1]", "[::ffff:127.0.0.1]"],
)
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_other_spellings_of_loopback_refused(site: Site, host: str, scheme: str) -> None:
    site.pages["/p"] = Page(HTML)
    got = fetch(f"{scheme}://{host}:{site.port}/p", GUARDED)
    assert got.error == "blocked-private-address"
    assert not site.hits


def test_private_literal_refused_without_connecting() -> None:
    # Nothing listens there: a refusal (not a timeout or "refused") shows no connection
    # was tried.
    got = fetch("http://10.255.255.1/", FetchLimits(timeout=5))
    assert got.error == "blocked-private-address"
    assert got.detail and "10.255.255.1" in got.detail


def test_typed_url_may_be_private(site: Site) -> None:
    site.pages["/p"] = Page(HTML)
    got = fetch(site.url("/p"), GUARDED, typed=True)
    assert got.error is None and got.final is not None and got.final.status == 200


@pytest.mark.parametrize("target_host", ["127.0.0.1", "localhost"])
def test_redirect_from_typed_url_to_private_refused(site: Site, target_host: str) -> None:
    # With "localhost" the request would go out on the connection kept alive from the first
    # hop: the guard must check it again.
    site.pages["/r"] = redirect(f"http://{target_host}:{site.port}/t")
    site.pages["/t"] = Page(HTML)
    got = fetch(f"http://{target_host}:{site.port}/r", GUARDED, typed=True)
    assert got.error == "blocked-private-address"
    assert [e.status for e in got.exchanges] == [302]
    assert site.hits["/t"] == 0


def test_allow_private_allows_redirects_too(site: Site) -> None:
    site.pages["/r"] = redirect(f"http://localhost:{site.port}/t")
    site.pages["/t"] = Page(HTML)
    got = fetch(site.url("/r"), FetchLimits(timeout=2, allow_private=True))
    assert got.error is None and [e.status for e in got.exchanges] == [302, 200]


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "192.0.0.8",
        "::1",
        "::",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::127.0.0.1",
        "2002:7f00:1::",
        "64:ff9b::a00:1",
        "not an address",
    ],
)
def test_non_public_addresses(address: str) -> None:
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "93.184.215.14", "2606:4700:4700::1111"])
def test_public_addresses(address: str) -> None:
    assert is_public_address(address)


def test_deadlines_share_one_thread(site: Site, fetcher: Fetcher) -> None:
    """Every fetch has a deadline, watched by one thread for all of them (a thread per
    fetch cost more CPU than a fetch on a fast network), which still cuts a slow one."""
    site.pages["/p"] = Page(HTML)
    for _ in range(20):
        assert fetcher.fetch(site.url("/p")).error is None
    names = [t.name for t in threading.enumerate()]
    assert names.count("preserve-deadlines") == 1


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet=string.ascii_letters + string.digits + "%-._~!$&'()*+,;=:@/?[]|^{}`\"<> üä" + "\\",
        max_size=40,
    )
)
def test_request_line_is_what_requests_sent(path: str) -> None:
    """preserve sends each URL as it did when it fetched through requests: servers (and
    the recorded request records) see the same request line as before."""
    try:
        url = canonical("http://example.org/" + path)
    except BadURL:
        return
    expected = requests.Request("GET", url).prepare().path_url
    assert request_target(urlsplit(url)) == expected
