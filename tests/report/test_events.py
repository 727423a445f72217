"""What the report tells of a source's history: returns, edits back and forth, and a
source never captured."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from preserve.report.build import build_report
from preserve.report.text import report_text
from preserve.store.database import Store
from preserve.times import iso
from tests.report.helpers import Rows
from tests.support.clock import T0


def test_a_source_keeps_its_history_restored_and_edited(tmp_path: Path) -> None:
    rows = Rows()
    day = timedelta(days=1)
    article = "https://news.example/story"
    back, edited = "https://src.example/back", "https://src.example/edited"
    article_id = rows.capture(article, "article", T0, "Story text.", citations=[back, edited])
    rows.target(article, "article", article_id, "new", None, None, T0)
    first = rows.capture(back, "citation", T0, "Original words.")
    for n, outcome in enumerate(("gone", "gone", "restored", "unchanged"), start=1):
        at = T0 + n * day
        capture = rows.capture(
            back,
            "citation",
            at,
            "" if outcome == "gone" else "Original words.",
            status=404 if outcome == "gone" else 200,
        )
        rows.check(
            back,
            at,
            capture,
            first,
            outcome,
            "http-404" if outcome != "unchanged" else None,
            {"text_equal": True} if outcome != "gone" else {},
        )
    rows.target(back, "citation", first, "unchanged", None, article, T0 + 4 * day)
    one = rows.capture(edited, "citation", T0, "The minister confirmed it.")
    two = rows.capture(edited, "citation", T0 + day, "The minister denied it.")
    rows.check(
        edited,
        T0 + day,
        two,
        one,
        "edited",
        "text",
        {
            "edit": {
                "words_added": 1,
                "words_removed": 1,
                "percent_changed": 20.0,
                "negations_added": ["denied"],
            }
        },
    )
    three = rows.capture(edited, "citation", T0 + 2 * day, "The minister denied it.")
    rows.check(edited, T0 + 2 * day, three, two, "unchanged", None, {"text_equal": True})
    rows.target(edited, "citation", three, "unchanged", None, article, T0 + 2 * day)
    store = Store(tmp_path / "preserve.db")
    try:
        with store.db.atomic():
            store.db["runs"].insert_all([{"id": 1}, {"id": 2}])
            for table, data in rows.tables.items():
                store.db[table].insert_all(data, ignore=table == "texts")
        report = build_report(
            store, [article], archive=str(tmp_path), generated_at=iso(T0), tool_version="test"
        )
    finally:
        store.close()
    (dossier,) = report.articles
    restored, changed = (c.standing for c in dossier.citations)
    assert restored.state == "restored"
    assert [e.describe() for e in restored.events] == [
        "first captured",
        "gone: HTTP 404 Not Found (not yet confirmed), seen 2 times",
        "back online (was HTTP 404 Not Found), text as before",
    ]
    assert changed.state == "edited"  # the last check found it unchanged: since the edit
    assert [e.outcome for e in changed.events] == ["captured", "edited"]
    (edit,) = dossier.edits
    assert [(s.op, s.text, s.mark) for p in edit.paragraphs for s in p.segments] == [
        ("equal", "The minister", ""),
        ("delete", "confirmed", ""),
        ("insert", "denied", "negation"),
        ("equal", "it.", ""),
    ]
    text = report_text(report, colour=False)
    assert "Source 2 “anchor 1” edited: text changed" in text
    assert "The minister [-confirmed-] {+denied+} it." in text


def test_edits_back_and_forth_are_told_as_one_event() -> None:
    """The events of a URL's checks: a return to an earlier version says so; alternating
    edits that follow it are one event; an alternating edit after something else (here a
    spell offline) starts a new one."""
    from preserve.report.events import events_of
    from preserve.store.rows import Check

    def check(at: str, outcome: str, reverted: dict[str, Any] | None = None) -> Check:
        detail: dict[str, Any] = {"edit": {"words_added": 1, "words_removed": 1}}
        if reverted:
            detail["reverted_to"] = reverted
        return Check(
            id=0,
            run_id=1,
            url="https://example.org/",
            role="citation",
            checked_at=at,
            capture_id=0,
            baseline_capture_id=None,
            probe_capture_id=None,
            outcome=outcome,
            reason="title-only" if outcome == "edited" else "timeout",
            confirmed=1,
            rule="test",
            http_status=200,
            new_url=None,
            detail=json.dumps(detail),
        )

    back = {"capture_id": 1, "captured_at": "2026-11-01T10:00:00.000000Z", "alternating": False}
    again = {**back, "alternating": True}
    checks = [
        check("2026-11-02T10:00:00.000000Z", "edited"),
        check("2026-11-03T10:00:00.000000Z", "edited", back),
        check("2026-11-04T10:00:00.000000Z", "edited", again),
        check("2026-11-05T10:00:00.000000Z", "edited", again),
        check("2026-11-06T10:00:00.000000Z", "unreachable"),
        check("2026-11-07T10:00:00.000000Z", "edited", again),
    ]
    described = [e.describe() for e in events_of([], checks)]
    assert described == [
        "edited (title changed): +1 / -1 words",
        "alternating between two versions (3 changes)",
        "unreachable: timeout",
        "alternating between two versions",
    ]
    assert (
        events_of([], checks[:2])[1]
        .describe()
        .endswith("back to the version of 2026-11-01 10:00:00 UTC")
    )


def test_a_source_never_captured_is_not_said_to_have_existed() -> None:
    """A mistyped domain was "first captured" and "no longer exists" in the report, though
    nothing was ever captured from it."""
    from preserve.report.markup import evidence_table
    from preserve.report.model import CaptureRef, Event, Standing

    attempt = CaptureRef(
        1, "2026-12-07T08:00:00.000000Z", "failed", None, "dns", None, None, None, None,
        None, None, None, None,
    )  # fmt: skip
    never = Standing("failed", "dns", False, "2026-12-07T08:00:00.000000Z", None, None, ())
    gone = Standing("gone", "dns", True, "2026-12-09T08:00:00.000000Z", None, None, ())

    assert never.describe() == (
        "never captured: the domain name does not exist (tried since 2026-12-07 08:00:00 UTC)"
    )
    assert Event(attempt.captured_at, "failed", "dns").describe() == (
        "could not be captured: the domain name does not exist"
    )
    assert gone.describe().startswith("gone: the domain name no longer exists")
    table = evidence_table([("first capture", attempt), ("latest capture", attempt)])
    assert "first attempt" in table and "latest attempt" in table
    assert "first capture" not in table
