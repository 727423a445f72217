"""The report as one self-contained HTML page, its CSS and script inlined from `assets/`."""

from __future__ import annotations

import base64
import hashlib
import shlex
from collections.abc import Mapping, Sequence
from importlib.resources import files

from preserve.report.diffs import edit_html
from preserve.report.markup import COLOURS, SEVERITY, badge, esc, evidence_table, linked_url
from preserve.report.model import CaptureRef, Citation, Dossier, Report
from preserve.report.shots import figure, side_by_side
from preserve.report.timeline import legend, timeline_svg
from preserve.report.wording import STATE_WORDS, human_time

# The page makes no request of any kind (no fonts, images or scripts from elsewhere), so it
# opens from a USB stick years later. Everything that came from the web (titles, anchor
# texts, contexts, URLs, diffed words) is hostile: it goes through `esc`, links are made
# only for http(s) URLs, and the Content-Security-Policy allows no script but ours (by its
# hash) and no network load at all.


def _asset(name: str) -> bytes:
    return files("preserve.report").joinpath("assets").joinpath(name).read_bytes()


# Inlined as they are: the script's hash is of the very bytes the page carries.
CSS = _asset("report.css").decode("utf-8")
_SCRIPT_BYTES = _asset("report.js")
SCRIPT = _SCRIPT_BYTES.decode("utf-8")
SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT_BYTES).digest()).decode()
CSP = (
    f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{SCRIPT_HASH}'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)

# Articles are shown open when the report is this small and they have something to show.
OPEN_ARTICLES = 25


def render(report: Report, shots: Mapping[int, str] | None = None) -> str:
    """The whole report as one HTML document; `shots`: the thumbnails of rendered captures
    as data: URIs, by capture id (`shots.rendered_captures` says which the report shows)."""
    shots = shots or {}
    articles = report.articles
    opened = len(articles) == 1 or len(articles) <= OPEN_ARTICLES
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f'<meta name="generator" content="preserve {esc(report.tool_version)}">\n',
        f"<title>{esc(_page_title(report))}</title>\n<style>{CSS}</style>\n</head>\n",
        '<body>\n<div class="page">\n',
        _header(report),
        _toc(articles) if len(articles) > 1 else "",
        "<main>\n",
    ]
    for dossier in articles:
        opens = opened and _noteworthy(dossier) or len(articles) == 1
        parts.append(_article(dossier, open_=opens, shots=shots))
    if not articles:
        parts.append(
            '<p class="nochange">No article is tracked in this archive yet: '
            "<code>preserve capture URL</code> starts.</p>\n"
        )
    parts += [
        "</main>\n",
        _footer(report),
        "</div>\n",
        f"<script>{SCRIPT}</script>\n",
        "</body>\n</html>\n",
    ]
    return "".join(parts)


def _page_title(report: Report) -> str:
    if len(report.articles) == 1:
        return f"Report: {report.articles[0].title or report.articles[0].url}"
    return f"preserve report: {len(report.articles)} articles"


def _noteworthy(dossier: Dossier) -> bool:
    return dossier.badge != "ok" or dossier.changed_sources() > 0


def _counts(counts: dict[str, int]) -> str:
    order = sorted(counts, key=lambda s: (SEVERITY.index(s) if s in SEVERITY else 99, s))
    return " ".join(f"{badge(state, quiet=True)}&#8201;{counts[state]}" for state in order)


def _header(report: Report) -> str:
    articles = report.articles
    sources: dict[str, int] = {}
    badges: dict[str, int] = {}
    for dossier in articles:
        badges[dossier.badge] = badges.get(dossier.badge, 0) + 1
        for state, n in dossier.source_counts().items():
            sources[state] = sources.get(state, 0) + n
    if len(articles) == 1:
        heading = articles[0].title or articles[0].url
    else:
        heading = (
            f"What became of {len(articles)} articles and the "
            f"{sum(sources.values())} sources they cite"
        )
    help_items = "".join(
        f"<dt>{badge(state)}</dt><dd>{esc(words)}</dd>" for state, words in STATE_WORDS.items()
    )
    return (
        '<header>\n<p class="kicker">preserve &middot; evidence report</p>\n'
        f"<h1>{esc(heading)}</h1>\n"
        f'<p class="meta">Generated {esc(human_time(report.generated_at))} from the '
        f"archive <code>{esc(report.archive)}</code> by preserve "
        f"{esc(report.tool_version)}. Every state below is from the archive's own "
        "captures and checks; the provenance at the end says how to verify them.</p>\n"
        '<div class="summary">'
        f'<div class="card"><span class="big">{len(articles)}</span>'
        f"article{'s' if len(articles) != 1 else ''}"
        f'<div class="badges">{_counts(badges)}</div></div>'
        f'<div class="card"><span class="big">{sum(sources.values())}</span>'
        f"cited source{'s' if sum(sources.values()) != 1 else ''}"
        f'<div class="badges">{_counts(sources)}</div></div></div>\n'
        '<details class="help"><summary>What the states mean</summary>'
        f"<dl>{help_items}</dl></details>\n"
        '<div class="controls" id="controls" hidden><button type="button" '
        'id="expand-all">Expand all</button> <button type="button" id="collapse-all">'
        "Collapse all</button></div>\n</header>\n"
    )


def _toc(articles: Sequence[Dossier]) -> str:
    items = []
    for dossier in articles:
        note = esc(dossier.summary().split(" · ", 1)[-1])
        items.append(
            f'<li>{badge(dossier.badge)} <a href="#{dossier.slug}">'
            f"{esc(dossier.title or dossier.url)}</a> "
            f'<span class="note">&middot; {note}</span></li>'
        )
    return (
        '<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>'
        + "\n".join(items)
        + "</ol></nav>\n"
    )


def _article(dossier: Dossier, *, open_: bool, shots: Mapping[int, str]) -> str:
    counts = dossier.source_counts()
    parts = [
        f'<article class="dossier" id="{dossier.slug}">\n',
        f"<details{' open' if open_ else ''}><summary>{badge(dossier.badge)} "
        f"<h2>{esc(dossier.title or dossier.url)}</h2>"
        f'<div class="summary-line">{esc(dossier.summary())}'
        f"{' &middot; ' + _counts(counts) if counts else ''}</div></summary>\n",
        '<div class="body">\n',
        _facts(dossier, shots),
        _findings(dossier),
        '<section class="timeline"><h3>Timeline</h3>\n',
        timeline_svg(dossier.lanes),
        legend(dossier.lanes),
        "</section>\n",
        "<section><h3>Sources, in the order the article cites them</h3>\n",
    ]
    if dossier.citations:
        parts.append('<ol class="sources">\n')
        parts += [_citation(dossier, citation, shots) for citation in dossier.citations]
        parts.append("</ol>\n")
    else:
        parts.append('<p class="nochange">No cited source was found in the article\'s text.</p>\n')
    parts.append("</section>\n")
    parts.append(f"<section><h3>Edits ({len(dossier.edits)})</h3>\n")
    if dossier.edits:
        parts += [
            edit_html(dossier, i, edit, shots) for i, edit in enumerate(dossier.edits, start=1)
        ]
    else:
        parts.append(
            '<p class="nochange">No check found an edit in the article or its sources.</p>\n'
        )
    parts.append("</section>\n</div>\n</details>\n</article>\n")
    return "".join(parts)


def _findings(dossier: Dossier) -> str:
    found = dossier.findings()
    if not found:
        return (
            '<p class="findings none">Nothing changed: the article and every source it '
            "cites still say what they said when first captured.</p>\n"
        )
    items = []
    for finding in found:
        target = (
            f"#{dossier.slug}-s{finding.source}"
            if finding.source is not None
            else f"#{dossier.slug}"
        )
        items.append(f'<li>{badge(finding.state)} <a href="{target}">{esc(finding.text)}</a></li>')
    return '<div class="findings"><h3>What changed</h3><ul>' + "".join(items) + "</ul></div>\n"


def _facts(dossier: Dossier, shots: Mapping[int, str]) -> str:
    first, last = dossier.first_capture, dossier.last_capture
    rows = [
        ("URL", f'<span class="mono">{linked_url(dossier.url)}</span>'),
        ("State", f"{badge(dossier.badge)} {esc(dossier.standing.describe())}"),
        ("First captured", _capture_line(first)),
        ("Latest capture", _capture_line(last)),
        ("Last checked", esc(human_time(dossier.last_checked_at))),
    ]
    return (
        '<dl class="facts">'
        + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
        + "</dl>\n"
        + _first_and_latest(first, last, shots)
        + '<details class="evidence"><summary>Evidence: the article\'s first and '
        "latest capture</summary>\n"
        + evidence_table([("first capture", first), ("latest capture", last)])
        + "</details>\n"
    )


def _capture_line(ref: CaptureRef | None) -> str:
    if ref is None:
        return "-"
    status = f"HTTP {ref.http_status}" if ref.http_status else (ref.error or ref.status)
    sha = (
        f' &middot; sha256 <span class="mono">{esc(ref.sha256[:16])}…</span>' if ref.sha256 else ""
    )
    return f"{esc(human_time(ref.captured_at))} &middot; {esc(status)}{sha}"


def _first_and_latest(
    first: CaptureRef | None, last: CaptureRef | None, shots: Mapping[int, str]
) -> str:
    """The first and latest captures' screenshots side by side (one, if they are one)."""
    if first is not None and last is not None and first.id == last.id:
        shown = figure(first, "the page as rendered", shots)
        return f'<div class="shots">{shown}</div>\n' if shown else ""
    return side_by_side(first, last, shots, ("first capture", "latest capture"))


def _citation(dossier: Dossier, citation: Citation, shots: Mapping[int, str]) -> str:
    standing = citation.standing
    colour = COLOURS.get(standing.state, "#cbd5e1")
    anchor = citation.anchor_text or citation.url
    state = esc(standing.describe())
    if standing.state == "moved" and standing.moved_to:
        state = f'moved to <span class="mono">{linked_url(standing.moved_to)}</span>' + (
            f" &middot; the new address is tracked too: "
            f"{badge(standing.moved_to_state, quiet=True)}"
            if standing.moved_to_state
            else ""
        )
    edits = [i for i, e in enumerate(dossier.edits, start=1) if e.url == citation.url]
    if edits:
        state += " &middot; " + ", ".join(
            f'<a href="#{dossier.slug}-edit-{i}">see the diff</a>' for i in edits[-3:]
        )
    events = "".join(
        f"<li><time>{esc(human_time(e.at))}</time>{esc(e.describe())}"
        + (
            f' <span class="note">&middot; last {esc(human_time(e.last_at))}</span>'
            if e.last_at
            else ""
        )
        + "</li>"
        for e in standing.events
    )
    return (
        f'<li class="source s-{esc(standing.state)}" id="{dossier.slug}-s{citation.number}"'
        f' style="border-left-color:{colour}">'
        f'<div class="src-head"><span class="num">{citation.number}</span>'
        f'{badge(standing.state)}<span class="anchor">{esc(anchor)}</span></div>\n'
        f'<div class="state-line">{state}</div>\n'
        + (
            f'<blockquote class="context">{_context(citation)}</blockquote>\n'
            if citation.context
            else ""
        )
        + f'<div class="url mono">{linked_url(citation.url)}</div>\n'
        + (f'<ul class="events">{events}</ul>\n' if events else "")
        + _first_and_latest(citation.first_capture, citation.last_capture, shots)
        + '<details class="evidence"><summary>Evidence: '
        f"{citation.captures} capture{'s' if citation.captures != 1 else ''}, "
        f"{citation.checks} check{'s' if citation.checks != 1 else ''}"
        f"{', last ' + esc(human_time(citation.last_checked_at)) if citation.last_checked_at else ''}"  # noqa: E501
        "</summary>\n"
        + evidence_table(
            [("first capture", citation.first_capture), ("latest capture", citation.last_capture)]
        )
        + "</details>\n</li>\n"
    )


def _context(citation: Citation) -> str:
    """The context sentence with the anchor text in bold (both escaped on their own)."""
    context, anchor = citation.context, citation.anchor_text
    at = context.find(anchor) if anchor else -1
    if at < 0:
        return esc(context)
    return esc(context[:at]) + "<b>" + esc(anchor) + "</b>" + esc(context[at + len(anchor) :])


def _footer(report: Report) -> str:
    warcs = "".join(
        f'<tr><td class="mono">{esc(w.name)}</td><td>{w.size if w.size is not None else "-"}'
        f'</td><td class="mono">{esc(w.sha256 or "not closed")}</td>'
        f"<td>{esc(human_time(w.closed_at))}</td></tr>"
        for w in report.warc_files
    )
    runs = "".join(
        f"<tr><td>{r.id}</td><td>{esc(r.command)}</td><td>{esc(human_time(r.started_at))}"
        f"</td><td>{esc(human_time(r.ended_at))}</td><td>{esc(r.host or '-')}</td>"
        f"<td>{esc(r.tool_version or '-')}</td></tr>"
        for r in report.runs
    )
    archive = esc(report.archive)
    first_name = report.warc_files[0].name if report.warc_files else "NAME.warc.gz"
    return (
        '<footer class="provenance">\n<h2>Provenance</h2>\n'
        f"<p>Made by preserve {esc(report.tool_version)} at "
        f"{esc(human_time(report.generated_at))} from the archive <code>{archive}</code> "
        "(<code>preserve.db</code>, the index and log, and <code>warcs/</code>, the WARC 1.1 "
        "files that hold every byte fetched; closed WARC files are never rewritten). "
        "Payload hashes are sha256 of the HTTP body as received.</p>\n"
        f'<details class="evidence" open><summary>WARC files ({len(report.warc_files)})'
        "</summary><table><thead><tr><th>file</th><th>bytes</th><th>sha256</th>"
        f"<th>closed</th></tr></thead><tbody>{warcs}</tbody></table></details>\n"
        f'<details class="evidence"><summary>Runs ({len(report.runs)}): every command that '
        "wrote to the archive</summary><table><thead><tr><th>run</th><th>command</th>"
        "<th>started</th><th>ended</th><th>host</th><th>version</th></tr></thead>"
        f"<tbody>{runs}</tbody></table></details>\n"
        "<p><b>How to verify.</b> Anyone with a copy of the archive folder can check that "
        "nothing was altered since capture, from any folder (with a copy kept elsewhere, "
        "give its path instead):</p>\n"
        f'<pre class="verify">preserve --archive {esc(shlex.quote(report.archive))} verify\n'
        "# re-reads every WARC record, checks its digests and every row of the database\n"
        f"sha256sum {esc(shlex.quote(report.archive + '/warcs/' + first_name))}\n"
        "# equals the sha256 listed above</pre>\n"
        "</footer>\n"
    )
