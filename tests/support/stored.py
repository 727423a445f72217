"""Rows written straight into a store, as capture and check would write them."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from preserve.store.database import Store
from preserve.store.rows import CitationRow, NewCapture, NewCheck
from preserve.times import iso

T0 = datetime(2026, 11, 1, 12, 0, 0, 123456, tzinfo=UTC)
URL = "https://example.org/2016/10/some-article"
SOURCE = "https://gov.example/statements/briefing"


def new_run(store: Store, at: datetime = T0) -> int:
    return store.start_run(
        "capture", {"urls": [URL]}, started_at=at, tool_version="0.1.0", host="test-host", pid=1234
    )


def add(
    store: Store,
    run_id: int,
    url: str = URL,
    *,
    at: datetime = T0,
    status: str = "captured",
    http_status: int | None = 200,
    role: str = "article",
    text: str | None = "Some text.",
    payload: str = "a" * 64,
    citations: tuple[CitationRow, ...] = (),
    error: str | None = None,
) -> int:
    text_sha = hashlib.sha256(text.encode()).hexdigest() if text else None
    return store.add_capture(
        NewCapture(
            run_id=run_id,
            url=url,
            role=role,
            depth=0,
            parent_id=None,
            started_at=iso(at),
            ended_at=iso(at + timedelta(seconds=1)),
            status=status,
            error=error,
            http_status=http_status if status == "captured" else None,
            final_url=url,
            payload_sha256=payload if status == "captured" else None,
            text_sha256=text_sha if status == "captured" else None,
            text=text,
            visible_text=text,
            norm_version=1,
            warc="preserve-x.warc.gz" if status == "captured" else None,
            offset=100 if status == "captured" else None,
            length=50 if status == "captured" else None,
            record_type="response" if status == "captured" else None,
            record_id="<urn:uuid:1>" if status == "captured" else None,
            citations=citations,
        )
    )


def check(
    store: Store,
    run_id: int,
    capture_id: int,
    *,
    at: datetime,
    outcome: str,
    url: str = URL,
    baseline: int | None = None,
    new_baseline: bool = False,
    reason: str | None = None,
) -> int:
    return store.add_check(
        NewCheck(
            run_id=run_id,
            url=url,
            role="article",
            checked_at=iso(at),
            capture_id=capture_id,
            baseline_capture_id=baseline,
            probe_capture_id=None,
            outcome=outcome,
            reason=reason,
            confirmed=0,
            rule="test",
            http_status=200,
            new_url=None,
            detail="{}",
            new_baseline=new_baseline,
        )
    )
