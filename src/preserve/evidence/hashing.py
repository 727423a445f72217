"""Files too big to hold in memory, read in pieces: their size and sha256."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import IO

CHUNK = 1 << 20  # bytes read (or copied) at a time


def sha256_of(file: IO[bytes]) -> tuple[int, str]:
    """The size and sha256 (hex) of what is left to read in `file`."""
    digest, size = hashlib.sha256(), 0
    while chunk := file.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def sha256_of_path(path: Path) -> tuple[int, str]:
    """The size and sha256 (hex) of the file at `path`."""
    with path.open("rb") as file:
        return sha256_of(file)
