"""Whether an answer is a page to compare at all: network errors, HTTP statuses, bot
challenges, logins, redirects to a site root or an error page, and the soft-404 probe."""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from urllib.parse import urlsplit

from preserve.changes.links import url_key
from preserve.changes.model import Outcome, Snapshot
from preserve.changes.words import jaccard3, overlap3
from preserve.tokens import tokens
from preserve.urls import is_site_root

# With at least REPLACED_CHANGED of the words changed, fewer surviving shingles than this:
# the page was replaced.
REPLACED_SURVIVING = 0.5
PROBE_RATIO = 0.95
PROBE_JACCARD = 0.9


PROBE_TEXT_JACCARD = 0.5
SHELL_WORDS = 50  # a page with no main text and fewer visible words than this is a JS shell


RESTRICTED_STATUSES = frozenset({401, 402, 403, 407, 412, 428, 429, 440, 449})
TRANSIENT_CUTS = frozenset({"time", "disconnect"})


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


_BLOCKED_BY = re.compile(r"<([^>]*)>([^<]*)")
_REL_BLOCKED_BY = re.compile(r'rel\s*=\s*"?[^";,]*\bblocked-by\b', re.IGNORECASE)


def unavailable(
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
        if any(is_site_root(url) for url in hop_targets(current)):
            return Outcome("gone", "soft-404", False, "soft404.root-redirect")
        if _ERROR_PATH.search(urlsplit(final).path.lower()):
            return Outcome("gone", "soft-404", False, "soft404.error-url")
    return _probe_says_dead(baseline, current, probe)


def _probe_says_dead(
    baseline: Snapshot | None, current: Snapshot, probe: Snapshot | None
) -> Outcome | None:
    """The random-sibling probe test (docs/architecture.md, "The soft-404 probe")."""
    if probe is None or probe.error or probe.status is None or not 200 <= probe.status < 300:
        return None  # a 404/410 probe is an honest site; a failed probe says nothing
    mine = current.visible_text or current.text
    if not current.text.strip() and len(tokens(mine)) < SHELL_WORDS:
        return None  # an SPA shell serves the same page for every URL: inconclusive
    if baseline is not None and (
        baseline.same_text(current) or overlap3(baseline.text, current.text) >= REPLACED_SURVIVING
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


def hop_targets(s: Snapshot) -> list[str]:
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


def error_title(title: str | None) -> bool:
    return bool(title and _ERROR_TITLE.search(title))
