"""WARC files in an S3-compatible store, read as files are: `RemoteFolder / NAME` is the
local spool's copy while there is one (a file being written, or sealed and not uploaded
yet), else a `RemoteWarc`, whose `open()` reads by ranged GETs. They stand where the
readers (`warc.reader`, `warc.scan`, verify, export) take a `Path`: they offer what those
use of one (`name`, `open("rb")`, `exists`, `is_file`, `stat().st_size`, `with_name`)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from preserve.warcstore import s3
from preserve.warcstore.location import S3Location

# A reader that goes through a file (verify) asks for this much at a time; one that reads a
# record (show, diff, export) asks for exactly the record.
READ_AHEAD = 8 << 20


@dataclass(frozen=True)
class _Stat:
    st_size: int


@dataclass(frozen=True)
class RemoteWarc:
    """A WARC file in the store (picklable: a verify worker opens it on its own client)."""

    location: S3Location
    name: str
    size: int | None = None  # from a listing, when known
    patience: float = s3.DEFAULT_PATIENCE

    def open(self, mode: str = "rb", read_ahead: int = 0) -> RangeReader:
        if mode != "rb":
            raise ValueError("a stored WARC file is read only")
        return RangeReader(self, read_ahead)

    def with_name(self, name: str) -> RemoteWarc:
        return RemoteWarc(self.location, name, None, self.patience)

    def exists(self) -> bool:
        return self.size is not None or s3.head(self.location, self.name, self.patience) is not None

    def is_file(self) -> bool:
        return self.exists()

    def stat(self) -> _Stat:
        if self.size is not None:
            return _Stat(self.size)
        found = s3.head(self.location, self.name, self.patience)
        if found is None:
            raise FileNotFoundError(f"no such WARC file in the store: {self.name}")
        return _Stat(found[0])

    def __str__(self) -> str:
        return f"{self.location.url}/{self.name}"

    def __fspath__(self) -> str:  # what os.fspath gives (never opened as a local file)
        return str(self)


class RangeReader(io.RawIOBase):
    """A stored file as a seekable binary file, read by ranged GETs."""

    def __init__(self, warc: RemoteWarc, read_ahead: int) -> None:
        self.warc = warc
        self.read_ahead = read_ahead or (READ_AHEAD if warc.size else 0)
        self.position = 0
        self.buffer = b""
        self.buffer_at = 0
        self.size = warc.size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET:
            self.position = offset
        elif whence == os.SEEK_CUR:
            self.position += offset
        else:
            self.position = self._size() + offset
        return self.position

    def _size(self) -> int:
        if self.size is None:
            self.size = self.warc.stat().st_size
        return self.size

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = max(self._size() - self.position, 0)
        if size == 0:
            return b""
        start = self.position - self.buffer_at
        if 0 <= start and start + size <= len(self.buffer):
            data = self.buffer[start : start + size]
        else:
            want = max(size, self.read_ahead)
            fetched = s3.read_range(
                self.warc.location,
                self.warc.name,
                self.position,
                self.position + want,
                self.warc.patience,
            )
            self.buffer, self.buffer_at = fetched, self.position
            data = fetched[:size]
        self.position += len(data)
        return data

    def readinto(self, target: Any) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)


class RemoteFolder:
    """The store's files as a folder: `folder / NAME` and `iterdir()`, the spool's files
    first (they are the newest bytes: a file is deleted from the spool once recorded)."""

    def __init__(self, location: S3Location, spool: Path, patience: float) -> None:
        self.location = location
        self.spool = spool
        self.patience = patience

    def __truediv__(self, name: str) -> Path:
        local = self.spool / name
        if local.exists() or local.with_name(name + ".open").exists():
            return local
        # Not a Path, but read as one (see the module docstring).
        return cast(Path, RemoteWarc(self.location, name, None, self.patience))

    def is_dir(self) -> bool:
        return True

    def iterdir(self) -> Iterator[Path]:
        local = (
            {p.name: p for p in self.spool.iterdir() if p.is_file()} if self.spool.is_dir() else {}
        )
        yield from local.values()
        for name, size in s3.listing(self.location, self.patience):
            if name not in local:
                yield cast(Path, RemoteWarc(self.location, name, size, self.patience))

    def __str__(self) -> str:
        return self.location.url
