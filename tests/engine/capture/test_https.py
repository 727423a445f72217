"""capture over HTTPS, end to end: certificate authorities of one's own (`ca_bundle`), and
what each record says of the TLS connection it came over."""

from __future__ import annotations

import hashlib
import json
import ssl
from pathlib import Path

import pytest

from tests.support.capturing import FAST, capture, story
from tests.support.cli import Preserve, assert_one_error_line
from tests.support.sites import Page, Site, article_html
from tests.support.tls import OPENSSL, make_localhost_certificate, server_context
from tests.support.warc_checks import assert_archive_sound, record_at, rows


def test_https_with_an_authority_of_ones_own(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, preserve: Preserve
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
        result = preserve.run(other, "capture", *FAST, url)
        assert_one_error_line(result)
        assert "ca_bundle" in result.stderr and not other.exists()
    finally:
        secure.close()


def test_a_capture_over_https_records_who_the_server_proved_to_be(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, site: Site, preserve: Preserve
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
    shown = preserve.run(archive, "show", url)
    assert f"server certificate sha256:{certificate} (CN=localhost" in shown.stderr
    # The report's evidence names it beside each capture.
    html = tmp_path / "report.html"
    assert preserve.run(archive, "report", url, "--html", str(html)).exit_code == 0
    assert f"TLS certificate sha256:{certificate}" in html.read_text()
    (dossier,) = json.loads(preserve.run(archive, "report", url, "--json").stdout)["articles"]
    assert dossier["first_capture"]["certificate_sha256"] == certificate
