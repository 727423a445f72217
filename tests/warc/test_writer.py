"""warc.writer: records written from exchanges built by hand, read back by location and
checked by `warcio check` and strict_check; revisits, metadata, rotation and threads."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import socket
import threading
import zlib
from datetime import timedelta
from pathlib import Path

import pytest

from preserve import USER_AGENT
from preserve.times import iso
from preserve.warc.records import CONFORMS_TO, REVISIT_PROFILE, OriginalRef
from preserve.warc.scan import strict_check
from preserve.warc.writer import ClosedWarc, RecordLocation, WarcWriter
from tests.warc.helpers import (
    HTML,
    STARTED,
    Clock,
    all_files,
    assert_valid,
    exchange,
    read,
    records_of,
)

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
    before = writer.current_path
    assert before is None and not warcs.exists()  # opened lazily
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
