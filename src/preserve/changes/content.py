"""Comparing what a page says with its baseline: main text (with the boundary-shift,
relative-time, replacement and paywall tests), title, byline, stated date and citations; and
whether a redirect is a move."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import replace

from preserve.changes.availability import REPLACED_SURVIVING, error_title, hop_targets
from preserve.changes.boundary import unexplained_hunks
from preserve.changes.clock import relative_time, render_time
from preserve.changes.diff import Hunk, word_diff
from preserve.changes.links import LinkChanges, link_changes, url_key
from preserve.changes.model import TEXT_KINDS, MetadataChange, Outcome, Snapshot
from preserve.changes.prose import edited_passages, prose_edits
from preserve.changes.summary import summarise
from preserve.changes.words import jaccard3, overlap3
from preserve.coverage import text_gap
from preserve.tokens import tokens
from preserve.urls import is_site_root

MOVED_JACCARD = 0.5
REPLACED_CHANGED = 0.8


REPLACED_OVERLAP = 0.1
MIN_SHINGLE_WORDS = 20


CHEAP_EDIT = 0.1
PAYWALL_REMOVED = 0.5


_PAYWALL = re.compile(
    r"subscribe to (continue|read)|to continue reading|already a subscriber|subscribers only|"
    r"(sign|log) in to (continue|read)|create a free account to continue",
    re.IGNORECASE,
)
# A parked domain: the page gave way to a registrar's or a parking service's "for sale" page
# with ads for related searches: gone/parked.
_PARKED = re.compile(
    r"(this|the) domain( name)? (is|may be) for sale|buy this domain|"
    r"domain (is )?(parked|for sale)|related searches|parked (free|domain)|"
    r"this domain (has )?expired",
    re.IGNORECASE,
)
# A cookie-consent wall in place of the page: access restricted, never gone.
_CONSENT = re.compile(
    r"we value your privacy|accept all cookies|(accept|reject) all\b|"
    r"manage (cookie )?(options|preferences|settings|choices)|your privacy choices|"
    r"(we|this site|this website) uses? cookies|consent to (the use of )?cookies|"
    r"before you continue",
    re.IGNORECASE,
)


def compare_content(baseline: Snapshot, current: Snapshot, probe: Snapshot | None) -> Outcome:
    """Compare a good answer with the baseline, then decide whether it moved."""
    result = _compare(baseline, current)
    target = _move_target(baseline, current, probe)
    if target is None or result.outcome not in ("unchanged", "cosmetic", "edited"):
        return result
    if result.reason == "text" and jaccard3(baseline.text, current.text) < MOVED_JACCARD:
        return result  # somewhere else, and something else: judged on content alone
    moved = replace(
        result, outcome="moved", new_url=target, rule=f"redirect.permanent+{result.rule}"
    )
    return moved if result.outcome == "edited" else replace(moved, reason=None)


def _move_target(baseline: Snapshot, current: Snapshot, probe: Snapshot | None) -> str | None:
    """The new URL if a permanent redirect now leads somewhere else, else None."""
    final = current.final_url or current.url
    here = url_key(current.url)
    permanent = any(
        status in (301, 308) and url_key(target) != here
        for (_, status), target in zip(current.redirects, hop_targets(current), strict=False)
    )
    if not permanent or url_key(final) == here or is_site_root(final):
        return None  # a root is where sites send what they no longer serve, never a new home
    if url_key(final) == url_key(baseline.final_url or baseline.url):
        return None  # the baseline was already captured through this redirect
    if probe is not None and url_key(final) == url_key(probe.final_url or probe.url):
        return None
    return final


def _compare(b: Snapshot, c: Snapshot) -> Outcome:
    """Compare the content of a good answer with the baseline's (docs/architecture.md, "Text")."""
    if b.payload_sha256 and b.payload_sha256 == c.payload_sha256:
        return Outcome("unchanged", None, True, "payload.equal", text_equal=True)
    if b.norm_version != c.norm_version:
        return Outcome("failed", "renormalise", False, "norm.version")
    if c.kind in TEXT_KINDS and b.text.strip() and not c.text.strip():
        return Outcome("restricted", "no-text", False, "text.no-text")
    links = _link_diff(b, c)
    metadata = _metadata_changes(b, c)
    documents = c.kind == b.kind == "pdf" and bool(b.text.strip()) and bool(c.text.strip())
    if (b.kind != c.kind or c.kind not in TEXT_KINDS) and not documents:
        # Bytes are the evidence for files without text (a scanned PDF, an image); a PDF
        # with a text layer on both sides is compared by what it says, as a page is.
        has_text = bool(b.text or c.text)
        same = b.same_text(c) if has_text else None
        return Outcome(
            "edited",
            "kind-changed" if b.kind != c.kind else "payload",
            True,
            "kind.changed" if b.kind != c.kind else "payload.differs",
            text_equal=same,
            edit=summarise(b.text, c.text) if has_text and not same else None,
            links=links,
            metadata=metadata,
        )
    if b.same_text(c):
        if documents:  # a re-save, a new producer or date: the same words
            return _metadata(metadata, links, "resaved", "document.text-equal")
        outside = _outside_main_text(b, c, metadata, links)
        return outside or _metadata(metadata, links, "markup", "text.equal")
    hunks = word_diff(b.text, c.text)
    if not hunks:
        return _metadata(metadata, links, "paragraph-breaks", "text.paragraph-breaks")
    edited = Outcome(
        "edited",
        "text",
        True,
        "text.edited",
        text_equal=False,
        links=links,
        metadata=metadata,
        silent_edit=bool(b.modified) and b.modified == c.modified,
    )
    if _loose(b) == _loose(c):
        edit = summarise(b.text, c.text, hunks)
        return replace(edited, reason="punctuation-only", rule="text.loose-equal", edit=edit)
    # Only the unexplained parts of the hunks: a shifted headline in the same hunk as a
    # real edit is trimmed off, so the edit reports (and is measured by) the real span.
    unexplained = unexplained_hunks(
        b.text, c.text, hunks, old_visible=b.visible_text, new_visible=c.visible_text
    )
    old_words, new_words = b.text.split(), c.text.split()
    clock = [h for h in unexplained if relative_time(h, old_words, new_words)]
    rendering = [h for h in unexplained if render_time(h, old_words, new_words)]
    unexplained = [h for h in unexplained if h not in clock and h not in rendering]
    if not unexplained:
        moves = [h for h in hunks if h.moved]
        if moves:
            result = _metadata(metadata, links, "reordered", "text.reordered")
            return replace(result, edit=summarise(b.text, c.text, moves), text_equal=False)
        if clock:
            return _metadata(metadata, links, "relative-time", "text.relative-time")
        if rendering:
            return _metadata(metadata, links, "render-time", "text.render-time")
        return _metadata(metadata, links, "boundary-shift", "text.boundary-shift")
    removed = sum(len(h.old) for h in unexplained)
    if removed >= PAYWALL_REMOVED * len(b.text.split()) and _paywalled(b, c):
        return Outcome("restricted", "paywall", False, "text.paywall", text_equal=False)
    if _replaced(b.text, c.text, unexplained):
        if _consent_wall(b, c):
            return Outcome("restricted", "consent", False, "text.consent", text_equal=False)
        if error_title(c.title) and not error_title(b.title):
            return Outcome("gone", "soft-404", False, "soft404.error-title", text_equal=False)
        if any(_PARKED.search(t or "") for t in (c.title, c.text, c.visible_text)):
            return Outcome("gone", "parked", False, "text.parked", text_equal=False)
        # A side with no text to speak of (`preserve.coverage`) is no page to have replaced
        # or been replaced by: a script shell or a bot check in place of the article says
        # nothing of it, and the article in place of a shell is its text arriving.
        thin_b, thin_c = _thin(b), _thin(c)
        if thin_c and not thin_b:
            return Outcome("restricted", "no-text", False, "text.no-text", text_equal=False)
        if thin_b == thin_c:
            return Outcome("gone", "replaced", False, "text.replaced", text_equal=False)
    return replace(edited, edit=summarise(b.text, c.text, unexplained))


def _thin(s: Snapshot) -> bool:
    """A page or text file without text to speak of (`preserve.coverage`)."""
    return text_gap(s.kind, len(tokens(s.text))) == "no-text"


def _outside_main_text(
    b: Snapshot, c: Snapshot, metadata: tuple[MetadataChange, ...], links: LinkChanges | None
) -> Outcome | None:
    """The same main text, other bytes: was the prose a reader sees edited where the
    extractor did not look (`changes.prose`)? An edit, with the diff of those passages; or,
    when a side's visible text could not be had, a page not compared is never called
    unchanged (`unverified`)."""
    if c.kind != "html" or b.kind != "html":
        return None
    if b.visible_missing or c.visible_missing:
        judged = _metadata(metadata, links, "unverified", "visible.missing")
        return judged if judged.outcome == "edited" else replace(judged, text_equal=True)
    edits = prose_edits(b.visible_text, c.visible_text, b.text)
    if not edits:
        return None
    old, new = edited_passages(edits)
    return Outcome(
        "edited",
        "outside-main-text",
        True,
        "visible.prose-edited",
        text_equal=True,
        edit=summarise(old, new),
        passages=(old, new),
        links=links,
        metadata=metadata,
        silent_edit=bool(b.modified) and b.modified == c.modified,
    )


def _replaced(old: str, new: str, unexplained: Sequence[Hunk]) -> bool:
    """Is the new text a different text rather than an edit of the old one?"""
    old_words, new_words = len(old.split()), len(new.split())
    changed = sum(len(h.old) + len(h.new) for h in unexplained) / max(1, old_words + new_words)
    if changed < CHEAP_EDIT:
        # Each changed word breaks at most three shingles, so so few changes cannot bring
        # the overlap anywhere near REPLACED_OVERLAP; skip computing it for routine edits.
        return False
    overlap = overlap3(old, new)
    if changed >= REPLACED_CHANGED and overlap < REPLACED_SURVIVING:
        return True
    shortest = min(len(tokens(old)), len(tokens(new)))  # in the tokens the overlap counts
    return shortest >= MIN_SHINGLE_WORDS and overlap < REPLACED_OVERLAP


def _metadata(
    metadata: tuple[MetadataChange, ...],
    links: LinkChanges | None,
    reason: str,
    rule: str,
) -> Outcome:
    """The main text is the same (or only its extraction moved): title, byline and links
    decide, each named in the reason (`title-only`, `byline-and-links`, …). A new stated
    date alone is cosmetic: some sites restate it on every request."""
    changed = {c.field for c in metadata}
    parts = [f for f in ("title", "byline") if f in changed] + (["links"] if links else [])
    if not parts:
        if changed and reason == "markup":  # the stated date is all that changed
            reason, rule = "date-modified", "modified.differs"
        return Outcome("cosmetic", reason, True, rule, text_equal=True, metadata=metadata)
    if len(parts) == 1:
        reason = f"{parts[0]}-only"
    else:
        reason = "-".join(parts[:-1]) + f"-and-{parts[-1]}"
    rule = "+".join(parts) + (".differs" if parts in (["title"], ["byline"]) else ".differ")
    return Outcome("edited", reason, True, rule, text_equal=True, links=links, metadata=metadata)


def _metadata_changes(b: Snapshot, c: Snapshot) -> tuple[MetadataChange, ...]:
    """Title, byline and stated date, each compared on its own, spaces aside; a byline or
    date the baseline never recorded is not compared."""
    changes = []
    if _title(b) != _title(c):
        changes.append(MetadataChange("title", b.title, c.title))
    for name in ("byline", "modified"):
        before, after = getattr(b, name), getattr(c, name)
        if before is not None and after is not None and before.split() != after.split():
            changes.append(MetadataChange(name, before or None, after or None))
    return tuple(changes)


def _link_diff(b: Snapshot, c: Snapshot) -> LinkChanges | None:
    """The citation changes, or None when there are none. Equal link hashes win; differing
    hashes with no change under `url_key` (order, tracking parameters) are no change."""
    if b.links_sha256 and b.links_sha256 == c.links_sha256:
        return None
    return link_changes(b.links, c.links) or None


def _title(s: Snapshot) -> str:
    return " ".join((s.title or "").split())


def _loose(s: Snapshot) -> str:
    """The loose form (casefolded, no whitespace, no punctuation), or its stored hash."""
    if s.loose_sha256:
        return s.loose_sha256
    return "".join(ch for ch in s.text.casefold() if not (ch.isspace() or _is_punct(ch)))


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def _consent_wall(b: Snapshot, c: Snapshot) -> bool:
    """The page's main text gave way to a cookie-consent wall: the title is one of its
    phrases, or the main text holds two different ones (one alone, "accept all", can be in
    any article). A consent banner in a page's chrome (its visible text) is common and says
    nothing: a replaced page with one is still replaced."""
    phrases = {m.group(0).casefold() for m in _CONSENT.finditer(c.text)}
    now_says = bool(_CONSENT.search(c.title or "")) or len(phrases) >= 2
    return now_says and not _CONSENT.search(b.text)


def _paywalled(b: Snapshot, c: Snapshot) -> bool:
    now_says = _PAYWALL.search(c.visible_text) or _PAYWALL.search(c.text)
    return bool(now_says) and not (_PAYWALL.search(b.visible_text) or _PAYWALL.search(b.text))
