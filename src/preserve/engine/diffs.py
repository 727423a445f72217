"""`diff`: the word diff of a URL's main text between two of its captures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from preserve.changes.diff import Hunk, word_diff
from preserve.changes.prose import edited_passages, prose_edits
from preserve.config import DEFAULT_MAX_INFLATED
from preserve.engine.archive import Archive
from preserve.engine.snapshots import extract_again
from preserve.errors import PreserveError, UsageError
from preserve.store.database import Store
from preserve.store.rows import Capture
from preserve.urls import canonical


def pick_diff_pair(
    store: Store, url: str, from_time: str | None, to_time: str | None
) -> tuple[Capture, Capture]:
    """The two captures `diff` compares: the latest good capture at or before `to_time`
    (default: the latest), and the latest good capture at or before `from_time` (default:
    the latest before it whose text differs, else the one just before it, else itself: a
    text that never changed is no error, only no change)."""
    good = store.good_captures(url)
    if not good:
        raise UsageError(f"no good capture of {url} in this archive")
    newer = [c for c in good if to_time is None or c.started_at <= to_time]
    if not newer:
        raise UsageError(f"no good capture of {url} at or before {to_time}")
    new = newer[-1]
    earlier = [
        c
        for c in good
        if c.started_at < new.started_at or (c.started_at == new.started_at and c.id < new.id)
    ]
    if from_time is not None:
        candidates = [c for c in earlier if c.started_at <= from_time]
        if not candidates:
            raise UsageError(f"no good capture of {url} at or before {from_time}")
        return candidates[-1], new
    differing = [c for c in earlier if c.text_sha256 != new.text_sha256]
    return (differing or earlier or [new])[-1], new


@dataclass(frozen=True)
class CaptureDiff:
    """Two captures of a URL and the word diff of their main texts; or, where those are
    equal and the page's prose around them was edited (`changes.prose`), of those passages
    (`outside_main_text`)."""

    url: str
    old: Capture
    new: Capture
    hunks: list[Hunk]
    old_text: str = field(default="", repr=False)
    new_text: str = field(default="", repr=False)
    outside_main_text: bool = False

    @property
    def changed(self) -> bool:
        return any(hunk.op != "equal" for hunk in self.hunks)

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "changed": self.changed,
            "outside_main_text": self.outside_main_text,
            "from": _capture_ref(self.old),
            "to": _capture_ref(self.new),
            "hunks": [hunk.to_json() for hunk in self.hunks],
        }


def diff(
    archive: Archive,
    url: str,
    from_time: str | None = None,
    to_time: str | None = None,
    *,
    max_inflated: int = DEFAULT_MAX_INFLATED,
) -> CaptureDiff:
    """The diff `preserve diff` shows (see `pick_diff_pair` for which captures). Where the
    main texts are equal, the pages' visible texts are compared as a check compares them,
    read again from the WARC records when the archive did not keep them."""
    store = archive.store
    url = canonical(url)
    old, new = pick_diff_pair(store, url, from_time, to_time)
    old_text = store.text(old.text_sha256) or ""
    new_text = store.text(new.text_sha256) or ""
    if old_text == new_text and old.id != new.id and old.kind == new.kind == "html":
        old_visible = _visible_text(archive, old, max_inflated)
        new_visible = _visible_text(archive, new, max_inflated)
        if old_visible is not None and new_visible is not None:
            edits = prose_edits(old_visible, new_visible, old_text)
            if edits:
                old_text, new_text = edited_passages(edits)
                hunks = word_diff(old_text, new_text)
                return CaptureDiff(url, old, new, hunks, old_text, new_text, True)
    return CaptureDiff(url, old, new, word_diff(old_text, new_text), old_text, new_text)


def _visible_text(archive: Archive, row: Capture, max_inflated: int) -> str | None:
    """A capture's visible text: kept in the archive, or read again from its WARC record
    (None: neither could be had)."""
    kept = archive.store.visible_text(row.visible_sha256)
    if kept is not None:
        return kept
    try:
        return extract_again(archive, row, max_inflated).visible_text
    except (OSError, PreserveError):
        return None


def _capture_ref(row: Capture) -> dict[str, Any]:
    return {
        "captured_at": row.started_at,
        "sha256": row.payload_sha256,
        "text_sha256": row.text_sha256,
        "warc": row.warc,
        "offset": row.offset,
        "record_id": row.record_id,
    }
