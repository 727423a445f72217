"""An edit in the HTML page: its word diff in paragraphs, and the cited links it changed."""

from __future__ import annotations

from collections.abc import Mapping

from preserve.report.markup import badge, esc, evidence_table, linked_url
from preserve.report.model import Dossier, Edit, Paragraph
from preserve.report.shots import side_by_side
from preserve.report.wording import OUTSIDE_MAIN_TEXT, human_time, reason_text


def edit_html(
    dossier: Dossier, index: int, edit: Edit, shots: Mapping[int, str] | None = None
) -> str:
    """The `index`th edit of the article or its sources: what changed, where, the two
    captures compared, and their screenshots side by side when they were rendered."""
    what = reason_text(edit.reason) or "changed"
    subject = "The article" if edit.label == "the article" else edit.label.capitalize()
    anchor = ""
    if edit.label != "the article":
        number = int(edit.label.split()[-1])
        source = dossier.citations[number - 1]
        anchor = f" &ldquo;{esc(source.anchor_text)}&rdquo;"
    stats = [
        f"+{edit.words_added} / &minus;{edit.words_removed} words "
        f"({edit.percent_changed:.1f}% of the text)"
    ]
    if edit.negations_added:
        stats.append("negation added: " + esc(", ".join(edit.negations_added)))
    if edit.negations_removed:
        stats.append("negation removed: " + esc(", ".join(edit.negations_removed)))
    for old, new in edit.numbers_changed:
        stats.append(f"number changed: {esc(old or '(none)')} &rarr; {esc(new or '(none)')}")
    parts = [
        f'<div class="edit" id="{dossier.slug}-edit-{index}">',
        f"<h4>{esc(subject)}{anchor} was edited: {esc(what)}</h4>",
        f'<p class="stats">Found by the check of {esc(human_time(edit.checked_at))} '
        f"&middot; {' &middot; '.join(stats)}</p>\n",
        f'<div class="url mono">{linked_url(edit.url)}</div>\n',
    ]
    parts.append(side_by_side(edit.before, edit.after, shots or {}))
    if edit.outside_main_text:
        parts.append(f'<p class="outside">{esc(OUTSIDE_MAIN_TEXT)}</p>\n')
    if edit.paragraphs:
        parts.append(
            '<div class="diff">' + "".join(_paragraph(p) for p in edit.paragraphs) + "</div>\n"
        )
    else:
        parts.append(f'<p class="nochange">The main text is the same; {esc(what)}.</p>\n')
    if edit.links:
        parts.append(_links_table(edit))
    parts.append(
        '<details class="evidence"><summary>Evidence: the two captures compared'
        "</summary>\n"
        + evidence_table([("before", edit.before), ("after", edit.after)])
        + "</details>\n</div>\n"
    )
    return "".join(parts)


def _paragraph(paragraph: Paragraph) -> str:
    """A paragraph of passages with <del>/<ins> runs, changed numbers and negations marked."""
    gap = '<p class="gap">&hellip;</p>' if paragraph.gap_before else ""
    html: list[str] = []
    segments = paragraph.segments
    i = 0
    while i < len(segments):
        op = segments[i].op
        j = i
        while j < len(segments) and segments[j].op == op:
            j += 1
        words = " ".join(
            f'<mark class="{s.mark}">{esc(s.text)}</mark>' if s.mark else esc(s.text)
            for s in segments[i:j]
        )
        html.append(
            {"equal": words, "delete": f"<del>{words}</del>", "insert": f"<ins>{words}</ins>"}[op]
        )
        i = j
    kind = "changed" if paragraph.changed else "context"
    return f'{gap}<p class="{kind}">{" ".join(html)}</p>'


def _links_table(edit: Edit) -> str:
    words = {
        "added": "now cites",
        "removed": "no longer cites",
        "retargeted": "link retargeted",
        "reanchored": "link text changed",
    }
    rows = []
    for link in edit.links:
        was = ""
        if link.old_url:
            was = f'<br><span class="note">was {linked_url(link.old_url)}</span>'
        if link.old_anchor is not None:
            was = f'<br><span class="note">was &ldquo;{esc(link.old_anchor)}&rdquo;</span>'
        rows.append(
            f"<tr><td>{words.get(link.change, esc(link.change))}</td>"
            f"<td>&ldquo;{esc(link.anchor)}&rdquo;</td>"
            f'<td class="mono">{linked_url(link.url)}{was}</td>'
            f"<td>{badge(link.state, quiet=True) if link.state else '-'}</td></tr>"
        )
    return (
        '<table class="links"><thead><tr><th>cited links</th><th>anchor text</th>'
        "<th>URL</th><th>its state</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>\n"
    )
