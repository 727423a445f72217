"""Exchanges built by hand, and WARC files read back record by record and validated."""

from __future__ import annotations

import subprocess
import sys
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from preserve import USER_AGENT
from preserve.net.exchange import Body, Exchange
from preserve.warc.reader import StoredRecord, read_record
from preserve.warc.scan import strict_check
from preserve.warc.writer import RecordLocation

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
