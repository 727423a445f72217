"""The terminal output of the commands, as plain text (coloured on a terminal). Returns
strings; never opens the database or the network."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from preserve.coverage import GAPS, text_gap
from preserve.terminal import badge, style

if TYPE_CHECKING:  # for annotations only: `status` and the like need no capture engine
    from preserve.changes.model import Reversion
    from preserve.engine.captured import ArticleCapture, Captured
    from preserve.engine.diffs import CaptureDiff
    from preserve.engine.history import HistoryEntry
    from preserve.engine.results import CheckResult
    from preserve.store.rows import Target


def short(sha256: str | None) -> str:
    return sha256[:12] if sha256 else "-"


# How a render in a browser ended (a capture's `rendered`), as the capture's output says it.
RENDERED = {
    "complete": "rendered in a browser",
    "deadline": "rendered in a browser, cut off at its deadline",
    "memory": "rendered in a browser, cut off at its memory limit",
    "crash": "rendered in a browser, which crashed",
    "navigation-loop": "rendered in a browser, its reloads cut off",
    "hung": "rendered in a browser, where it hung",
    "interrupted": "its render in a browser was interrupted",
    "failed": "not rendered: the browser could not start (Chromium and preserve's browser "
    "extra are needed: docs/browser.md); archived as served",
}


def _captured_line(captured: Captured, colour: bool) -> str:
    if captured.status == "captured":
        what = f"{captured.http_status} sha256:{short(captured.sha256)}"
        if captured.record_type == "revisit":
            what += " (revisit: payload already archived)"
        if captured.truncated:
            what += f" truncated:{captured.truncated}"
        if captured.rendered:
            what += f"\n{'':12}{RENDERED.get(captured.rendered, captured.rendered)}"
        if captured.text_gap:
            what += (
                f"\n{'':12}{style('warning', fg='magenta', bold=True) if colour else 'warning'}: "
            )
            what += GAPS[captured.text_gap]
        state = badge("captured", colour)
    else:
        what = f"{captured.error}: {captured.error_detail}"
        state = badge("failed", colour)
    return f"{state:>10}  {captured.job.url}  {what}"


def capture_text(results: Iterable[ArticleCapture], colour: bool) -> str:
    blocks = ["\n".join(lines) for entry in results if (lines := capture_lines(entry, colour))]
    return "\n\n".join(blocks) + "\n"


def capture_lines(entry: ArticleCapture, colour: bool) -> list[str]:
    """What was captured for one article, a line each (none if the article was not
    reached)."""
    article = entry.article
    if article is None:
        return []
    lines = [f"Article  {article.job.url}"]
    if article.title:
        lines.append(f"  title  {article.title}")
    lines.append("  " + _captured_line(article, colour))
    if article.warc:
        lines.append(f"  warc   {article.warc} @ {article.offset} (+{article.length})")
    ok = sum(1 for c in entry.citations if c.status == "captured")
    lines.append(f"Citations  {ok} of {len(entry.citations)} captured")
    for citation in entry.citations:
        lines.append("  " + _captured_line(citation, colour))
    if entry.requisites:
        got = sum(1 for r in entry.requisites if r.status == "captured")
        lines.append(f"Requisites  {got} of {len(entry.requisites)} captured")
    return lines


def history_text(url: str, captures: Sequence[HistoryEntry], colour: bool) -> str:
    lines = [f"History of {url}", ""]
    if not captures:
        return f"No captures of {url} in this archive.\n"
    header = f"{'captured at':<27} {'status':>6}  {'outcome':<11} {'sha256':<12}  warc @ offset"
    lines.append(header)
    for entry in captures:
        status = entry.http_status if entry.http_status is not None else entry.error
        outcome = badge(entry.outcome, colour)
        pad = " " * max(0, 11 - len(entry.outcome or "-"))
        where = f"{entry.warc} @ {entry.offset}" if entry.warc else "-"
        lines.append(
            f"{entry.captured_at:<27} {status!s:>6}  {outcome}{pad} "
            f"{short(entry.sha256):<12}  {where}"
        )
        if entry.url and entry.url != url:
            lines.append(f"{'':29}fetched as {entry.url}, which redirected here")
        elif entry.new_url:
            lines.append(f"{'':29}moved to {entry.new_url}")
        elif entry.final_url and entry.final_url != url:
            lines.append(f"{'':29}redirected to {entry.final_url}")
    return "\n".join(lines) + "\n"


def status_text(targets: Sequence[Target], colour: bool) -> str:
    if not targets:
        return "Nothing is tracked yet: `preserve capture URL` starts.\n"
    rows = (
        (
            t.state,
            t.reason,
            t.confirmed,
            t.last_event,
            t.last_event_at,
            t.last_checked_at,
            t.role,
            t.url,
            t.paused,
            t.kind,
            t.text_words,
        )
        for t in targets
    )
    return STATUS_HEADER + "".join(status_lines(rows, colour))


STATUS_COLUMNS = (
    "state",
    "reason",
    "confirmed",
    "last_event",
    "last_event_at",
    "last_checked_at",
    "role",
    "url",
    "paused",
    "kind",
    "text_words",
)
STATUS_HEADER = f"{'state':<12} {'last change':<20} {'last check':<20} {'role':<9} url  (reason)\n"


def status_lines(rows: Iterable[tuple[Any, ...]], colour: bool) -> Iterator[str]:
    """One line per target, from tuples of STATUS_COLUMNS: its state, the last change a
    check found and when (a later quiet check does not hide an edit), the last check, its
    role and URL, then the reason, last, where a long one cannot push the columns apart."""
    for state, reason, confirmed, event, event_at, checked, role, url, paused, kind, words in rows:
        state = state or "-"
        pad = " " * max(0, 12 - len(state))
        change = f"{event} {event_at[:10]}" if event and event_at else "-"
        why = [reason] if reason else []
        if reason and state == "gone" and not confirmed:
            why.append("not yet confirmed")
        if paused:
            why.append("paused")
        if (gap := text_gap(kind, words)) is not None:
            why.append(gap.replace("-", " "))
        tail = f"  ({', '.join(why)})" if why else ""
        yield (
            f"{badge(state, colour)}{pad} {change:<20} {(checked or '-')[:19]:<20} "
            f"{role:<9} {url}{tail}\n"
        )


def check_text(results: Sequence[CheckResult], colour: bool) -> str:
    if not results:
        return "Nothing to check.\n"
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome.outcome] = counts.get(result.outcome.outcome, 0) + 1
    return check_lines(results, colour) + check_summary(counts)


def reverted_text(reversion: Reversion) -> str:
    """What an edit back to an earlier version adds to its reason."""
    back = f"back to the version of {reversion.captured_at[:19]}"
    return f", alternating between two versions ({back})" if reversion.alternating else f", {back}"


def watch_line(run_id: int, results: Sequence[CheckResult], at: str) -> str:
    """`watch`'s line for a finished run: when, which run, how many URLs of each outcome."""
    counts: dict[str, int] = {}
    for result in results:
        counts[result.outcome.outcome] = counts.get(result.outcome.outcome, 0) + 1
    tally = ", ".join(f"{n} {word}" for word, n in sorted(counts.items()))
    return f"{at[:19].replace('T', ' ')} UTC  run {run_id}: {len(results)} checked: {tally}"


def check_summary(counts: dict[str, int]) -> str:
    """The last line of a check's report: how many of each outcome."""
    return "\n" + ", ".join(f"{n} {word}" for word, n in sorted(counts.items())) + "\n"


def check_lines(results: Sequence[CheckResult], colour: bool) -> str:
    """The report's lines for these results (a check prints them a chunk at a time)."""
    from preserve.report.wording import restated_text

    lines: list[str] = []
    for result in results:
        outcome = result.outcome
        word = outcome.outcome
        pad = " " * max(0, 11 - len(word))
        reason = outcome.reason or ""
        if outcome.outcome == "gone":
            reason += " (confirmed)" if outcome.confirmed else " (not yet confirmed)"
        if outcome.new_url:
            reason += f" → {outcome.new_url}"
        if outcome.outcome == "restored" and outcome.text_equal is not None:
            reason += ", text as before" if outcome.text_equal else ", text changed"
        if outcome.reverted_to is not None:
            reason += reverted_text(outcome.reverted_to)
        status = result.captured.http_status or result.captured.error or ""
        lines.append(f"{badge(word, colour)}{pad} {status!s:>6}  {result.url}  {reason}".rstrip())
        if outcome.edit is not None:
            edit = outcome.edit
            lines.append(f"{'':18}+{edit.words_added} / -{edit.words_removed} words")
            if edit.first_changed_old or edit.first_changed_new:
                lines.append(f"{'':18}was: {edit.first_changed_old or '(nothing)'}")
                lines.append(f"{'':18}now: {edit.first_changed_new or '(nothing)'}")
        for change in outcome.metadata:
            lines.append(f"{'':18}{restated_text(change)}")
        if outcome.silent_edit:
            lines.append(f"{'':18}the page states the same date of modification as before")
        if outcome.links is not None:
            for line in outcome.links.describe():
                lines.append(f"{'':18}{line}")
        for added in result.added_citations:
            lines.append(f"{'':18}new source captured: {added.job.url} ({added.status})")
    return "".join(line + "\n" for line in lines)


def diff_text(found: CaptureDiff, colour: bool) -> str:
    """The word diff of two captures' main texts (or of the passages outside them that
    changed): each changed paragraph once, on one line, with every change in it marked."""
    from preserve.report.passages import passages
    from preserve.report.text import paragraph_text
    from preserve.report.wording import OUTSIDE_MAIN_TEXT

    url, old, new = found.url, found.old, found.new
    lines = [
        f"Diff of {url}",
        f"--- {old.started_at}  sha256:{short(old.payload_sha256)}  {old.warc}",
        f"+++ {new.started_at}  sha256:{short(new.payload_sha256)}  {new.warc}",
        "",
    ]
    hunks = found.hunks
    if not hunks:
        if old.id == new.id:
            return "\n".join([*lines, "No change: this is the only good capture."]) + "\n"
        return "\n".join([*lines, "No change: the main texts are equal."]) + "\n"
    if found.outside_main_text:
        lines += [OUTSIDE_MAIN_TEXT, ""]
    for paragraph in passages(found.old_text, found.new_text, hunks, context=0):
        if paragraph.gap_before and lines[-1]:
            lines.append("")
        lines.append(paragraph_text(paragraph, colour))
        lines.append("")
    return "\n".join(lines)
