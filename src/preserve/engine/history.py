"""What happened to one URL and to every tracked URL: its captures and checks (`history`),
and the state of each tracked URL (`status`), as data for scripts and for the terminal."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from preserve.config import format_duration
from preserve.coverage import text_gap
from preserve.store.database import Store
from preserve.store.rows import Capture, CheckedCapture
from preserve.urls import canonical


@dataclass(frozen=True)
class HistoryEntry:
    """One capture of a URL, with its outcome: a check's outcome, or, for a capture made by
    `capture`, `new` (the first good one), `failed` (no good one yet) or `captured`."""

    captured_at: str
    http_status: int | None
    outcome: str
    reason: str | None
    error: str | None
    sha256: str | None
    text_sha256: str | None
    record_type: str | None
    warc: str | None
    offset: int | None
    length: int | None
    record_id: str | None
    final_url: str | None
    run: int | None
    url: str = ""  # the URL fetched: another one, for a capture that redirected here
    new_url: str | None = None  # where a check found the URL moved

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def history(store: Store, url: str) -> list[HistoryEntry]:
    """Every capture of `url`, oldest first, with its outcome; and the captures of other
    URLs that redirected to it (the check that found a page moved here, say), which count
    as its own: the first good one that `capture` made, of it or through a redirect, is
    `new`."""
    url = canonical(url)
    entries = []
    seen_good = False
    for checked in store.history(url, arrivals=True):
        row = checked.capture
        outcome = checked.outcome or ("captured" if seen_good else "new" if row.ok else "failed")
        seen_good = seen_good or row.ok
        entries.append(_entry(row, outcome, checked))
    return entries


def _entry(row: Capture, outcome: str, checked: CheckedCapture) -> HistoryEntry:
    return HistoryEntry(
        captured_at=row.started_at,
        http_status=row.http_status,
        outcome=outcome,
        reason=checked.reason,
        error=row.error,
        sha256=row.payload_sha256,
        text_sha256=row.text_sha256,
        record_type=row.record_type,
        warc=row.warc,
        offset=row.offset,
        length=row.length,
        record_id=row.record_id,
        final_url=row.final_url,
        run=row.run_id,
        url=row.url,
        new_url=checked.new_url,
    )


# The columns of a target that `status --json` shows, in its order.
STATUS_COLUMNS = (
    "url",
    "role",
    "state",
    "reason",
    "confirmed",
    "every_seconds",
    "next_due",
    "last_checked_at",
    "last_change_at",
    "cited_by",
    "last_event",
    "last_event_reason",
    "last_event_at",
    "paused",
    "kind",
    "text_words",
)


def status(store: Store) -> Iterator[dict[str, Any]]:
    """Every tracked URL with its state, oldest first, as `status --json` lists it; read as
    it is iterated, since an archive may track a million URLs."""
    every = cache(_interval)  # a few intervals, many rows
    for (
        url,
        role,
        state,
        reason,
        confirmed,
        seconds,
        due,
        checked,
        changed,
        cited_by,
        event,
        event_reason,
        event_at,
        paused,
        kind,
        words,
    ) in store.iter_targets(STATUS_COLUMNS):
        yield {
            "url": url,
            "role": role,
            "state": state,
            "reason": reason,
            "confirmed": bool(confirmed),
            "every": every(seconds),
            "next_due": due,
            "last_checked_at": checked,
            "last_change_at": changed,
            "cited_by": cited_by,
            "last_event": event,
            "last_event_reason": event_reason,
            "last_event_at": event_at,
            "paused": bool(paused),
            "text_gap": text_gap(kind, words),
        }


# The columns of a target that `list` shows, in its order.
LIST_COLUMNS = ("url", "role", "every_seconds", "next_due", "paused", "cited_by", "state")


def listing(store: Store) -> Iterator[dict[str, Any]]:
    """Every tracked URL with its schedule, oldest first: role, interval, next check (None
    while paused), the article it came with, and its state."""
    every = cache(_interval)
    for url, role, seconds, due, paused, cited_by, state in store.iter_targets(LIST_COLUMNS):
        yield {
            "url": url,
            "role": role,
            "every": every(seconds),
            "next_check": None if paused else due,
            "paused": bool(paused),
            "cited_by": cited_by,
            "state": state,
        }


def _interval(seconds: int | None) -> str | None:
    return format_duration(timedelta(seconds=seconds)) if seconds else None
