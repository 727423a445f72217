"""Classify one recapture of a URL against its baseline: `classify(baseline, current, …)`
returns an `Outcome` (docs/outcomes.md) with the rule that fired. Pure: no I/O,
no clock (`now` is a parameter), so every rule is table-tested.

Order of checks (docs/architecture.md, "The order of the rules"): network/DNS → status
(451 → 410 → 404 → bot challenge → 401/402/403/407/412/428/429/440/449 → 5xx) → redirects
(login, root, error page) → soft-404 probe → payload → normalisation version → text, links
and title (with the boundary-shift test, the replacement test and the move test).

Decisions:

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
  nothing else changed), as is how long the page took to make (`cosmetic/render-time`); a
  counter (views, comments) is an edit. Then title,
  byline and links: `edited/title-only`, `byline-only`, `links-only`, or the parts joined
  (`title-and-links`). Edits report only the unexplained spans, a partly explained hunk cut
  down to its unexplained runs.
- **Replaced** (`gone/replaced`): at least `REPLACED_CHANGED` of the words changed (over the
  unexplained spans) while under half of the smaller text's 3-shingles survive, or, for texts
  of `MIN_SHINGLE_WORDS` words or more, under `REPLACED_OVERLAP` of them survive. The overlap
  coefficient stands in for a Jaccard3 < 0.1 so that a text that only shrank (a
  teaser, a heavy cut) or grew (the extractor took the whole page) is never "replaced".
  Under `CHEAP_EDIT` changed the overlap is not computed: so few changes cannot reach it.
  A side with no text to speak of (`preserve.coverage`: a script shell, "Loading…") is no
  page to replace or be replaced: in place of an article with text → `restricted/no-text`;
  an article with text in place of one → an edit (its text arrived).
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
  rule; stricter than two checks for NXDOMAIN, since preserve asks one resolver). soft-404 and
  replaced: 2 checks ≥ 24 h apart. Unreachable: never confirmed, until `PERSISTENT_CHECKS`
  consecutive unreachable checks span `PERSISTENT_SPAN`; then `gone/unreachable-persistent`,
  confirmed. Restricted: confirmed on the second consecutive restricted check. Observed
  facts (`new`, `unchanged`, `cosmetic`, `edited`, `moved`, `restored`) are confirmed;
  `failed` is not. Any good answer ends every run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from preserve.changes.availability import unavailable
from preserve.changes.confirm import confirm
from preserve.changes.content import compare_content
from preserve.changes.model import BAD, GOOD, Outcome, PastCheck, Snapshot


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
    problem = unavailable(baseline, current, probe)
    if baseline is None:
        if problem:
            return replace(problem, outcome="failed", confirmed=False)
        return Outcome("new", None, True, "first-capture")
    result = problem or compare_content(baseline, current, probe)
    last = history[-1] if history else None
    if result.outcome in GOOD and last is not None and last.outcome in BAD:
        return replace(
            result,
            outcome="restored",
            reason=last.reason or last.outcome,
            rule=f"restored.{result.rule}",
            confirmed=True,
        )
    return confirm(result, history, now)
