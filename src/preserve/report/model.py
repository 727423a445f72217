"""The report as data: frozen dataclasses for articles, their sources, timelines and edits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from preserve.changes.diff import Hunk
from preserve.changes.model import MetadataChange
from preserve.coverage import GAPS, text_gap
from preserve.report.wording import human_time, reason_text, restated_text
from preserve.store.rows import CaptureSummary

# A URL in one of these states does not show what it showed: it was taken down, could not
# be captured, or cannot be told apart from an outage now.
BAD_STATES = ("gone", "restricted", "unreachable", "failed")
# The states of a source that changed since it was cited.
CHANGED_STATES = ("edited", "moved", "gone", "restored")


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
    certificate_sha256: str | None = None  # over HTTPS: the server's, DER encoded
    text_gap: str | None = None  # what it lacks as text (`preserve.coverage`)
    rendered: bool = False  # rendered in a browser, with screenshots (docs/browser.md)

    @classmethod
    def from_row(cls, row: CaptureSummary) -> CaptureRef:
        """A capture as the store reads it for reports."""
        return cls(
            id=row.id,
            captured_at=row.started_at,
            status=row.status,
            http_status=row.http_status,
            error=row.error,
            final_url=row.final_url,
            sha256=row.payload_sha256,
            text_sha256=row.text_sha256,
            record_type=row.record_type,
            warc=row.warc,
            offset=row.offset,
            length=row.length,
            record_id=row.record_id,
            certificate_sha256=row.certificate_sha256,
            text_gap=text_gap(row.kind, row.text_words) if _good(row) else None,
            rendered=row.screenshot_sha256 is not None,
        )

    @property
    def good(self) -> bool:
        """Captured with a 2xx answer."""
        return _good(self)


def _good(row: CaptureRef | CaptureSummary) -> bool:
    """Captured with a 2xx answer: only such a page can be said to lack its text (an error
    page's missing words are the error's, said on its own)."""
    return row.status == "captured" and 200 <= (row.http_status or 0) < 300


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
    """One URL's row of the timeline: the article, or a source with its number."""

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
            never = reason_text(self.reason, never_captured=True)
            return f"could not be captured: {never or 'error'}{seen}"
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
    """A paragraph of an edit's passages: changed, or context around a changed one."""

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
    # The main text is the same: the diff is of passages the page shows outside it.
    outside_main_text: bool = False


@dataclass(frozen=True)
class Standing:
    """Where a URL stands now, with its events (edits, moves, takedowns, returns), oldest
    first.

    The state covers the whole time since the URL was first captured, not only its last
    check, because the question is whether a source still says what it said when it was
    cited. A URL that is gone, restricted, unreachable or never captured now is in that
    state; otherwise it is `edited` if any check found an edit, else `restored` if it came
    back, else `moved` if it still answers from another address, else `unchanged` (or `new`
    when it was never checked)."""

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
        if state == "failed":
            what = reason_text(self.reason, never_captured=True)
            tried = f" (tried since {human_time(self.since)})" if self.since else ""
            return f"never captured{': ' + what if what else ''}{tried}"
        if state in ("restricted", "unreachable"):
            what = reason_text(self.reason)
            return f"{state}{': ' + what if what else ''}{since}"
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
    """A source the article cites, with where it stands and its first and latest capture."""

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
    # `ok` while the article is unchanged (or new), else its own state: edited | gone |
    # moved | restored | restricted | unreachable | failed
    badge: str
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
        own = (
            "Article unchanged since first capture"
            if self.standing.state in ("unchanged", "new")
            else f"Article {self.standing.describe()}"
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
        if self.standing.state not in ("unchanged", "new"):
            found.append(
                Finding(
                    self.standing.state,
                    None,
                    "The article " + self.standing.describe() + _edit_note(self.edits, self.url),
                )
            )
        if gap := (self.last_capture.text_gap if self.last_capture else None):
            found.append(Finding("no-text", None, f"The article: {GAPS[gap]}"))
        for citation in self.citations:
            standing = citation.standing
            label = f"Source {citation.number} “{citation.anchor_text or citation.url}”"
            if standing.state not in ("unchanged", "new"):
                found.append(
                    Finding(
                        standing.state,
                        citation.number,
                        f"{label} {standing.describe()}" + _edit_note(self.edits, citation.url),
                    )
                )
            if gap := (citation.last_capture.text_gap if citation.last_capture else None):
                found.append(Finding("no-text", citation.number, f"{label}: {GAPS[gap]}"))
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
    """A WARC file of the archive, with its sha256 once it is closed."""

    name: str
    size: int | None
    sha256: str | None
    closed_at: str | None


@dataclass(frozen=True)
class RunRef:
    """A command that wrote to the archive."""

    id: int
    command: str
    started_at: str
    ended_at: str | None
    tool_version: str | None
    host: str | None


@dataclass(frozen=True)
class Report:
    """The whole report: the dossier of each article, and the archive's provenance."""

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
