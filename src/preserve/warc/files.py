"""WARC files on disk: the `.open` name and lock of a file being written, and opening one."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import BinaryIO

# A file is written as `NAME.open` and renamed to `NAME` only once complete.
OPEN_SUFFIX = ".open"


def lock_open_file(fd: int, path: Path) -> bool:
    """Take the lock that marks the `.open` file `path` (open as `fd`) as being written; the
    system drops it when its writer closes the file or dies, which is how an orphan (left by
    a writer that died) is told from a file in use. False if another process holds it, or
    if `path` is no longer this file (whoever seals orphans got to it first)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except (BlockingIOError, FileNotFoundError):
        return False


def open_warc(path: Path) -> BinaryIO:
    """Open a WARC file for reading, or its `.open` twin while it is still being written."""
    still_open = path.with_name(path.name + OPEN_SUFFIX)
    for candidate in (path, still_open, path):  # it may be renamed between the two tries
        try:
            return candidate.open("rb")
        except FileNotFoundError:
            continue
    raise FileNotFoundError(f"no such WARC file: {path}")


def fsync_dir(directory: Path) -> None:
    """Make a rename in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
