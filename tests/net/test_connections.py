"""net.connections: connections kept alive, cut, replaced and closed, and the limits that
hold on them."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler

import pytest

from preserve.config import FetchLimits
from preserve.net import connections, deadline
from preserve.net import fetcher as fetcher_module
from preserve.net.exchange import Exchange
from preserve.net.fetcher import Fetcher
from tests.net.helpers import GUARDED, HTML, LOOPBACK, fetch
from tests.support.sites import Page, Site, redirect


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
        assert fetcher.fetch(site.url("/big")).final.truncated == "length"
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
