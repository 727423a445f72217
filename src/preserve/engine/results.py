"""What a check of one URL yields: the outcome and where its evidence is."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from preserve.changes.links import Link, LinkChanges, Reanchor, Retarget
from preserve.changes.model import MetadataChange, Outcome, Reversion, metadata_json
from preserve.changes.summary import EditSummary
from preserve.engine.captured import Captured, Job

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


@dataclass(frozen=True)
class StoredResult(CheckResult):
    """A result read back from the document a worker stored (`CheckResult.to_json`): what
    `check --wait` prints, in text from its fields and in JSON as the document itself."""

    document: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return self.document


def result_from_json(doc: dict[str, Any]) -> StoredResult:
    """The result a `CheckResult.to_json()` document describes, as far as it says."""
    edit = doc.get("edit")
    links = doc.get("links")
    reverted = doc.get("reverted_to")
    outcome = Outcome(
        outcome=doc["outcome"],
        reason=doc.get("reason"),
        confirmed=bool(doc.get("confirmed")),
        rule=doc.get("rule") or "",
        new_url=doc.get("new_url"),
        text_equal=doc.get("text_equal"),
        edit=None
        if edit is None
        else EditSummary(
            words_added=edit["words_added"],
            words_removed=edit["words_removed"],
            percent_changed=edit["percent_changed"],
            first_changed_old=edit["first_changed_old"],
            first_changed_new=edit["first_changed_new"],
            numbers_changed=tuple(tuple(p) for p in edit["numbers_changed"]),
            negations_added=tuple(edit["negations_added"]),
            negations_removed=tuple(edit["negations_removed"]),
            moves=edit["moves"],
            hunks=(),
        ),
        links=None
        if links is None
        else LinkChanges(
            added=tuple(Link(**x) for x in links["added"]),
            removed=tuple(Link(**x) for x in links["removed"]),
            retargeted=tuple(Retarget(**x) for x in links["retargeted"]),
            reanchored=tuple(Reanchor(**x) for x in links["reanchored"]),
        ),
        blocked_by=doc.get("blocked_by"),
        metadata=tuple(
            MetadataChange(name, change["before"], change["after"])
            for name, change in (doc.get("metadata") or {}).items()
        ),
        silent_edit=bool(doc.get("silent_edit")),
        reverted_to=None
        if reverted is None
        else Reversion(reverted["capture_id"], reverted["captured_at"], reverted["alternating"]),
    )
    return StoredResult(
        url=doc["url"],
        role=doc["role"],
        outcome=outcome,
        captured=_captured(doc["url"], doc),
        baseline_capture_id=doc.get("baseline_capture_id"),
        check_id=doc["check_id"],
        added_citations=tuple(
            _captured(c["url"], c, role="citation") for c in doc.get("added_citations", [])
        ),
        news=bool(doc.get("news")),
        document=doc,
    )


def _captured(url: str, doc: dict[str, Any], role: str = "") -> Captured:
    return Captured(
        job=Job(url, role or doc.get("role", "")),
        capture_id=doc.get("capture_id") or 0,
        status=doc.get("status") or ("failed" if doc.get("error") else "captured"),
        error=doc.get("error"),
        error_detail=None,
        http_status=doc.get("http_status"),
        final_url=None,
        sha256=doc.get("sha256"),
        text_sha256=None,
        title=None,
        record_type=doc.get("record_type"),
        warc=doc.get("warc"),
        offset=doc.get("offset"),
        length=None,
        truncated=None,
    )
