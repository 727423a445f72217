"""warc.scan.strict_check: what `warcio check` lets through, and negative fixtures that
strict_check must reject."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from preserve.warc.scan import strict_check
from preserve.warc.writer import WarcWriter
from tests.warc.helpers import (
    HTML,
    Clock,
    all_files,
    exchange,
    member_offsets,
    records_of,
    warcio_check,
)


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
