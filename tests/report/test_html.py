"""`preserve report --html`: the HTML parsed, checked for structure and escaping, and the
demo's report."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from lxml import html as lxml_html

from preserve.report import html as htmlreport
from preserve.report.model import Report
from preserve.times import iso
from tests.report.helpers import ESCAPED, HOSTILE, Investigation, query
from tests.support.cli import PRESERVE, Preserve
from tests.support.clock import T0


def _html(investigation: Investigation, tmp_path: Path) -> str:
    out = tmp_path / "report.html"
    result = PRESERVE.run(investigation.path, "report", "--html", str(out), catch_exceptions=False)
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
    rows = query(
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
    for warc in query(investigation.path, "SELECT name, sha256 FROM warc_files"):
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

    doc: Any = lxml_html.document_fromstring(page)  # its XPath results: whatever they select
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


@pytest.mark.slow
def test_the_demo_writes_the_report(tmp_path: Path, preserve: Preserve) -> None:
    archive = tmp_path / "demo"
    result = preserve.run(archive, "demo", catch_exceptions=False)
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
    doc: Any = lxml_html.document_fromstring(page)  # its XPath results: whatever they select
    assert doc.xpath("//@onerror | //@onmouseover") == []
    assert [s.text for s in doc.xpath("//script")] == [htmlreport.SCRIPT]
