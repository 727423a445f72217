"""find-text: which captures contain a quotation, and whether later captures of the same URL
still do. "Did this page ever say that, and when did it stop?"

The quotation is normalised as texts are (`preserve.text.normalise`: NFKC, curly quotes and
dashes folded, whitespace collapsed), so it is found however its quotes, dashes or line
breaks were typed. A phrase query over the stored main texts' full-text index (SQLite's
FTS5 or PostgreSQL's text search, see `store.textsearch`) picks the candidates; a capture
matches only if its normalised main text contains the normalised quotation exactly (line
breaks counting as spaces), or ignoring case when asked. Only main texts are searched (not
navigation, and not PDFs, which have none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from preserve.errors import UsageError
from preserve.extract.normalise import normalise
from preserve.store.database import Store
from preserve.store.rows import CaptureSummary

CONTEXT_CHARS = 60
_WORD = re.compile(r"[^\W_]")  # a letter or digit: what the FTS5 tokenizer indexes
# An answer from these is no evidence about the text: the page may still say it.
_INCONCLUSIVE = (401, 403, 407, 429)


@dataclass(frozen=True)
class Match:
    """One capture whose main text contains the quotation."""

    url: str
    captured_at: str
    sha256: str | None  # payload sha256 of the capture
    warc: str | None
    offset: int | None
    length: int | None
    record_type: str | None
    capture_id: int
    text_sha256: str
    http_status: int | None
    context: str  # the quotation with some text either side

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "captured_at": self.captured_at,
            "sha256": self.sha256,
            "warc": self.warc,
            "offset": self.offset,
            "length": self.length,
            "record_type": self.record_type,
            "capture_id": self.capture_id,
            "text_sha256": self.text_sha256,
            "http_status": self.http_status,
            "context": self.context,
        }


@dataclass(frozen=True)
class Presence:
    """Whether a URL whose captures contained the quotation still says it.

    `state` is `present` (the latest capture has it), `gone` (a later capture answered
    without it: `how` is `edited` for a page that answers without the text, `http-410` etc.
    for one that no longer answers with a page), or `unknown` (later captures failed or were
    refused, so they say nothing either way). `since` is the first capture that showed it gone
    (or, for `unknown`, the first later capture)."""

    url: str
    first_seen: str
    last_seen: str
    captures_with: int
    captures_after: int
    latest_capture_at: str
    state: str
    since: str | None
    how: str | None
    since_capture_id: int | None

    def sentence(self) -> str:
        if self.state == "present":
            return f"still there in the latest capture ({self.latest_capture_at})"
        if self.state == "gone":
            why = (
                "the page no longer says it"
                if self.how == "edited"
                else f"the page answered {self.how}"
            )
            return f"gone since {self.since}: {why} (capture {self.since_capture_id})"
        return (
            f"not seen since {self.last_seen}: later captures say nothing either way "
            f"({self.how}, from {self.since})"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "captures_with": self.captures_with,
            "captures_after": self.captures_after,
            "latest_capture_at": self.latest_capture_at,
            "state": self.state,
            "since": self.since,
            "how": self.how,
            "since_capture_id": self.since_capture_id,
            "summary": self.sentence(),
        }


@dataclass(frozen=True)
class TextSearch:
    """The answer to one find-text: every matching capture oldest first, and per URL
    whether the text is still there."""

    query: str
    normalised: str
    ignore_case: bool
    matches: tuple[Match, ...]
    urls: tuple[Presence, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "normalised": self.normalised,
            "ignore_case": self.ignore_case,
            "matches": [m.to_json() for m in self.matches],
            "urls": [u.to_json() for u in self.urls],
        }


def find_text(
    store: Store, quote: str, *, url: str | None = None, ignore_case: bool = False
) -> TextSearch:
    """Every capture (probes aside) whose main text contains `quote`; see the module
    docstring. Raises UsageError for a quotation with no letters or digits."""
    needle = _flat(normalise(quote))
    if not _WORD.search(needle):
        raise UsageError("nothing to search for: the text has no letters or digits")
    if ignore_case:
        needle = needle.casefold()
    contexts = _matching_texts(store, needle, ignore_case)
    rows = store.captures_with_texts(sorted(contexts), url)
    matches = tuple(
        Match(
            url=r.url,
            captured_at=r.started_at,
            sha256=r.payload_sha256,
            warc=r.warc,
            offset=r.offset,
            length=r.length,
            record_type=r.record_type,
            capture_id=r.id,
            text_sha256=r.text_sha256 or "",
            http_status=r.http_status,
            context=contexts[r.text_sha256 or ""],
        )
        for r in rows
    )
    urls = list(dict.fromkeys(m.url for m in matches))
    history = store.captures_of(urls)
    found = set(contexts)
    presence = tuple(_presence(u, history[u], found) for u in urls)
    return TextSearch(quote, needle, ignore_case, matches, presence)


def _flat(text: str) -> str:
    return text.replace("\n", " ")


def _matching_texts(store: Store, needle: str, ignore_case: bool) -> dict[str, str]:
    """Hashes of the stored texts that contain `needle`, each with a snippet around it."""
    found: dict[str, str] = {}
    for sha256, stored in store.texts_with_phrase(needle):
        text = _flat(stored)
        haystack = text.casefold() if ignore_case else text
        at = haystack.find(needle)
        if at >= 0:
            # casefold() can change lengths (ß → ss), so the snippet is cut from the haystack
            start, end = max(0, at - CONTEXT_CHARS), at + len(needle) + CONTEXT_CHARS
            source = haystack if ignore_case else text
            found[sha256] = (
                ("…" if start else "") + source[start:end] + ("…" if end < len(source) else "")
            )
    return found


def _presence(url: str, captures: list[CaptureSummary], found: set[str]) -> Presence:
    """Is the text still there: what the captures after the last one with it say."""
    with_text = [i for i, c in enumerate(captures) if c.text_sha256 in found]
    first, last = captures[with_text[0]], captures[with_text[-1]]
    after = captures[with_text[-1] + 1 :]
    state, since, how, since_id = "present", None, None, None
    if after:
        telling = next((c for c in after if _conclusive(c)), None)
        if telling is not None:
            status = telling.http_status
            state, since, since_id = "gone", telling.started_at, telling.id
            how = "edited" if status is not None and 200 <= status < 300 else f"http-{status}"
        else:
            state, since, since_id = "unknown", after[0].started_at, after[0].id
            how = after[0].error or f"http-{after[0].http_status}"
    return Presence(
        url=url,
        first_seen=first.started_at,
        last_seen=last.started_at,
        captures_with=len(with_text),
        captures_after=len(after),
        latest_capture_at=captures[-1].started_at,
        state=state,
        since=since,
        how=how,
        since_capture_id=since_id,
    )


def _conclusive(capture: CaptureSummary) -> bool:
    """A capture that shows what the URL says now: a page, or a refusal to serve one that
    is not an access restriction or a server error."""
    status = capture.http_status
    return (
        capture.status == "captured"
        and status is not None
        and status < 500
        and status not in _INCONCLUSIVE
    )


def render(search: TextSearch) -> str:
    """find-text for a terminal."""
    if not search.matches:
        return f'Not found in any capture: "{search.normalised}"\n'
    lines = [
        f"Found in {len(search.matches)} capture(s) of {len(search.urls)} URL(s): "
        f'"{search.normalised}"',
        "",
    ]
    by_url: dict[str, list[Match]] = {}
    for match in search.matches:
        by_url.setdefault(match.url, []).append(match)
    for presence in search.urls:
        lines.append(presence.url)
        for match in by_url[presence.url]:
            where = f"{match.warc} @ {match.offset}" if match.warc else "no WARC record"
            lines.append(
                f"  {match.captured_at}  capture {match.capture_id}  sha256:{match.sha256}  {where}"
            )
        lines.append(f"  → {presence.sentence()}")
        lines.append("")
    return "\n".join(lines)
