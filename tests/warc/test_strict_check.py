"""warc.scan.strict_check: what `warcio check` lets through, and negative fixtures that
strict_check must reject."""

from __future__ import annotations

import gzip
import hashlib
import random
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from preserve.warc import inflate
from preserve.warc.scan import scan, strict_check
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


def hand_made_file(bodies: list[bytes]) -> bytes:
    """A valid file of fixed bytes (but for gzip's time stamps): a warcinfo, then one
    response member for each body."""
    info_id = "<urn:uuid:00000000-0000-4000-8000-0000000000f0>"
    info = [("WARC-Type", "warcinfo"), ("WARC-Record-ID", info_id),
            ("WARC-Date", "2026-01-01T00:00:00Z"), ("WARC-Filename", "hand.warc.gz"),
            ("Content-Type", "application/warc-fields")]  # fmt: skip
    members = [member(info, b"software: hand\r\n")]
    for number, body in enumerate(bodies):
        fields = dict(response_fields(info_id, f"http://example.com/{number}"))
        fields["WARC-Record-ID"] = f"<urn:uuid:00000000-0000-4000-8000-{number:012d}>"
        block = http_block([f"Content-Length: {len(body)}"], body)
        members.append(member(list(fields.items()), block, payload=body))
    return b"".join(members)


def runs_on(data: bytes, start: int, end: int) -> str | None:
    """Where zlib, inflating the member at `start` byte by byte, notices it is broken:
    "past-end" when only after the member's own end, "no-end" when never (it reads on to
    the end of the file); None when within the member."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        inflater.decompress(data[start:end])
    except zlib.error:
        return None
    for position in range(end, len(data)):
        try:
            inflater.decompress(data[position : position + 1])
        except zlib.error:
            return "past-end"
        if inflater.eof:
            return "past-end"
    return None if inflater.eof else "no-end"


WORDS = "the minister said on Tuesday that the report was withdrawn after the court ruled".split()


def test_broken_deflate_data_that_reads_on_hides_no_member_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flipped bit near the end of a member can turn its deflate data into some that reads
    on through the members after it, failing only there or never (reaching the end of the
    file): every member after the damaged one is still found, with the hash it had, and
    every problem is named inside the damaged member, never a cut-off file. Each bit of the
    last 24 bytes of each member's deflate data is flipped in turn. (The first inflate step
    is made small, as if the members were bigger: broken data that fails within the first
    step was always searched again from the member's start.)"""
    monkeypatch.setattr(inflate, "FIRST_STEP", 8)
    pick = random.Random(7).choice
    data = hand_made_file([" ".join(pick(WORDS) for _ in range(60)).encode() for _ in range(12)])
    pristine = tmp_path / "pristine.warc.gz"
    pristine.write_bytes(data)
    members = scan(pristine).members
    assert strict_check(pristine) == [] and len(members) == 13
    damaged, seen = tmp_path / "damaged.warc.gz", set()
    for broken in members[1:]:
        start, end = broken.offset, broken.offset + broken.length
        after = [m for m in members if m.offset >= end]
        for position in range(end - 8 - 24, end - 8):  # the gzip trailer is the last 8
            for bit in range(8):
                flipped = bytearray(data)
                flipped[position] ^= 1 << bit
                damaged.write_bytes(bytes(flipped))
                result = scan(damaged)
                if after:
                    seen.add(runs_on(bytes(flipped), start, end))
                assert [m for m in result.members if m.offset >= end] == after, (position, bit)
                assert all(start <= p.offset < end for p in result.problems), (position, bit)
                named = {p.kind for p in result.problems}
                # Damage that reads on to the end of the file looks like a cut-off file
                # when nothing follows: "truncated" is what can be said of the last member.
                allowed = {"bad-gzip", "block-digest", "payload-digest"}
                assert named <= allowed | ({"truncated"} if not after else set()), (position, bit)
                # Unless the bit is one deflate never reads (the padding after the last
                # block): then only the member's hash tells, which verify holds to the row.
                (hit,) = [m for m in result.members if m.offset == start]
                assert named or hit.sha256 != broken.sha256, (position, bit)
                assert hit.sha256 == hashlib.sha256(flipped[start:end]).hexdigest()
    # The cases the test is for did occur: damage read on past the member's end, failing
    # there or never.
    assert {"past-end", "no-end"} <= seen, seen


def test_a_broken_member_over_several_reads_is_searched_again_from_the_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With reads far smaller than its member, a record broken in its middle: the next
    member is still found where it begins, and the broken member's hash is that of its own
    bytes (made again from the hash kept at the start of the window)."""
    monkeypatch.setattr(inflate, "READ_SIZE", 64)
    pick = random.Random(7).choice
    body = " ".join(pick(WORDS) + str(pick(range(100))) for _ in range(1000)).encode()
    data = hand_made_file([body, b"after"])
    pristine = tmp_path / "pristine.warc.gz"
    pristine.write_bytes(data)
    members = scan(pristine).members
    assert strict_check(pristine) == [] and members[1].length > 20 * 64
    damaged = tmp_path / "damaged.warc.gz"
    start, end = members[1].offset, members[1].offset + members[1].length
    for position in range(start + 10 + 64 * 5, end - 8, 97):
        flipped = bytearray(data)
        flipped[position] ^= 0x10
        damaged.write_bytes(bytes(flipped))
        result = scan(damaged)
        assert [m for m in result.members if m.offset >= end] == members[2:], position
        (hit,) = [m for m in result.members if m.offset == start]
        assert hit.sha256 == hashlib.sha256(flipped[start:end]).hexdigest(), position
        assert "bad-gzip" in {p.kind for p in result.problems}, position
