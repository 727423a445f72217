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
    bytes, length, sha256 hex)).

    After broken deflate data the next gzip header is looked for from just after the broken
    member's own, not from where zlib gave up: a flipped bit near the end of a member can
    make its deflate data read on through the members after it, before failing or reaching
    the end of the file, and those members must still be found (`_Window`)."""
    window = _Window(read, begin)
    batch: Events = [] if window.buffer or begin else [("no-warcinfo", "empty file")]
    batched = 0
    decompressobj, sha256 = zlib.decompressobj, hashlib.sha256
    while window.buffer and (stop is None or window.offset < stop):
        inflater = decompressobj(16 + zlib.MAX_WBITS)
        start, member = window.begin_member(), None  # its hash, once it takes more than one step
        # Start with small steps, because zlib copies whatever follows a member's end into
        # unused_data and most records are small; grow them for the big ones.
        step_size = FIRST_STEP
        broken = ""  # why the member is broken
        try:
            while True:
                if window.position == len(window.buffer):
                    window.advance(member)
                step = window.view[window.position : window.position + step_size]
                out = inflater.decompress(step, _INFLATE_LIMIT)
                used = len(step) - len(inflater.unconsumed_tail) - len(inflater.unused_data)
                window.position += used
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
                    if window.holds_header_after(start):
                        # Not cut off: its deflate data ran on through the members after it.
                        broken = "its deflate data does not end before the next gzip member"
                    else:
                        detail = f"incomplete gzip member at offset {start}: the file ends in it"
                        batch.append(("truncated", detail))
                    break
                step_size = min(step_size * 4, READ_SIZE)
                if batched > _BATCH_BYTES:
                    yield batch
                    batch, batched = [], 0
        except zlib.error as exc:
            if member is None:
                batch.append(("start", start))
            if window.offset == start:  # nothing inflated: recover what comes before the break
                batch.append(("data", _salvage(step)))
            broken = f"not a gzip member: {exc}"
        if broken:
            batch.append(("bad-gzip", broken))
            member = window.skip_to_member(start)  # the member ends where the next begins
        if member is not None:
            batch.append(("end", (window.offset - start, member.hexdigest(), inflater.eof)))
            if not inflater.eof and not broken:
                break  # the file ended inside the member
        if window.position == len(window.buffer):
            window.advance(None)
        if batched > _BATCH_BYTES:
            yield batch
            batch, batched = [], 0
    yield batch


class _Window:
    """The last two reads of a file, `previous` then `buffer`, and where in them the scan
    is. A broken member is searched again for the next gzip header from just after its own
    (`skip_to_member`), as far back as the window reaches: at least one read (1 MiB) before
    where zlib gave up, far more than broken deflate data runs on in practice. So that the
    broken member's hash can be made again from there, the hash of the member being read is
    kept as it was at the start of each read (`copy()` of a sha256 is a few bytes)."""

    def __init__(self, read: Any, begin: int) -> None:
        self._read = read
        self.previous = b""
        self.buffer: bytes = read(READ_SIZE)
        self.view = memoryview(self.buffer)
        self.base = begin  # the file offset of buffer[0]
        self.position = 0  # in buffer
        # The hash of the member being read as it was at the start of `previous` and of
        # `buffer` (None: the member began later).
        self._marks: tuple[Any, Any] = (None, None)

    @property
    def offset(self) -> int:
        return self.base + self.position

    def begin_member(self) -> int:
        """A member begins where the scan is: its offset."""
        self._marks = (None, None)
        return self.offset

    def advance(self, member: Any) -> None:
        """Read on at the end of `buffer`; `member` is the hash so far of the member being
        read (None: none is, or it has not taken a step yet)."""
        self._marks = (self._marks[1], None if member is None else member.copy())
        self.previous, self.base = self.buffer, self.base + len(self.buffer)
        self.buffer = self._read(READ_SIZE)
        self.view, self.position = memoryview(self.buffer), 0

    def holds_header_after(self, start: int) -> bool:
        """Is there a gzip header in the window after that of the member at `start`?"""
        window_base = self.base - len(self.previous)
        search = max(start + 1, window_base) - window_base
        return (self.previous + self.buffer).find(_GZIP_MAGIC, search) >= 0

    def skip_to_member(self, start: int) -> Any:
        """Move to the next gzip header after that of the broken member at `start`, or to
        the end of the file; returns the member's hash, from `start` to there."""
        window_base = self.base - len(self.previous)
        if start >= window_base:
            member, hashed = hashlib.sha256(), start
        else:  # it began before the window: go on from its hash at the window's start
            member, hashed = self._marks[0].copy(), window_base
        if hashed < self.base:
            self.buffer = self.previous[hashed - window_base :] + self.buffer
            self.base = hashed
        self.previous = b""
        position, search = hashed - self.base, max(start + 1, hashed) - self.base
        while True:
            found = self.buffer.find(_GZIP_MAGIC, search)
            if found >= 0:
                member.update(memoryview(self.buffer)[position:found])
                self.position = found
                break
            # Keep the last bytes, which may be the start of a header cut by the read.
            keep = max(position, len(self.buffer) - len(_GZIP_MAGIC) + 1, search)
            member.update(memoryview(self.buffer)[position:keep])
            more = self._read(READ_SIZE)
            if not more:
                member.update(memoryview(self.buffer)[keep:])
                self.base, self.buffer, self.position = self.base + len(self.buffer), b"", 0
                break
            self.buffer, self.base = self.buffer[keep:] + more, self.base + keep
            position = search = 0
        self.view = memoryview(self.buffer)
        return member


def _salvage(data: memoryview) -> bytes:
    """What a broken member inflates to before the break (so its record is named)."""
    inflater, out = zlib.decompressobj(16 + zlib.MAX_WBITS), []
    for start in range(0, len(data), 256):
        try:
            out.append(inflater.decompress(data[start : start + 256], _INFLATE_LIMIT))
        except zlib.error:
            break
    return b"".join(out)


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
