"""The WARC records of a capture: each hop as a response (or a revisit of an identical payload
already archived) and its request; and, for a rendered page, every exchange the browser's
requests made, the rendered DOM, the full-page screenshot and its thumbnail as resource
records (docs/browser.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from preserve.browser.rendered import Rendered
from preserve.engine.capturerows import record_row
from preserve.net.exchange import Exchange
from preserve.store.database import Store
from preserve.store.rows import RecordRow
from preserve.times import iso, parse_iso
from preserve.warc.records import OriginalRef
from preserve.warc.writer import RecordLocation, WarcWriter

# The resource records of a render, as Browsertrix names them: urn:<kind>:<page URL>.
DOM, SCREENSHOT, THUMBNAIL = "urn:dom:", "urn:fullPage:", "urn:thumbnail:"


def write_hop(
    writer: WarcWriter,
    store: Store,
    on_disk: Callable[[str], bool],
    exchange: Exchange,
    hop: int,
    *,
    may_revisit: bool,
) -> tuple[list[RecordRow], RecordLocation, str]:
    """Write one exchange (a revisit when `may_revisit` and this URL's payload is archived
    already, in a file still on disk): its rows, the response's location and its type."""
    original = None
    if may_revisit and exchange.truncated is None:
        original = store.original_for(exchange.url, exchange.body.sha256)
    if original is not None and not on_disk(original.warc):
        original = None  # its WARC file is lost: store the payload again
    if original is not None:
        response, request = writer.write_revisit(
            exchange,
            OriginalRef(
                record_id=original.record_id,
                target_uri=original.url,
                date=parse_iso(original.date),
                payload_digest="sha256:" + exchange.body.sha256,
            ),
        )
        kind = "revisit"
    else:
        response, request = writer.write_exchange(exchange)
        kind = "response"
    date = iso(exchange.started_at)
    rows = [
        record_row(hop, kind, exchange.url, date, exchange.status, response, exchange.body.sha256),
        record_row(hop, "request", exchange.url, date, None, request, None),
    ]
    return rows, response, kind


@dataclass(frozen=True)
class RenderRecords:
    """What writing a render gave: its rows, what the metadata record says of it, and the
    payload sha256 of its DOM and screenshot records (None: not taken)."""

    rows: tuple[RecordRow, ...]
    about: dict[str, Any]
    dom_sha256: str | None
    screenshot_sha256: str | None


def write_render(
    writer: WarcWriter,
    store: Store,
    on_disk: Callable[[str], bool],
    rendered: Rendered,
    page_url: str,
    page_record: str | None,
    first_hop: int,
    now: datetime,
) -> RenderRecords:
    """Write everything a render fetched, then its DOM and screenshots as resource records
    under `page_url` (tied to the page's response record `page_record`)."""
    rows: list[RecordRow] = []
    hop = first_hop
    for fetched in rendered.fetched:
        for exchange in fetched.exchanges:
            written, _, _ = write_hop(
                writer, store, on_disk, exchange, hop, may_revisit=not exchange.is_redirect
            )
            rows += written
            hop += 1
    digests: dict[str, str] = {}
    made = (
        (DOM, "text/html; charset=utf-8", rendered.dom.encode("utf-8") if rendered.dom else None),
        (SCREENSHOT, "image/png", rendered.screenshot),
        (THUMBNAIL, "image/jpeg", rendered.thumbnail),
    )
    for prefix, content_type, data in made:
        if not data:
            continue
        location = writer.write_resource(
            prefix + page_url, content_type, data, date=now, concurrent_to=page_record
        )
        assert location.payload_digest is not None
        sha256 = location.payload_digest.removeprefix("sha256:")
        digests[prefix] = sha256
        rows.append(
            record_row(hop, "resource", prefix + page_url, iso(now), None, location, sha256)
        )
        hop += 1
    about = rendered.about() | {
        "records": {prefix + page_url: f"sha256:{sha}" for prefix, sha in digests.items()}
    }
    return RenderRecords(tuple(rows), about, digests.get(DOM), digests.get(SCREENSHOT))
