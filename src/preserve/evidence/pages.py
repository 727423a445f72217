"""The pages of an evidence package (json-pages-1.0): what a replay tool lists to open."""

from __future__ import annotations

import uuid
from typing import Any

from preserve.evidence.selection import Selection
from preserve.store.database import Store


def list_pages(store: Store, selection: Selection) -> list[dict[str, Any]]:
    """The json-pages-1.0 header and one page per article and source that has a record to
    replay: at the time of its first capture with a 2xx answer (else its first capture with
    any answer), since that is the version the article relied on; later versions are in the
    index, and every capture is in the provenance. A rendered page names its screenshot and
    thumbnail records (`urn:fullPage:` and `urn:thumbnail:` + its URL, at the same time)."""
    replayable = {r.capture_id for r in selection.records if r.type in ("response", "revisit")}
    header = {"format": "json-pages-1.0", "id": "pages", "title": "Articles and their sources",
              "hasText": True}  # fmt: skip
    pages: list[dict[str, Any]] = [header]
    for url, role in selection.roles.items():
        if role == "requisite":
            continue
        captures = sorted(
            (c for c in selection.captures.values() if c.url == url and c.id in replayable),
            key=lambda c: (c.started_at, c.id),
        )
        if not captures:
            continue
        good = [c for c in captures if c.http_status and 200 <= c.http_status < 300]
        chosen = (good or captures)[0]
        page: dict[str, Any] = {
            "id": uuid.uuid5(uuid.NAMESPACE_URL, url).hex,
            "url": url,
            # seconds, as the CDXJ index keys the records (and as every replay tool parses)
            "ts": chosen.started_at[:19] + "Z",
            "title": chosen.title or url,
            "role": role,
            "captures": len(captures),
        }
        if chosen.screenshot_sha256:  # rendered: its screenshots, named as Browsertrix does
            page["screenshot"] = "urn:fullPage:" + url
            page["thumbnail"] = "urn:thumbnail:" + url
        text = store.text(chosen.text_sha256)
        if text:
            page["text"] = text
        pages.append(page)
    return pages
