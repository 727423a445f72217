"""Big pages: extracted one at a time on a thread of their own rather than in a worker, and
the memory they took given back to the system after."""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Any

from preserve.extract.decode import decode_content
from preserve.extract.extracted import Extracted

# Bodies bigger than this (once inflated) are extracted one at a time.
HEAVY_BODY = 1 << 20

try:  # glibc: freed memory otherwise stays with the thread that used it
    _malloc_trim: Callable[[int], int] | None = ctypes.CDLL(None).malloc_trim
except (OSError, AttributeError):
    _malloc_trim = None


def release_memory() -> None:
    """Hand freed heap memory back to the system after a heavy page, so that heavy pages
    extracted on different threads do not add up."""
    if _malloc_trim is not None:
        _malloc_trim(0)


def extract_heavy(raw: bytes, options: dict[str, Any]) -> Extracted:
    from preserve.extract.extractor import extract  # lxml: only a process that extracts imports it

    try:
        return extract(raw, **options)
    finally:
        release_memory()


def is_heavy(raw: bytes, content_encoding: str | None) -> bool:
    """More than HEAVY_BODY bytes once inflated (a compressed body is inflated that far to
    know: a few KB of gzip can hold many MB)."""
    if len(raw) > HEAVY_BODY:
        return True
    return (
        bool(content_encoding)
        and len(decode_content(raw, content_encoding, HEAVY_BODY + 1)) > HEAVY_BODY
    )
