"""What classification works on and returns: snapshots of a URL, earlier checks, and the
outcome with its evidence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from preserve.changes.links import LinkChanges
from preserve.changes.summary import EditSummary

GOOD = frozenset({"unchanged", "cosmetic", "edited", "moved"})
BAD = frozenset({"gone", "unreachable", "restricted"})


TEXT_KINDS = frozenset({"html", "text"})


@dataclass(frozen=True)
class Snapshot:
    """One observation of a URL, as compare needs it (the caller maps fetch/extract into it)."""

    url: str  # the URL that was requested
    captured_at: datetime
    error: str | None = None  # fetch failure code ("dns" = NXDOMAIN); None if a response came
    status: int | None = None  # final HTTP status
    final_url: str | None = None
    redirects: tuple[tuple[str, int], ...] = ()  # (url, status) of each redirect hop, in order
    headers: tuple[tuple[str, str], ...] = ()  # final response headers
    truncated: str | None = None  # "length", "time" or "disconnect"
    payload_sha256: str | None = None
    kind: str = "html"  # "html", "text", "pdf" or "other"
    title: str | None = None
    # The byline and the stated dateModified: "" when the page states none, None when not
    # known (a capture made before preserve recorded them), which is never read as a change.
    byline: str | None = None
    modified: str | None = None
    text: str = ""  # normalised main text, paragraphs separated by "\n"
    visible_text: str = ""  # normalised full visible text
    # The visible text was wanted and could not be had (its WARC record is lost): what lies
    # outside the main text was not compared, and nothing may be said of it.
    visible_missing: bool = False
    links: tuple[tuple[str, str], ...] = ()  # (url, anchor text) citations, in order
    norm_version: int = 1
    text_sha256: str | None = None
    loose_sha256: str | None = None
    links_sha256: str | None = None

    def same_text(self, other: Snapshot) -> bool:
        """Whether both say the same main text, under the same normalisation."""
        if self.norm_version != other.norm_version:
            return False
        if self.text_sha256 and other.text_sha256:
            return self.text_sha256 == other.text_sha256
        return self.text == other.text


@dataclass(frozen=True)
class PastCheck:
    """An earlier check of the same URL (history is oldest first)."""

    checked_at: datetime
    outcome: str
    reason: str | None
    confirmed: bool = False


@dataclass(frozen=True)
class Reversion:
    """An edit that brings back what the page said before its baseline: the latest earlier
    capture that said it. `alternating`: what the baseline says had also been said before
    that, so the page goes back and forth between two versions (an A/B-tested headline)."""

    capture_id: int
    captured_at: str
    alternating: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "capture_id": self.capture_id,
            "captured_at": self.captured_at,
            "alternating": self.alternating,
        }


@dataclass(frozen=True)
class MetadataChange:
    """A change in what the page says of itself: its title, byline or stated date of
    modification, each compared on its own (docs/outcomes.md)."""

    field: str  # "title" | "byline" | "modified"
    before: str | None
    after: str | None


def metadata_json(changes: Sequence[MetadataChange]) -> dict[str, Any] | None:
    """`{"title": {"before": …, "after": …}, …}` for the fields that changed; None if none."""
    return {c.field: {"before": c.before, "after": c.after} for c in changes} or None


@dataclass(frozen=True)
class Outcome:
    """The verdict on one check, with the rule that fired and the evidence it rests on."""

    outcome: str  # new|unchanged|cosmetic|edited|moved|gone|restricted|unreachable|restored|failed
    reason: str | None
    confirmed: bool
    rule: str  # the rule that fired, e.g. "status.410", "soft404.root-redirect"
    new_url: str | None = None  # moved to
    text_equal: bool | None = None  # does the main text equal the baseline's
    edit: EditSummary | None = None
    links: LinkChanges | None = None
    blocked_by: str | None = None  # 451: the Link rel="blocked-by" target
    metadata: tuple[MetadataChange, ...] = ()  # title, byline, stated date: what changed
    # The main text changed while the page went on stating the same date of modification:
    # an edit the page does not own up to.
    silent_edit: bool = False
    reverted_to: Reversion | None = None  # an edit back to an earlier version (set by check)
    # An edit outside the main text: the passages of the visible text it touched, before
    # and after (`changes.prose`), which `report` diffs where the main texts are equal.
    passages: tuple[str, str] | None = None
