"""Moments: the clock (`utc_now`), and the one spelling of a moment that preserve writes, in
the database, in the hash chain and as WARC-Date: UTC, always with microseconds (warcio drops
them when they are 0), and `Z`; so it sorts as text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime


def iso(moment: datetime) -> str:
    """`moment` spelled as preserve writes it."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"  # +00:00


def parse_iso(text: str) -> datetime:
    """The moment `iso` spelled."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The clock: now, in UTC."""
    return datetime.now(UTC)
