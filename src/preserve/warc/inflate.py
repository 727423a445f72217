"""Inflating a WARC file's gzip members one by one, exactly where each begins and ends."""

from __future__ import annotations

import hashlib
import queue
import threading
import zlib
from collections.abc import Iterator
from typing import Any

READ_SIZE = 1 << 20
FIRST_STEP = 4 << 10  # compressed bytes of a member's first inflate step
_INFLATE_LIMIT = 4 << 20  # decompressed bytes per step, so one huge record never sits in memory
_BATCH_BYTES = 1 << 20  # inflated data passes between threads in batches this big
_BIG_RECORD = 64 << 10  # records bigger than this on average are inflated on a helper thread
_GZIP_MAGIC = b"\x1f\x8b\x08"  # ID1, ID2 and CM=deflate: where a gzip member can begin


Events = list[tuple[str, Any]]


def _inflate(read: Any, begin: int, stop: int | None) -> Iterator[Events]:
    """The file's gzip members from `begin` (where `read` reads next) until one starts at
    or after `stop`, inflated one by one (a fresh decompressor each, so member boundaries
    are exact), as batches of events: ("start", offset), ("data", bytes), ("end", (length,
    sha256 hex, whole)), or a problem ("truncated" / "bad-gzip" / "no-warcinfo", detail); a
    member inflated whole in its first step (most are) is one event, ("member", (offset,
    bytes, length, sha256 hex))."""
    buffer, position, offset = read(READ_SIZE), 0, begin
    view = memoryview(buffer)
    batch: Events = [] if buffer or begin else [("no-warcinfo", "empty file")]
    batched = 0
    decompressobj, sha256 = zlib.decompressobj, hashlib.sha256
    while buffer and (stop is None or offset < stop):
        inflater = decompressobj(16 + zlib.MAX_WBITS)
        start, member = offset, None  # its hash, once it takes more than one step
        # Start with small steps, because zlib copies whatever follows a member's end into
        # unused_data and most records are small; grow them for the big ones.
        step_size = FIRST_STEP
        broken = False
        try:
            while True:
                if position == len(buffer):
                    buffer, position = read(READ_SIZE), 0
                    view = memoryview(buffer)
                step = view[position : position + step_size]
                out = inflater.decompress(step, _INFLATE_LIMIT)
                used = len(step) - len(inflater.unconsumed_tail) - len(inflater.unused_data)
                position, offset = position + used, offset + used
                batched += len(out) + 256
                if member is None:
                    if inflater.eof:
                        digest = sha256(step[:used]).hexdigest()
                        batch.append(("member", (start, out, used, digest)))
                        break
                    member = sha256()
                    batch.append(("start", start))
                batch.append(("data", out))
                member.update(step[:used])
                if inflater.eof:
                    break
                if not step and len(out) < _INFLATE_LIMIT:
                    detail = f"incomplete gzip member at offset {start}: the file ends in it"
                    batch.append(("truncated", detail))
                    break
                step_size = min(step_size * 4, READ_SIZE)
                if batched > _BATCH_BYTES:
                    yield batch
                    batch, batched = [], 0
        except zlib.error as exc:
            if member is None:
                member = sha256()
                batch.append(("start", start))
            if offset == start:  # nothing of it inflated yet: recover what comes before the break
                batch.append(("data", _salvage(step)))
            batch.append(("bad-gzip", f"not a gzip member: {exc}"))
            broken = True
        if broken:
            # Carry on at the next gzip header: the member ends where the next one begins.
            buffer, position, offset = _skip_to_member(
                read, buffer, position, offset, member, first=offset == start
            )
            view = memoryview(buffer)
        if member is not None:
            batch.append(("end", (offset - start, member.hexdigest(), inflater.eof)))
            if not inflater.eof and not broken:
                break  # the file ended inside the member
        if position == len(buffer):
            buffer, position = read(READ_SIZE), 0
            view = memoryview(buffer)
        if batched > _BATCH_BYTES:
            yield batch
            batch, batched = [], 0
    yield batch


def _salvage(data: memoryview) -> bytes:
    """What a broken member inflates to before the break (so its record is named)."""
    inflater, out = zlib.decompressobj(16 + zlib.MAX_WBITS), []
    for start in range(0, len(data), 256):
        try:
            out.append(inflater.decompress(data[start : start + 256], _INFLATE_LIMIT))
        except zlib.error:
            break
    return b"".join(out)


def _skip_to_member(
    read: Any, buffer: bytes, position: int, offset: int, member: Any, *, first: bool
) -> tuple[bytes, int, int]:
    """Move to the next gzip header (not the one at `position` when `first`), hashing the
    bytes passed over into `member`; returns (buffer, position, offset) there, or an empty
    buffer at the end of the file."""
    search = position + 1 if first else position
    while True:
        found = buffer.find(_GZIP_MAGIC, search)
        if found >= 0:
            member.update(memoryview(buffer)[position:found])
            return buffer, found, offset + found - position
        # Keep the last bytes, which may be the start of a header cut by the read.
        keep = max(position, len(buffer) - len(_GZIP_MAGIC) + 1, search)
        member.update(memoryview(buffer)[position:keep])
        offset += keep - position
        more = read(READ_SIZE)
        if not more:
            member.update(memoryview(buffer)[keep:])
            return b"", 0, offset + len(buffer) - keep
        buffer, position = buffer[keep:] + more, 0
        search = 0


def batches(read: Any, start: int, stop: int | None) -> Iterator[Events]:
    """`_inflate(...)`, on a helper thread if the records are big. Measured: with big
    records the two threads overlap inflating with hashing (zlib and hashlib release the
    GIL) and check 1.5x faster; with small ones they fight over the GIL and run slower."""
    batches = _inflate(read, start, stop)
    first = next(batches)
    members = sum(1 for kind, _ in first if kind in ("start", "member"))
    inflated = sum(len(value) for kind, value in first if kind == "data") + sum(
        len(value[1]) for kind, value in first if kind == "member"
    )
    yield first
    if inflated > _BIG_RECORD * members:
        yield from _in_background(batches)
    else:
        yield from batches


def _in_background(batches: Iterator[Events]) -> Iterator[Events]:
    """Run a generator on a helper thread, a few items ahead."""
    ready: queue.Queue[Events | BaseException | None] = queue.Queue(maxsize=8)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                if stop.is_set():
                    return
                ready.put(batch)
            ready.put(None)
        except BaseException as exc:  # handed over, to be raised in the caller's thread
            ready.put(exc)

    thread = threading.Thread(target=produce, name="strict-check-inflate", daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting for room
            try:
                ready.get(timeout=0.05)
            except queue.Empty:
                pass
