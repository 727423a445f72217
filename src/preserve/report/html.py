"""The investigator's report as one self-contained HTML file: inline CSS, an inline SVG
timeline drawn here, one small inline script allowed by its hash, no fonts, images or
requests of any kind, so it opens from a USB stick years later. Pure: takes a
`dossier.Report`, returns a string; never opens the database.

Everything that came from the web (titles, anchor texts, contexts, URLs, diffed words) is
hostile and goes through `html.escape`; links are only made for http(s) URLs, and a
Content-Security-Policy forbids every script but ours and every network load.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from html import escape
from urllib.parse import urlsplit

from preserve.report.build import (
    CaptureRef,
    Citation,
    Dossier,
    Edit,
    Lane,
    Mark,
    Paragraph,
    Report,
    human_time,
    reason_text,
)

# Articles are shown open when the report is this small and they have something to show.
OPEN_ARTICLES = 25
SVG_WIDTH = 960
LABEL_WIDTH = 250
LANE_HEIGHT = 22
AXIS_HEIGHT = 26

# Outcome colours (timeline marks and badges): greens are fine, amber an edit, blue a move,
# red a takedown; grey and violet are inconclusive.
COLOURS = {
    "ok": "#15803d",
    "unchanged": "#15803d",
    "cosmetic": "#65a30d",
    "new": "#475569",
    "captured": "#475569",
    "edited": "#d97706",
    "moved": "#2563eb",
    "restored": "#0d9488",
    "gone": "#dc2626",
    "failed": "#991b1b",
    "restricted": "#7c3aed",
    "unreachable": "#78716c",
}
# Which outcome wins when several marks fall on the same pixel.
SEVERITY = (
    "gone",
    "failed",
    "edited",
    "moved",
    "restored",
    "restricted",
    "unreachable",
    "new",
    "cosmetic",
    "unchanged",
)
STATE_WORDS = {
    "ok": "the article has not changed since it was first captured",
    "new": "captured, not checked yet",
    "unchanged": "still says what it said when first captured",
    "cosmetic": "only markup, ads or tokens changed",
    "edited": "its text, title or cited links changed",
    "moved": "answers from another address, with the same text",
    "restored": "was unavailable and came back",
    "gone": 'taken down: 404, 410, 451, the domain vanished, or a "not found" page',
    "failed": "never captured well (the error is recorded)",
    "restricted": 'login, paywall, bot challenge or 401/403/429: inconclusive, never "gone"',
    "unreachable": "timeouts, refusals, server errors: transient",
}

SCRIPT = """
(function () {
  function all(open) {
    document.querySelectorAll("details").forEach(function (d) { d.open = open; });
  }
  function reveal() {
    var node = location.hash && document.getElementById(location.hash.slice(1));
    for (; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
  }
  document.getElementById("controls").hidden = false;
  document.getElementById("expand-all").addEventListener("click", function () { all(true); });
  document.getElementById("collapse-all").addEventListener("click", function () { all(false); });
  window.addEventListener("beforeprint", function () { all(true); });
  window.addEventListener("hashchange", reveal);
  reveal();
})();
"""
SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
CSP = (
    f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{SCRIPT_HASH}'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)

CSS = """
:root { --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --paper: #ffffff;
  --wash: #f8fafc; --accent: #1d4ed8; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--wash); color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
  sans-serif; }
.page { max-width: 1040px; margin: 0 auto; padding: 24px 20px 60px; }
a { color: var(--accent); }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: 12.5px; }
.mono { overflow-wrap: anywhere; }
h1 { font-size: 26px; line-height: 1.25; margin: 4px 0 8px; }
h2 { font-size: 20px; margin: 0; display: inline; }
h3 { font-size: 15px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted);
  margin: 26px 0 10px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h4 { font-size: 16px; margin: 0 0 6px; }
.kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 12px;
  color: var(--muted); margin: 0; }
.meta { color: var(--muted); margin: 0 0 14px; }
.summary { display: flex; gap: 12px; flex-wrap: wrap; margin: 14px 0; }
.card { background: var(--paper); border: 1px solid var(--line); border-radius: 8px;
  padding: 10px 14px; min-width: 200px; }
.card .big { font-size: 24px; font-weight: 700; display: block; }
.card .badges { margin-top: 4px; }
.badge { display: inline-block; border-radius: 999px; padding: 1px 9px; font-size: 12px;
  font-weight: 700; letter-spacing: .02em; color: #fff; background: #475569;
  vertical-align: middle; white-space: nowrap; }
.badge.quiet { font-weight: 600; }
.controls { margin: 8px 0 0; }
button { font: inherit; font-size: 13px; padding: 3px 10px; border: 1px solid var(--line);
  border-radius: 6px; background: var(--paper); cursor: pointer; }
details.help { background: var(--paper); border: 1px solid var(--line); border-radius: 8px;
  padding: 6px 14px; margin: 10px 0; }
details.help summary { cursor: pointer; color: var(--muted); }
details.help dl { display: grid; grid-template-columns: 120px 1fr; gap: 4px 12px; }
details.help dd { margin: 0; }
nav.toc { background: var(--paper); border: 1px solid var(--line); border-radius: 8px;
  padding: 10px 18px; margin: 16px 0 24px; }
nav.toc h2 { font-size: 15px; display: block; margin-bottom: 6px; }
nav.toc ol { margin: 0; padding-left: 22px; columns: 1; }
nav.toc li { margin: 3px 0; }
nav.toc .note { color: var(--muted); font-size: 13px; }
article.dossier { background: var(--paper); border: 1px solid var(--line); border-radius: 10px;
  margin: 0 0 22px; box-shadow: 0 1px 2px rgba(0,0,0,.04); }
article.dossier > details > summary { padding: 14px 18px; cursor: pointer; list-style: none;
  border-bottom: 1px solid transparent; }
article.dossier > details[open] > summary { border-bottom-color: var(--line); }
article.dossier > details > summary::-webkit-details-marker { display: none; }
article.dossier > details > summary::before { content: "\\25B8"; color: var(--muted);
  margin-right: 8px; display: inline-block; width: 10px; }
article.dossier > details[open] > summary::before { content: "\\25BE"; }
.summary-line { color: var(--muted); font-size: 13.5px; margin: 4px 0 0 18px; }
.body { padding: 4px 18px 18px; }
dl.facts { display: grid; grid-template-columns: 150px 1fr; gap: 4px 14px; margin: 12px 0 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.timeline svg { width: 100%; height: auto; display: block; }
.legend { font-size: 12.5px; color: var(--muted); margin-top: 4px; }
.legend span { margin-right: 12px; white-space: nowrap; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 50%;
  margin-right: 4px; vertical-align: -1px; }
ol.sources { list-style: none; padding: 0; margin: 0; }
li.source { border: 1px solid var(--line); border-left: 5px solid #cbd5e1; border-radius: 8px;
  padding: 10px 14px; margin: 0 0 10px; }
.src-head { display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
.num { font-weight: 700; color: var(--muted); min-width: 1.6em; }
.anchor { font-weight: 600; }
.state-line { font-size: 14px; }
blockquote.context { margin: 6px 0; padding: 2px 12px; border-left: 3px solid var(--line);
  color: #374151; font-family: Georgia, "Times New Roman", serif; font-size: 15px; }
blockquote.context b { background: #eef2ff; font-weight: 600; }
.url { margin: 2px 0; font-size: 13px; overflow-wrap: anywhere; }
ul.events { margin: 4px 0; padding-left: 18px; font-size: 13.5px; }
ul.events time { color: var(--muted); font-variant-numeric: tabular-nums; margin-right: 6px; }
details.evidence { margin-top: 6px; font-size: 13px; }
details.evidence summary { cursor: pointer; color: var(--muted); }
table { border-collapse: collapse; width: 100%; margin: 6px 0; font-size: 13px; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px;
  border-bottom: 1px solid var(--line); }
th { color: var(--muted); font-weight: 600; white-space: nowrap; }
.edit { border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px;
  margin: 0 0 14px; }
.stats { color: #374151; margin: 0 0 8px; font-size: 14px; }
.diff { font-family: Georgia, "Times New Roman", serif; font-size: 16px; line-height: 1.6;
  background: #fcfcfd; border: 1px solid var(--line); border-radius: 6px; padding: 4px 14px; }
.diff p { margin: 8px 0; }
.diff p.context { color: var(--muted); font-size: 14.5px; }
.diff p.gap { text-align: center; color: var(--muted); margin: 2px 0; }
del { background: #fee2e2; color: #991b1b; text-decoration: line-through;
  text-decoration-thickness: 1px; padding: 0 2px; border-radius: 3px; }
ins { background: #dcfce7; color: #166534; text-decoration: none; padding: 0 2px;
  border-radius: 3px; border-bottom: 2px solid #86efac; }
mark { padding: 0 2px; border-radius: 3px; font-weight: 700; }
mark.negation { background: #fde047; color: #713f12; outline: 1px solid #ca8a04; }
mark.number { background: #bfdbfe; color: #1e3a8a; outline: 1px solid #3b82f6; }
.nochange { color: var(--muted); font-style: italic; }
.findings { background: #fffbeb; border: 1px solid #fde68a; border-radius: 8px;
  padding: 4px 16px 8px; margin: 16px 0 0; }
.findings h3 { margin: 8px 0 6px; border: 0; color: #92400e; }
.findings ul { list-style: none; margin: 0; padding: 0; }
.findings li { margin: 5px 0; }
.findings a { color: var(--ink); text-decoration: none; }
.findings a:hover { text-decoration: underline; }
.findings.none { background: #f0fdf4; border-color: #bbf7d0; padding: 10px 16px; }
footer.provenance { margin-top: 36px; background: var(--paper); border: 1px solid var(--line);
  border-radius: 10px; padding: 16px 20px; font-size: 13.5px; }
footer.provenance h2 { font-size: 18px; display: block; margin-bottom: 8px; }
pre { background: #0f172a; color: #e2e8f0; padding: 10px 14px; border-radius: 6px;
  overflow-x: auto; font-size: 12.5px; }
@media print {
  body { background: #fff; }
  .controls, nav.toc { display: none; }
  article.dossier { break-inside: avoid-page; box-shadow: none; }
}
"""


_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _esc(text: str) -> str:
    """Text for HTML: escaped, with the control characters and lone surrogates a hostile
    page can smuggle into a title or an anchor replaced by U+FFFD (a NUL is a parse error,
    and a surrogate cannot be written as UTF-8)."""
    return escape(_UNSAFE.sub("\ufffd", text))


def render(report: Report) -> str:
    """The whole report as one HTML document."""
    articles = report.articles
    opened = len(articles) == 1 or len(articles) <= OPEN_ARTICLES
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        f'<meta http-equiv="Content-Security-Policy" content="{_esc(CSP)}">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        f'<meta name="generator" content="preserve {_esc(report.tool_version)}">\n',
        f"<title>{_esc(_page_title(report))}</title>\n<style>{CSS}</style>\n</head>\n",
        '<body>\n<div class="page">\n',
        _header(report),
        _toc(articles) if len(articles) > 1 else "",
        "<main>\n",
    ]
    for dossier in articles:
        parts.append(_article(dossier, open_=opened and _noteworthy(dossier) or len(articles) == 1))
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


def _badge(state: str | None, *, quiet: bool = False) -> str:
    word = state or "-"
    colour = COLOURS.get(word, "#475569")
    extra = " quiet" if quiet else ""
    return (
        f'<span class="badge b-{_esc(word)}{extra}" style="background:{colour}">{_esc(word)}</span>'
    )


def _counts(counts: dict[str, int]) -> str:
    order = sorted(counts, key=lambda s: (SEVERITY.index(s) if s in SEVERITY else 99, s))
    return " ".join(f"{_badge(state, quiet=True)}&#8201;{counts[state]}" for state in order)


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
        f"<dt>{_badge(state)}</dt><dd>{_esc(words)}</dd>" for state, words in STATE_WORDS.items()
    )
    return (
        '<header>\n<p class="kicker">preserve &middot; evidence report</p>\n'
        f"<h1>{_esc(heading)}</h1>\n"
        f'<p class="meta">Generated {_esc(human_time(report.generated_at))} from the '
        f"archive <code>{_esc(report.archive)}</code> by preserve "
        f"{_esc(report.tool_version)}. Every state below is from the archive's own "
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
        note = _esc(dossier.summary().split(" · ", 1)[-1])
        items.append(
            f'<li>{_badge(dossier.badge)} <a href="#{dossier.slug}">'
            f"{_esc(dossier.title or dossier.url)}</a> "
            f'<span class="note">&middot; {note}</span></li>'
        )
    return (
        '<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>'
        + "\n".join(items)
        + "</ol></nav>\n"
    )


def _article(dossier: Dossier, *, open_: bool) -> str:
    counts = dossier.source_counts()
    parts = [
        f'<article class="dossier" id="{dossier.slug}">\n',
        f"<details{' open' if open_ else ''}><summary>{_badge(dossier.badge)} "
        f"<h2>{_esc(dossier.title or dossier.url)}</h2>"
        f'<div class="summary-line">{_esc(dossier.summary())}'
        f"{' &middot; ' + _counts(counts) if counts else ''}</div></summary>\n",
        '<div class="body">\n',
        _facts(dossier),
        _findings(dossier),
        '<section class="timeline"><h3>Timeline</h3>\n',
        timeline_svg(dossier.lanes),
        _legend(dossier.lanes),
        "</section>\n",
        "<section><h3>Sources, in the order the article cites them</h3>\n",
    ]
    if dossier.citations:
        parts.append('<ol class="sources">\n')
        parts += [_citation(dossier, citation) for citation in dossier.citations]
        parts.append("</ol>\n")
    else:
        parts.append('<p class="nochange">No cited source was found in the article\'s text.</p>\n')
    parts.append("</section>\n")
    parts.append(f"<section><h3>Edits ({len(dossier.edits)})</h3>\n")
    if dossier.edits:
        parts += [_edit(dossier, i, edit) for i, edit in enumerate(dossier.edits, start=1)]
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
        items.append(
            f'<li>{_badge(finding.state)} <a href="{target}">{_esc(finding.text)}</a></li>'
        )
    return '<div class="findings"><h3>What changed</h3><ul>' + "".join(items) + "</ul></div>\n"


def _link(url: str) -> str:
    """A URL as text, linked only when it is http(s) (a `javascript:` URL stays text)."""
    text = _esc(url)
    if urlsplit(url).scheme.lower() in ("http", "https"):
        return f'<a href="{text}" rel="noreferrer noopener nofollow">{text}</a>'
    return text


def _facts(dossier: Dossier) -> str:
    first, last = dossier.first_capture, dossier.last_capture
    rows = [
        ("URL", f'<span class="mono">{_link(dossier.url)}</span>'),
        ("State", f"{_badge(dossier.badge)} {_esc(dossier.standing.describe())}"),
        ("First captured", _capture_line(first)),
        ("Latest capture", _capture_line(last)),
        ("Last checked", _esc(human_time(dossier.last_checked_at))),
    ]
    return (
        '<dl class="facts">'
        + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
        + '</dl>\n<details class="evidence"><summary>Evidence: the article\'s first and '
        "latest capture</summary>\n"
        + _evidence_table([("first capture", first), ("latest capture", last)])
        + "</details>\n"
    )


def _capture_line(ref: CaptureRef | None) -> str:
    if ref is None:
        return "-"
    status = f"HTTP {ref.http_status}" if ref.http_status else (ref.error or ref.status)
    sha = (
        f' &middot; sha256 <span class="mono">{_esc(ref.sha256[:16])}…</span>' if ref.sha256 else ""
    )
    return f"{_esc(human_time(ref.captured_at))} &middot; {_esc(status)}{sha}"


def _citation(dossier: Dossier, citation: Citation) -> str:
    standing = citation.standing
    colour = COLOURS.get(standing.state, "#cbd5e1")
    anchor = citation.anchor_text or citation.url
    state = _esc(standing.describe())
    if standing.state == "moved" and standing.moved_to:
        state = f'moved to <span class="mono">{_link(standing.moved_to)}</span>' + (
            f" &middot; the new address is tracked too: "
            f"{_badge(standing.moved_to_state, quiet=True)}"
            if standing.moved_to_state
            else ""
        )
    edits = [i for i, e in enumerate(dossier.edits, start=1) if e.url == citation.url]
    if edits:
        state += " &middot; " + ", ".join(
            f'<a href="#{dossier.slug}-edit-{i}">see the diff</a>' for i in edits[-3:]
        )
    events = "".join(
        f"<li><time>{_esc(human_time(e.at))}</time>{_esc(e.describe())}"
        + (
            f' <span class="note">&middot; last {_esc(human_time(e.last_at))}</span>'
            if e.last_at
            else ""
        )
        + "</li>"
        for e in standing.events
    )
    return (
        f'<li class="source s-{_esc(standing.state)}" id="{dossier.slug}-s{citation.number}"'
        f' style="border-left-color:{colour}">'
        f'<div class="src-head"><span class="num">{citation.number}</span>'
        f'{_badge(standing.state)}<span class="anchor">{_esc(anchor)}</span></div>\n'
        f'<div class="state-line">{state}</div>\n'
        + (
            f'<blockquote class="context">{_context(citation)}</blockquote>\n'
            if citation.context
            else ""
        )
        + f'<div class="url mono">{_link(citation.url)}</div>\n'
        + (f'<ul class="events">{events}</ul>\n' if events else "")
        + '<details class="evidence"><summary>Evidence: '
        f"{citation.captures} capture{'s' if citation.captures != 1 else ''}, "
        f"{citation.checks} check{'s' if citation.checks != 1 else ''}"
        f"{', last ' + _esc(human_time(citation.last_checked_at)) if citation.last_checked_at else ''}"  # noqa: E501
        "</summary>\n"
        + _evidence_table(
            [("first capture", citation.first_capture), ("latest capture", citation.last_capture)]
        )
        + "</details>\n</li>\n"
    )


def _context(citation: Citation) -> str:
    """The context sentence with the anchor text in bold (both escaped on their own)."""
    context, anchor = citation.context, citation.anchor_text
    at = context.find(anchor) if anchor else -1
    if at < 0:
        return _esc(context)
    return _esc(context[:at]) + "<b>" + _esc(anchor) + "</b>" + _esc(context[at + len(anchor) :])


def _evidence_table(rows: Iterable[tuple[str, CaptureRef | None]]) -> str:
    body = []
    for label, ref in rows:
        if ref is None:
            continue
        status = str(ref.http_status) if ref.http_status else (ref.error or ref.status)
        where = f"{_esc(ref.warc)} @ {ref.offset} (+{ref.length})" if ref.warc else "-"
        body.append(
            f"<tr><th>{_esc(label)}</th><td>{_esc(human_time(ref.captured_at))}</td>"
            f"<td>{_esc(status)}</td>"
            f'<td class="mono">sha256:{_esc(ref.sha256 or "-")}'
            + (
                f"<br>TLS certificate sha256:{_esc(ref.certificate_sha256)}"
                if ref.certificate_sha256
                else ""
            )
            + "</td>"
            f'<td class="mono">{where}<br>{_esc(ref.record_type or "")} '
            f"{_esc(ref.record_id or '')}</td></tr>"
        )
    if not body:
        return '<p class="nochange">Never captured.</p>'
    return (
        "<table><thead><tr><th></th><th>time</th><th>HTTP</th><th>payload</th>"
        "<th>WARC record</th></tr></thead><tbody>" + "".join(body) + "</tbody></table>\n"
    )


def _edit(dossier: Dossier, index: int, edit: Edit) -> str:
    what = reason_text(edit.reason) or "changed"
    subject = "The article" if edit.label == "the article" else edit.label.capitalize()
    anchor = ""
    if edit.label != "the article":
        number = int(edit.label.split()[-1])
        source = dossier.citations[number - 1]
        anchor = f" &ldquo;{_esc(source.anchor_text)}&rdquo;"
    stats = [
        f"+{edit.words_added} / &minus;{edit.words_removed} words "
        f"({edit.percent_changed:.1f}% of the text)"
    ]
    if edit.negations_added:
        stats.append("negation added: " + _esc(", ".join(edit.negations_added)))
    if edit.negations_removed:
        stats.append("negation removed: " + _esc(", ".join(edit.negations_removed)))
    for old, new in edit.numbers_changed:
        stats.append(f"number changed: {_esc(old or '(none)')} &rarr; {_esc(new or '(none)')}")
    parts = [
        f'<div class="edit" id="{dossier.slug}-edit-{index}">',
        f"<h4>{_esc(subject)}{anchor} was edited: {_esc(what)}</h4>",
        f'<p class="stats">Found by the check of {_esc(human_time(edit.checked_at))} '
        f"&middot; {' &middot; '.join(stats)}</p>\n",
        f'<div class="url mono">{_link(edit.url)}</div>\n',
    ]
    if edit.paragraphs:
        parts.append(
            '<div class="diff">' + "".join(_paragraph(p) for p in edit.paragraphs) + "</div>\n"
        )
    else:
        parts.append(f'<p class="nochange">The main text is the same; {_esc(what)}.</p>\n')
    if edit.links:
        parts.append(_links_table(edit))
    parts.append(
        '<details class="evidence"><summary>Evidence: the two captures compared'
        "</summary>\n"
        + _evidence_table([("before", edit.before), ("after", edit.after)])
        + "</details>\n</div>\n"
    )
    return "".join(parts)


def _paragraph(paragraph: Paragraph) -> str:
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
            f'<mark class="{s.mark}">{_esc(s.text)}</mark>' if s.mark else _esc(s.text)
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
            was = f'<br><span class="note">was {_link(link.old_url)}</span>'
        if link.old_anchor is not None:
            was = f'<br><span class="note">was &ldquo;{_esc(link.old_anchor)}&rdquo;</span>'
        rows.append(
            f"<tr><td>{words.get(link.change, _esc(link.change))}</td>"
            f"<td>&ldquo;{_esc(link.anchor)}&rdquo;</td>"
            f'<td class="mono">{_link(link.url)}{was}</td>'
            f"<td>{_badge(link.state, quiet=True) if link.state else '-'}</td></tr>"
        )
    return (
        '<table class="links"><thead><tr><th>cited links</th><th>anchor text</th>'
        "<th>URL</th><th>its state</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>\n"
    )


def _footer(report: Report) -> str:
    warcs = "".join(
        f'<tr><td class="mono">{_esc(w.name)}</td><td>{w.size if w.size is not None else "-"}'
        f'</td><td class="mono">{_esc(w.sha256 or "not closed")}</td>'
        f"<td>{_esc(human_time(w.closed_at))}</td></tr>"
        for w in report.warc_files
    )
    runs = "".join(
        f"<tr><td>{r.id}</td><td>{_esc(r.command)}</td><td>{_esc(human_time(r.started_at))}"
        f"</td><td>{_esc(human_time(r.ended_at))}</td><td>{_esc(r.host or '-')}</td>"
        f"<td>{_esc(r.tool_version or '-')}</td></tr>"
        for r in report.runs
    )
    archive = _esc(report.archive)
    first = _esc(report.warc_files[0].name) if report.warc_files else "NAME.warc.gz"
    return (
        '<footer class="provenance">\n<h2>Provenance</h2>\n'
        f"<p>Made by preserve {_esc(report.tool_version)} at "
        f"{_esc(human_time(report.generated_at))} from the archive <code>{archive}</code> "
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
        "nothing was altered since capture:</p>\n"
        f"<pre>cd {archive}\n"
        "preserve verify                 # re-reads every WARC record, checks its digests\n"
        "                                # and every row of the database against it\n"
        f"sha256sum warcs/{first}   # equals the sha256 listed above</pre>\n"
        "</footer>\n"
    )


def timeline_svg(lanes: Sequence[Lane]) -> str:
    """One lane per URL, a mark per capture or check, coloured by outcome. Marks that fall on
    the same pixel are merged (the most severe outcome wins), so a lane never holds more
    marks than it is wide."""
    when = {m.at: datetime.fromisoformat(m.at) for lane in lanes for m in lane.marks}
    times = list(when.values())
    height = AXIS_HEIGHT + LANE_HEIGHT * max(1, len(lanes)) + 6
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SVG_WIDTH} {height}" '
        f'role="img" aria-label="Timeline of captures and checks" '
        'font-family="system-ui, sans-serif" font-size="12">'
    ]
    if not times:
        return out[0] + '<text x="10" y="20">No captures yet.</text></svg>\n'
    start, end = min(times), max(times)
    span = (end - start).total_seconds()
    left, right = LABEL_WIDTH + 10, SVG_WIDTH - 16

    def x_of(moment: datetime) -> float:
        if span <= 0:
            return (left + right) / 2
        return left + (right - left) * (moment - start).total_seconds() / span

    ticks = 1 if span <= 0 else 2 if span < 120 else 4
    for k in range(ticks):
        moment = start + (end - start) * (k / (ticks - 1) if ticks > 1 else 0)
        x = x_of(moment)
        anchor = (
            "start" if k == 0 and ticks > 1 else "end" if k == ticks - 1 and ticks > 1 else "middle"
        )
        out.append(
            f'<line x1="{x:.1f}" y1="{AXIS_HEIGHT - 6}" x2="{x:.1f}" '
            f'y2="{height - 4}" stroke="#e5e7eb"/>'
            f'<text x="{x:.1f}" y="{AXIS_HEIGHT - 10}" fill="#6b7280" '
            f'text-anchor="{anchor}">{_esc(_tick(moment, span))}</text>'
        )
    for row, lane in enumerate(lanes):
        y = AXIS_HEIGHT + row * LANE_HEIGHT + LANE_HEIGHT / 2
        if row % 2 == 0:
            out.append(
                f'<rect x="0" y="{y - LANE_HEIGHT / 2:.1f}" width="{SVG_WIDTH}" '
                f'height="{LANE_HEIGHT}" fill="#f8fafc"/>'
            )
        label = lane.label if len(lane.label) <= 38 else lane.label[:37] + "…"
        out.append(
            f'<text x="6" y="{y + 4:.1f}" fill="#1f2937"><title>'
            f"{_esc(lane.label)} — {_esc(lane.url)}</title>{_esc(label)}</text>"
        )
        marks = _merge(lane.marks, lambda at: x_of(when[at]))
        if len(marks) > 1:
            out.append(
                f'<line x1="{marks[0][0]:.1f}" y1="{y:.1f}" x2="{marks[-1][0]:.1f}"'
                f' y2="{y:.1f}" stroke="#cbd5e1" stroke-width="2"/>'
            )
        for x, mark, count in marks:
            quiet = mark.outcome in ("unchanged", "cosmetic")
            radius = 4 if quiet else 6
            note = reason_text(mark.reason)
            if mark.outcome == "gone":
                note += ", confirmed" if mark.confirmed else ", not yet confirmed"
            more = f" (+{count - 1} more here)" if count > 1 else ""
            title = f"{human_time(mark.at)} — {mark.outcome}{': ' + note if note else ''}{more}"
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius}" '
                f'fill="{COLOURS.get(mark.outcome, "#475569")}" stroke="#fff" '
                f'stroke-width="1.5"><title>{_esc(title)}</title></circle>'
            )
    out.append("</svg>\n")
    return "".join(out)


def _merge(marks: Sequence[Mark], x_of: Callable[[str], float]) -> list[tuple[float, Mark, int]]:
    """Marks by pixel: the most severe outcome of those that share one, and how many."""
    merged: dict[int, tuple[float, Mark, int]] = {}
    for mark in marks:
        x = x_of(mark.at)
        key = round(x / 3)
        if key in merged:
            _, kept, count = merged[key]
            if _severity(mark) < _severity(kept):
                kept = mark
            merged[key] = (merged[key][0], kept, count + 1)
        else:
            merged[key] = (x, mark, 1)
    return [merged[k] for k in sorted(merged)]


def _severity(mark: Mark) -> int:
    return SEVERITY.index(mark.outcome) if mark.outcome in SEVERITY else len(SEVERITY)


def _tick(moment: datetime, span: float) -> str:
    if span < 10:
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"
    if span < 120:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    if span < 2 * 86400:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.strftime("%Y-%m-%d")


def _legend(lanes: Sequence[Lane]) -> str:
    seen = {m.outcome for lane in lanes for m in lane.marks}
    order = [
        o
        for o in (
            "new",
            "unchanged",
            "cosmetic",
            "edited",
            "moved",
            "restored",
            "gone",
            "restricted",
            "unreachable",
            "failed",
        )
        if o in seen
    ]
    return (
        '<div class="legend">'
        + "".join(f'<span><i style="background:{COLOURS[o]}"></i>{_esc(o)}</span>' for o in order)
        + "<span>&middot; hover a mark for its time and reason</span></div>\n"
    )
