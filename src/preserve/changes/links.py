"""The diff of a page's citations: links added, removed, retargeted (same anchor, new URL) or
re-anchored, compared by `url_key` (http and https, `www.`, a trailing slash, the fragment and
tracking parameters do not count)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid)$", re.IGNORECASE)


@dataclass(frozen=True)
class Link:
    """A citation: where it points and the words that link there."""

    url: str
    anchor: str


@dataclass(frozen=True)
class Retarget:
    anchor: str
    old_url: str
    new_url: str


@dataclass(frozen=True)
class Reanchor:
    url: str
    old_anchor: str
    new_anchor: str


@dataclass(frozen=True)
class LinkChanges:
    """How an article's citations changed: added, removed, retargeted (same anchor text,
    another URL) and re-anchored (same URL, other anchor text)."""

    added: tuple[Link, ...] = ()
    removed: tuple[Link, ...] = ()
    retargeted: tuple[Retarget, ...] = ()
    reanchored: tuple[Reanchor, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.retargeted or self.reanchored)

    def added_urls(self) -> list[str]:
        """URLs the article cites now and did not before: new sources to capture."""
        return [link.url for link in self.added] + [r.new_url for r in self.retargeted]

    def describe(self) -> list[str]:
        """One line per change, for a text report."""
        return (
            [f"+ cites {link.url} ({link.anchor!r})" for link in self.added]
            + [f"- no longer cites {link.url} ({link.anchor!r})" for link in self.removed]
            + [
                f"~ {r.anchor!r} now points to {r.new_url} (was {r.old_url})"
                for r in self.retargeted
            ]
            + [f"~ {r.url}: anchor {r.old_anchor!r} → {r.new_anchor!r}" for r in self.reanchored]
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def url_key(url: str) -> str:
    """The form in which two URLs are "the same URL": host lowercased, default
    port, fragment and utm_*/fbclid/gclid dropped, http↔https, `www.` and a trailing slash
    ignored. Path case and query order are kept: the server may care."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    host = (parts.hostname or "").rstrip(".").lower().removeprefix("www.")
    if port and port not in (80, 443):
        host = f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, True) if not _TRACKING.match(k)])
    path = parts.path.rstrip("/") or "/"
    return f"{host}{path}?{query}" if query else f"{host}{path}"


def link_changes(
    old_links: Sequence[tuple[str, str]], new_links: Sequence[tuple[str, str]]
) -> LinkChanges:
    """Compare two citation lists of (url, anchor text), URLs compared by `url_key`. A
    removed and an added link with the same (non-empty) anchor text are one retargeting."""
    old = _by_key(old_links)
    new = _by_key(new_links)
    removed = [Link(*old[k]) for k in old if k not in new]
    added = [Link(*new[k]) for k in new if k not in old]
    retargeted = []
    for gone in list(removed):
        anchor = _anchor(gone.anchor)
        match = next((a for a in added if anchor and _anchor(a.anchor) == anchor), None)
        if match:
            retargeted.append(Retarget(gone.anchor, gone.url, match.url))
            removed.remove(gone)
            added.remove(match)
    reanchored = [
        Reanchor(new[k][0], old[k][1], new[k][1])
        for k in new
        if k in old and _anchor(old[k][1]) != _anchor(new[k][1])
    ]
    return LinkChanges(tuple(added), tuple(removed), tuple(retargeted), tuple(reanchored))


def _by_key(links: Sequence[tuple[str, str]]) -> dict[str, tuple[str, str]]:
    keyed: dict[str, tuple[str, str]] = {}
    for url, anchor in links:
        keyed.setdefault(url_key(url), (url, anchor))
    return keyed


def _anchor(text: str) -> str:
    return " ".join(text.split()).casefold()
