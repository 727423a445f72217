"""`preserve report`: the dossier gathered from an archive built end to end against real
servers on 127.0.0.1 (an edited article, an edited, a gone and a moved source), rendered as
text, JSON and HTML; the HTML parsed, checked for structure and escaping, and opened in
headless Chromium; and a 200 × 20 archive written straight into the store and rendered."""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from lxml import etree
from lxml import html as lxml_html

from preserve.changes.diff import word_diff
from preserve.cli.main import cli
from preserve.config import Config, FetchLimits
from preserve.engine.archive import Archive, Run
from preserve.engine.capture import capture_articles
from preserve.engine.check import check_targets
from preserve.report import html as htmlreport
from preserve.report import timeline
from preserve.report.build import build_report
from preserve.report.model import Report
from preserve.report.passages import passages
from preserve.report.text import report_text
from preserve.store.database import Store
from preserve.times import iso
from tests.support.browser import find_chromium, load
from tests.support.sites import Page, Site, article_html, redirect

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
HOSTILE = "<script>alert('pwned')</script>"
ESCAPED = "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;"


class Clock:
    """A clock the test moves; each reading is a millisecond later."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


def _article(sources: Site, *, edited: bool) -> str:
    a, b, c, d = (
        sources.url(p)
        for p in ("/ministry/statement", "/interviews/prosecutor", "/court/ruling", "/leaks/memo")
    )
    verb = "did not confirm" if edited else "confirmed"
    lines = "4" if edited else "40"
    paragraphs = [
        "The investigation into the surveillance programme began after a whistleblower "
        "approached the newspaper in the spring with documents and recordings.",
        f"The deputy minister {verb} that the wiretap order was signed in March, according "
        f'to <a href="{a}">a statement from the ministry</a>. The order covered {lines} '
        "phone lines belonging to journalists and lawyers.",
        f'<a href="{b}">An interview with the prosecutor</a> described how the order was '
        "obtained from a judge on the night before the elections.",
        f'<a href="{c}">The court\'s ruling</a> was published the same week and named the '
        "agency that carried out the interceptions.",
        f"The phrase &lt;script&gt;alert('pwned')&lt;/script&gt; appears in the "
        f'<a href="{d}">leaked memo</a>, which the ministry called a forgery.',
    ]
    if edited:
        paragraphs.append(
            f'<a href="{sources.url("/ministry/correction")}">A correction'
            "</a> was added to the ministry's statement a week later."
        )
    return article_html(
        "Wiretap &lt;script&gt;alert('pwned')&lt;/script&gt; order was signed", paragraphs
    )


def _source(title: str, sentence: str) -> str:
    return article_html(
        title,
        [
            sentence,
            "The office of the spokesperson answered questions from reporters for an hour and "
            "declined to comment on the names of the people whose phones were tapped.",
            "Further statements are expected after the parliamentary committee meets next week.",
        ],
    )


@dataclass
class Investigation:
    path: Path
    article: str
    sources: Site
    report: Report


@pytest.fixture(scope="module")
def investigation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Investigation]:
    """Capture an article and its four sources, then: the article and one source are edited
    (a negation and a number), one source is taken down (410), one moves (301)."""
    news, sources = Site(), Site()
    path = tmp_path_factory.mktemp("report") / "archive"
    clock = Clock()
    config = Config(
        fetch=FetchLimits(timeout=2.0, deadline=5.0, allow_private=True), workers=4, per_host=4
    )
    article = news.url("/2026/10/wiretap")
    news.pages["/2026/10/wiretap"] = Page(_article(sources, edited=False))
    sources.pages["/ministry/statement"] = Page(
        _source(
            "Ministry statement",
            "The ministry confirms that the order was signed by the deputy "
            "minister and covered 40 phone lines.",
        )
    )
    sources.pages["/interviews/prosecutor"] = Page(
        _source(
            "Interview with the prosecutor",
            "The prosecutor said the judge signed the order at "
            "night because the agency said the matter was urgent.",
        )
    )
    sources.pages["/court/ruling"] = Page(
        _source(
            "Ruling of the administrative court",
            "The court ruled that the interceptions were "
            "carried out by the national security agency without a valid order.",
        )
    )
    sources.pages["/leaks/memo"] = Page(
        _source(
            "The memo",
            f"The memo contains the words {HOSTILE.replace('<', '&lt;')} and a list "
            "of phone numbers.",
        )
    )
    archive = Archive(path)
    try:
        run = Run(archive, "capture", config, clock, {"urls": [article]})
        try:
            captured = list(capture_articles(run, [article], every_seconds=86400))
        finally:
            run.finish()
        assert captured[0].ok and len(captured[0].citations) == 4

        clock.now += timedelta(days=1)
        news.pages["/2026/10/wiretap"] = Page(_article(sources, edited=True))
        sources.pages["/ministry/statement"] = Page(
            _source(
                "Ministry statement",
                "The ministry denies that the order was signed by the "
                "deputy minister and covered 4 phone lines.",
            )
        )
        sources.pages["/ministry/correction"] = Page(
            _source("Correction", "An earlier version of the statement said the order was signed.")
        )
        sources.pages["/interviews/prosecutor"] = Page("<h1>Gone</h1>", status=410)
        sources.pages["/court/rulings/2026/ruling"] = sources.pages["/court/ruling"]
        sources.pages["/court/ruling"] = redirect(
            sources.url("/court/rulings/2026/ruling"), status=301
        )
        for _ in range(2):  # the second check, two hours on, confirms the 410
            run = Run(archive, "check", config, clock, {"urls": []})
            try:
                check_targets(run, archive.store.targets())
            finally:
                run.finish()
            clock.now += timedelta(hours=2)
        report = build_report(
            archive.store, None, archive=str(path), generated_at=iso(clock.now), tool_version="test"
        )
    finally:
        archive.close()
    yield Investigation(path, article, sources, report)
    news.close()
    sources.close()


def _rows(path: Path, sql: str) -> list[dict[str, Any]]:
    store = Store(path / "preserve.db")
    try:
        return list(store.db.query(sql))
    finally:
        store.close()


def _run(path: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--archive", str(path), *args], catch_exceptions=False)


# --- the dossier ------------------------------------------------------------------------------


def test_dossier_has_the_states_in_article_order(investigation: Investigation) -> None:
    (dossier,) = investigation.report.articles
    assert dossier.url == investigation.article
    assert dossier.badge == "edited"
    assert HOSTILE in (dossier.title or "")
    states = [(c.number, c.url, c.standing.state) for c in dossier.citations]
    # the correction the edited article added was captured by the first check, then checked
    assert [s for _, _, s in states] == ["edited", "gone", "moved", "unchanged", "unchanged"]
    gone = dossier.citations[1].standing
    assert gone.reason == "http-410" and gone.confirmed
    moved = dossier.citations[2].standing
    assert moved.moved_to == investigation.sources.url("/court/rulings/2026/ruling")
    assert [lane.label.split(".")[0] for lane in dossier.lanes] == [
        "Article",
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
    # one mark for the capture, one per check
    assert [m.outcome for m in dossier.lanes[2].marks] == ["new", "gone", "gone"]


def test_edits_carry_the_changed_words_numbers_and_negations(investigation: Investigation) -> None:
    (dossier,) = investigation.report.articles
    by_label = {edit.label: edit for edit in dossier.edits}
    assert set(by_label) == {"the article", "source 1"}
    article = by_label["the article"]
    assert article.negations_added == ("not",)
    assert ("40", "4") in [tuple(p) for p in article.numbers_changed] or any(
        "40" in old and "4" in new for old, new in article.numbers_changed
    )
    changed = [s for p in article.paragraphs for s in p.segments if s.op != "equal"]
    assert any(s.op == "delete" and "confirmed" in s.text for s in changed)
    assert any(s.mark == "negation" and s.text == "not" for s in changed)
    assert any(s.mark == "number" and s.text == "40" and s.op == "delete" for s in changed)
    links = {(link.change, link.url) for link in article.links}
    assert ("added", investigation.sources.url("/ministry/correction")) in links
    assert article.before is not None and article.after is not None
    assert article.before.sha256 != article.after.sha256
    source = by_label["source 1"]
    assert source.negations_added == ("denies",) and source.words_added >= 1
    assert any(
        "denies" in s.text for p in source.paragraphs for s in p.segments if s.op == "insert"
    )


# --- the HTML -------------------------------------------------------------------------------


def _html(investigation: Investigation, tmp_path: Path) -> str:
    out = tmp_path / "report.html"
    result = _run(investigation.path, "report", "--html", str(out))
    assert result.exit_code == 0, result.output
    assert f"written to {out}" in result.output
    return out.read_text(encoding="utf-8")


def test_html_shows_states_diffs_and_the_hashes_from_the_database(
    investigation: Investigation, tmp_path: Path
) -> None:
    page = _html(investigation, tmp_path)
    for state in ("edited", "gone", "moved", "unchanged"):
        assert f">{state}</span>" in page
    assert "HTTP 410 Gone, confirmed" in page
    assert "<del>confirmed</del>" in page
    assert '<ins>did <mark class="negation">not</mark> confirm</ins>' in page
    assert '<mark class="number">40</mark>' in page and '<mark class="number">4</mark>' in page
    assert '<ins><mark class="negation">denies</mark></ins>' in page
    assert "now cites" in page and "/ministry/correction" in page
    # the first and the latest capture of the article and of every source it cites
    (dossier,) = investigation.report.articles
    urls = {dossier.url} | {c.url for c in dossier.citations}
    rows = _rows(
        investigation.path,
        "SELECT url, payload_sha256, warc, offset FROM captures WHERE id IN ("
        " SELECT min(id) FROM captures WHERE role != 'probe' GROUP BY url UNION"
        " SELECT max(id) FROM captures WHERE role != 'probe' GROUP BY url)",
    )
    rows = [row for row in rows if row["url"] in urls]
    assert len(rows) == 2 * len(urls)
    for row in rows:
        assert row["payload_sha256"] in page
        if row["url"] != dossier.url:
            assert f"{row['warc']} @ {row['offset']} " in page
    for warc in _rows(investigation.path, "SELECT name, sha256 FROM warc_files"):
        assert warc["sha256"] in page and warc["name"] in page
    assert "preserve --archive " in page and " verify\n" in page


def test_the_how_to_verify_commands_work_when_run_from_anywhere(
    investigation: Investigation, tmp_path: Path
) -> None:
    """The box a recipient of the report follows: its commands, run as printed from another
    folder (once they said `cd ARCHIVE` then `preserve verify`, which looked for
    ARCHIVE/archive and failed)."""
    import html
    import os
    import re
    import shutil
    import subprocess
    import sys

    page = _html(investigation, tmp_path)
    box = re.search(r'<pre class="verify">(.*?)</pre>', page, re.S)
    assert box is not None
    commands = [
        line for line in html.unescape(box.group(1)).splitlines() if not line.startswith("#")
    ]
    assert [c.split()[0] for c in commands] == ["preserve", "sha256sum"]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    if shutil.which("sha256sum", path=env["PATH"]) is None:
        commands = commands[:1]
    outputs = []
    for command in commands:
        done = subprocess.run(
            command, shell=True, cwd=elsewhere, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, (command, done.stdout, done.stderr)
        outputs.append(done.stdout)
    assert "OK: no problems" in outputs[0], outputs[0]
    if len(outputs) > 1:
        digest = outputs[1].split()[0]
        assert digest in page


def test_html_escapes_what_came_from_the_web(investigation: Investigation, tmp_path: Path) -> None:
    page = _html(investigation, tmp_path)
    assert HOSTILE not in page
    assert ESCAPED in page  # the title, the context sentence
    assert page.count("<script") == 1  # ours, allowed by its hash in the CSP
    assert f"&#x27;sha256-{htmlreport.SCRIPT_HASH}&#x27;" in page  # in the CSP


class _Balance(HTMLParser):
    """Every element closed, in order (the HTML5 void elements excepted)."""

    VOID = {
        "meta",
        "link",
        "br",
        "hr",
        "img",
        "input",
        "wbr",
        "source",
        "col",
        "area",
        "base",
        "embed",
        "track",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids += [v for k, v in attrs if k == "id" and v]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids += [v for k, v in attrs if k == "id" and v]  # SVG's <line/>, <circle/>…

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(
                f"</{tag}> closes <{self.stack[-1] if self.stack else '-'}> at {self.getpos()}"
            )
        else:
            self.stack.pop()


def test_html_is_well_formed_and_structured(investigation: Investigation, tmp_path: Path) -> None:
    page = _html(investigation, tmp_path)
    assert page.startswith("<!DOCTYPE html>")
    balance = _Balance()
    balance.feed(page)
    balance.close()
    assert balance.problems == [] and balance.stack == []
    assert len(balance.ids) == len(set(balance.ids)), "duplicate ids"

    doc = lxml_html.document_fromstring(page)
    (article,) = doc.xpath("//main/article[@class='dossier']")
    assert article.get("id") == "article-1"
    assert "edited" in article.xpath("string(.//summary/span[1])")
    sources = article.xpath(".//ol[@class='sources']/li")
    assert [li.get("class") for li in sources] == [
        "source s-edited",
        "source s-gone",
        "source s-moved",
        "source s-unchanged",
        "source s-unchanged",
    ]
    assert [li.xpath("string(.//span[@class='num'])") for li in sources] == [
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
    # the timeline: valid SVG, one lane label per URL, a mark per capture and check
    (svg,) = article.xpath(".//svg")
    svg_xml = etree.fromstring(lxml_html.tostring(svg))
    assert len(svg_xml.findall(".//{*}circle")) == sum(
        len(lane.marks) for lane in investigation.report.articles[0].lanes
    )
    # every internal link points at an id; every other link is http(s)
    for href in doc.xpath("//a/@href"):
        if href.startswith("#"):
            assert href[1:] in balance.ids, href
        else:
            assert href.startswith("http://") or href.startswith("https://"), href
    # nothing to fetch: no src, no stylesheet or font links
    assert doc.xpath("//*[@src]") == [] and doc.xpath("//link") == []
    assert len(doc.xpath("//details")) >= 6  # sources' evidence, edits, help, provenance


# --- text and JSON --------------------------------------------------------------------------


def test_text_report(investigation: Investigation) -> None:
    result = _run(investigation.path, "report")
    assert result.exit_code == 0
    out = result.output
    assert "What changed" in out
    assert "gone: HTTP 410 Gone, confirmed" in out
    assert "moved to " + investigation.sources.url("/court/rulings/2026/ruling") in out
    assert "[-confirmed-] {+did not confirm+}" in out
    assert "{+denies+}" in out or "[-confirms-] {+denies+}" in out
    assert "\x1b[" not in out  # not a terminal: no colour


def test_json_report(investigation: Investigation) -> None:
    result = _run(investigation.path, "report", investigation.article, "--json")
    assert result.exit_code == 0
    document = json.loads(result.output)
    (article,) = document["articles"]
    assert article["badge"] == "edited"
    assert [c["standing"]["state"] for c in article["citations"]] == [
        "edited",
        "gone",
        "moved",
        "unchanged",
        "unchanged",
    ]
    db = {
        r["id"]: r["payload_sha256"]
        for r in _rows(investigation.path, "SELECT id, payload_sha256 FROM captures")
    }
    for citation in article["citations"]:
        for key in ("first_capture", "last_capture"):
            assert citation[key]["sha256"] == db[citation[key]["id"]]
    edit = next(e for e in article["edits"] if e["label"] == "the article")
    assert "paragraphs" not in edit
    assert any(h["old"] == "confirmed" and h["new"] == "did not confirm" for h in edit["hunks"])
    assert document["warc_files"] and all(len(w["sha256"]) == 64 for w in document["warc_files"])


def test_report_refuses_what_it_cannot_report(investigation: Investigation, tmp_path: Path) -> None:
    untracked = _run(investigation.path, "report", "https://example.org/nothing")
    assert untracked.exit_code == 2 and "not tracked" in untracked.output
    source = _run(investigation.path, "report", investigation.sources.url("/leaks/memo"))
    assert source.exit_code == 2 and "not an article" in source.output
    both = _run(investigation.path, "report", "--json", "--html", "-")
    assert both.exit_code == 2
    missing = _run(tmp_path / "nowhere", "report")
    assert missing.exit_code == 2 and not (tmp_path / "nowhere").exists()
    to_stdout = _run(investigation.path, "report", "--html", "-")
    assert to_stdout.exit_code == 0 and to_stdout.output.startswith("<!DOCTYPE html>")


# --- in a real browser ----------------------------------------------------------------------


def test_report_renders_in_chromium_without_errors(
    investigation: Investigation, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(
            "no chromium on PATH (Debian: apt-get install chromium); the HTML "
            "report is not tested in a browser"
        )
    folder = Path(tempfile.mkdtemp(prefix="preserve-report-"))
    page_file = folder / "report.html"
    assert _run(investigation.path, "report", "--html", str(page_file)).exit_code == 0
    page = load(chromium, page_file.as_uri(), tmp_path / "chromium")  # profile: not kept
    screenshot = folder / "report.png"
    screenshot.write_bytes(page.screenshot)
    with capsys.disabled():
        print(f"\n  report screenshot: {screenshot}")
    assert page.errors() == []
    assert page.requests == [page_file.as_uri()]  # nothing fetched but the file itself
    (dossier,) = investigation.report.articles
    for citation in dossier.citations:
        assert citation.last_capture is not None
        assert citation.last_capture.sha256 in page.dom
    assert "HTTP 410 Gone" in page.dom and "moved to" in page.dom
    assert (
        'id="controls"' in page.dom and "hidden" not in page.dom.split('id="controls"')[0][-60:]
    )  # our script ran: the buttons are shown
    assert page.screenshot.startswith(b"\x89PNG")


# --- pure parts ------------------------------------------------------------------------------


def test_passages_keep_one_paragraph_of_context_and_mark_gaps() -> None:
    old = "\n".join(f"Paragraph {i} says nothing new at all." for i in range(10))
    new = old.replace("Paragraph 5 says nothing", "Paragraph 5 says never")
    new += "\nA whole new closing paragraph."
    shown = passages(old, new, word_diff(old, new))
    texts = [" ".join(s.text for s in p.segments) for p in shown]
    assert [p.changed for p in shown] == [False, True, False, False, True]
    assert texts[0].startswith("Paragraph 4") and texts[2].startswith("Paragraph 6")
    assert [p.gap_before for p in shown] == [True, False, False, True, False]
    assert ("negation", "never") in [(s.mark, s.text) for s in shown[1].segments]
    assert [s.op for s in shown[4].segments] == ["insert"]


def test_a_lane_never_holds_more_marks_than_pixels() -> None:
    from preserve.report.model import Lane, Mark

    marks = tuple(Mark(iso(T0 + timedelta(hours=i)), "unchanged") for i in range(5000))
    svg = timeline.timeline_svg([Lane("busy", "https://example.org/", marks)])
    assert svg.count("<circle") <= timeline.SVG_WIDTH // 3 + 1


# --- scale: 200 articles × 20 sources, written straight into the store ------------------------


class _Rows:
    """An archive's rows as capture and check write them, made without fetching and
    inserted in batches (row by row through `Store` would take half a minute)."""

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {
            name: [] for name in ("captures", "citations", "texts", "checks", "targets")
        }

    def capture(
        self,
        url: str,
        role: str,
        at: datetime,
        text: str,
        *,
        status: int = 200,
        final_url: str | None = None,
        citations: Sequence[str] = (),
    ) -> int:
        capture_id = len(self.tables["captures"]) + 1
        digest = hashlib.sha256(f"{url}{text}{status}".encode()).hexdigest()
        text_sha = hashlib.sha256(text.encode()).hexdigest() if text else None
        if text_sha:
            self.tables["texts"].append(
                {"sha256": text_sha, "norm_version": 1, "text": text, "visible_text": text}
            )
        self.tables["captures"].append(
            {
                "id": capture_id,
                "run_id": 1,
                "url": url,
                "role": role,
                "depth": 0,
                "started_at": iso(at),
                "ended_at": iso(at),
                "status": "captured",
                "http_status": status,
                "final_url": final_url or url,
                "payload_sha256": digest,
                "text_sha256": text_sha,
                "title": f"Title of {url}",
                "record_type": "response",
                "warc": "big.warc.gz",
                "offset": capture_id * 1000,
                "length": 1000,
                "record_id": f"<urn:uuid:{digest[:32]}>",
                "kind": "html",
            }
        )
        self.tables["citations"] += [
            {
                "capture_id": capture_id,
                "position": i,
                "url": cited,
                "anchor_text": f"anchor {i}",
                "context": f"The context of anchor {i}, with <b>markup</b> in it.",
            }
            for i, cited in enumerate(citations)
        ]
        return capture_id

    def check(
        self,
        url: str,
        at: datetime,
        capture: int,
        baseline: int,
        outcome: str,
        reason: str | None,
        detail: dict[str, Any],
        new_url: str | None = None,
    ) -> None:
        self.tables["checks"].append(
            {
                "run_id": 2,
                "url": url,
                "role": "citation",
                "checked_at": iso(at),
                "capture_id": capture,
                "baseline_capture_id": baseline,
                "outcome": outcome,
                "reason": reason,
                "confirmed": int(outcome != "gone"),
                "rule": "test",
                "http_status": 200,
                "new_url": new_url,
                "detail": json.dumps(detail),
            }
        )

    def target(
        self,
        url: str,
        role: str,
        baseline: int,
        state: str,
        reason: str | None,
        cited_by: str | None,
        at: datetime,
    ) -> None:
        self.tables["targets"].append(
            {
                "url": url,
                "role": role,
                "every_seconds": 86400,
                "added_at": iso(T0),
                "next_due": iso(at),
                "cited_by": cited_by,
                "baseline_capture_id": baseline,
                "state": state,
                "reason": reason,
                "confirmed": int(state != "gone"),
                "last_checked_at": iso(at),
                "last_change_at": iso(at),
            }
        )


def _populate(store: Store, articles: int, sources: int) -> None:
    """Each article cites `sources` sources; one in ten is edited (a number and negations),
    one gone, one moved; the rest are unchanged."""
    rows = _Rows()
    later = T0 + timedelta(days=1)
    words = (
        "minister archive court letter office report inquiry border council witness "
        "evidence statement agency budget"
    ).split()
    for a in range(articles):
        article = f"https://news.example/{a}/story"
        urls = [f"https://src{s % 7}.example/{a}/{s}" for s in range(sources)]
        text = "\n".join(
            " ".join(words[(a + s + k) % len(words)] for k in range(40)) for s in range(8)
        )
        article_id = rows.capture(article, "article", T0, text, citations=urls)
        rows.target(article, "article", article_id, "new", None, None, T0)
        for s, url in enumerate(urls):
            source_text = f"Source {s} of article {a} says 40 people were there.\n" + text
            first = rows.capture(url, "citation", T0, source_text)
            kind, reason, baseline = s % 10, None, first
            if kind == 1:
                second = rows.capture(
                    url,
                    "citation",
                    later,
                    source_text.replace("40 people were", "no people were not"),
                )
                state, reason, baseline = "edited", "text", second
                rows.check(
                    url,
                    later,
                    second,
                    first,
                    state,
                    reason,
                    {
                        "edit": {
                            "words_added": 3,
                            "words_removed": 2,
                            "percent_changed": 1.0,
                            "negations_added": ["no", "not"],
                            "numbers_changed": [["40", ""]],
                        }
                    },
                )
            elif kind == 2:
                second = rows.capture(url, "citation", later, "", status=410)
                state, reason = "gone", "http-410"
                rows.check(url, later, second, first, state, reason, {})
            elif kind == 3:
                second = rows.capture(url, "citation", later, source_text, final_url=url + "-moved")
                state, baseline = "moved", second
                rows.check(
                    url,
                    later,
                    second,
                    first,
                    state,
                    None,
                    {"text_equal": True},
                    new_url=url + "-moved",
                )
            else:
                second = rows.capture(url, "citation", later, source_text)
                state = "unchanged"
                rows.check(url, later, second, first, state, None, {"text_equal": True})
            rows.target(url, "citation", baseline, state, reason, article, later)
    with store.db.atomic():
        store.db["runs"].insert_all(
            [
                {"id": 1, "command": "capture", "started_at": iso(T0)},
                {"id": 2, "command": "check", "started_at": iso(later)},
            ]
        )
        store.db["warc_files"].insert(
            {"name": "big.warc.gz", "run_id": 1, "size": 1, "sha256": "ab" * 32}
        )
        for table in ("captures", "citations", "checks", "targets"):
            store.db[table].insert_all(rows.tables[table], batch_size=500)
        store.db["texts"].insert_all(rows.tables["texts"], batch_size=500, ignore=True)


def test_two_hundred_articles_of_twenty_sources_render(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(tmp_path / "preserve.db")
    try:
        _populate(store, 200, 20)
        started = time.perf_counter()
        report = build_report(
            store, None, archive=str(tmp_path), generated_at=iso(T0), tool_version="test"
        )
        gathered = time.perf_counter()
        page = htmlreport.render(report)
        rendered = time.perf_counter()
    finally:
        store.close()
    with capsys.disabled():
        print(
            f"\n  200 x 20 report: gathered in {gathered - started:.2f} s, rendered in "
            f"{rendered - gathered:.2f} s, {len(page) / 1e6:.1f} MB"
        )
    assert len(report.articles) == 200
    assert all(len(d.citations) == 20 for d in report.articles)
    assert sum(len(d.edits) for d in report.articles) == 200 * 2
    assert page.count('<article class="dossier"') == 200
    assert page.count('<li class="source ') == 4000
    # a report this long opens collapsed, with a table of contents
    assert "<details open><summary>" not in page
    assert page.count('<li><span class="badge') >= 200


def test_the_demo_writes_the_report(tmp_path: Path) -> None:
    archive = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["--archive", str(archive), "demo"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    page = archive / "report.html"
    assert f"The HTML report is at {page.resolve()}" in result.output
    text = page.read_text(encoding="utf-8")
    for state in ("edited", "gone", "moved"):
        assert f">{state}</span>" in text
    assert "<del>said</del>" in text and '<mark class="negation">not</mark>' in text


def test_hostile_strings_cannot_escape_their_element() -> None:
    from preserve.report.model import CaptureRef, Citation, Dossier, Lane, Mark, Standing

    nasty = '"><img src=x onerror=alert(1)>\x00\ud800</title><script>x()</script>'
    ref = CaptureRef(
        1,
        iso(T0),
        "captured",
        200,
        None,
        "javascript:alert(1)",
        nasty,
        None,
        "response",
        nasty,
        1,
        2,
        nasty,
    )
    standing = Standing("moved", nasty, True, iso(T0), "javascript:alert(1)", nasty, ())
    citation = Citation(
        1, "javascript:alert(1)", nasty, nasty + " and more", standing, ref, ref, iso(T0), 1, 1
    )
    dossier = Dossier(
        "article-1",
        'https://example.org/"onmouseover=alert(1)',
        nasty,
        "ok",
        Standing("unchanged", None, True, None, None, None, ()),
        ref,
        ref,
        None,
        (citation,),
        (Lane(nasty, nasty, (Mark(iso(T0), nasty, nasty),)),),
        (),
    )
    page = htmlreport.render(Report(iso(T0), nasty, nasty, (dossier,), (), ()))
    assert "<img" not in page and "<script>x()" not in page
    assert "&lt;/title&gt;&lt;script&gt;" in page
    assert 'href="javascript:' not in page
    assert "\x00" not in page and "\ufffd" in page
    page.encode("utf-8")  # no lone surrogate left
    balance = _Balance()
    balance.feed(page)
    assert balance.problems == [] and balance.stack == []
    doc = lxml_html.document_fromstring(page)
    assert doc.xpath("//@onerror | //@onmouseover") == []
    assert [s.text for s in doc.xpath("//script")] == [htmlreport.SCRIPT]


def test_a_source_keeps_its_history_restored_and_edited(tmp_path: Path) -> None:
    rows = _Rows()
    day = timedelta(days=1)
    article = "https://news.example/story"
    back, edited = "https://src.example/back", "https://src.example/edited"
    article_id = rows.capture(article, "article", T0, "Story text.", citations=[back, edited])
    rows.target(article, "article", article_id, "new", None, None, T0)
    first = rows.capture(back, "citation", T0, "Original words.")
    for n, outcome in enumerate(("gone", "gone", "restored", "unchanged"), start=1):
        at = T0 + n * day
        capture = rows.capture(
            back,
            "citation",
            at,
            "" if outcome == "gone" else "Original words.",
            status=404 if outcome == "gone" else 200,
        )
        rows.check(
            back,
            at,
            capture,
            first,
            outcome,
            "http-404" if outcome != "unchanged" else None,
            {"text_equal": True} if outcome != "gone" else {},
        )
    rows.target(back, "citation", first, "unchanged", None, article, T0 + 4 * day)
    one = rows.capture(edited, "citation", T0, "The minister confirmed it.")
    two = rows.capture(edited, "citation", T0 + day, "The minister denied it.")
    rows.check(
        edited,
        T0 + day,
        two,
        one,
        "edited",
        "text",
        {
            "edit": {
                "words_added": 1,
                "words_removed": 1,
                "percent_changed": 20.0,
                "negations_added": ["denied"],
            }
        },
    )
    three = rows.capture(edited, "citation", T0 + 2 * day, "The minister denied it.")
    rows.check(edited, T0 + 2 * day, three, two, "unchanged", None, {"text_equal": True})
    rows.target(edited, "citation", three, "unchanged", None, article, T0 + 2 * day)
    store = Store(tmp_path / "preserve.db")
    try:
        with store.db.atomic():
            store.db["runs"].insert_all([{"id": 1}, {"id": 2}])
            for table, data in rows.tables.items():
                store.db[table].insert_all(data, ignore=table == "texts")
        report = build_report(
            store, [article], archive=str(tmp_path), generated_at=iso(T0), tool_version="test"
        )
    finally:
        store.close()
    (dossier,) = report.articles
    restored, changed = (c.standing for c in dossier.citations)
    assert restored.state == "restored"
    assert [e.describe() for e in restored.events] == [
        "first captured",
        "gone: HTTP 404 Not Found (not yet confirmed), seen 2 times",
        "back online (was HTTP 404 Not Found), text as before",
    ]
    assert changed.state == "edited"  # the last check found it unchanged: since the edit
    assert [e.outcome for e in changed.events] == ["captured", "edited"]
    (edit,) = dossier.edits
    assert [(s.op, s.text, s.mark) for p in edit.paragraphs for s in p.segments] == [
        ("equal", "The minister", ""),
        ("delete", "confirmed", ""),
        ("insert", "denied", "negation"),
        ("equal", "it.", ""),
    ]
    text = report_text(report, colour=False)
    assert "Source 2 “anchor 1” edited: text changed" in text
    assert "The minister [-confirmed-] {+denied+} it." in text


def test_edits_back_and_forth_are_told_as_one_event() -> None:
    """The events of a URL's checks: a return to an earlier version says so; alternating
    edits that follow it are one event; an alternating edit after something else (here a
    spell offline) starts a new one."""
    from preserve.report.events import events_of
    from preserve.store.rows import Check

    def check(at: str, outcome: str, reverted: dict[str, Any] | None = None) -> Check:
        detail: dict[str, Any] = {"edit": {"words_added": 1, "words_removed": 1}}
        if reverted:
            detail["reverted_to"] = reverted
        return Check(
            id=0,
            run_id=1,
            url="https://example.org/",
            role="citation",
            checked_at=at,
            capture_id=0,
            baseline_capture_id=None,
            probe_capture_id=None,
            outcome=outcome,
            reason="title-only" if outcome == "edited" else "timeout",
            confirmed=1,
            rule="test",
            http_status=200,
            new_url=None,
            detail=json.dumps(detail),
        )

    back = {"capture_id": 1, "captured_at": "2026-11-01T10:00:00.000000Z", "alternating": False}
    again = {**back, "alternating": True}
    checks = [
        check("2026-11-02T10:00:00.000000Z", "edited"),
        check("2026-11-03T10:00:00.000000Z", "edited", back),
        check("2026-11-04T10:00:00.000000Z", "edited", again),
        check("2026-11-05T10:00:00.000000Z", "edited", again),
        check("2026-11-06T10:00:00.000000Z", "unreachable"),
        check("2026-11-07T10:00:00.000000Z", "edited", again),
    ]
    described = [e.describe() for e in events_of([], checks)]
    assert described == [
        "edited (title changed): +1 / -1 words",
        "alternating between two versions (3 changes)",
        "unreachable: timeout",
        "alternating between two versions",
    ]
    assert (
        events_of([], checks[:2])[1]
        .describe()
        .endswith("back to the version of 2026-11-01 10:00:00 UTC")
    )


def test_a_source_never_captured_is_not_said_to_have_existed() -> None:
    """A mistyped domain was "first captured" and "no longer exists" in the report, though
    nothing was ever captured from it."""
    from preserve.report.markup import evidence_table
    from preserve.report.model import CaptureRef, Event, Standing

    attempt = CaptureRef(
        1, "2026-12-07T08:00:00.000000Z", "failed", None, "dns", None, None, None, None,
        None, None, None, None,
    )  # fmt: skip
    never = Standing("failed", "dns", False, "2026-12-07T08:00:00.000000Z", None, None, ())
    gone = Standing("gone", "dns", True, "2026-12-09T08:00:00.000000Z", None, None, ())

    assert never.describe() == (
        "never captured: the domain name does not exist (tried since 2026-12-07 08:00:00 UTC)"
    )
    assert Event(attempt.captured_at, "failed", "dns").describe() == (
        "could not be captured: the domain name does not exist"
    )
    assert gone.describe().startswith("gone: the domain name no longer exists")
    table = evidence_table([("first capture", attempt), ("latest capture", attempt)])
    assert "first attempt" in table and "latest attempt" in table
    assert "first capture" not in table
