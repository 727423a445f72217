"""Classify one recapture of a URL against its baseline: `classify(baseline, current, …)`
returns an `Outcome` (the DESIGN.md outcome table) with the rule that fired. Pure: no I/O,
no clock (`now` is a parameter), so every rule is table-tested.

Order of checks (notes/change-detection.md §12): network/DNS → status (451 → 410 → 404 →
bot challenge → 401/402/403/407/412/428/429/440/449 → 5xx) → redirects (login, root, error
page) → soft-404 probe → payload → normalisation version → text, links and title (with the
boundary-shift test, the replacement test and the move test).

Decisions where the notes are silent or disagree:

- **No baseline**: a good answer is `new`; anything else is `failed` with the reason the
  baseline-comparing path would give (`http-404`, `timeout`, `soft-404`, …), unconfirmed.
- **Errors.** DNS NXDOMAIN (`dns`) is `gone`; every other fetch error code (`dns-temporary`,
  `timeout`, `refused`, `tls`, `too-many-redirects`, `blocked-private-address`, …) is
  `unreachable` with that code. A body cut by time or disconnection is `unreachable/truncated`;
  one cut by our size cap is compared as it is (it is cut the same way every time). 5xx,
  408, 425, a final 1xx/3xx and any 4xx without a rule of its own are `unreachable/http-NNN`:
  transient until persistent.
- **Bot challenges** (`cf-mitigated: challenge`, or a "Just a moment…" style title the
  baseline did not have) are `restricted/bot-challenge` whatever the status.
- **Soft-404** never for a site root. Signals: a redirect hop to a site root (any host), a
  redirect to an error-looking URL (`/404`, `not-found`, `notfound`, `/error`), a redirect to
  a login page (→ `restricted/login` instead), and the random-sibling probe (Bar-Yossef: a
  probe that answers 404/410 means an honest site; different redirect counts mean alive;
  the same final URL, or visible text with word ratio ≥ 0.95 or Jaccard3 ≥ 0.9, means dead).
  Because nav and footer can make up nearly all the visible text of a short page, when both
  pages have main text those must also match (Jaccard3 ≥ `PROBE_TEXT_JACCARD`). No probe
  verdict for an SPA shell (no main text and under `SHELL_WORDS` visible words) or for a
  page that still carries its baseline text (same hash, or half its shingles). A page whose
  text was replaced and whose title reads like an error page is `soft-404`, not `replaced`.
- **Renormalise**: equal payloads are `unchanged` whatever the versions; otherwise a
  different `norm_version` is `failed/renormalise`: the caller re-derives the baseline from
  its WARC with the current normalisation and classifies again. Hashes of two versions are
  never compared.
- **No text**: a 2xx HTML/text page with no main text whose baseline had some (a JS shell, an
  empty 200, a 204) is `restricted/no-text`: inconclusive, never `edited` and never `gone`.
- **Text equal** means equal strict hashes. Text that differs only in paragraph breaks is
  `cosmetic/paragraph-breaks`; equal loose hashes are `edited/punctuation-only`. Otherwise the
  word diff's spans go through the boundary-shift test; all explained → `cosmetic/
  boundary-shift` (or `cosmetic/reordered`, `text_equal` false, when spans of five words or
  more only moved, with the moves in `edit`). A span that only changes a time said relative
  to the fetch ("Updated 5 minutes ago") is explained too (`cosmetic/relative-time` when
  nothing else changed; notes §13.10); a counter (views, comments) is an edit. Then title,
  byline and links: `edited/title-only`, `byline-only`, `links-only`, or the parts joined
  (`title-and-links`). Edits report only the unexplained spans, a partly explained hunk cut
  down to its unexplained runs (notes §13.17).
- **Replaced** (`gone/replaced`): at least `REPLACED_CHANGED` of the words changed (over the
  unexplained spans) while under half of the smaller text's 3-shingles survive, or, for texts
  of `MIN_SHINGLE_WORDS` words or more, under `REPLACED_OVERLAP` of them survive. The overlap
  coefficient stands in for the notes' Jaccard3 < 0.1 so that a text that only shrank (a
  teaser, a heavy cut) or grew (the extractor took the whole page) is never "replaced".
  Under `CHEAP_EDIT` changed the overlap is not computed: so few changes cannot reach it.
- **Paywall**: ≥ half of the baseline's words gone and a subscribe-to-continue phrase the
  baseline did not show → `restricted/paywall`. A text replaced by a cookie-consent wall (its
  phrases in the title or text, not in the baseline's main text) → `restricted/consent`.
- **Parked**: a replaced text whose page says its domain is for sale, expired or parked, or
  offers "related searches" → `gone/parked` (confirmed like `replaced`).
- **Moved**: a 301/308 hop to a different URL (under `url_key`: http↔https, `www.` and a
  trailing slash do not count) whose final answer is 2xx, not a root, login, error or
  probe URL, and not where the baseline already ended; `moved` (confirmed) with `new_url`
  when the content comparison found no text edit, or `moved` with reason `text` and `edit`
  when Jaccard3 ≥ `MOVED_JACCARD`; else it is judged on content alone. A 302/307 elsewhere
  is only compared by content.
- **Restored**: the last check was `gone`, `unreachable` or `restricted` and a good answer
  comes: `restored`, `reason` saying what it was restored from (e.g. `http-404`), with
  `text_equal`, `edit`, `links` and `new_url` from the content comparison.
- **`text_equal`** is set on every outcome that compared text, not only `restored`; it is
  true for unchanged, cosmetic (boundary shifts included) and title-/links-only edits.
- **Kinds.** PDFs and other files: a different payload is `edited/payload` (with a text
  summary when both sides have extracted text); a change of kind (HTML → PDF) is
  `edited/kind-changed`.
- **Confirmation** (`now` against the history of this URL). A run is the newest checks that
  share this outcome and reason; `unreachable` and `restricted` checks inside a `gone` run
  are skipped (inconclusive), anything else ends it. Counting greedily from the oldest, a
  check counts when it is at least the gap after the last counted one:
  410 and 451: 2 checks ≥ 1 h apart. 404 and dns: 3 checks each ≥ 24 h apart (the issue's
  rule; stricter than the notes' 2 for NXDOMAIN since we have one resolver). soft-404 and
  replaced: 2 checks ≥ 24 h apart. Unreachable: never confirmed, until `PERSISTENT_CHECKS`
  consecutive unreachable checks span `PERSISTENT_SPAN`; then `gone/unreachable-persistent`,
  confirmed. Restricted: confirmed on the second consecutive restricted check. Observed
  facts (`new`, `unchanged`, `cosmetic`, `edited`, `moved`, `restored`) are confirmed;
  `failed` is not. Any good answer ends every run.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from typing import Any
from urllib.parse import urlsplit

from preserve.changes.diff import (
    EditSummary,
    Hunk,
    LinkChanges,
    explained_spans,
    jaccard3,
    link_changes,
    overlap3,
    summarise,
    tokens,
    unexplained_hunks,
    url_key,
    word_diff,
)
from preserve.urls import is_site_root

__all__ = [
    "EditSummary",
    "Hunk",
    "LinkChanges",
    "MetadataChange",
    "Outcome",
    "PastCheck",
    "Snapshot",
    "classify",
    "explained_spans",
    "link_changes",
    "summarise",
    "unexplained_hunks",
    "url_key",
    "word_diff",
]

PROBE_RATIO = 0.95
PROBE_JACCARD = 0.9
PROBE_TEXT_JACCARD = 0.5
SHELL_WORDS = 50  # a page with no main text and fewer visible words than this is a JS shell
MOVED_JACCARD = 0.5
REPLACED_CHANGED = 0.8
REPLACED_OVERLAP = 0.1
REPLACED_SURVIVING = 0.5  # with ≥ 80 % changed, fewer surviving shingles than this: replaced
MIN_SHINGLE_WORDS = 20
CHEAP_EDIT = 0.1
PAYWALL_REMOVED = 0.5
PERSISTENT_CHECKS = 5
PERSISTENT_SPAN = timedelta(days=7)
# reason → (checks needed, minimum gap between counted checks)
CONFIRM = {
    "http-410": (2, timedelta(hours=1)),
    "http-451": (2, timedelta(hours=1)),
    "http-404": (3, timedelta(hours=24)),
    "dns": (3, timedelta(hours=24)),
    "soft-404": (2, timedelta(hours=24)),
    "replaced": (2, timedelta(hours=24)),
    "parked": (2, timedelta(hours=24)),
}
RESTRICTED_STATUSES = frozenset({401, 402, 403, 407, 412, 428, 429, 440, 449})
TRANSIENT_CUTS = frozenset({"time", "disconnect"})
GOOD = frozenset({"unchanged", "cosmetic", "edited", "moved"})
BAD = frozenset({"gone", "unreachable", "restricted"})
TEXT_KINDS = frozenset({"html", "text"})
_ERROR_PATH = re.compile(r"/(404|error|errors|error-?page)(\.[a-z0-9]+)?(/|$)|not[-_]?found")
_LOGIN_SEGMENTS = frozenset(
    {"login", "log-in", "signin", "sign-in", "logon", "subscribe", "paywall", "sso"}
)
_CHALLENGE_TITLE = re.compile(
    r"^(just a moment|attention required!? \| cloudflare|checking your browser|"
    r"verify you are (a )?human|are you a robot|ddos-guard)",
    re.IGNORECASE,
)
_ERROR_TITLE = re.compile(
    r"\b(404|(page|file)( was)? not found|not found|this page (isn't|is not) available|"
    r"no longer available)\b",
    re.IGNORECASE,
)
_PAYWALL = re.compile(
    r"subscribe to (continue|read)|to continue reading|already a subscriber|subscribers only|"
    r"(sign|log) in to (continue|read)|create a free account to continue",
    re.IGNORECASE,
)
# A parked domain: the page gave way to a registrar's or a parking service's "for sale" page
# with ads for related searches (notes §12: gone/parked).
_PARKED = re.compile(
    r"(this|the) domain( name)? (is|may be) for sale|buy this domain|"
    r"domain (is )?(parked|for sale)|related searches|parked (free|domain)|"
    r"this domain (has )?expired",
    re.IGNORECASE,
)
# A cookie-consent wall in place of the page (notes §12: access-restricted, never gone).
_CONSENT = re.compile(
    r"we value your privacy|accept all cookies|(accept|reject) all\b|"
    r"manage (cookie )?(options|preferences|settings|choices)|your privacy choices|"
    r"(we|this site|this website) uses? cookies|consent to (the use of )?cookies|"
    r"before you continue",
    re.IGNORECASE,
)
_BLOCKED_BY = re.compile(r"<([^>]*)>([^<]*)")
# A time said relative to when the page was served ("Updated 5 minutes ago"): it changes at
# every fetch and says nothing about the article (notes §13.10).
_RELATIVE_TIME = re.compile(
    r"\b(?:(?:\d+|an?|one|a\s+few|few|several)\s+"
    r"(?:sec(?:ond)?|min(?:ute)?|h(?:ou)?r|hour|day|week|month|year)s?\s+ago|just\s+now)\b",
    re.IGNORECASE,
)
_REL_BLOCKED_BY = re.compile(r'rel\s*=\s*"?[^";,]*\bblocked-by\b', re.IGNORECASE)


@dataclass(frozen=True)
class Snapshot:
    """One observation of a URL, as compare needs it (the caller maps fetch/extract into it)."""

    url: str  # the URL that was requested
    captured_at: datetime
    error: str | None = None  # fetch failure code ("dns" = NXDOMAIN); None if a response came
    status: int | None = None  # final HTTP status
    final_url: str | None = None
    redirects: tuple[tuple[str, int], ...] = ()  # (url, status) of each redirect hop, in order
    headers: tuple[tuple[str, str], ...] = ()  # final response headers
    truncated: str | None = None  # "length", "time" or "disconnect"
    payload_sha256: str | None = None
    kind: str = "html"  # "html", "text", "pdf" or "other"
    title: str | None = None
    # The byline and the stated dateModified: "" when the page states none, None when not
    # known (a capture made before preserve recorded them), which is never read as a change.
    byline: str | None = None
    modified: str | None = None
    text: str = ""  # normalised main text, paragraphs separated by "\n"
    visible_text: str = ""  # normalised full visible text
    links: tuple[tuple[str, str], ...] = ()  # (url, anchor text) citations, in order
    norm_version: int = 1
    text_sha256: str | None = None
    loose_sha256: str | None = None
    links_sha256: str | None = None


@dataclass(frozen=True)
class PastCheck:
    """An earlier check of the same URL (history is oldest first)."""

    checked_at: datetime
    outcome: str
    reason: str | None
    confirmed: bool = False


@dataclass(frozen=True)
class Reversion:
    """An edit that brings back what the page said before its baseline: the latest earlier
    capture that said it. `alternating`: what the baseline says had also been said before
    that, so the page goes back and forth between two versions (an A/B-tested headline)."""

    capture_id: int
    captured_at: str
    alternating: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "capture_id": self.capture_id,
            "captured_at": self.captured_at,
            "alternating": self.alternating,
        }


@dataclass(frozen=True)
class MetadataChange:
    """A change in what the page says of itself: its title, byline or stated date of
    modification (the notes' headline, byline and dateModified, each compared on its own)."""

    field: str  # "title" | "byline" | "modified"
    before: str | None
    after: str | None


def metadata_json(changes: Sequence[MetadataChange]) -> dict[str, Any] | None:
    """`{"title": {"before": …, "after": …}, …}` for the fields that changed; None if none."""
    return {c.field: {"before": c.before, "after": c.after} for c in changes} or None


@dataclass(frozen=True)
class Outcome:
    """The verdict on one check, with the rule that fired and the evidence it rests on."""

    outcome: str  # new|unchanged|cosmetic|edited|moved|gone|restricted|unreachable|restored|failed
    reason: str | None
    confirmed: bool
    rule: str  # the rule that fired, e.g. "status.410", "soft404.root-redirect"
    new_url: str | None = None  # moved to
    text_equal: bool | None = None  # does the main text equal the baseline's
    edit: EditSummary | None = None
    links: LinkChanges | None = None
    blocked_by: str | None = None  # 451: the Link rel="blocked-by" target
    metadata: tuple[MetadataChange, ...] = ()  # title, byline, stated date: what changed
    # The main text changed while the page went on stating the same date of modification:
    # an edit the page does not own up to.
    silent_edit: bool = False
    reverted_to: Reversion | None = None  # an edit back to an earlier version (set by check)


def classify(
    baseline: Snapshot | None,
    current: Snapshot,
    *,
    history: Sequence[PastCheck] = (),
    probe: Snapshot | None = None,
    now: datetime,
) -> Outcome:
    """Classify `current` against `baseline` (the URL's last good capture, None if it never
    had one). `history` is this URL's earlier checks, oldest first; `probe` is the caller's
    fetch of a random missing sibling URL (or None); `now` is the time of this check."""
    problem = _availability(baseline, current, probe)
    if baseline is None:
        if problem:
            return replace(problem, outcome="failed", confirmed=False)
        return Outcome("new", None, True, "first-capture")
    result = problem or _content(baseline, current, probe)
    last = history[-1] if history else None
    if result.outcome in GOOD and last is not None and last.outcome in BAD:
        return replace(
            result,
            outcome="restored",
            reason=last.reason or last.outcome,
            rule=f"restored.{result.rule}",
            confirmed=True,
        )
    return _confirm(result, history, now)


def _availability(
    baseline: Snapshot | None, current: Snapshot, probe: Snapshot | None
) -> Outcome | None:
    """Why the current answer is not a page to compare, or None if it is one."""
    if current.error:
        if current.error == "dns":
            return Outcome("gone", "dns", False, "network.nxdomain")
        return Outcome("unreachable", current.error, False, f"network.{current.error}")
    status = current.status
    if status is None:
        return Outcome("unreachable", "no-response", False, "network.no-response")
    if status == 451:
        return Outcome("gone", "http-451", False, "status.451", blocked_by=_blocked_by(current))
    if status in (410, 404):
        return Outcome("gone", f"http-{status}", False, f"status.{status}")
    challenge = _challenge(baseline, current)
    if challenge:
        return Outcome("restricted", "bot-challenge", False, challenge)
    if status in RESTRICTED_STATUSES:
        return Outcome("restricted", f"http-{status}", False, f"status.{status}")
    if not 200 <= status < 300:
        rule = "status.5xx" if status >= 500 else "status.other"
        return Outcome("unreachable", f"http-{status}", False, rule)
    if current.truncated in TRANSIENT_CUTS:
        return Outcome("unreachable", "truncated", False, f"network.truncated-{current.truncated}")
    if is_site_root(current.url):
        return None  # a root is never a soft-404, and never a login redirect to report
    final = current.final_url or current.url
    if url_key(final) != url_key(current.url):
        if _is_login(final):
            return Outcome("restricted", "login", False, "redirect.login")
        if any(is_site_root(url) for url in _hop_targets(current)):
            return Outcome("gone", "soft-404", False, "soft404.root-redirect")
        if _ERROR_PATH.search(urlsplit(final).path.lower()):
            return Outcome("gone", "soft-404", False, "soft404.error-url")
    return _probe_says_dead(baseline, current, probe)


def _probe_says_dead(
    baseline: Snapshot | None, current: Snapshot, probe: Snapshot | None
) -> Outcome | None:
    """The random-sibling probe test (notes §9)."""
    if probe is None or probe.error or probe.status is None or not 200 <= probe.status < 300:
        return None  # a 404/410 probe is an honest site; a failed probe says nothing
    mine = current.visible_text or current.text
    if not current.text.strip() and len(tokens(mine)) < SHELL_WORDS:
        return None  # an SPA shell serves the same page for every URL: inconclusive
    if baseline is not None and (
        _same_text(baseline, current) or overlap3(baseline.text, current.text) >= REPLACED_SURVIVING
    ):
        return None  # it still says what it said: the site answers everything alike
    if len(probe.redirects) != len(current.redirects):
        return None
    if url_key(probe.final_url or probe.url) == url_key(current.final_url or current.url):
        return Outcome("gone", "soft-404", False, "soft404.probe-same-url")
    theirs = probe.visible_text or probe.text
    if jaccard3(mine, theirs) < PROBE_JACCARD and _ratio(mine, theirs) < PROBE_RATIO:
        return None
    if current.text.strip() and probe.text.strip():
        # Nav and footer can make up nearly all the visible text of a short page, so its
        # own main text must look like the probe's too.
        if jaccard3(current.text, probe.text) < PROBE_TEXT_JACCARD:
            return None
    return Outcome("gone", "soft-404", False, "soft404.probe-match")


def _ratio(a: str, b: str) -> float:
    matcher = SequenceMatcher(None, tokens(a), tokens(b))
    if matcher.real_quick_ratio() < PROBE_RATIO or matcher.quick_ratio() < PROBE_RATIO:
        return 0.0  # cheap upper bounds first: most live pages are nowhere near the probe
    return matcher.ratio()


def _hop_targets(s: Snapshot) -> list[str]:
    """Where each redirect hop led: the next hop's URL, the last one to the final URL."""
    final = s.final_url or s.url
    return [url for url, _ in s.redirects[1:]] + [final] if s.redirects else [final]


def _challenge(baseline: Snapshot | None, current: Snapshot) -> str | None:
    if (_header(current, "cf-mitigated") or "").strip().lower() == "challenge":
        return "bot.challenge-header"
    title = (current.title or "").strip()
    if _CHALLENGE_TITLE.match(title) and (baseline is None or baseline.title != current.title):
        return "bot.challenge-title"
    return None


def _is_login(url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    segments = {s.split(".")[0] for s in parts.path.lower().split("/")}
    return host.startswith(("accounts.", "login.", "auth.")) or bool(segments & _LOGIN_SEGMENTS)


def _header(snapshot: Snapshot, name: str) -> str | None:
    return next((v for k, v in snapshot.headers if k.lower() == name), None)


def _blocked_by(snapshot: Snapshot) -> str | None:
    for name, value in snapshot.headers:
        if name.lower() == "link":
            for match in _BLOCKED_BY.finditer(value):
                if _REL_BLOCKED_BY.search(match.group(2)):
                    return match.group(1).strip()
    return None


def _same_text(a: Snapshot, b: Snapshot) -> bool:
    if a.norm_version != b.norm_version:
        return False
    if a.text_sha256 and b.text_sha256:
        return a.text_sha256 == b.text_sha256
    return a.text == b.text


def _content(baseline: Snapshot, current: Snapshot, probe: Snapshot | None) -> Outcome:
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
        for (_, status), target in zip(current.redirects, _hop_targets(current), strict=False)
    )
    if not permanent or url_key(final) == here or is_site_root(final):
        return None  # a root is where sites send what they no longer serve, never a new home
    if url_key(final) == url_key(baseline.final_url or baseline.url):
        return None  # the baseline was already captured through this redirect
    if probe is not None and url_key(final) == url_key(probe.final_url or probe.url):
        return None
    return final


def _compare(b: Snapshot, c: Snapshot) -> Outcome:
    """Compare the content of a good answer with the baseline's (notes §6)."""
    if b.payload_sha256 and b.payload_sha256 == c.payload_sha256:
        return Outcome("unchanged", None, True, "payload.equal", text_equal=True)
    if b.norm_version != c.norm_version:
        return Outcome("failed", "renormalise", False, "norm.version")
    if c.kind in TEXT_KINDS and b.text.strip() and not c.text.strip():
        return Outcome("restricted", "no-text", False, "text.no-text")
    links = _link_diff(b, c)
    metadata = _metadata_changes(b, c)
    if b.kind != c.kind or c.kind not in TEXT_KINDS:
        # Bytes are the evidence for PDFs and other files; their text, if any, is a bonus.
        has_text = bool(b.text or c.text)
        same = _same_text(b, c) if has_text else None
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
    if _same_text(b, c):
        return _metadata(metadata, links, "markup", "text.equal")
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
    clock = [h for h in unexplained if _relative_time(h, old_words, new_words)]
    unexplained = [h for h in unexplained if h not in clock]
    if not unexplained:
        moves = [h for h in hunks if h.moved]
        if moves:
            result = _metadata(metadata, links, "reordered", "text.reordered")
            return replace(result, edit=summarise(b.text, c.text, moves), text_equal=False)
        if clock:
            return _metadata(metadata, links, "relative-time", "text.relative-time")
        return _metadata(metadata, links, "boundary-shift", "text.boundary-shift")
    removed = sum(len(h.old) for h in unexplained)
    if removed >= PAYWALL_REMOVED * len(b.text.split()) and _paywalled(b, c):
        return Outcome("restricted", "paywall", False, "text.paywall", text_equal=False)
    if _replaced(b.text, c.text, unexplained):
        if _consent_wall(b, c):
            return Outcome("restricted", "consent", False, "text.consent", text_equal=False)
        if _error_title(c.title) and not _error_title(b.title):
            return Outcome("gone", "soft-404", False, "soft404.error-title", text_equal=False)
        if any(_PARKED.search(t or "") for t in (c.title, c.text, c.visible_text)):
            return Outcome("gone", "parked", False, "text.parked", text_equal=False)
        return Outcome("gone", "replaced", False, "text.replaced", text_equal=False)
    return replace(edited, edit=summarise(b.text, c.text, unexplained))


def _relative_time(hunk: Hunk, old_words: Sequence[str], new_words: Sequence[str]) -> bool:
    """Whether every word a hunk changes, on both sides, lies inside a relative time
    ("5 minutes ago" → "2 hours ago"). A number anywhere else, a view counter included, is
    an edit: nothing tells it from a number the article states."""
    if not hunk.old and not hunk.new:
        return False
    return _within_relative_time(old_words, hunk.old_at, len(hunk.old)) and (
        _within_relative_time(new_words, hunk.new_at, len(hunk.new))
    )


def _within_relative_time(words: Sequence[str], at: int, count: int) -> bool:
    if count == 0:
        return True
    low, high = max(0, at - 4), min(len(words), at + count + 4)
    starts, line = [], ""
    for word in words[low:high]:
        starts.append(len(line))
        line += word + " "
    covered: set[int] = set()
    for match in _RELATIVE_TIME.finditer(line):
        for offset, start in enumerate(starts):
            if start < match.end() and start + len(words[low + offset]) > match.start():
                covered.add(low + offset)
    return all(i in covered for i in range(at, at + count))


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


def _error_title(title: str | None) -> bool:
    return bool(title and _ERROR_TITLE.search(title))


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


def _confirm(result: Outcome, history: Sequence[PastCheck], now: datetime) -> Outcome:
    """Set `confirmed` from the history, and escalate persistent unreachability."""
    if result.outcome == "unreachable":
        run = _run(
            history,
            now,
            lambda c: c.outcome == "unreachable" or c.reason == "unreachable-persistent",
            skip=False,
        )
        if len(run) >= PERSISTENT_CHECKS and run[-1] - run[0] >= PERSISTENT_SPAN:
            return replace(
                result,
                outcome="gone",
                reason="unreachable-persistent",
                confirmed=True,
                rule="unreachable.persistent",
            )
        return result
    if result.outcome == "restricted":
        run = _run(history, now, lambda c: c.outcome == "restricted", skip=False)
        return replace(result, confirmed=len(run) >= 2)
    if result.outcome == "gone" and result.reason in CONFIRM:
        needed, gap = CONFIRM[result.reason]
        run = _run(
            history, now, lambda c: c.outcome == "gone" and c.reason == result.reason, skip=True
        )
        return replace(result, confirmed=_spaced(run, gap) >= needed)
    return result


def _run(
    history: Sequence[PastCheck],
    now: datetime,
    same: Callable[[PastCheck], bool],
    *,
    skip: bool,
) -> list[datetime]:
    """Times of this check and of the newest earlier checks matching `same`, oldest first.
    With `skip`, inconclusive checks (unreachable, restricted) neither count nor end the run."""
    times = [now]
    for check in reversed(history):
        if same(check):
            times.append(check.checked_at)
        elif not (skip and check.outcome in ("unreachable", "restricted")):
            break
    return sorted(times)


def _spaced(times: list[datetime], gap: timedelta) -> int:
    """How many of `times` (sorted) can be counted with at least `gap` between counted ones."""
    count, last = 0, None
    for t in times:
        if last is None or t - last >= gap:
            count, last = count + 1, t
    return count
