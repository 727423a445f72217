"""warc.reader and warc.scan: read_record, and one file read in parts."""

from __future__ import annotations

import gzip
import hashlib
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from preserve.errors import IntegrityError
from preserve.warc.reader import read_record
from preserve.warc.scan import FileScan, join, scan, scan_range
from preserve.warc.writer import WarcWriter
from tests.warc.helpers import HTML, Clock, all_files, exchange

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
