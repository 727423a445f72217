"""show: what one capture of a URL archived, as its main text or as its exact bytes.

`--raw` gives the entity-body exactly as archived: the bytes the server sent after the
message framing was undone (chunked transfer coding removed) and with its Content-Encoding
kept (a gzip-encoded page comes out gzipped), i.e. the bytes whose sha256 is the capture's
payload sha256 and the record's WARC-Payload-Digest. A revisit record holds no body, so for
a revisit the bytes come from the original record it refers to. The bytes are checked
against the record's digests and the capture's payload sha256 before they are given out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from preserve.errors import IntegrityError, UsageError
from preserve.store.database import Store
from preserve.store.rows import Capture, OriginalRecord
from preserve.warc.reader import StoredRecord, read_record


@dataclass(frozen=True)
class Payload:
    """A capture's archived body and the record it was read from."""

    capture: Capture
    record: StoredRecord
    warc: str
    offset: int
    body: bytes


# Check outcomes after which a 2xx answer is not what the URL says: a "not found" page, a
# page replaced or parked, a consent wall, a paywall, a bot check, a page without its text.
NOT_THE_PAGE = frozenset({"gone", "restricted"})


def pick_capture(store: Store, url: str, at: str | None, *, screenshot: bool = False) -> Capture:
    """The latest good capture of `url` at or before `at` (default: the latest): a 2xx
    answer (not a probe) that no check found to be something else than the page (a soft-404
    page, a replaced or parked page, a consent wall…); with `screenshot`, one that has a
    screenshot (it was rendered). Raises UsageError when there is none."""
    good = [
        checked.capture
        for checked in store.history(url)
        if checked.capture.ok
        and checked.outcome not in NOT_THE_PAGE
        and (checked.capture.screenshot_sha256 or not screenshot)
    ]
    if not good:
        kind = "rendered capture (with a screenshot)" if screenshot else "good capture"
        raise UsageError(f"no {kind} of {url} in this archive")
    chosen = [c for c in good if at is None or c.started_at <= at]
    if not chosen:
        raise UsageError(
            f"no good capture of {url} at or before {at} (the first is from {good[0].started_at})"
        )
    return chosen[-1]


def main_text(store: Store, capture: Capture) -> str:
    """The normalised main text stored for a capture. Raises UsageError if it has none."""
    text = store.text(capture.text_sha256)
    if text is None:
        raise UsageError(
            f"no text was extracted from the capture of {capture.url} at "
            f"{capture.started_at} (a {capture.kind or 'non-text'} "
            "response): use --raw for its bytes"
        )
    return text


def payload(store: Store, warcs: Path, capture: Capture) -> Payload:
    """The capture's body as archived (see the module docstring). Raises IntegrityError if
    the record cannot be read back as the database describes it."""
    if not capture.warc or capture.offset is None or capture.length is None:
        raise UsageError(f"the capture of {capture.url} at {capture.started_at} wrote no record")
    where = OriginalRecord(
        capture.record_id or "",
        capture.url,
        capture.started_at,
        capture.warc,
        capture.offset,
        capture.length,
    )
    record = _read(warcs, where)
    if record.rec_type == "revisit":
        refers_to = record.header("WARC-Refers-To")
        where = _original(store, capture, refers_to)
        record = _read(warcs, where)
        if record.record_id != refers_to:
            raise IntegrityError(
                f"the revisit at {capture.warc} @ {capture.offset} "
                f"refers to {refers_to}, found {record.record_id}"
            )
    digest = hashlib.sha256(record.payload).hexdigest()
    if digest != capture.payload_sha256:
        raise IntegrityError(
            f"{where.warc} @ {where.offset}: the body hashes to "
            f"{digest}, the capture says {capture.payload_sha256}"
        )
    return Payload(capture, record, where.warc, where.offset, record.payload)


def screenshot(store: Store, warcs: Path, capture: Capture) -> bytes:
    """The full-page PNG of a rendered capture, checked against the record's digests and the
    capture's screenshot sha256 before it is given out (docs/browser.md)."""
    row = store.resource_record(capture.id, "urn:fullPage:")
    if row is None or not capture.screenshot_sha256:
        raise UsageError(f"the capture of {capture.url} at {capture.started_at} has no screenshot")
    where = OriginalRecord(row.record_id, row.url, row.date or "", row.warc, row.offset, row.length)
    png = _read(warcs, where).payload
    if hashlib.sha256(png).hexdigest() != capture.screenshot_sha256:
        raise IntegrityError(
            f"{row.warc} @ {row.offset}: the screenshot hashes to "
            f"{hashlib.sha256(png).hexdigest()}, the capture says {capture.screenshot_sha256}"
        )
    return png


def thumbnails(store: Store, warcs: Path, capture_ids: Sequence[int]) -> list[tuple[int, bytes]]:
    """The thumbnails (JPEG) of these rendered captures, by capture id, for the report; one
    whose record cannot be read back as recorded is left out (`verify` says why)."""
    found = []
    for capture_id in capture_ids:
        row = store.resource_record(capture_id, "urn:thumbnail:")
        if row is None:
            continue
        where = OriginalRecord(
            row.record_id, row.url, row.date or "", row.warc, row.offset, row.length
        )
        try:
            record = _read(warcs, where)
        except (OSError, IntegrityError):
            continue
        if hashlib.sha256(record.payload).hexdigest() == row.payload_sha256:
            found.append((capture_id, record.payload))
    return found


def _read(warcs: Path, where: OriginalRecord) -> StoredRecord:
    try:
        record = read_record(warcs / where.warc, where.offset, where.length)
    except FileNotFoundError as exc:
        raise IntegrityError(f"the WARC file {where.warc} is missing") from exc
    if record.record_id != where.record_id:
        raise IntegrityError(
            f"{where.warc} @ {where.offset} holds {record.record_id}, not {where.record_id}"
        )
    return record


def _original(store: Store, capture: Capture, refers_to: str | None) -> OriginalRecord:
    """Where the response record a revisit refers to is."""
    target = capture.final_url or capture.url
    found = store.original_for(target, capture.payload_sha256) if capture.payload_sha256 else None
    if (found is None or found.record_id != refers_to) and refers_to:
        found = store.response_record(refers_to)
    if found is None:
        raise IntegrityError(f"the revisit's original record {refers_to} is not in this archive")
    return found


def header(capture: Capture, shown: Payload | None = None) -> str:
    """One line saying which capture is shown (for stderr, so stdout stays the content)."""
    line = (
        f"{capture.url} captured {capture.started_at} (capture {capture.id}, "
        f"HTTP {capture.http_status}, payload sha256:{capture.payload_sha256}, "
        f"{capture.warc} @ {capture.offset}"
    )
    if shown is not None and shown.offset != capture.offset:
        line += f"; a revisit of {shown.warc} @ {shown.offset}"
    return line + ")"


def tls_line(capture: Capture) -> str | None:
    """A line for stderr on who the server proved to be, for a capture over HTTPS."""
    try:
        tls = json.loads(capture.tls or "null")
    except ValueError:
        return None
    if not isinstance(tls, dict):
        return None
    cipher = f" ({tls['cipher_suite']})" if tls.get("cipher_suite") else ""
    line = f"over {tls.get('protocol')}{cipher}"
    if tls.get("certificate_sha256"):
        line += f", server certificate sha256:{tls['certificate_sha256']}"
        facts = [tls.get("subject"), tls.get("issuer") and f"issued by {tls['issuer']}"]
        if tls.get("not_after"):
            facts.append(f"valid until {tls['not_after'][:10]}")
        if any(facts):
            line += " (" + ", ".join(f for f in facts if f) + ")"
    return line


def later_note(store: Store, capture: Capture) -> str | None:
    """A line for stderr when the URL was captured again after the capture shown: how many
    times, and what the latest one got (so an old text is never taken for the current one):
    a 2xx answer that a check found to be no page (a soft-404) is said to be that."""
    key = (capture.started_at, capture.id)
    later = [r for r in store.history(capture.url) if (r.capture.started_at, r.capture.id) > key]
    if not later:
        return None
    last = later[-1].capture
    if last.status != "captured":
        got = f"failed ({last.error})"
    elif later[-1].outcome in NOT_THE_PAGE:
        what = later[-1].reason or later[-1].outcome
        got = f"answered HTTP {last.http_status}, which counts as {later[-1].outcome} ({what})"
    elif last.ok:
        got = (
            "got the same text"
            if last.text_sha256 == capture.text_sha256
            else "got a different text"
        )
    else:
        got = f"answered HTTP {last.http_status}"
    shown = "; this is the last good one" if later[-1].outcome in NOT_THE_PAGE else ""
    return (
        f"note: captured {len(later)} more time(s) since; the latest, {last.started_at}, "
        f"{got}{shown}"
    )
