"""What a check of one URL yields: the outcome and where its evidence is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from preserve.changes.model import Outcome, metadata_json
from preserve.engine.captured import Captured

CHANGE_OUTCOMES = ("edited", "gone")


@dataclass(frozen=True)
class CheckResult:
    """One URL's check: the outcome and where its evidence is."""

    url: str
    role: str
    outcome: Outcome
    captured: Captured
    baseline_capture_id: int | None
    check_id: int
    added_citations: tuple[Captured, ...] = field(default=())
    news: bool = False  # a change since this URL's last check (`notify.is_news`)

    def to_json(self) -> dict[str, Any]:
        outcome = self.outcome
        return {
            "url": self.url,
            "role": self.role,
            "outcome": outcome.outcome,
            "reason": outcome.reason,
            "confirmed": outcome.confirmed,
            "news": self.news,
            "http_status": self.captured.http_status,
            "error": self.captured.error,
            "rule": outcome.rule,
            "new_url": outcome.new_url,
            "text_equal": outcome.text_equal,
            "blocked_by": outcome.blocked_by,
            "edit": outcome_detail(outcome).get("edit"),
            "links": outcome_detail(outcome).get("links"),
            "metadata": metadata_json(outcome.metadata),
            "silent_edit": outcome.silent_edit,
            "reverted_to": outcome.reverted_to.to_json() if outcome.reverted_to else None,
            "outside_main_text": outcome_detail(outcome).get("outside_main_text"),
            "sha256": self.captured.sha256,
            "record_type": self.captured.record_type,
            "warc": self.captured.warc,
            "offset": self.captured.offset,
            "capture_id": self.captured.capture_id,
            "baseline_capture_id": self.baseline_capture_id,
            "check_id": self.check_id,
            "added_citations": [c.to_json() for c in self.added_citations],
        }


def outcome_detail(outcome: Outcome) -> dict[str, Any]:
    """The parts of an outcome that go into the check's JSON `detail` column."""
    detail: dict[str, Any] = {}
    if outcome.edit is not None:
        detail["edit"] = outcome.edit.to_json()
    if outcome.links is not None:
        detail["links"] = outcome.links.to_json()
    if outcome.blocked_by:
        detail["blocked_by"] = outcome.blocked_by
    if outcome.text_equal is not None:
        detail["text_equal"] = outcome.text_equal
    if outcome.reverted_to is not None:
        detail["reverted_to"] = outcome.reverted_to.to_json()
    if outcome.metadata:
        detail["metadata"] = metadata_json(outcome.metadata)
    if outcome.silent_edit:
        detail["silent_edit"] = True
    if outcome.passages is not None:
        old, new = outcome.passages
        detail["outside_main_text"] = {"old": old, "new": new}
    return detail
