"""warc: records written from exchanges built by hand and fetched from servers on 127.0.0.1,
read back by location, checked by `warcio check`, by strict_check, and replayed in pywb;
negative fixtures that strict_check must reject."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import os
import random
import socket
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from preserve import USER_AGENT
from preserve import fetch as fetch_module
from preserve.config import FetchLimits
from preserve.errors import IntegrityError
from preserve.fetch import Body, Exchange
from preserve.times import iso
from preserve.warc import (
    CONFORMS_TO,
    REVISIT_PROFILE,
    ClosedWarc,
    OriginalRef,
    RecordLocation,
    StoredRecord,
    WarcWriter,
    read_record,
    strict_check,
)
from preserve.warccheck import FileScan, join, scan, scan_range
from tests.replay import AVAILABLE as replay_available
from tests.replay import pywb
from tests.sites import Page, Site

BIN = Path(sys.executable).parent
HTML = ("<html><head><title>T</title></head><body>" + "<p>words, more words</p>" * 60).encode()
STARTED = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)


class Clock:
    """A clock that moves one second per call."""

    def __init__(self, start: datetime = datetime(2026, 11, 27, 21, 45, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def exchange(
    body: bytes = HTML,
    *,
    url: str = "http://example.com/article?id=7",
    status: int = 200,
    reason: str = "OK",
    headers: tuple[tuple[str, str], ...] | None = None,
    started_at: datetime = STARTED,
    truncated: str | None = None,
) -> Exchange:
    if headers is None:
        headers = (("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body))))
    return Exchange(
        url=url,
        started_at=started_at,
        method="GET",
        request_target="/" + url.split("/", 3)[3],
        request_headers=(("Host", "example.com"), ("User-Agent", USER_AGENT)),
        http_version="HTTP/1.1",
        status=status,
        reason=reason,
        headers=headers,
        peer_ip="93.184.215.14",
        body=Body.of(body),
        truncated=truncated,
    )


@pytest.fixture
def warcs(tmp_path: Path) -> Path:
    return tmp_path / "warcs"


@pytest.fixture
def closed() -> list[ClosedWarc]:
    return []


@pytest.fixture
def writer(warcs: Path, closed: list[ClosedWarc]) -> Iterator[WarcWriter]:
    with WarcWriter(
        warcs, info={"operator": "test suite", "preserve-run": "7"}, clock=Clock(),
        on_closed=closed.append,
    ) as w:  # fmt: skip
        yield w


def read(warcs: Path, location: RecordLocation) -> StoredRecord:
    return read_record(warcs / location.warc, location.offset, location.length)


def member_offsets(data: bytes) -> list[int]:
    """Where each gzip member of a file starts, and where the last one ends."""
    offsets = [0]
    while offsets[-1] < len(data):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        inflater.decompress(data[offsets[-1] :])
        offsets.append(len(data) - len(inflater.unused_data))
    return offsets


def records_of(path: Path) -> list[StoredRecord]:
    """Every record of a file, by walking its gzip members."""
    offsets = member_offsets(path.read_bytes())
    return [read_record(path, a, b - a) for a, b in zip(offsets, offsets[1:], strict=False)]


def warcio_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "warcio"), "check", "-v", str(path)], capture_output=True, text=True, timeout=60
    )


def assert_valid(path: Path) -> None:
    """Both validators pass, and warcio leaves nothing unchecked but revisits."""
    result = warcio_check(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "failed" not in result.stdout
    assert "no digest" not in result.stdout
    unchecked = result.stdout.count("not checked")
    assert unchecked == result.stdout.count("not checked (revisit)")
    assert strict_check(path) == []


def all_files(warcs: Path) -> list[Path]:
    return sorted(warcs.glob("*.warc.gz"))


# --- the records --------------------------------------------------------------------------


def test_response_and_request_records(writer: WarcWriter, warcs: Path) -> None:
    response_at, request_at = writer.write_exchange(exchange())
    writer.close()
    response, request = read(warcs, response_at), read(warcs, request_at)

    assert (response.rec_type, request.rec_type) == ("response", "request")
    assert response.record_id == response_at.record_id
    assert request.record_id == request_at.record_id
    assert response.payload == HTML
    assert response_at.payload_digest == "sha256:" + hashlib.sha256(HTML).hexdigest()
    assert response.payload_digest == response_at.payload_digest
    assert request_at.payload_digest is None and request.payload_digest is None
    # R5: one capture instant, with its microseconds, on both records
    assert response.date == request.date == "2026-03-04T05:06:07.891011Z"
    assert request.header("WARC-Concurrent-To") == response.record_id
    assert request.target_uri == response.target_uri == "http://example.com/article?id=7"
    assert response.header("WARC-IP-Address") == "93.184.215.14"
    assert response.header("Content-Type") == "application/http; msgtype=response"
    assert request.header("Content-Type") == "application/http; msgtype=request"
    assert response.http_status == 200
    assert response.http_headers == (
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", str(len(HTML))),
    )
    assert request.http_headers == (("Host", "example.com"), ("User-Agent", USER_AGENT))
    path = warcs / response_at.warc
    with gzip.open(path) as file:
        raw = file.read()
    assert b"\r\nGET /article?id=7 HTTP/1.1\r\nHost: example.com\r\n" in raw
    assert raw.count(b"WARC/1.1\r\n") == 3 and b"WARC/1.0" not in raw
    assert_valid(path)


def test_locations_are_standalone_gzip_members(writer: WarcWriter, warcs: Path) -> None:
    locations = [*writer.write_exchange(exchange()), writer.write_metadata("<urn:x:y>", {})]
    writer.close()
    data = (warcs / locations[0].warc).read_bytes()
    for location in locations:
        piece = data[location.offset : location.offset + location.length]
        assert hashlib.sha256(piece).hexdigest() == location.record_sha256
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        record = inflater.decompress(piece)
        assert inflater.eof and not inflater.unused_data
        assert record.startswith(b"WARC/1.1\r\n") and record.endswith(b"\r\n\r\n")
        assert f"WARC-Record-ID: {location.record_id}\r\n".encode() in record
    # the members tile the file after the warcinfo, with nothing between them
    ends = [loc.offset + loc.length for loc in locations]
    assert [loc.offset for loc in locations[1:]] == ends[:-1] and ends[-1] == len(data)


def test_warcinfo_first_and_named_by_every_record(writer: WarcWriter, warcs: Path) -> None:
    response_at, _ = writer.write_exchange(exchange())
    writer.write_metadata(response_at.record_id, {"a": 1})
    writer.close()
    (path,) = all_files(warcs)
    warcinfo, *others = records_of(path)

    assert warcinfo.rec_type == "warcinfo"
    assert warcinfo.header("WARC-Filename") == path.name == response_at.warc
    assert warcinfo.header("Content-Type") == "application/warc-fields"
    assert warcinfo.target_uri is None and warcinfo.payload_digest is None
    fields = dict(line.split(": ", 1) for line in warcinfo.payload.decode().splitlines())
    assert fields["software"] == USER_AGENT
    assert fields["format"] == "WARC File Format 1.1"
    assert fields["conformsTo"] == CONFORMS_TO
    assert fields["hostname"] == socket.gethostname()
    assert fields["operator"] == "test suite" and fields["preserve-run"] == "7"
    assert [r.header("WARC-Warcinfo-ID") for r in others] == [warcinfo.record_id] * 3
    assert path.name.startswith("preserve-20261127214501000000-00000-")


def test_file_name_pattern_and_open_suffix(writer: WarcWriter, warcs: Path,
                                           closed: list[ClosedWarc]) -> None:  # fmt: skip
    assert writer.current_path is None and not warcs.exists()  # opened lazily
    response_at, _ = writer.write_exchange(exchange())
    open_path = writer.current_path
    assert open_path is not None and open_path.name == response_at.warc + ".open"
    assert open_path.exists() and not (warcs / response_at.warc).exists()
    writer.sync()
    # a record of a file still being written reads back through its final name
    assert read(warcs, response_at).payload == HTML
    assert closed == []

    writer.close()
    final = warcs / response_at.warc
    assert final.exists() and not open_path.exists() and writer.current_path is None
    data = final.read_bytes()
    assert closed == [ClosedWarc(final.name, len(data), hashlib.sha256(data).hexdigest())]
    hostname = final.name.split("-", 3)[3].removesuffix(".warc.gz")
    assert final.name == f"preserve-20261127214501000000-00000-{hostname}.warc.gz"
    assert_valid(final)


def test_writer_reopens_after_close_with_next_serial(warcs: Path) -> None:
    clock = Clock()
    writer = WarcWriter(warcs, info={}, clock=lambda: clock.now)  # a frozen clock
    first, _ = writer.write_exchange(exchange())
    writer.close()
    second, _ = writer.write_exchange(exchange())
    writer.close()
    # a second writer in the same folder with the same clock takes the next free name
    with WarcWriter(warcs, info={}, clock=lambda: clock.now) as other:
        third, _ = other.write_exchange(exchange())
    assert first.warc.split("-")[2] == "00000" and second.warc.split("-")[2] == "00001"
    assert third.warc.split("-")[2] == "00002"


# --- HTTP headers as stored ---------------------------------------------------------------


def test_chunked_body_gets_real_content_length(writer: WarcWriter, warcs: Path) -> None:
    headers = (("Content-Type", "text/html"), ("Transfer-Encoding", "chunked"))
    response = read(warcs, writer.write_exchange(exchange(headers=headers))[0])
    assert response.http_headers == (
        ("Content-Type", "text/html"),
        ("X-Orig-Transfer-Encoding", "chunked"),
        ("Content-Length", str(len(HTML))),
    )
    writer.close()
    assert_valid(warcs / all_files(warcs)[0])


def test_content_length_that_lies_is_renamed(writer: WarcWriter, warcs: Path) -> None:
    headers = (("Content-Length", "99999"), ("Content-Type", "text/html"))
    response = read(warcs, writer.write_exchange(exchange(headers=headers))[0])
    assert response.http_headers == (
        ("X-Orig-Content-Length", "99999"),
        ("Content-Type", "text/html"),
        ("Content-Length", str(len(HTML))),
    )


@pytest.mark.parametrize("status", [204, 304])
def test_no_content_length_added_to_bodiless_statuses(writer: WarcWriter, warcs: Path,
                                                      status: int) -> None:  # fmt: skip
    ex = exchange(b"", status=status, reason="", headers=(("ETag", '"x"'),))
    response = read(warcs, writer.write_exchange(ex)[0])
    assert response.http_headers == (("ETag", '"x"'),)
    assert response.http_status == status
    writer.close()
    assert_valid(all_files(warcs)[0])


def test_truncated_body_keeps_declared_length(writer: WarcWriter, warcs: Path) -> None:
    headers = (("Content-Length", "1000000"), ("Transfer-Encoding", "chunked"))
    ex = exchange(HTML[:100], headers=headers, truncated="length")
    response = read(warcs, writer.write_exchange(ex)[0])
    assert response.header("WARC-Truncated") == "length"
    assert response.http_headers == (
        ("Content-Length", "1000000"),
        ("X-Orig-Transfer-Encoding", "chunked"),
    )
    assert response.payload == HTML[:100]
    writer.close()
    assert_valid(all_files(warcs)[0])


def test_header_values_are_stored_byte_exact(writer: WarcWriter, warcs: Path) -> None:
    # http.client decodes header bytes as latin-1: a latin-1 "é" arrives as "é", a UTF-8
    # one as "Ã©". Either way the archived bytes must be the bytes on the wire.
    headers = (
        ("X-Latin", "caf\xe9"),
        ("X-Utf8", b"caf\xc3\xa9".decode("latin-1")),
        ("Content-Disposition", 'attachment; filename="r\xe9sum\xe9.pdf"'),
        ("X-Spacing", "a  b;c=d"),
    )
    response_at, _ = writer.write_exchange(exchange(headers=headers))
    response = read(warcs, response_at)
    assert response.http_headers[:4] == headers
    writer.close()
    with gzip.open(warcs / response_at.warc) as file:
        raw = file.read()
    assert b"\r\nX-Latin: caf\xe9\r\n" in raw
    assert b"\r\nX-Utf8: caf\xc3\xa9\r\n" in raw
    assert b'filename="r\xe9sum\xe9.pdf"' in raw
    assert b"%C3" not in raw and b"%E9" not in raw  # nothing percent-encoded
    assert_valid(warcs / response_at.warc)


def test_gzip_body_stays_compressed(writer: WarcWriter, warcs: Path) -> None:
    compressed = gzip.compress(HTML, mtime=0)
    headers = (("Content-Encoding", "gzip"), ("Content-Length", str(len(compressed))))
    response_at, _ = writer.write_exchange(exchange(compressed, headers=headers))
    response = read(warcs, response_at)
    assert response.payload == compressed
    assert response_at.payload_digest == "sha256:" + hashlib.sha256(compressed).hexdigest()
    assert gzip.decompress(response.payload) == HTML
    writer.close()
    assert_valid(warcs / response_at.warc)


def test_large_body_is_streamed_and_read_back(writer: WarcWriter, warcs: Path) -> None:
    body = os.urandom(1 << 20) * 3  # spooled to disk by Body, written in chunks
    response_at, _ = writer.write_exchange(exchange(body))
    assert read(warcs, response_at).payload == body
    assert response_at.payload_digest == "sha256:" + hashlib.sha256(body).hexdigest()
    writer.close()
    assert_valid(warcs / response_at.warc)


def test_a_failing_body_leaves_no_partial_record(writer: WarcWriter, warcs: Path) -> None:
    class Failing(Body):
        reads = 0

        def chunks(self) -> Iterator[bytes]:
            Failing.reads += 1
            for number, chunk in enumerate(super().chunks()):
                if Failing.reads == 2 and number == 1:  # the write, not the digest pass
                    raise OSError("disk gone")
                yield chunk

    writer.write_exchange(exchange())
    failing = Failing()
    failing.write(os.urandom(200_000))
    broken = dataclasses.replace(exchange(), body=failing)
    with pytest.raises(OSError, match="disk gone"):
        writer.write_exchange(broken)
    last, _ = writer.write_exchange(exchange())
    writer.close()
    (path,) = all_files(warcs)
    assert_valid(path)
    assert [r.rec_type for r in records_of(path)] == ["warcinfo"] + ["response", "request"] * 2
    assert read(warcs, last).payload == HTML


# --- revisits and metadata ----------------------------------------------------------------


def test_revisit_record(writer: WarcWriter, warcs: Path) -> None:
    original_at, _ = writer.write_exchange(exchange())
    later = exchange(started_at=STARTED + timedelta(days=1))
    original = OriginalRef(
        original_at.record_id, later.url, STARTED, original_at.payload_digest or ""
    )
    revisit_at, request_at = writer.write_revisit(later, original)
    writer.close()
    revisit, request = read(warcs, revisit_at), read(warcs, request_at)

    assert revisit.rec_type == "revisit"
    assert revisit.header("WARC-Profile") == REVISIT_PROFILE
    assert revisit.header("WARC-Refers-To") == original_at.record_id
    assert revisit.header("WARC-Refers-To-Target-URI") == "http://example.com/article?id=7"
    assert revisit.header("WARC-Refers-To-Date") == iso(STARTED)
    assert revisit.payload_digest == revisit_at.payload_digest == original_at.payload_digest
    assert revisit.header("WARC-Truncated") == "length"
    assert revisit.header("WARC-IP-Address") == "93.184.215.14"
    assert revisit.date == request.date == iso(later.started_at)
    assert revisit.http_status == 200 and revisit.payload == b""
    assert request.header("WARC-Concurrent-To") == revisit.record_id
    assert_valid(warcs / revisit_at.warc)


def test_revisit_refuses_a_different_payload(writer: WarcWriter) -> None:
    original = OriginalRef("<urn:uuid:x>", "http://example.com/", STARTED, "sha256:" + "0" * 64)
    with pytest.raises(ValueError):
        writer.write_revisit(exchange(), original)


def test_metadata_record(writer: WarcWriter, warcs: Path) -> None:
    response_at, request_at = writer.write_exchange(exchange())
    data = {"title": "Café", "citations": ["http://a.example/"], "at": STARTED}
    location = writer.write_metadata(
        response_at.record_id, data, concurrent_to=request_at.record_id
    )
    writer.close()
    metadata = read(warcs, location)

    assert metadata.rec_type == "metadata" and location.payload_digest is None
    assert metadata.target_uri is None and metadata.payload_digest is None  # R9
    assert metadata.header("WARC-Refers-To") == response_at.record_id
    assert metadata.header("WARC-Concurrent-To") == request_at.record_id
    assert metadata.header("Content-Type") == "application/json"
    assert json.loads(metadata.payload) == {**data, "at": str(STARTED)}
    assert_valid(warcs / location.warc)


# --- files: rotation, threads -------------------------------------------------------------


def test_rotation_starts_new_files_with_their_own_warcinfo(warcs: Path) -> None:
    closed: list[ClosedWarc] = []
    with WarcWriter(warcs, info={}, clock=Clock(), rotate_bytes=1000,
                    on_closed=closed.append) as writer:  # fmt: skip
        pairs = [writer.write_exchange(exchange(os.urandom(1500))) for _ in range(6)]
    files = all_files(warcs)
    assert len(files) == 6 and [c.name for c in closed] == [f.name for f in files]
    for file, done in zip(files, closed, strict=True):
        data = file.read_bytes()
        assert (done.size, done.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        first = records_of(file)[0]
        assert first.rec_type == "warcinfo" and first.header("WARC-Filename") == file.name
        assert_valid(file)
    for response_at, request_at in pairs:  # a pair is never split between files
        assert response_at.warc == request_at.warc
    serials = [f.name.split("-")[2] for f in files]
    assert serials == [f"{n:05d}" for n in range(6)]


def test_threads_share_a_writer(warcs: Path) -> None:
    results: list[tuple[bytes, RecordLocation, RecordLocation]] = []
    lock = threading.Lock()

    def work(thread: int) -> None:
        for n in range(50):
            body = f"<p>thread {thread} page {n}</p>".encode() * (n + 1)
            url = f"http://example.com/{thread}/{n}"
            response_at, request_at = writer.write_exchange(exchange(body, url=url))
            with lock:
                results.append((body, response_at, request_at))

    with WarcWriter(warcs, info={}, clock=Clock(), rotate_bytes=200_000) as writer:
        threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(results) == 200
    for body, response_at, request_at in results:
        response, request = read(warcs, response_at), read(warcs, request_at)
        assert response.payload == body and response.record_id == response_at.record_id
        assert request.header("WARC-Concurrent-To") == response.record_id
    for file in all_files(warcs):
        assert strict_check(file) == []


# --- against a real server ----------------------------------------------------------------


def fetch_exchange(url: str) -> tuple[Exchange, Callable[[], None]]:
    """The final exchange of a real fetch, by preserve's Fetcher when there is one."""
    if hasattr(fetch_module, "Fetcher"):
        fetcher = fetch_module.Fetcher(FetchLimits(allow_private=True, timeout=5))
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


# --- strict_check: what warcio check lets through ------------------------------------------


def member(fields: list[tuple[str, str]], block: bytes, *, length: int | None = None,
           payload: bytes | None = None, version: str = "WARC/1.1") -> bytes:  # fmt: skip
    """One hand-made record as a gzip member, with correct digests unless told otherwise."""
    fields = [*fields, ("WARC-Block-Digest", "sha256:" + hashlib.sha256(block).hexdigest())]
    if payload is not None:
        fields.append(("WARC-Payload-Digest", "sha256:" + hashlib.sha256(payload).hexdigest()))
    fields.append(("Content-Length", str(len(block) if length is None else length)))
    head = "\r\n".join([version, *(f"{k}: {v}" for k, v in fields)]).encode() + b"\r\n\r\n"
    return gzip.compress(head + block + b"\r\n\r\n")


def good_file(warcs: Path, body: bytes = HTML) -> tuple[Path, str]:
    """A valid file (warcinfo, response, request), and its warcinfo id."""
    with WarcWriter(warcs, info={}, clock=Clock()) as writer:
        writer.write_exchange(exchange(body))
    (path,) = all_files(warcs)
    return path, records_of(path)[0].record_id


def response_fields(warcinfo_id: str, uri: str = "http://example.com/x") -> list[tuple[str, str]]:
    return [
        ("WARC-Type", "response"),
        ("WARC-Record-ID", "<urn:uuid:00000000-0000-4000-8000-000000000001>"),
        ("WARC-Date", "2026-01-01T00:00:00.000000Z"),
        ("WARC-Target-URI", uri),
        ("WARC-IP-Address", "127.0.0.1"),
        ("WARC-Warcinfo-ID", warcinfo_id),
        ("Content-Type", "application/http; msgtype=response"),
    ]


def http_block(headers: list[str], body: bytes) -> bytes:
    lines = ["HTTP/1.1 200 OK", *headers, "", ""]
    return "\r\n".join(lines).encode() + body


def bad_content_length(warcinfo_id: str) -> bytes:
    block = http_block([f"Content-Length: {len(HTML)}"], HTML)
    return member(response_fields(warcinfo_id), block, length=len(block) + 100, payload=HTML)


def raw_utf8_uri(warcinfo_id: str) -> bytes:
    block = http_block([f"Content-Length: {len(HTML)}"], HTML)
    fields = response_fields(warcinfo_id, "http://example.com/café–x")
    return member(fields, block, payload=HTML)


def metadata_with_uri(warcinfo_id: str) -> bytes:
    fields = [
        ("WARC-Type", "metadata"),
        ("WARC-Record-ID", "<urn:uuid:00000000-0000-4000-8000-000000000002>"),
        ("WARC-Date", "2026-01-01T00:00:00.000000Z"),
        ("WARC-Target-URI", "http://example.com/x"),
        ("WARC-Refers-To", "<urn:uuid:00000000-0000-4000-8000-000000000001>"),
        ("WARC-Warcinfo-ID", warcinfo_id),
        ("Content-Type", "application/json"),
    ]
    return member(fields, b'{"title": "x"}')


def chunked_header_on_plain_body(warcinfo_id: str) -> bytes:
    block = http_block(["Transfer-Encoding: chunked"], HTML)
    return member(response_fields(warcinfo_id), block, payload=HTML)


@pytest.mark.parametrize(
    ("build", "kind"),
    [
        (bad_content_length, "length-mismatch"),
        (raw_utf8_uri, "bad-uri"),
        (metadata_with_uri, "unexpected-header"),
        (chunked_header_on_plain_body, "transfer-encoding"),
    ],
)
def test_strict_check_rejects_what_warcio_check_passes(
    warcs: Path, build: Callable[[str], bytes], kind: str
) -> None:
    path, warcinfo_id = good_file(warcs)
    bad = build(warcinfo_id)
    offset = path.stat().st_size
    with path.open("ab") as file:
        file.write(bad)
    assert warcio_check(path).returncode == 0  # the gap this check exists for (R12)
    problems = strict_check(path)
    assert kind in {p.kind for p in problems}, problems
    assert all(p.offset == offset for p in problems)


# Big records are inflated on a helper thread while checking: both paths must see it all.
BIG = HTML * 2000


@pytest.mark.parametrize("body", [HTML, BIG], ids=["small", "big"])
def test_truncated_file(warcs: Path, body: bytes) -> None:
    path, _ = good_file(warcs, body)
    data = path.read_bytes()
    response_offset = member_offsets(data)[1]
    path.write_bytes(data[: response_offset + 300])
    assert warcio_check(path).returncode == 0  # warcio drops the cut record silently
    (problem,) = strict_check(path)
    assert problem.kind == "truncated" and problem.offset == response_offset
    assert problem.detail.startswith(f"incomplete gzip member at offset {response_offset}")


def test_any_cut_is_a_problem_never_a_crash(warcs: Path) -> None:
    path, _ = good_file(warcs)
    data = path.read_bytes()
    boundaries = set(member_offsets(data))
    for cut in range(1, len(data)):
        if cut in boundaries:  # a file of whole records is a valid (shorter) file
            continue
        path.write_bytes(data[:cut])
        problems = strict_check(path)
        assert problems, f"cut at {cut} not noticed"


@pytest.mark.parametrize("body", [HTML, BIG], ids=["small", "big"])
def test_flipped_byte_in_a_body(warcs: Path, body: bytes) -> None:
    path, warcinfo_id = good_file(warcs, body)
    block = http_block([f"Content-Length: {len(body)}"], body)
    flipped = block.replace(b"more words", b"more wordz", 1)
    good = member(response_fields(warcinfo_id), block, payload=body)
    head, _, _ = gzip.decompress(good).partition(b"\r\n\r\n")
    with path.open("ab") as file:  # the digests of the original, over a changed body
        file.write(gzip.compress(head + b"\r\n\r\n" + flipped + b"\r\n\r\n"))
    kinds = {p.kind for p in strict_check(path)}
    assert kinds == {"block-digest", "payload-digest"}
    assert warcio_check(path).returncode == 1


def test_garbage_and_empty_files(tmp_path: Path, warcs: Path) -> None:
    path, _ = good_file(warcs)
    size = path.stat().st_size
    with path.open("ab") as file:
        file.write(b"this is not gzip at all\n" * 3)
    (problem,) = strict_check(path)
    assert problem.kind == "bad-gzip" and problem.offset == size

    empty = tmp_path / "empty.warc.gz"
    empty.write_bytes(b"")
    assert [p.kind for p in strict_check(empty)] == ["no-warcinfo"]
    plain = tmp_path / "plain.warc.gz"
    plain.write_bytes(gzip.decompress(path.read_bytes()[:size]))
    assert [p.kind for p in strict_check(plain)] == ["bad-gzip"]


def test_records_sharing_one_gzip_member(warcs: Path, tmp_path: Path) -> None:
    path, _ = good_file(warcs)
    whole = gzip.compress(gzip.decompress(path.read_bytes()))  # `gzip` on a whole file
    joined = tmp_path / "joined.warc.gz"
    joined.write_bytes(whole)
    assert "length-mismatch" in {p.kind for p in strict_check(joined)}


def test_structural_rules(warcs: Path) -> None:
    path, warcinfo_id = good_file(warcs)
    request = [
        ("WARC-Type", "request"),
        ("WARC-Record-ID", "<urn:uuid:00000000-0000-4000-8000-000000000003>"),
        ("WARC-Date", "2026-01-01T00:00:00Z"),
        ("WARC-Target-URI", "http://example.com/x"),
        ("WARC-Concurrent-To", "<urn:uuid:00000000-0000-4000-8000-00000000dead>"),
        ("Content-Type", "application/http; msgtype=request"),
    ]
    sha1 = [("WARC-Type", "metadata"),
            ("WARC-Record-ID", "<urn:uuid:00000000-0000-4000-8000-000000000004>"),
            ("WARC-Date", "2026-01-01"), ("WARC-Warcinfo-ID", warcinfo_id)]  # fmt: skip
    with path.open("ab") as file:
        file.write(member(request, b"GET /x HTTP/1.1\r\nHost: example.com\r\n\r\n"))
        file.write(member(response_fields(warcinfo_id), http_block([], b"x"), version="WARC/1.0"))
        file.write(gzip.compress(b"WARC/1.1\r\nWARC-Type: metadata\r\nWARC-Block-Digest: "
                                 b"sha1:AAAA\r\nContent-Length: 0\r\n\r\n\r\n\r\n"))  # fmt: skip
        file.write(member(sha1, b""))
    kinds = sorted(p.kind for p in strict_check(path))
    assert kinds == sorted(
        [
            "missing-header",  # the request names no warcinfo
            "bad-reference",  # its Concurrent-To names no record of this file
            "bad-version",
            "missing-header",  # the metadata record without an id or a date
            "bad-header",  # a date that is not a WARC-Date
            "missing-header",  # the response had no payload digest
        ]
    ), strict_check(path)


# --- read_record --------------------------------------------------------------------------


def test_read_record_refuses_a_wrong_slice(writer: WarcWriter, warcs: Path) -> None:
    response_at, _ = writer.write_exchange(exchange())
    writer.close()
    path = warcs / response_at.warc
    with pytest.raises(IntegrityError):
        read_record(path, response_at.offset + 1, response_at.length)
    with pytest.raises(IntegrityError):
        read_record(path, response_at.offset, response_at.length - 1)
    with pytest.raises(IntegrityError):
        read_record(path, response_at.offset, response_at.length + 10)  # two members
    with pytest.raises(FileNotFoundError):
        read_record(warcs / "nope.warc.gz", 0, 10)


def test_read_record_verifies_digests(writer: WarcWriter, warcs: Path) -> None:
    response_at, _ = writer.write_exchange(exchange())
    writer.close()
    path = warcs / response_at.warc
    data = path.read_bytes()
    piece = data[response_at.offset : response_at.offset + response_at.length]
    changed = gzip.compress(gzip.decompress(piece).replace(b"more words", b"more wordz", 1))
    path.write_bytes(data[: response_at.offset] + changed)
    with pytest.raises(IntegrityError, match="digest"):
        read_record(path, response_at.offset, len(changed))
    record = read_record(path, response_at.offset, len(changed), verify=False)
    assert b"wordz" in record.payload


# --- one file read in parts ------------------------------------------------------------------


def several_exchanges(warcs: Path) -> Path:
    """A file of six exchanges (one inflated in several steps), each a response and its
    request, then a revisit."""
    noise = random.Random(3).randbytes(9000)  # does not compress: a member of 9 KB
    with WarcWriter(warcs, info={}, clock=Clock()) as writer:
        for n in range(6):
            writer.write_exchange(
                exchange(
                    noise if n == 3 else HTML + str(n).encode(),
                    url=f"http://example.com/article?id={n}",
                )
            )
        writer.write_exchange(exchange(HTML + b"0", url="http://example.com/article?id=0"))
    (path,) = all_files(warcs)
    return path


def scanned_in_parts(path: Path, cuts: list[int]) -> FileScan | None:
    data = path.read_bytes()
    bounds = [0, *cuts]
    parts = [
        scan_range(path, start, stop) for start, stop in zip(bounds, [*cuts, None], strict=True)
    ]
    return join(path, parts, len(data), hashlib.sha256(data).hexdigest())


def test_parts_of_a_sound_file_join_to_one_pass(warcs: Path) -> None:
    path = several_exchanges(warcs)
    whole = scan(path)
    assert whole.problems == []
    starts = [m.offset for m in whole.members if m.rec_type in ("response", "revisit")]
    for cuts in [starts[:1], starts[2:3], starts[1::2], starts]:
        assert scanned_in_parts(path, cuts) == whole, cuts


def test_parts_of_a_damaged_file_join_to_one_pass_or_not_at_all(
    warcs: Path, tmp_path: Path
) -> None:
    """Wherever the damage is, the joined parts say exactly what one pass says, or refuse to
    join (then verify reads the file again in one pass): never a different answer."""
    pristine = several_exchanges(warcs)
    original = pristine.read_bytes()
    damaged = tmp_path / "damaged.warc.gz"
    joined = 0
    for data in damaged_copies(original, [m.offset for m in scan(pristine).members]):
        damaged.write_bytes(data)
        whole = scan(damaged)
        # Cut where the records were (a database that no longer fits the file) and where
        # they are now.
        for members in (scan(pristine).members, whole.members):
            starts = [m.offset for m in members if m.rec_type in ("response", "revisit")]
            anywhere = [m.offset for m in members][2::3]  # requests parted from responses
            for cuts in [starts[:1], starts[2:3], starts[1::2], anywhere]:
                parts = scanned_in_parts(damaged, cuts)
                assert parts is None or parts == whole, cuts
                joined += parts is not None and bool(whole.problems)
    assert joined > 150  # most damage stays inside one part, and is read there


def damaged_copies(original: bytes, offsets: list[int]) -> Iterator[bytes]:
    """The file with a byte flipped, cut, or garbage let in, at many places; with a record
    copied further on (its id used twice); with the opening warcinfo's id changed, or its
    length (so that it is not a record the others can name; then with another warcinfo
    after it)."""
    for position in range(5, len(original), max(1, len(original) // 60)):
        flipped = bytearray(original)
        flipped[position] ^= 0x04
        yield bytes(flipped)
        yield original[:position]
        yield original[:position] + b"\x1f\x8b\x08 not a member" + original[position:]
    bounds = [*offsets, len(original)]
    for copied, at in [(0, 5), (1, 9), (3, 12), (10, 2)]:
        record = original[bounds[copied] : bounds[copied + 1]]
        yield original[: bounds[at]] + record + original[bounds[at] :]
    warcinfo = gzip.decompress(original[: offsets[1]])
    other = gzip.compress(warcinfo.replace(b"<urn:uuid:", b"<urn:uuid:0", 1))
    unnamable = gzip.compress(warcinfo.replace(b"Content-Length: ", b"Content-Length: 1", 1))
    yield other + original[offsets[1] :]
    yield unnamable + original[offsets[1] :]
    yield unnamable + other + original[offsets[1] :]
    yield unnamable + original[offsets[1] :] + other
