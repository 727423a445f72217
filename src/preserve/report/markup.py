"""The HTML report's building blocks: escaping, links, badges, evidence, outcome colours."""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape
from urllib.parse import urlsplit

from preserve.report.model import CaptureRef
from preserve.report.wording import human_time

# Outcome colours (timeline marks and badges): greens are fine, amber an edit, blue a move,
# red a takedown; grey and violet are inconclusive.
COLOURS = {
    "ok": "#15803d",
    "unchanged": "#15803d",
    "cosmetic": "#65a30d",
    "new": "#475569",
    "captured": "#475569",
    "edited": "#d97706",
    "moved": "#2563eb",
    "restored": "#0d9488",
    "gone": "#dc2626",
    "failed": "#991b1b",
    "restricted": "#7c3aed",
    "unreachable": "#78716c",
    "sources-changed": "#d97706",
    "no-text": "#7c3aed",
}
# Outcomes, most severe first: the one that wins when several marks fall on the same pixel,
# and the order of counts by outcome.
SEVERITY = (
    "gone",
    "failed",
    "edited",
    "moved",
    "restored",
    "restricted",
    "unreachable",
    "new",
    "cosmetic",
    "unchanged",
)

_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def esc(text: str) -> str:
    """Text for HTML: escaped, with the control characters and lone surrogates a hostile
    page can smuggle into a title or an anchor replaced by U+FFFD (a NUL is a parse error,
    and a surrogate cannot be written as UTF-8)."""
    return escape(_UNSAFE.sub("\ufffd", text))


def badge(state: str | None, *, quiet: bool = False) -> str:
    """A state as a coloured pill (`quiet`: in a lighter weight, for counts and tables)."""
    word = state or "-"
    colour = COLOURS.get(word, "#475569")
    extra = " quiet" if quiet else ""
    return (
        f'<span class="badge b-{esc(word)}{extra}" style="background:{colour}">{esc(word)}</span>'
    )


def linked_url(url: str) -> str:
    """A URL as text, linked only when it is http(s) (a `javascript:` URL stays text)."""
    text = esc(url)
    if urlsplit(url).scheme.lower() in ("http", "https"):
        return f'<a href="{text}" rel="noreferrer noopener nofollow">{text}</a>'
    return text


def evidence_table(rows: Iterable[tuple[str, CaptureRef | None]]) -> str:
    """Labelled captures as evidence: time, HTTP status, payload hash, WARC record."""
    body = []
    for label, ref in rows:
        if ref is None:
            continue
        status = str(ref.http_status) if ref.http_status else (ref.error or ref.status)
        where = f"{esc(ref.warc)} @ {ref.offset} (+{ref.length})" if ref.warc else "-"
        if ref.status != "captured":  # no answer came: an attempt, not a capture
            label = label.replace("capture", "attempt")
        body.append(
            f"<tr><th>{esc(label)}</th><td>{esc(human_time(ref.captured_at))}</td>"
            f"<td>{esc(status)}</td>"
            f'<td class="mono">sha256:{esc(ref.sha256 or "-")}'
            + (
                f"<br>TLS certificate sha256:{esc(ref.certificate_sha256)}"
                if ref.certificate_sha256
                else ""
            )
            + "</td>"
            f'<td class="mono">{where}<br>{esc(ref.record_type or "")} '
            f"{esc(ref.record_id or '')}</td></tr>"
        )
    if not body:
        return '<p class="nochange">Never captured.</p>'
    return (
        "<table><thead><tr><th></th><th>time</th><th>HTTP</th><th>payload</th>"
        "<th>WARC record</th></tr></thead><tbody>" + "".join(body) + "</tbody></table>\n"
    )
