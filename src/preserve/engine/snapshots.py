"""What the classifier compares: snapshots of stored captures, extracted again from their WARC
records when the archive does not hold what a comparison needs."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from preserve.changes.model import Reversion, Snapshot
from preserve.engine.archive import Archive, Run
from preserve.engine.renderrecords import DOM
from preserve.errors import IntegrityError, PreserveError
from preserve.extract.extracted import Extracted
from preserve.extract.normalise import NORMALISATION_VERSION
from preserve.store.database import Store
from preserve.store.rows import Capture, OriginalRecord
from preserve.times import parse_iso
from preserve.warc.reader import read_record


def snapshot(store: Store, row: Capture) -> Snapshot:
    """What compare needs to know about a stored capture."""
    text = store.text(row.text_sha256) or ""
    visible = store.visible_text(row.visible_sha256)
    links = tuple((c.url, c.anchor_text or "") for c in store.citations(row.id))
    redirects = tuple((u, s) for u, s in json.loads(row.redirects or "[]"))
    return Snapshot(
        url=row.url,
        captured_at=parse_iso(row.started_at),
        error=row.error,
        status=row.http_status,
        final_url=row.final_url,
        redirects=redirects,
        headers=tuple((k, v) for k, v in json.loads(row.headers or "[]")),
        truncated=row.truncated,
        # A rendered page is what its DOM says: the same served bytes (a script shell) may
        # have rendered anything (docs/browser.md), and only the same DOM is unchanged.
        payload_sha256=row.dom_sha256 if row.rendered and row.dom_sha256 else row.payload_sha256,
        kind=row.kind or "other",
        title=row.title,
        byline=row.byline,
        modified=row.modified,
        text=text,
        visible_text=visible or "",
        links=links,
        norm_version=row.norm_version or NORMALISATION_VERSION,
        text_sha256=row.text_sha256,
        loose_sha256=row.loose_sha256,
        links_sha256=row.links_sha256,
    )


def rederived_snapshot(run: Run, row: Capture) -> Snapshot:
    """A baseline extracted again from its WARC record with today's normaliser, so that a
    better normaliser never shows up as a wave of edits."""
    fresh = extract_again(run.archive, row, run.config.max_inflated)
    return replace(
        snapshot(run.archive.store, row),
        title=fresh.title,
        byline=fresh.byline or "",
        modified=fresh.modified or "",
        text=fresh.text,
        visible_text=fresh.visible_text,
        links=tuple((c.url, c.anchor_text) for c in fresh.citations),
        norm_version=NORMALISATION_VERSION,
        text_sha256=fresh.text_sha256,
        loose_sha256=fresh.loose_sha256,
        links_sha256=fresh.links_sha256,
    )


def extract_again(archive: Archive, row: Capture, max_inflated: int) -> Extracted:
    """The capture's page extracted again from its WARC record."""
    from preserve.extract.extractor import extract  # lxml, for the few pages this ever happens to

    store = archive.store
    if row.rendered and row.dom_sha256:  # its text was taken from the rendered DOM
        dom = store.resource_record(row.id, DOM)
        if dom is None:
            raise IntegrityError(f"capture {row.id} of {row.url} has no DOM record")
        record = read_record(archive.warc_path(dom.warc), dom.offset, dom.length)
        return extract(
            record.payload,
            url=row.final_url or row.url,
            content_type="text/html; charset=utf-8",
            content_encoding=None,
            max_inflated=max_inflated,
        )
    where: Capture | OriginalRecord = row
    if row.record_type == "revisit" and row.payload_sha256:
        where = store.original_for(row.final_url or row.url, row.payload_sha256) or row
    if where.warc is None or where.offset is None or where.length is None:
        raise IntegrityError(f"capture {row.id} of {row.url} points at no WARC record")
    record = read_record(archive.warc_path(where.warc), where.offset, where.length)
    headers = dict((k.lower(), v) for k, v in record.http_headers)
    return extract(
        record.payload,
        url=row.final_url or row.url,
        content_type=headers.get("content-type"),
        content_encoding=headers.get("content-encoding"),
        max_inflated=max_inflated,
    )


def with_visible_text(run: Run, snap: Snapshot, row: Capture) -> Snapshot:
    """`snap` with its page's visible text, extracted again from its WARC record if the
    archive does not hold it (a capture leaves it out: see `extract.extract`). Without its
    record (a lost file) it stays without, and says so (`visible_missing`): the comparisons
    that read it then explain less and report more, never less, and a page whose rest
    could not be compared is never said to be unchanged."""
    if snap.visible_text or snap.kind != "html":
        return snap
    if not row.warc:
        return replace(snap, visible_missing=True)
    try:
        visible = extract_again(run.archive, row, run.config.max_inflated).visible_text
    except (OSError, PreserveError):
        return replace(snap, visible_missing=True)
    return replace(snap, visible_text=visible)


def _version(row: Capture) -> tuple[Any, ...]:
    """What a capture says, as edits are told: its main text, title and links (for a page
    without text, its bytes)."""
    if row.text_sha256 or row.kind in ("html", "text"):
        return (row.text_sha256, row.title, row.links_sha256)
    return (row.payload_sha256,)


def reversion(store: Store, baseline_row: Capture, current_row: Capture) -> Reversion | None:
    """Whether an edit brings back a version from before the baseline (NewsDiffs' flip-flop
    guard): the latest earlier capture that said what the page says now, and whether the
    baseline's version came before that one too (A, B, A, B: alternating)."""
    mine, theirs = _version(current_row), _version(baseline_row)
    earlier = store.versions_before(current_row.url, baseline_row.id)
    for at, row in enumerate(earlier):
        if _version(row) == mine:
            alternating = any(_version(r) == theirs for r in earlier[at + 1 :])
            return Reversion(row.id, row.started_at, alternating)
    return None


def needs_visible_text(baseline: Snapshot | None, current: Snapshot, probed: bool) -> bool:
    """Whether `classify` may read visible texts: a soft-404 probe, a changed main text
    (boundary shifts, paywalls), and any page whose bytes changed (an edit may lie outside
    the main text) compare them. Unchanged bytes never need them."""
    if probed:
        return True
    return baseline is not None and (
        baseline.text_sha256 != current.text_sha256
        or baseline.payload_sha256 != current.payload_sha256
    )
