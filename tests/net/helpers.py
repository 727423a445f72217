"""Fetching in tests: limits that allow loopback, and one fetch with a fetcher of its own."""

from __future__ import annotations

from preserve.config import FetchLimits
from preserve.net.fetcher import Fetched, Fetcher

LOOPBACK = FetchLimits(allow_private=True, timeout=2)
HTML = "<html><head><title>T</title></head><body>" + "<p>words and more words</p>" * 60


def fetch(url: str, limits: FetchLimits = LOOPBACK, *, typed: bool = False) -> Fetched:
    with Fetcher(limits) as f:
        return f.fetch(url, typed=typed)


GUARDED = FetchLimits(timeout=2)
