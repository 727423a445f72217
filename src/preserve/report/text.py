"""The report as plain text for a terminal, coloured when it is one."""

from __future__ import annotations

from preserve.report.model import CaptureRef, Paragraph, Report
from preserve.report.wording import OUTSIDE_MAIN_TEXT, human_time, reason_text
from preserve.terminal import badge, style


def report_text(document: Report, colour: bool) -> str:
    """`preserve report` for a terminal: per article its state, what changed, every source
    in article order with its first and latest capture, and the word diff of every edit."""
    if not document.articles:
        return "No article is tracked in this archive yet: `preserve capture URL` starts.\n"
    lines: list[str] = []
    for dossier in document.articles:
        title = dossier.title or dossier.url
        lines.append(style(title, bold=True) if colour else title)
        lines.append(f"  {badge(dossier.badge, colour)}  {dossier.url}")
        lines.append(f"  {dossier.summary()}")
        first = dossier.first_capture
        lines.append(
            f"  first captured {human_time(first.captured_at if first else None)}"
            f" · last checked {human_time(dossier.last_checked_at)}"
        )
        findings = dossier.findings()
        if findings:
            lines += ["", "  What changed"]
            lines += [f"    {_padded(f.state, colour)} {f.text}" for f in findings]
        lines += ["", "  Sources, in article order"]
        for citation in dossier.citations:
            standing = citation.standing
            lines.append(
                f"  {citation.number:>3} {_padded(standing.state, colour)} "
                f"{citation.anchor_text or citation.url}"
            )
            lines.append(f"{'':17}{citation.url}")
            if standing.state not in ("unchanged", "new"):
                lines.append(f"{'':17}{standing.describe()}")
            for label, ref in (("first", citation.first_capture), ("last ", citation.last_capture)):
                if ref is not None:
                    lines.append(f"{'':17}{label} {_capture_ref(ref)}")
        for edit in dossier.edits:
            lines.append("")
            lines.append(
                f"  Edit of {edit.label}: {reason_text(edit.reason) or 'changed'}, "
                f"found {human_time(edit.checked_at)} "
                f"(+{edit.words_added} / -{edit.words_removed} words)"
            )
            lines.append(f"    {edit.url}")
            if edit.outside_main_text:
                lines.append(f"    {OUTSIDE_MAIN_TEXT}")
            for paragraph in edit.paragraphs:
                if paragraph.gap_before:
                    lines.append("    …")
                lines.append("    " + paragraph_text(paragraph, colour))
            for change in edit.links:
                was = f" (was {change.old_url})" if change.old_url else ""
                lines.append(f"    link {change.change}: {change.url} ({change.anchor!r}){was}")
        lines.append("")
    lines.append(
        f"Archive {document.archive} · {len(document.warc_files)} WARC file(s) · "
        f"preserve {document.tool_version} · check it with `preserve verify`"
    )
    return "\n".join(lines) + "\n"


def _padded(state: str, colour: bool) -> str:
    return badge(state, colour) + " " * max(0, 10 - len(state))


def _capture_ref(ref: CaptureRef) -> str:
    status = ref.http_status or ref.error or ref.status
    where = f"  {ref.warc} @ {ref.offset}" if ref.warc else ""
    return f"{human_time(ref.captured_at)}  {status}  sha256:{_short(ref.sha256)}{where}"


def paragraph_text(paragraph: Paragraph, colour: bool) -> str:
    """A diffed paragraph: `[-removed-] {+added+}`, or red/green on a terminal (changed
    numbers and negations in bold); context paragraphs dimmed."""
    runs: list[tuple[str, list[tuple[str, bool]]]] = []
    for segment in paragraph.segments:
        if not runs or runs[-1][0] != segment.op:
            runs.append((segment.op, []))
        runs[-1][1].append((segment.text, bool(segment.mark)))
    parts = []
    for op, pieces in runs:
        if not colour:
            text = " ".join(text for text, _ in pieces)
            parts.append({"equal": text, "delete": f"[-{text}-]", "insert": f"{{+{text}+}}"}[op])
        elif op == "equal":
            text = " ".join(text for text, _ in pieces)
            parts.append(text if paragraph.changed else style(text, dim=True))
        elif op == "delete":
            parts.append(
                " ".join(
                    style(text, fg="red", strikethrough=True, bold=marked)
                    for text, marked in pieces
                )
            )
        else:
            parts.append(
                " ".join(
                    style(text, fg="green", underline=True, bold=marked) for text, marked in pieces
                )
            )
    return " ".join(parts)


def _short(sha256: str | None) -> str:
    return sha256[:12] if sha256 else "-"
