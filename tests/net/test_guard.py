"""net.guard: the private-address guard."""

from __future__ import annotations

import string
import threading
from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from preserve.config import FetchLimits
from preserve.errors import BadURL
from preserve.net.connections import request_target
from preserve.net.fetcher import Fetcher
from preserve.net.guard import is_public_address
from preserve.urls import canonical
from tests.net.helpers import GUARDED, HTML, fetch
from tests.support.sites import Page, Site, redirect


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
