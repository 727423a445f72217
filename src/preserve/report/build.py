"""What `preserve report` shows, as data: for each article, the article itself, every source
it cites in article order with what became of it, the timeline of every capture and check,
and every edit as a word diff with paragraph context. Built from the store in a handful of
bulk queries and returned as frozen dataclasses that `report` (text), `htmlreport` (HTML) and
`--json` render. Nothing here prints or formats markup.

Decisions:

- **Which sources.** Those of the article's latest good capture (what it cites now, or
  cited last before it went away), in article order. Sources it dropped appear in the link
  changes of the article's edits.
- **A URL's state is about the whole time since it was first captured**, not only its last
  check: an investigator asks "does this source still say what it said when it was cited?".
  A source that is gone, restricted, unreachable or never captured now is that; otherwise it
  is `edited` if any check found an edit, else `restored` if it came back, else `moved` if
  it still answers from another address, else `unchanged` (or `new`: not checked yet).
  Every event on the way (edits, moves, takedowns, returns) is kept, oldest first.
- **An article's badge** is `ok` for unchanged/new; otherwise its state (`edited`, `gone`…).
- **Edits are diffed from the texts** of the check's baseline and recapture
  (`compare.word_diff`), not from the summary stored with the check, so the report shows
  the whole change with ±`CONTEXT_PARAGRAPHS` paragraph of context.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from itertools import groupby
from typing import Any

from preserve.changes.diff import Hunk, word_diff
from preserve.changes.links import url_key
from preserve.changes.model import MetadataChange
from preserve.changes.words import is_negation, is_number
from preserve.store.database import Store

CONTEXT_PARAGRAPHS = 1
BAD_STATES = ("gone", "restricted", "unreachable", "failed")
CHANGED_STATES = ("edited", "moved", "gone", "restored")
EVENT_OUTCOMES = ("edited", "moved", "restored", "gone", "restricted", "unreachable", "failed")

REASONS = {
    "http-404": "HTTP 404 Not Found",
    "http-410": "HTTP 410 Gone",
    "http-451": "HTTP 451 Unavailable For Legal Reasons",
    "dns": "the domain name no longer exists",
    "soft-404": 'the site answers with a "not found" page',
    "replaced": "replaced by unrelated content",
    "parked": "the domain is parked or for sale",
    "unreachable-persistent": "unreachable for over a week",
    "text": "text changed",
    "title-only": "title changed",
    "links-only": "cited links changed",
    "title-and-links": "title and cited links changed",
    "byline-only": "byline changed",
    "title-and-byline": "title and byline changed",
    "byline-and-links": "byline and cited links changed",
    "title-byline-and-links": "title, byline and cited links changed",
    "date-modified": "only the stated date of modification changed",
    "punctuation-only": "punctuation or case changed",
    "payload": "the file changed",
    "kind-changed": "the kind of file changed",
    "bot-challenge": "a bot challenge",
    "login": "a login page",
    "paywall": "a paywall",
    "consent": "a cookie-consent wall",
    "no-text": "a page without text",
}


def human_time(moment: str | None, *, seconds: bool = True) -> str:
    """A database time as people read it: `2026-11-27 22:00:04 UTC`."""
    if not moment:
        return "-"
    return moment[: 19 if seconds else 16].replace("T", " ") + " UTC"


def restated_text(change: MetadataChange) -> str:
    """A change of title, byline or stated date, in words: `title "A" → "B"`."""
    name = {"modified": "stated date of modification"}.get(change.field, change.field)
    return f"{name} {_quoted(change.before)} → {_quoted(change.after)}"


def _quoted(value: str | None) -> str:
    return f'"{value}"' if value else "(none)"


def reason_text(reason: str | None) -> str:
    """A reason code as words ("http-410" → "HTTP 410 Gone"); unknown codes as they are."""
    if not reason:
        return ""
    return REASONS.get(reason, reason)


@dataclass(frozen=True)
class CaptureRef:
    """One capture, as evidence: when, what came back, and where its WARC record is."""

    id: int
    captured_at: str
    status: str  # captured | failed
    http_status: int | None
    error: str | None
    final_url: str | None
    sha256: str | None
    text_sha256: str | None
    record_type: str | None  # response | revisit
    warc: str | None
    offset: int | None
    length: int | None
    record_id: str | None
    certificate_sha256: str | None = None  # over HTTPS: the server's (see tlspeer)

    @property
    def good(self) -> bool:
        return self.status == "captured" and 200 <= (self.http_status or 0) < 300


@dataclass(frozen=True)
class Mark:
    """One point on a timeline lane: a capture (`new`/`failed`) or a check's outcome."""

    at: str
    outcome: str
    reason: str | None = None
    confirmed: bool = True
    http_status: int | None = None


@dataclass(frozen=True)
class Lane:
    label: str
    url: str
    marks: tuple[Mark, ...]


@dataclass(frozen=True)
class Event:
    """Something that happened to a URL: a run of checks with the same outcome and reason."""

    at: str  # the first check that saw it
    outcome: str
    reason: str | None = None
    confirmed: bool = True
    last_at: str | None = None  # the last check of the run, when it was seen more than once
    times: int = 1
    new_url: str | None = None
    text_equal: bool | None = None
    words_added: int | None = None
    words_removed: int | None = None
    reverted_to: str | None = None  # an edit back to what the page said at this time
    alternating: bool = False  # edits back and forth between two versions, `times` of them
    metadata: tuple[MetadataChange, ...] = ()  # the title, byline or stated date changed
    silent_edit: bool = False  # the text changed, the stated date of modification did not

    def describe(self) -> str:
        """One plain sentence about the event, times left to the caller."""
        what = reason_text(self.reason)
        if self.outcome == "captured":
            return "first captured"
        if self.outcome == "edited" and self.alternating:
            changes = f" ({self.times} changes)" if self.times > 1 else ""
            return f"alternating between two versions{changes}"
        if self.outcome == "edited":
            counts = (
                f": +{self.words_added} / -{self.words_removed} words"
                + (" in all" if self.times > 1 else "")
                if self.words_added is not None
                else ""
            )
            if self.times > 1:  # a run of edits of the same kind: a live blog, say
                what = f"{what or 'changed'}, {self.times} times"
            back = (
                f", back to the version of {human_time(self.reverted_to)}"
                if self.reverted_to
                else ""
            )
            silent = ", with the same stated date of modification" if self.silent_edit else ""
            restated = "".join(f"; {restated_text(change)}" for change in self.metadata)
            return f"edited ({what or 'changed'}){counts}{back}{silent}{restated}"
        if self.outcome == "moved":
            return f"moved to {self.new_url}" + (
                "" if self.text_equal in (None, True) else ", with its text changed"
            )
        if self.outcome == "restored":
            text = {True: ", text as before", False: ", text changed", None: ""}[self.text_equal]
            return f"back online (was {what or 'unavailable'}){text}"
        seen = f", seen {self.times} times" if self.times > 1 else ""
        if self.outcome == "gone":
            state = "confirmed" if self.confirmed else "not yet confirmed"
            return f"gone: {what} ({state}){seen}"
        if self.outcome == "failed":
            return f"could not be captured: {what or 'error'}{seen}"
        return f"{self.outcome}: {what}{seen}" if what else f"{self.outcome}{seen}"


@dataclass(frozen=True)
class Segment:
    """A run of words in a diffed paragraph: `op` is equal, delete or insert; `mark` is
    "number" or "negation" for a changed number or negation word (a segment of its own)."""

    op: str
    text: str
    mark: str = ""


@dataclass(frozen=True)
class Paragraph:
    segments: tuple[Segment, ...]
    changed: bool
    gap_before: bool = False  # paragraphs were skipped before this one


@dataclass(frozen=True)
class LinkChange:
    """A citation the edit added, removed, retargeted or re-anchored, with the state of the
    URL it now points to."""

    change: str  # added | removed | retargeted | reanchored
    url: str
    anchor: str
    old_url: str | None = None
    old_anchor: str | None = None
    state: str | None = None


@dataclass(frozen=True)
class Edit:
    """One check that found an edit, with the two captures and the diff between them."""

    url: str
    label: str  # "the article" or "source 2"
    checked_at: str
    outcome: str
    reason: str | None
    before: CaptureRef | None
    after: CaptureRef | None
    words_added: int
    words_removed: int
    percent_changed: float
    numbers_changed: tuple[tuple[str, str], ...]
    negations_added: tuple[str, ...]
    negations_removed: tuple[str, ...]
    hunks: tuple[Hunk, ...]
    links: tuple[LinkChange, ...]
    paragraphs: tuple[Paragraph, ...] = field(default=(), repr=False)
    silent_edit: bool = False  # made under the same stated date of modification


@dataclass(frozen=True)
class Standing:
    """Where a URL stands now (see the module docstring), with its events, oldest first."""

    state: str
    reason: str | None
    confirmed: bool
    since: str | None
    moved_to: str | None
    moved_to_state: str | None
    events: tuple[Event, ...]

    def describe(self) -> str:
        """Where the URL stands, as one plain sentence."""
        state = self.state
        since = f" (since {human_time(self.since)})" if self.since else ""
        if state == "gone":
            confirmed = "confirmed" if self.confirmed else "not yet confirmed"
            return f"gone: {reason_text(self.reason)}, {confirmed}{since}"
        if state in ("restricted", "unreachable", "failed"):
            what = reason_text(self.reason)
            word = "could not be captured" if state == "failed" else state
            return f"{word}{': ' + what if what else ''}{since}"
        if state == "moved":
            return f"moved to {self.moved_to}{since}"
        if state == "edited":
            found = f" (found {human_time(self.since)})" if self.since else ""
            return f"edited: {reason_text(self.reason) or 'changed'}{found}"
        if state == "restored":
            return f"back online{since}, after {reason_text(self.reason) or 'being unavailable'}"
        if state == "unchanged":
            return "unchanged since first captured"
        return "captured, not checked yet"


@dataclass(frozen=True)
class Finding:
    """A line of the "what changed" list at the top of an article's dossier."""

    state: str
    source: int | None  # the citation's number, None for the article itself
    text: str


@dataclass(frozen=True)
class Citation:
    number: int  # 1-based, in article order
    url: str
    anchor_text: str
    context: str
    standing: Standing
    first_capture: CaptureRef | None
    last_capture: CaptureRef | None
    last_checked_at: str | None
    captures: int
    checks: int


@dataclass(frozen=True)
class Dossier:
    """One article: its header facts, its sources, timeline and edits."""

    slug: str  # an id for links inside a report
    url: str
    title: str | None
    badge: str  # ok | edited | gone | moved | restored | restricted | unreachable | failed
    standing: Standing
    first_capture: CaptureRef | None
    last_capture: CaptureRef | None
    last_checked_at: str | None
    citations: tuple[Citation, ...]
    lanes: tuple[Lane, ...]
    edits: tuple[Edit, ...]

    def summary(self) -> str:
        """One line: the article's own state, then how many sources changed."""
        total = len(self.citations)
        own = {"ok": "Article unchanged since first capture"}.get(
            self.badge, f"Article {self.standing.describe()}"
        )
        parts = [own, f"{self.changed_sources()} of {total} cited sources changed"]
        counts = self.source_counts()
        if counts.get("failed"):
            parts.append(f"{counts['failed']} never captured")
        inconclusive = counts.get("restricted", 0) + counts.get("unreachable", 0)
        if inconclusive:
            parts.append(f"{inconclusive} unreachable or restricted now")
        return " · ".join(parts)

    def findings(self) -> list[Finding]:
        """What an investigator should look at, article first, then sources in order."""
        found = []
        if self.badge != "ok":
            found.append(
                Finding(
                    self.standing.state,
                    None,
                    "The article " + self.standing.describe() + _edit_note(self.edits, self.url),
                )
            )
        for citation in self.citations:
            standing = citation.standing
            if standing.state in ("unchanged", "new"):
                continue
            label = f"Source {citation.number} “{citation.anchor_text or citation.url}”"
            found.append(
                Finding(
                    standing.state,
                    citation.number,
                    f"{label} {standing.describe()}" + _edit_note(self.edits, citation.url),
                )
            )
        return found

    def source_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for citation in self.citations:
            counts[citation.standing.state] = counts.get(citation.standing.state, 0) + 1
        return counts

    def changed_sources(self) -> int:
        """Sources that changed since they were cited (not those never captured, nor
        those only inconclusive now)."""
        return sum(1 for c in self.citations if c.standing.state in CHANGED_STATES)


def _edit_note(edits: Sequence[Edit], url: str) -> str:
    """What the latest edit of `url` did to negations and numbers, the words that flip a
    claim."""
    mine = [e for e in edits if e.url == url]
    if not mine:
        return ""
    edit = mine[-1]
    notes = [f"+{edit.words_added}/-{edit.words_removed} words"]
    if edit.negations_added:
        notes.append("added " + ", ".join(f"“{w}”" for w in edit.negations_added))
    if edit.negations_removed:
        notes.append("removed " + ", ".join(f"“{w}”" for w in edit.negations_removed))
    notes += [f"{old or '(none)'} → {new or '(none)'}" for old, new in edit.numbers_changed]
    if edit.silent_edit:
        notes.append("the page still states the same date of modification")
    return "; " + "; ".join(notes)


@dataclass(frozen=True)
class WarcFile:
    name: str
    size: int | None
    sha256: str | None
    closed_at: str | None


@dataclass(frozen=True)
class RunRef:
    id: int
    command: str
    started_at: str
    ended_at: str | None
    tool_version: str | None
    host: str | None


@dataclass(frozen=True)
class Report:
    generated_at: str
    tool_version: str
    archive: str
    articles: tuple[Dossier, ...]
    warc_files: tuple[WarcFile, ...]
    runs: tuple[RunRef, ...]

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (diff paragraphs left out: the hunks say it all)."""
        data = asdict(self)
        for article in data["articles"]:
            for edit in article["edits"]:
                edit.pop("paragraphs", None)
                for hunk in edit["hunks"]:
                    hunk["old"], hunk["new"] = " ".join(hunk["old"]), " ".join(hunk["new"])
        return data


def build_report(
    store: Store, urls: Sequence[str] | None, *, archive: str, generated_at: str, tool_version: str
) -> Report:
    """Gather the dossiers of the given article URLs (all tracked articles when None)."""
    articles = store.articles(urls)
    article_urls = [a["url"] for a in articles]
    captures = store.captures_of(article_urls)
    latest_good = {url: _latest_good(captures[url]) for url in article_urls}
    cited = store.citations_of([c["id"] for c in latest_good.values() if c is not None])
    source_urls = [row["url"] for rows in cited.values() for row in rows]
    captures.update(store.captures_of([u for u in dict.fromkeys(source_urls) if u not in captures]))
    every_url = list(captures)
    checks = store.checks_of(every_url)
    targets = store.targets_of(every_url)
    moved_to = [c["new_url"] for rows in checks.values() for c in rows if c["new_url"]]
    targets.update(store.targets_of([u for u in moved_to if u not in targets]))
    texts = store.texts_of(_edit_texts(checks, captures))
    gathered = _Gathered(captures, checks, targets, texts)
    dossiers = []
    for index, article in enumerate(articles, start=1):
        good = latest_good[article["url"]]
        rows = cited[good["id"]] if good is not None else []
        dossiers.append(_dossier(f"article-{index}", article, rows, gathered))
    return Report(
        generated_at=generated_at,
        tool_version=tool_version,
        archive=archive,
        articles=tuple(dossiers),
        warc_files=tuple(
            WarcFile(w["name"], w["size"], w["sha256"], w["closed_at"]) for w in store.warc_files()
        ),
        runs=tuple(
            RunRef(
                r["id"], r["command"], r["started_at"], r["ended_at"], r["tool_version"], r["host"]
            )
            for r in store.runs()
        ),
    )


@dataclass(frozen=True)
class _Gathered:
    captures: dict[str, list[dict[str, Any]]]
    checks: dict[str, list[dict[str, Any]]]
    targets: dict[str, dict[str, Any]]
    texts: dict[str, str]


def _latest_good(rows: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    good = [r for r in rows if _ref(r).good]
    return good[-1] if good else None


def _detail(check: dict[str, Any]) -> dict[str, Any]:
    try:
        detail = json.loads(check["detail"] or "{}")
    except ValueError:
        return {}
    return detail if isinstance(detail, dict) else {}


def _edit_texts(
    checks: dict[str, list[dict[str, Any]]], captures: dict[str, list[dict[str, Any]]]
) -> list[str]:
    by_id = {row["id"]: row for rows in captures.values() for row in rows}
    hashes: list[str] = []
    for rows in checks.values():
        for check in rows:
            if "edit" not in _detail(check):
                continue
            for capture_id in (check["baseline_capture_id"], check["capture_id"]):
                row = by_id.get(capture_id)
                if row is not None and row["text_sha256"]:
                    hashes.append(row["text_sha256"])
    return hashes


def _ref(row: dict[str, Any] | None) -> CaptureRef:
    assert row is not None
    return CaptureRef(
        id=row["id"],
        captured_at=row["started_at"],
        status=row["status"],
        http_status=row["http_status"],
        error=row["error"],
        final_url=row["final_url"],
        sha256=row["payload_sha256"],
        text_sha256=row["text_sha256"],
        record_type=row["record_type"],
        warc=row["warc"],
        offset=row["offset"],
        length=row["length"],
        record_id=row["record_id"],
        certificate_sha256=row.get("certificate_sha256"),
    )


def _dossier(
    slug: str, article: dict[str, Any], cited: Sequence[dict[str, Any]], gathered: _Gathered
) -> Dossier:
    url = article["url"]
    rows = gathered.captures.get(url, [])
    standing = _standing(url, gathered)
    good = _latest_good(rows)
    citations: list[Citation] = []
    lanes = [_lane("Article", url, gathered)]
    edits = _edits(url, "the article", gathered)
    for number, row in enumerate(cited, start=1):
        source = row["url"]
        captures = gathered.captures.get(source, [])
        target = gathered.targets.get(source) or {}
        citations.append(
            Citation(
                number=number,
                url=source,
                anchor_text=row["anchor_text"] or "",
                context=row["context"] or "",
                standing=_standing(source, gathered),
                first_capture=_ref(captures[0]) if captures else None,
                last_capture=_ref(captures[-1]) if captures else None,
                last_checked_at=target.get("last_checked_at"),
                captures=len(captures),
                checks=len(gathered.checks.get(source, [])),
            )
        )
        lanes.append(_lane(f"{number}. {row['anchor_text'] or source}", source, gathered))
        edits += _edits(source, f"source {number}", gathered)
    return Dossier(
        slug=slug,
        url=url,
        title=(good or (rows[-1] if rows else {})).get("title"),
        badge="ok" if standing.state in ("unchanged", "new") else standing.state,
        standing=standing,
        first_capture=_ref(rows[0]) if rows else None,
        last_capture=_ref(rows[-1]) if rows else None,
        last_checked_at=article["last_checked_at"],
        citations=tuple(citations),
        lanes=tuple(lanes),
        edits=tuple(edits),
    )


def _lane(label: str, url: str, gathered: _Gathered) -> Lane:
    marks = [
        Mark(
            r["started_at"],
            "new" if _ref(r).good else "failed",
            r["error"] or (f"http-{r['http_status']}" if r["http_status"] else None),
            True,
            r["http_status"],
        )
        for r in gathered.captures.get(url, [])
        if r["check_id"] is None
    ]
    marks += [
        Mark(c["checked_at"], c["outcome"], c["reason"], bool(c["confirmed"]), c["http_status"])
        for c in gathered.checks.get(url, [])
    ]
    return Lane(label, url, tuple(sorted(marks, key=lambda m: m.at)))


def _standing(url: str, gathered: _Gathered) -> Standing:
    target = gathered.targets.get(url) or {}
    checks = gathered.checks.get(url, [])
    captures = gathered.captures.get(url, [])
    events = _events(captures, checks)
    last = target.get("state") or (checks[-1]["outcome"] if checks else None)
    edited = [e for e in events if e.outcome == "edited"]
    restored = [e for e in events if e.outcome == "restored"]
    moves = [c for c in checks if c["outcome"] == "moved" and c["new_url"]]
    latest = captures[-1] if captures else None
    moved_to = None
    if (
        moves
        and latest is not None
        and latest["final_url"]
        and url_key(latest["final_url"]) != url_key(url)
    ):
        moved_to = moves[-1]["new_url"]
    reason, confirmed, since = None, True, None
    if last in BAD_STATES:
        state = last
        reason, confirmed = target.get("reason"), bool(target.get("confirmed"))
        bad = [e for e in events if e.outcome == last]
        since = bad[-1].at if bad else target.get("last_change_at")
    elif edited:
        state, since, reason = "edited", edited[-1].at, edited[-1].reason
    elif restored:
        state, since, reason = "restored", restored[-1].at, restored[-1].reason
    elif moved_to:
        state, since = "moved", moves[-1]["checked_at"]
    else:
        state = "unchanged" if checks else "new"
    moved_state = None
    if moved_to:
        moved_state = (gathered.targets.get(moved_to) or {}).get("state")
    return Standing(state, reason, confirmed, since, moved_to, moved_state, tuple(events))


def _events(captures: Sequence[dict[str, Any]], checks: Sequence[dict[str, Any]]) -> list[Event]:
    """The first capture, then runs of checks with the same noteworthy outcome."""
    events: list[Event] = []
    if captures:
        first = _ref(captures[0])
        events.append(
            Event(
                first.captured_at,
                "captured" if first.good else "failed",
                first.error
                or (f"http-{first.http_status}" if not first.good and first.http_status else None),
            )
        )
    previous: str | None = None  # the outcome of the check before, an event or not
    for check in checks:
        outcome, follows = check["outcome"], previous
        previous = outcome
        if outcome not in EVENT_OUTCOMES:
            continue
        detail = _detail(check)
        edit = detail.get("edit") or {}
        last = events[-1] if events else None
        repeat = (
            last is not None
            and outcome in BAD_STATES
            and (last.outcome, last.reason) == (outcome, check["reason"])
        )
        if repeat:
            assert last is not None
            events[-1] = Event(
                last.at,
                outcome,
                last.reason,
                bool(check["confirmed"]),
                check["checked_at"],
                last.times + 1,
            )
            continue
        reverted = detail.get("reverted_to") or {}
        if follows == "edited" and _same_kind_of_edit(last, check, detail):
            # A page edited at every check (a live blog) is one event, with its totals;
            # edits with quiet checks between them stay apart.
            assert last is not None
            events[-1] = replace(
                last,
                last_at=check["checked_at"],
                times=last.times + 1,
                words_added=_plus(last.words_added, edit.get("words_added")),
                words_removed=_plus(last.words_removed, edit.get("words_removed")),
            )
            continue
        if reverted.get("alternating") and last is not None and last.reverted_to:
            # A, B, A, B: the edits back and forth since the first return are one event.
            events[-1] = replace(
                last,
                last_at=check["checked_at"],
                times=last.times + 1 if last.alternating else 2,
                alternating=True,
            )
            continue
        events.append(
            Event(
                check["checked_at"],
                outcome,
                check["reason"],
                bool(check["confirmed"]),
                new_url=check["new_url"],
                text_equal=detail.get("text_equal"),
                words_added=edit.get("words_added"),
                words_removed=edit.get("words_removed"),
                reverted_to=reverted.get("captured_at"),
                alternating=bool(reverted.get("alternating")),
                metadata=_restated(detail.get("metadata")),
                silent_edit=bool(detail.get("silent_edit")),
            )
        )
    return events


def _same_kind_of_edit(last: Event | None, check: dict[str, Any], detail: dict[str, Any]) -> bool:
    """Whether this check's edit continues the run of edits `last` stands for: the same
    reason, both plain (no return to an earlier version, no title, byline or date told
    apart), both silent or neither."""
    return (
        last is not None
        and last.outcome == check["outcome"] == "edited"
        and last.reason == check["reason"]
        and not (last.reverted_to or last.alternating or last.metadata)
        and not (detail.get("reverted_to") or detail.get("metadata"))
        and last.silent_edit == bool(detail.get("silent_edit"))
    )


def _plus(total: int | None, more: Any) -> int | None:
    return total + more if isinstance(total, int) and isinstance(more, int) else total


def _restated(metadata: Any) -> tuple[MetadataChange, ...]:
    """A check detail's `metadata` (see `compare.metadata_json`), in field order."""
    if not isinstance(metadata, dict):
        return ()
    return tuple(
        MetadataChange(name, metadata[name].get("before"), metadata[name].get("after"))
        for name in ("title", "byline", "modified")
        if isinstance(metadata.get(name), dict)
    )


def _edits(url: str, label: str, gathered: _Gathered) -> list[Edit]:
    by_id = {row["id"]: row for row in gathered.captures.get(url, [])}
    edits = []
    for check in gathered.checks.get(url, []):
        detail = _detail(check)
        summary = detail.get("edit")
        if not summary:
            continue
        before, after = by_id.get(check["baseline_capture_id"]), by_id.get(check["capture_id"])
        old = gathered.texts.get(before["text_sha256"] or "", "") if before else ""
        new = gathered.texts.get(after["text_sha256"] or "", "") if after else ""
        hunks = word_diff(old, new) if old != new else []
        edits.append(
            Edit(
                url=url,
                label=label,
                checked_at=check["checked_at"],
                outcome=check["outcome"],
                reason=check["reason"],
                before=_ref(before) if before else None,
                after=_ref(after) if after else None,
                words_added=int(summary.get("words_added") or 0),
                words_removed=int(summary.get("words_removed") or 0),
                percent_changed=float(summary.get("percent_changed") or 0.0),
                numbers_changed=tuple(tuple(p) for p in summary.get("numbers_changed") or ()),
                negations_added=tuple(summary.get("negations_added") or ()),
                negations_removed=tuple(summary.get("negations_removed") or ()),
                hunks=tuple(hunks),
                links=_link_changes(detail.get("links") or {}, gathered),
                paragraphs=tuple(passages(old, new, hunks)),
                silent_edit=bool(detail.get("silent_edit")),
            )
        )
    return edits


def _link_changes(links: dict[str, Any], gathered: _Gathered) -> tuple[LinkChange, ...]:
    def state(url: str) -> str | None:
        return (gathered.targets.get(url) or {}).get("state")

    rows = [
        LinkChange("added", x["url"], x["anchor"], state=state(x["url"]))
        for x in links.get("added", [])
    ]
    rows += [
        LinkChange("removed", x["url"], x["anchor"], state=state(x["url"]))
        for x in links.get("removed", [])
    ]
    rows += [
        LinkChange(
            "retargeted", x["new_url"], x["anchor"], old_url=x["old_url"], state=state(x["new_url"])
        )
        for x in links.get("retargeted", [])
    ]
    rows += [
        LinkChange(
            "reanchored",
            x["url"],
            x["new_anchor"],
            old_anchor=x["old_anchor"],
            state=state(x["url"]),
        )
        for x in links.get("reanchored", [])
    ]
    return tuple(rows)


def passages(
    old: str, new: str, hunks: Sequence[Hunk], context: int = CONTEXT_PARAGRAPHS
) -> list[Paragraph]:
    """The changed paragraphs of a diff with `context` paragraphs either side, each as
    segments to render with <del>/<ins>. `hunks` is `word_diff(old, new)` (the changes, in
    order); the equal words between them are taken from the texts.

    A paragraph of the display starts wherever either text starts one, so a deleted or an
    inserted paragraph stands on its own."""
    old_words = old.split()
    old_para, new_para = _paragraph_of(old), _paragraph_of(new)
    shown: list[list[tuple[str, str]]] = []
    last_old: int | None = None
    last_new: int | None = None

    def add(op: str, words: Sequence[str], in_old: int | None, in_new: int | None) -> None:
        """Words that share their paragraphs: a new display paragraph if either changed."""
        nonlocal last_old, last_new
        if (
            not shown
            or (in_old is not None and last_old is not None and in_old != last_old)
            or (in_new is not None and last_new is not None and in_new != last_new)
        ):
            shown.append([])
        shown[-1].extend((op, word) for word in words)
        last_old = in_old if in_old is not None else last_old
        last_new = in_new if in_new is not None else last_new

    def run(
        op: str, paras: Sequence[int | None], others: Sequence[int | None], words: Sequence[str]
    ) -> None:
        at = 0
        for (in_old, in_new), group in groupby(zip(paras, others, strict=True)):
            size = sum(1 for _ in group)
            add(op, words[at : at + size], in_old, in_new)
            at += size

    at_old = at_new = 0
    for hunk in [*hunks, None]:
        upto = hunk.old_at if hunk is not None else len(old_words)
        size = upto - at_old  # the equal run before this hunk
        run(
            "equal", old_para[at_old:upto], new_para[at_new : at_new + size], old_words[at_old:upto]
        )
        at_old, at_new = upto, at_new + size
        if hunk is None:
            break
        run(
            "delete",
            old_para[hunk.old_at : hunk.old_at + len(hunk.old)],
            [None] * len(hunk.old),
            hunk.old,
        )
        run(
            "insert",
            [None] * len(hunk.new),
            new_para[hunk.new_at : hunk.new_at + len(hunk.new)],
            hunk.new,
        )
        at_old, at_new = hunk.old_at + len(hunk.old), hunk.new_at + len(hunk.new)
    changed = [i for i, words in enumerate(shown) if any(op != "equal" for op, _ in words)]
    keep = sorted(
        {j for i in changed for j in range(i - context, i + context + 1) if 0 <= j < len(shown)}
    )
    result = []
    for position, index in enumerate(keep):
        gap = index > 0 if position == 0 else index != keep[position - 1] + 1
        result.append(Paragraph(_segments(shown[index]), index in changed, gap))
    return result


def _paragraph_of(text: str) -> list[int]:
    """The paragraph index of each whitespace-split word, as `diff` splits texts."""
    indexes: list[int] = []
    paragraphs = [p for p in text.split("\n") if p.strip()]
    for i, paragraph in enumerate(paragraphs):
        indexes.extend([i] * len(paragraph.split()))
    return indexes


def _segments(words: Sequence[tuple[str, str]]) -> tuple[Segment, ...]:
    segments: list[Segment] = []
    for op, word in words:
        mark = ""
        if op != "equal":
            mark = "negation" if is_negation(word) else "number" if is_number(word) else ""
        if segments and segments[-1].op == op and not mark and not segments[-1].mark:
            segments[-1] = Segment(op, f"{segments[-1].text} {word}")
        else:
            segments.append(Segment(op, word, mark))
    return tuple(segments)
