"""A clock the test moves, for the runs of the library: checks are judged by time (a 404
is confirmed by checks days apart), so the tests set the time rather than wait for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves; each reading is a millisecond later, so times stay ordered."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta
