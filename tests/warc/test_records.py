"""warc.records: records built with warcio's builder keep preserve's digests and the bytes on
the wire, and a body that is not what arrived is never written."""

from __future__ import annotations

import dataclasses
import gzip
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders

from preserve.errors import IntegrityError
from preserve.net.exchange import Body, Exchange
from preserve.warc.heads import ExactHead
from preserve.warc.scan import strict_check
from preserve.warc.writer import WarcWriter

BODY = b"<html><body>" + b"<p>caf\xc3\xa9 words</p>" * 200 + b"</body></html>"
STARTED = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)


def exchange(body: Body | None = None, **changes: Any) -> Exchange:
    made = Exchange(
        url="http://example.com/a?b=1",
        started_at=STARTED,
        method="GET",
        request_target="/a?b=1",
        request_headers=(("Host", "example.com"), ("Accept", "*/*")),
        http_version="HTTP/1.1",
        status=200,
        reason="OK",
        headers=(("Content-Type", "text/html"), ("X-Latin", "caf\xe9"), ("X-Spacing", "a  b")),
        peer_ip="93.184.215.14",
        body=body or Body.of(BODY),
    )
    return dataclasses.replace(made, **changes)


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[WarcWriter]:
    with WarcWriter(tmp_path, info={}, clock=lambda: STARTED) as w:
        yield w


def only_file(folder: Path) -> Path:
    (path,) = folder.glob("*.warc.gz")
    return path


def test_warcio_reads_every_record_back_and_its_sha256_digests_match(
    writer: WarcWriter, tmp_path: Path
) -> None:
    response_at, request_at = writer.write_exchange(exchange())
    writer.write_metadata(response_at.record_id, {"title": "Café"})
    writer.close()
    path = only_file(tmp_path)
    seen = []
    with path.open("rb") as file:
        for record in ArchiveIterator(file, check_digests="raise"):
            record.content_stream().read()
            headers = record.rec_headers
            seen.append(record.rec_type)
            assert headers.get_header("WARC-Block-Digest").startswith("sha256:")
            assert len(headers.get_header("WARC-Block-Digest")) == len("sha256:") + 64
            assert headers.protocol == "WARC/1.1"
    assert seen == ["warcinfo", "response", "request", "metadata"]
    assert response_at.payload_digest == f"sha256:{Body.of(BODY).sha256}"
    assert request_at.payload_digest is None
    assert strict_check(path) == []


def test_the_http_head_is_stored_as_the_bytes_on_the_wire(
    writer: WarcWriter, tmp_path: Path
) -> None:
    writer.write_exchange(exchange())
    writer.close()
    raw = gzip.decompress(only_file(tmp_path).read_bytes())
    assert b"\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Latin: caf\xe9\r\n" in raw
    assert b"\r\nX-Spacing: a  b\r\n" in raw
    # warcio's own serialisation would have percent-encoded the latin-1 value.
    plain = StatusAndHeaders("200 OK", [("X-Latin", "caf\xe9")], protocol="HTTP/1.1")
    plain.compute_headers_buffer()
    assert plain.headers_buff == b"HTTP/1.1 200 OK\r\nX-Latin: caf%C3%A9\r\n\r\n"
    exact = ExactHead("HTTP/1.1 200 OK", [("X-Latin", "caf\xe9")])
    exact.compute_headers_buffer()
    assert exact.headers_buff == b"HTTP/1.1 200 OK\r\nX-Latin: caf\xe9\r\n\r\n"


class Changed(Body):
    """A body whose stored bytes are no longer those that arrived (same length)."""

    def chunks(self) -> Iterator[bytes]:
        for chunk in super().chunks():
            yield chunk.replace(b"words", b"wordz")


class Shrunk(Body):
    """A body that gives fewer bytes than arrived."""

    def chunks(self) -> Iterator[bytes]:
        for chunk in super().chunks():
            yield chunk[:-1]


@pytest.mark.parametrize(
    ("body", "message"), [(Changed, "changed after it was received"), (Shrunk, "expected")]
)
def test_a_body_that_is_not_what_arrived_is_never_written(
    writer: WarcWriter, tmp_path: Path, body: type[Body], message: str
) -> None:
    writer.write_exchange(exchange())
    bad = body()
    bad.write(BODY)
    with pytest.raises(IntegrityError, match=message):
        writer.write_exchange(exchange(bad))
    writer.write_exchange(exchange())
    writer.close()
    path = only_file(tmp_path)
    assert strict_check(path) == []
    with path.open("rb") as file:
        types = [record.rec_type for record in ArchiveIterator(file)]
    assert types == ["warcinfo"] + ["response", "request"] * 2


def test_a_field_value_with_a_line_break_is_refused(writer: WarcWriter) -> None:
    with pytest.raises(ValueError, match="line break"):
        writer.write_metadata("<urn:uuid:x>\r\nWARC-Type: response", {})


def test_request_and_response_share_one_date_and_name_each_other(
    writer: WarcWriter, tmp_path: Path
) -> None:
    response_at, request_at = writer.write_exchange(exchange())
    writer.close()
    with only_file(tmp_path).open("rb") as file:
        records = {r.rec_type: r.rec_headers for r in ArchiveIterator(file)}
    response, request = records["response"], records["request"]
    assert response.get_header("WARC-Date") == request.get_header("WARC-Date")
    assert response.get_header("WARC-Date") == "2026-03-04T05:06:07.891011Z"
    assert request.get_header("WARC-Concurrent-To") == response_at.record_id
    assert request.get_header("WARC-Record-ID") == request_at.record_id
    warcinfo_id = records["warcinfo"].get_header("WARC-Record-ID")
    assert response.get_header("WARC-Warcinfo-ID") == warcinfo_id
    assert request.get_header("WARC-Warcinfo-ID") == warcinfo_id
    assert [v for k, v in response.headers if k == "WARC-Protocol"] == ["http/1.1"]
