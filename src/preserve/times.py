"""The one spelling of a moment that preserve writes: in the database, in the hash chain and
as WARC-Date. UTC, always with microseconds (warcio drops them when they are 0), and `Z`; so
it sorts as text."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from preserve.errors import UsageError

# Where the time comes from: passed in, so that tests can move it.
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The clock preserve runs on, unless told another."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """`moment` spelled as preserve writes it."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"  # +00:00


def parse_iso(text: str) -> datetime:
    """The moment `iso` spelled."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def parse_user_time(text: str | None) -> str | None:
    """A time a user typed (ISO 8601, a date or a date and time, UTC unless it says
    otherwise), spelled as the database spells times: a prefix of it compares correctly."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(f"not a time: {text!r} (use ISO 8601, e.g. 2026-11-01T12:00)") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso(moment)
