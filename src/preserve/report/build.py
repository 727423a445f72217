"""`build_report`: the report of some articles, gathered from the store in a few bulk reads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from preserve.changes.diff import word_diff
from preserve.changes.links import url_key
from preserve.coverage import text_gap
from preserve.report.events import check_detail, events_of
from preserve.report.model import (
    BAD_STATES,
    CHANGED_STATES,
    CaptureRef,
    Citation,
    Dossier,
    Edit,
    Lane,
    LinkChange,
    Mark,
    Report,
    RunRef,
    Standing,
    WarcFile,
)
from preserve.report.passages import passages
from preserve.store.database import Store
from preserve.store.rows import CaptureSummary, Check, CitationRow, Target


def build_report(
    store: Store, urls: Sequence[str] | None, *, archive: str, generated_at: str, tool_version: str
) -> Report:
    """The report on the given article URLs (all tracked articles when None).

    An article's sources are those its latest good capture cites (what it cites now, or
    cited last before it went away), in article order; the sources an edit dropped appear
    in that edit's link changes. The store is read in a handful of bulk queries, one per
    table, not one per URL."""
    articles = store.articles(urls)
    article_urls = [a.url for a in articles]
    captures = store.captures_of(article_urls)
    latest_good = {url: _latest_good(captures[url]) for url in article_urls}
    cited = store.citations_of([c.id for c in latest_good.values() if c is not None])
    source_urls = [row.url for rows in cited.values() for row in rows]
    captures.update(store.captures_of([u for u in dict.fromkeys(source_urls) if u not in captures]))
    every_url = list(captures)
    checks = store.checks_of(every_url)
    targets = store.targets_of(every_url)
    moved_to = [c.new_url for rows in checks.values() for c in rows if c.new_url]
    targets.update(store.targets_of([u for u in moved_to if u not in targets]))
    texts = store.texts_of(_edit_texts(checks, captures))
    gathered = _Gathered(captures, checks, targets, texts)
    dossiers = []
    for index, article in enumerate(articles, start=1):
        good = latest_good[article.url]
        rows = cited[good.id] if good is not None else []
        dossiers.append(_dossier(f"article-{index}", article, rows, gathered))
    return Report(
        generated_at=generated_at,
        tool_version=tool_version,
        archive=archive,
        articles=tuple(dossiers),
        warc_files=tuple(
            WarcFile(w.name, w.size, w.sha256, w.closed_at) for w in store.warc_files()
        ),
        runs=tuple(
            RunRef(r.id, r.command, r.started_at, r.ended_at, r.tool_version, r.host)
            for r in store.runs()
        ),
    )


@dataclass(frozen=True)
class _Gathered:
    """The rows a report is built from, by URL (texts by their sha256)."""

    captures: dict[str, list[CaptureSummary]]
    checks: dict[str, list[Check]]
    targets: dict[str, Target]
    texts: dict[str, str]


def _latest_good(rows: Sequence[CaptureSummary]) -> CaptureSummary | None:
    good = [r for r in rows if CaptureRef.from_row(r).good]
    return good[-1] if good else None


def _edit_texts(
    checks: dict[str, list[Check]], captures: dict[str, list[CaptureSummary]]
) -> list[str]:
    """The sha256 of every text an edit's diff needs: both captures of each such check."""
    by_id = {row.id: row for rows in captures.values() for row in rows}
    hashes: list[str] = []
    for rows in checks.values():
        for check in rows:
            if "edit" not in check_detail(check):
                continue
            for capture_id in (check.baseline_capture_id, check.capture_id):
                row = by_id.get(capture_id) if capture_id is not None else None
                if row is not None and row.text_sha256:
                    hashes.append(row.text_sha256)
    return hashes


def _dossier(
    slug: str, article: Target, cited: Sequence[CitationRow], gathered: _Gathered
) -> Dossier:
    url = article.url
    rows = gathered.captures.get(url, [])
    standing = _standing(url, gathered)
    good = _latest_good(rows)
    citations: list[Citation] = []
    lanes = [_lane("Article", url, gathered)]
    edits = _edits(url, "the article", gathered)
    for number, row in enumerate(cited, start=1):
        source = row.url
        captures = gathered.captures.get(source, [])
        target = gathered.targets.get(source)
        citations.append(
            Citation(
                number=number,
                url=source,
                anchor_text=row.anchor_text or "",
                context=row.context or "",
                standing=_standing(source, gathered),
                first_capture=CaptureRef.from_row(captures[0]) if captures else None,
                last_capture=CaptureRef.from_row(captures[-1]) if captures else None,
                last_checked_at=target.last_checked_at if target else None,
                captures=len(captures),
                checks=len(gathered.checks.get(source, [])),
            )
        )
        lanes.append(_lane(f"{number}. {row.anchor_text or source}", source, gathered))
        edits += _edits(source, f"source {number}", gathered)
    return Dossier(
        slug=slug,
        url=url,
        title=(good or rows[-1]).title if rows else None,
        badge=_badge(standing, good, citations),
        standing=standing,
        first_capture=CaptureRef.from_row(rows[0]) if rows else None,
        last_capture=CaptureRef.from_row(rows[-1]) if rows else None,
        last_checked_at=article.last_checked_at,
        citations=tuple(citations),
        lanes=tuple(lanes),
        edits=tuple(edits),
    )


def _badge(standing: Standing, good: CaptureSummary | None, citations: Sequence[Citation]) -> str:
    """The article's badge: its own state when that is a change; else `no-text` when it was
    archived without its text, `sources-changed` when sources it cites changed, or `ok`."""
    if standing.state not in ("unchanged", "new"):
        return standing.state
    if good is not None and text_gap(good.kind, good.text_words):
        return "no-text"
    if any(c.standing.state in CHANGED_STATES for c in citations):
        return "sources-changed"
    return "ok"


def _lane(label: str, url: str, gathered: _Gathered) -> Lane:
    """The timeline lane of `url`: its captures made outside checks and the outcome of every
    check, in time order."""
    marks = [
        Mark(
            r.started_at,
            "new" if CaptureRef.from_row(r).good else "failed",
            r.error or (f"http-{r.http_status}" if r.http_status else None),
            True,
            r.http_status,
        )
        for r in gathered.captures.get(url, [])
        if r.check_id is None
    ]
    marks += [
        Mark(c.checked_at, c.outcome, c.reason, bool(c.confirmed), c.http_status)
        for c in gathered.checks.get(url, [])
    ]
    return Lane(label, url, tuple(sorted(marks, key=lambda m: m.at)))


def _standing(url: str, gathered: _Gathered) -> Standing:
    """Where `url` stands now, by the rules `Standing` describes."""
    target = gathered.targets.get(url)
    checks = gathered.checks.get(url, [])
    captures = gathered.captures.get(url, [])
    events = events_of(captures, checks)
    last = (target.state if target else None) or (checks[-1].outcome if checks else None)
    edited = [e for e in events if e.outcome == "edited"]
    restored = [e for e in events if e.outcome == "restored"]
    moves = [c for c in checks if c.outcome == "moved" and c.new_url]
    latest = captures[-1] if captures else None
    moved_to = None
    if (
        moves
        and latest is not None
        and latest.final_url
        and url_key(latest.final_url) != url_key(url)
    ):
        moved_to = moves[-1].new_url
    reason, confirmed, since = None, True, None
    if last in BAD_STATES:
        state = last
        if target is not None:
            reason, confirmed = target.reason, bool(target.confirmed)
        bad = [e for e in events if e.outcome == last]
        since = bad[-1].at if bad else (target.last_change_at if target else None)
    elif edited:
        state, since, reason = "edited", edited[-1].at, edited[-1].reason
    elif restored:
        state, since, reason = "restored", restored[-1].at, restored[-1].reason
    elif moved_to:
        state, since = "moved", moves[-1].checked_at
    else:
        state = "unchanged" if checks else "new"
    moved_state = None
    if moved_to:
        moved_target = gathered.targets.get(moved_to)
        moved_state = moved_target.state if moved_target else None
    return Standing(state, reason, confirmed, since, moved_to, moved_state, tuple(events))


def _edits(url: str, label: str, gathered: _Gathered) -> list[Edit]:
    """Every check of `url` that found an edit. The diff is made again from the texts of
    the check's two captures, not taken from the summary stored with the check, so that the
    report can show the whole change with paragraphs of context around it."""
    by_id = {row.id: row for row in gathered.captures.get(url, [])}
    edits = []
    for check in gathered.checks.get(url, []):
        detail = check_detail(check)
        summary = detail.get("edit")
        if not summary:
            continue
        before = by_id.get(check.baseline_capture_id or 0)
        after = by_id.get(check.capture_id)
        old = gathered.texts.get(before.text_sha256 or "", "") if before else ""
        new = gathered.texts.get(after.text_sha256 or "", "") if after else ""
        outside = detail.get("outside_main_text")
        if old == new and outside:
            old, new = outside.get("old") or "", outside.get("new") or ""
        hunks = word_diff(old, new) if old != new else []
        edits.append(
            Edit(
                url=url,
                label=label,
                checked_at=check.checked_at,
                outcome=check.outcome,
                reason=check.reason,
                before=CaptureRef.from_row(before) if before else None,
                after=CaptureRef.from_row(after) if after else None,
                words_added=int(summary.get("words_added") or 0),
                words_removed=int(summary.get("words_removed") or 0),
                percent_changed=float(summary.get("percent_changed") or 0.0),
                numbers_changed=tuple(tuple(p) for p in summary.get("numbers_changed") or ()),
                negations_added=tuple(summary.get("negations_added") or ()),
                negations_removed=tuple(summary.get("negations_removed") or ()),
                hunks=tuple(hunks),
                links=_link_changes(detail.get("links") or {}, gathered),
                paragraphs=tuple(passages(old, new, hunks)),
                silent_edit=bool(detail.get("silent_edit")),
                outside_main_text=bool(outside),
            )
        )
    return edits


def _link_changes(links: dict[str, Any], gathered: _Gathered) -> tuple[LinkChange, ...]:
    """The cited links an edit changed (a check detail's `links`), each with its state."""

    def state(url: str) -> str | None:
        target = gathered.targets.get(url)
        return target.state if target else None

    rows = [
        LinkChange("added", x["url"], x["anchor"], state=state(x["url"]))
        for x in links.get("added", [])
    ]
    rows += [
        LinkChange("removed", x["url"], x["anchor"], state=state(x["url"]))
        for x in links.get("removed", [])
    ]
    rows += [
        LinkChange(
            "retargeted", x["new_url"], x["anchor"], old_url=x["old_url"], state=state(x["new_url"])
        )
        for x in links.get("retargeted", [])
    ]
    rows += [
        LinkChange(
            "reanchored",
            x["url"],
            x["new_anchor"],
            old_anchor=x["old_anchor"],
            state=state(x["url"]),
        )
        for x in links.get("reanchored", [])
    ]
    return tuple(rows)
