"""The rows a capture is stored as, built from a fetch and its extraction (and an extraction
read back from them)."""

from __future__ import annotations

import json
from typing import Any

from preserve.engine.captured import Job
from preserve.extract.extracted import Citation, Extracted
from preserve.extract.normalise import NORMALISATION_VERSION, sha256_hex
from preserve.net.exchange import Exchange
from preserve.net.fetcher import Fetched
from preserve.store.rows import CitationRow, Extraction, NewCapture, RecordRow
from preserve.times import iso
from preserve.tokens import count_tokens
from preserve.warc.writer import RecordLocation


def reused_extraction(earlier: Extraction) -> Extracted:
    """An extraction read back from the database (`Store.extraction`)."""
    return Extracted(
        kind=earlier.kind,
        charset=None,
        title=earlier.title,
        byline=earlier.byline or None,
        modified=earlier.modified or None,
        text=earlier.text,
        visible_text=earlier.visible_text or "",
        citations=tuple(
            Citation(c.url, c.anchor_text or "", c.context or "", c.position)
            for c in earlier.citations
        ),
        requisites=(),
        text_sha256=earlier.text_sha256,
        links_sha256=earlier.links_sha256,
        loose_sha256=earlier.loose_sha256,
        decoded_sha256=earlier.decoded_sha256 or "",
        extractor="reused",
        text_words=count_tokens(earlier.text) if earlier.text_words is None else earlier.text_words,
    )


def record_row(
    hop: int,
    kind: str,
    url: str,
    date: str | None,
    status: int | None,
    location: RecordLocation,
    payload_sha256: str | None,
) -> RecordRow:
    return RecordRow(
        hop=hop,
        type=kind,
        url=url,
        date=date,
        http_status=status,
        warc=location.warc,
        offset=location.offset,
        length=location.length,
        record_id=location.record_id,
        record_sha256=location.record_sha256,
        payload_sha256=payload_sha256,
    )


def metadata_about(
    job: Job, final: Exchange | None, extracted: Extracted | None, render: dict[str, Any] | None
) -> dict[str, Any]:
    """What a capture's metadata record says (nothing: no record): of an article, what was
    extracted; over HTTPS, who the server proved to be; of a rendered page, how it was
    rendered (docs/browser.md)."""
    if final is None:
        return {}
    about: dict[str, Any] = {}
    if job.role == "article" and extracted is not None:
        about = {
            "url": job.url,
            "title": extracted.title,
            "byline": extracted.byline,
            "modified": extracted.modified,
            "text_sha256": extracted.text_sha256,
            "norm_version": NORMALISATION_VERSION,
            "citations": [
                {
                    "url": c.url,
                    "anchor_text": c.anchor_text,
                    "context": c.context,
                    "position": c.position,
                }
                for c in extracted.citations
            ],
        }
    if final.tls is not None:
        # Who the server proved to be, beside the page: in the WARC file with it.
        about = {"url": job.url, **about, "tls": final.tls.to_json()}
    if render is not None:
        about = {"url": job.url, **about, "render": render}
    return about


def new_capture(
    run_id: int,
    job: Job,
    fetched: Fetched,
    extracted: Extracted | None,
    location: RecordLocation | None,
    record_type: str | None,
    metadata_id: str | None,
    records: tuple[RecordRow, ...],
    *,
    rendered: str | None = None,
    dom_sha256: str | None = None,
    screenshot_sha256: str | None = None,
) -> NewCapture:
    final = fetched.final
    first = fetched.exchanges[0] if fetched.exchanges else None
    last = fetched.exchanges[-1] if fetched.exchanges else None
    started = first.started_at if first else fetched.started_at
    common: dict[str, Any] = dict(
        run_id=run_id,
        url=job.url,
        role=job.role,
        depth=job.depth,
        parent_id=job.parent_id,
        started_at=iso(started),
        ended_at=iso(fetched.ended_at),
        redirects=json.dumps([[e.url, e.status] for e in fetched.redirects]),
        final_url=last.url if last else None,
        records=records,
        rendered=rendered,
        dom_sha256=dom_sha256,
        screenshot_sha256=screenshot_sha256,
    )
    if final is None:
        return NewCapture(
            status="failed", error=fetched.error, error_detail=fetched.detail, **common
        )
    assert location is not None
    citations = extracted.citations if extracted else ()
    return NewCapture(
        status="captured",
        http_status=final.status,
        headers=json.dumps([list(h) for h in final.headers]),
        peer_ip=final.peer_ip,
        content_type=final.header("Content-Type"),
        kind=extracted.kind if extracted else None,
        truncated=final.truncated,
        payload_sha256=final.body.sha256,
        payload_length=final.body.length,
        decoded_sha256=extracted.decoded_sha256 if extracted else None,
        text_sha256=extracted.text_sha256 if extracted else None,
        loose_sha256=extracted.loose_sha256 if extracted else None,
        links_sha256=extracted.links_sha256 if extracted else None,
        norm_version=NORMALISATION_VERSION if extracted else None,
        title=extracted.title if extracted else None,
        tls=json.dumps(final.tls.to_json()) if final.tls else None,
        byline=(extracted.byline or "") if extracted else None,
        modified=(extracted.modified or "") if extracted else None,
        record_type=record_type,
        warc=location.warc,
        offset=location.offset,
        length=location.length,
        record_id=location.record_id,
        record_sha256=location.record_sha256,
        metadata_record_id=metadata_id,
        text=extracted.text if extracted else None,
        visible_text=(extracted.visible_text or None) if extracted else None,
        visible_sha256=(
            sha256_hex(extracted.visible_text) if extracted and extracted.visible_text else None
        ),
        text_words=extracted.text_words if extracted else None,
        citations=tuple(
            CitationRow(c.position, c.url, c.anchor_text, c.context) for c in citations
        ),
        **common,
    )
