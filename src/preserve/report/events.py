"""A URL's timeline events, from its captures and checks: runs merged, returns told apart."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from preserve.changes.model import MetadataChange
from preserve.report.model import BAD_STATES, CaptureRef, Event
from preserve.store.rows import CaptureSummary, Check

# The check outcomes that make an event (`unchanged` and `cosmetic` do not).
EVENT_OUTCOMES = ("edited", "moved", "restored", "gone", "restricted", "unreachable", "failed")


def check_detail(check: Check) -> dict[str, Any]:
    """A check's JSON detail (the edit summary, link changes, …), `{}` when unreadable."""
    try:
        detail = json.loads(check.detail or "{}")
    except ValueError:
        return {}
    return detail if isinstance(detail, dict) else {}


def events_of(captures: Sequence[CaptureSummary], checks: Sequence[Check]) -> list[Event]:
    """The events of one URL, oldest first: its first capture, then the noteworthy outcomes
    of its checks. The same takedown, restriction or outage seen again with nothing else
    noteworthy between is one event; so is a run of edits of the same kind at consecutive
    checks, and so are edits back and forth between two versions."""
    events: list[Event] = []
    if captures:
        first = CaptureRef.from_row(captures[0])
        events.append(
            Event(
                first.captured_at,
                "captured" if first.good else "failed",
                first.error
                or (f"http-{first.http_status}" if not first.good and first.http_status else None),
            )
        )
    previous: str | None = None  # the outcome of the check before, an event or not
    for check in checks:
        outcome, follows = check.outcome, previous
        previous = outcome
        if outcome not in EVENT_OUTCOMES:
            continue
        detail = check_detail(check)
        edit = detail.get("edit") or {}
        last = events[-1] if events else None
        repeat = (
            last is not None
            and outcome in BAD_STATES
            and (last.outcome, last.reason) == (outcome, check.reason)
        )
        if repeat:
            assert last is not None
            events[-1] = Event(
                last.at,
                outcome,
                last.reason,
                bool(check.confirmed),
                check.checked_at,
                last.times + 1,
            )
            continue
        reverted = detail.get("reverted_to") or {}
        if follows == "edited" and _same_kind_of_edit(last, check, detail):
            # A page edited at every check (a live blog) is one event, with its totals;
            # edits with quiet checks between them stay apart.
            assert last is not None
            events[-1] = replace(
                last,
                last_at=check.checked_at,
                times=last.times + 1,
                words_added=_plus(last.words_added, edit.get("words_added")),
                words_removed=_plus(last.words_removed, edit.get("words_removed")),
            )
            continue
        if reverted.get("alternating") and last is not None and last.reverted_to:
            # A, B, A, B: the edits back and forth since the first return are one event.
            events[-1] = replace(
                last,
                last_at=check.checked_at,
                times=last.times + 1 if last.alternating else 2,
                alternating=True,
            )
            continue
        events.append(
            Event(
                check.checked_at,
                outcome,
                check.reason,
                bool(check.confirmed),
                new_url=check.new_url,
                text_equal=detail.get("text_equal"),
                words_added=edit.get("words_added"),
                words_removed=edit.get("words_removed"),
                reverted_to=reverted.get("captured_at"),
                alternating=bool(reverted.get("alternating")),
                metadata=_restated(detail.get("metadata")),
                silent_edit=bool(detail.get("silent_edit")),
            )
        )
    return events


def _same_kind_of_edit(last: Event | None, check: Check, detail: dict[str, Any]) -> bool:
    """Whether this check's edit continues the run of edits `last` stands for: the same
    reason, both plain (no return to an earlier version, no title, byline or date told
    apart), both silent or neither."""
    return (
        last is not None
        and last.outcome == check.outcome == "edited"
        and last.reason == check.reason
        and not (last.reverted_to or last.alternating or last.metadata)
        and not (detail.get("reverted_to") or detail.get("metadata"))
        and last.silent_edit == bool(detail.get("silent_edit"))
    )


def _plus(total: int | None, more: Any) -> int | None:
    return total + more if isinstance(total, int) and isinstance(more, int) else total


def _restated(metadata: Any) -> tuple[MetadataChange, ...]:
    """A check detail's `metadata` (as `changes.classify.metadata_json` writes it), in field
    order."""
    if not isinstance(metadata, dict):
        return ()
    return tuple(
        MetadataChange(name, metadata[name].get("before"), metadata[name].get("after"))
        for name in ("title", "byline", "modified")
        if isinstance(metadata.get(name), dict)
    )
