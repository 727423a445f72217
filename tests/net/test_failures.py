"""net.fetcher: failures (refused, unknown names, TLS, resets, timeouts, deadlines), and
what HTTPS exchanges say of the server."""

from __future__ import annotations

import hashlib
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import urllib3.connection

from preserve.config import FetchLimits
from preserve.net import connections
from preserve.net.fetcher import Fetcher
from preserve.net.tls import distinguished_name, iana_cipher_suite, protocol_name
from tests.net.helpers import HTML, LOOPBACK, fetch
from tests.support.sites import Page, Site, free_port
from tests.support.tls import OPENSSL, make_localhost_certificate, server_context


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
