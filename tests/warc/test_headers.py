"""warc.writer: the HTTP headers as stored (lengths, encodings, bytes kept exact)."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from preserve.net.exchange import Body
from preserve.warc.writer import WarcWriter
from tests.warc.helpers import HTML, all_files, assert_valid, exchange, read, records_of


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
