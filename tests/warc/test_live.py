"""warc: exchanges fetched from a server on 127.0.0.1, the CDXJ index, and pywb replay."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from preserve.config import FetchLimits
from preserve.net import fetcher as fetcher_module
from preserve.net.exchange import Body, Exchange
from preserve.warc.reader import StoredRecord
from preserve.warc.records import OriginalRef
from preserve.warc.writer import WarcWriter
from tests.support.replay import AVAILABLE as replay_available
from tests.support.replay import pywb
from tests.support.sites import Page, Site
from tests.warc.helpers import HTML, STARTED, Clock, all_files, assert_valid, exchange, read


def fetch_exchange(url: str) -> tuple[Exchange, Callable[[], None]]:
    """The final exchange of a real fetch, by preserve's Fetcher when there is one."""
    if hasattr(fetcher_module, "Fetcher"):
        fetcher = fetcher_module.Fetcher(FetchLimits(allow_private=True, timeout=5))
        fetched = fetcher.fetch(url, typed=True)
        assert fetched.final is not None, fetched.detail
        return fetched.final, fetched.close
    started = datetime.now(UTC)  # pragma: no cover (until fetch.Fetcher exists)
    response = requests.get(url, stream=True, headers={"Accept-Encoding": "gzip, deflate"})
    body = Body()
    for chunk in response.raw.stream(65536, decode_content=False):
        body.write(chunk)
    request = response.request
    ex = Exchange(
        url=url, started_at=started, method="GET", request_target=request.path_url,
        request_headers=(("Host", url.split("/")[2]), *request.headers.items()),
        http_version="HTTP/1.1" if response.raw.version == 11 else "HTTP/1.0",
        status=response.status_code, reason=response.reason or "",
        headers=tuple(response.raw.headers.items()), peer_ip="127.0.0.1", body=body,
    )  # fmt: skip
    return ex, body.close


def test_fetched_exchanges_from_a_live_server(site: Site, writer: WarcWriter, warcs: Path) -> None:
    site.pages["/plain"] = Page(HTML)
    site.pages["/chunked"] = Page(HTML, chunked=True)
    site.pages["/gzip"] = Page(HTML, gzip=True)
    site.pages["/chunked-gzip"] = Page(HTML, gzip=True, chunked=True)
    site.pages["/close"] = Page(HTML, close_delimited=True)
    site.pages["/missing"] = Page("<h1>gone</h1>", status=404)
    got: dict[str, StoredRecord] = {}
    for path in site.pages:
        ex, close = fetch_exchange(site.url(path))
        response_at, request_at = writer.write_exchange(ex)
        close()
        got[path] = read(warcs, response_at)
        assert read(warcs, request_at).header("WARC-Concurrent-To") == response_at.record_id
        assert got[path].header("WARC-IP-Address") == "127.0.0.1"
        assert got[path].target_uri == site.url(path)
    writer.close()

    plain_digest = got["/plain"].payload_digest
    assert plain_digest == "sha256:" + hashlib.sha256(HTML).hexdigest()
    assert got["/chunked"].payload_digest == got["/close"].payload_digest == plain_digest  # R3
    assert got["/gzip"].payload_digest == got["/chunked-gzip"].payload_digest != plain_digest
    assert gzip.decompress(got["/gzip"].payload) == HTML
    assert got["/chunked"].http_header("X-Orig-Transfer-Encoding") == "chunked"
    assert got["/chunked"].http_header("Content-Length") == str(len(HTML))
    assert got["/close"].http_header("Content-Length") == str(len(HTML))
    assert got["/missing"].http_status == 404
    for record in got.values():
        assert record.http_header("Transfer-Encoding") is None  # R4
    assert_valid(all_files(warcs)[0])


def test_cdxj_index_agrees_with_locations(writer: WarcWriter, warcs: Path) -> None:
    cdxj_indexer = pytest.importorskip("cdxj_indexer")
    surt = pytest.importorskip("surt")
    original_at, _ = writer.write_exchange(exchange())
    later = exchange(started_at=STARTED + timedelta(days=1))
    digest = original_at.payload_digest or ""
    revisit_at, _ = writer.write_revisit(later, OriginalRef(original_at.record_id, later.url,
                                                            STARTED, digest))  # fmt: skip
    writer.write_metadata(original_at.record_id, {"title": "x"})
    writer.close()
    out = io.StringIO()
    indexer = cdxj_indexer.CDXJIndexer(output=out, inputs=[str(warcs / original_at.warc)],
                                       sort=True, records="response,revisit,resource")  # fmt: skip
    indexer.process_all()
    lines = [line.split(" ", 2) for line in out.getvalue().splitlines()]
    assert [(key, stamp) for key, stamp, _ in lines] == [
        (surt.surt(later.url), "20260304050607"),
        (surt.surt(later.url), "20260305050607"),
    ]
    for (_, _, fields), location in zip(lines, [original_at, revisit_at], strict=True):
        entry = json.loads(fields)
        assert (int(entry["offset"]), int(entry["length"])) == (location.offset, location.length)
        assert entry["digest"] == digest and entry["filename"] == location.warc


@pytest.mark.replay
@pytest.mark.skipif(not replay_available, reason="pywb is not installed")
def test_pywb_replays_responses_and_revisits(tmp_path: Path, warcs: Path) -> None:
    page = b"<html><body><p>The archived words.</p></body></html>"
    url = "http://example.com/story?id=7"
    first_day, second_day = (
        datetime(2024, 1, 1, 12, tzinfo=UTC),
        datetime(2024, 1, 2, 12, tzinfo=UTC),
    )
    with WarcWriter(warcs, info={}, clock=Clock()) as writer:
        original_at, _ = writer.write_exchange(exchange(page, url=url, started_at=first_day))
        later = exchange(page, url=url, started_at=second_day)
        original = OriginalRef(
            original_at.record_id, url, first_day, original_at.payload_digest or ""
        )
        writer.write_revisit(later, original)
        # a metadata record must never be served in place of the page (R9)
        writer.write_metadata(original_at.record_id, {"title": "not the page"})
    with pywb(tmp_path / "pywb", all_files(warcs)[0]) as base:
        for day in ("20240101120000", "20240102120000"):
            reply = requests.get(f"{base}/{day}id_/{url}", headers={"Accept-Encoding": "identity"},
                                 timeout=10)  # fmt: skip
            assert reply.status_code == 200
            assert reply.content == page
            assert reply.headers["Content-Type"] == "text/html; charset=utf-8"
        # the revisit, not the original, answered for the second day
        assert reply.headers["Memento-Datetime"] == "Tue, 02 Jan 2024 12:00:00 GMT"
