"""Which URLs are tracked for checks, and how often: tracking what a capture stored, and
setting the interval of tracked URLs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from preserve.engine.captured import Captured
from preserve.errors import UsageError
from preserve.store.database import Store
from preserve.store.rows import Target
from preserve.urls import canonical


class Unread:
    """`track_captured`'s default: the target is read there."""


UNREAD = Unread()


def track_captured(
    store: Store,
    captured: Captured,
    *,
    every_seconds: int,
    now: datetime,
    known: Target | None | Unread = UNREAD,
) -> None:
    """Track a captured article or citation for checks. Its first good capture becomes the
    baseline; a capture of something already tracked never moves the baseline (that is what
    checks do, after comparing). `known`: its target as the caller just read it, in the same
    transaction (a capture reads it anyway: a row read less a page)."""
    job = captured.job
    target = store.target(job.url) if isinstance(known, Unread) else known
    baseline = (
        captured.capture_id
        if captured.ok and (target is None or target.baseline_capture_id is None)
        else None
    )
    store.track(
        job.url,
        role=job.role,
        every_seconds=every_seconds,
        now=now,
        cited_by=None if job.role == "article" else job.article,
        baseline_capture_id=baseline,
        first_state=("new", None) if captured.ok else ("failed", failure_reason(captured)),
        coverage=(captured.kind, captured.text_words) if captured.ok else None,
    )


def failure_reason(captured: Captured) -> str:
    if captured.error:
        return captured.error
    return f"http-{captured.http_status}"


def set_interval(store: Store, urls: Sequence[str], every: timedelta) -> int:
    """Check these tracked URLs (and the sources each article brought in) every `every`,
    each next due one interval after its last check; how many tracked URLs changed."""
    seconds = int(every.total_seconds())
    return sum(
        store.set_schedule(url, seconds, include_citations=True) for url in _tracked(store, urls)
    )


def _tracked(store: Store, urls: Sequence[str]) -> list[str]:
    wanted = [canonical(url) for url in urls]
    for url in wanted:
        if store.target(url) is None:
            raise UsageError(f"not tracked: {url} (capture it first)")
    return wanted


def set_paused(store: Store, urls: Sequence[str], paused: bool) -> int:
    """Pause (or resume) checks of these tracked URLs and of the sources each article
    brought in; how many tracked URLs changed. Their history stays, and `check URL` still
    checks a paused URL it is given by name."""
    return sum(
        store.set_paused(url, paused, include_citations=True) for url in _tracked(store, urls)
    )


def set_browser(store: Store, urls: Sequence[str], mode: str) -> int:
    """Check these tracked URLs (and the sources each article brought in) rendering them in
    a browser by `mode` (auto, always, never: docs/browser.md); how many changed."""
    return sum(
        store.set_browser(url, mode, include_citations=True) for url in _tracked(store, urls)
    )


def untrack(store: Store, urls: Sequence[str], *, keep_sources: bool = False) -> list[str]:
    """Stop tracking these URLs and (unless `keep_sources`) the sources each article brought
    in: checks stop, their captures and checks stay in the archive. The URLs untracked."""
    gone: list[str] = []
    for url in _tracked(store, urls):
        gone += store.untrack(url, include_citations=not keep_sources)
    return list(dict.fromkeys(gone))
