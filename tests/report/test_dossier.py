"""`preserve report`: the dossier gathered from the investigation's archive, and the report
as text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from tests.report.helpers import HOSTILE, Investigation, query, source_page
from tests.support.capturing import FAST
from tests.support.checking import long_paragraphs
from tests.support.cli import Preserve
from tests.support.sites import Page, Site, article_html

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


# --- text and JSON --------------------------------------------------------------------------


def test_text_report(investigation: Investigation, preserve: Preserve) -> None:
    result = preserve.run(investigation.path, "report", catch_exceptions=False)
    assert result.exit_code == 0
    out = result.output
    assert "What changed" in out
    assert "gone: HTTP 410 Gone, confirmed" in out
    assert "moved to " + investigation.sources.url("/court/rulings/2026/ruling") in out
    assert "[-confirmed-] {+did not confirm+}" in out
    assert "{+denies+}" in out or "[-confirms-] {+denies+}" in out
    assert "\x1b[" not in out  # not a terminal: no colour


def test_json_report(investigation: Investigation, preserve: Preserve) -> None:
    result = preserve.run(
        investigation.path, "report", investigation.article, "--json", catch_exceptions=False
    )
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
        for r in query(investigation.path, "SELECT id, payload_sha256 FROM captures")
    }
    for citation in article["citations"]:
        for key in ("first_capture", "last_capture"):
            assert citation[key]["sha256"] == db[citation[key]["id"]]
    edit = next(e for e in article["edits"] if e["label"] == "the article")
    assert "paragraphs" not in edit
    assert any(h["old"] == "confirmed" and h["new"] == "did not confirm" for h in edit["hunks"])
    assert document["warc_files"] and all(len(w["sha256"]) == 64 for w in document["warc_files"])


def test_report_refuses_what_it_cannot_report(
    investigation: Investigation, tmp_path: Path, preserve: Preserve
) -> None:
    untracked = preserve.run(
        investigation.path, "report", "https://example.org/nothing", catch_exceptions=False
    )
    assert untracked.exit_code == 2 and "not tracked" in untracked.output
    source = preserve.run(
        investigation.path,
        "report",
        investigation.sources.url("/leaks/memo"),
        catch_exceptions=False,
    )
    assert source.exit_code == 2 and "not an article" in source.output
    both = preserve.run(
        investigation.path, "report", "--json", "--html", "-", catch_exceptions=False
    )
    assert both.exit_code == 2
    missing = preserve.run(tmp_path / "nowhere", "report", catch_exceptions=False)
    assert missing.exit_code == 2 and not (tmp_path / "nowhere").exists()
    to_stdout = preserve.run(investigation.path, "report", "--html", "-", catch_exceptions=False)
    assert to_stdout.exit_code == 0 and to_stdout.output.startswith("<!DOCTYPE html>")


def test_an_unchanged_article_whose_source_changed_and_a_source_never_captured(
    tmp_path: Path, site: Site, preserve: Preserve
) -> None:
    """The article's badge is `sources-changed`, not `ok`, while a source it cites changed;
    a source that answered 410 from the first try is "never captured", not "gone"."""
    archive = tmp_path / "archive"
    links = (
        'See <a href="/src/statement">the statement</a> and '
        '<a href="/src/withdrawn">the withdrawn notice</a>.'
    )
    site.pages["/story"] = Page(article_html("Story", [*long_paragraphs(count=3), links]))
    site.pages["/src/statement"] = Page(source_page("Statement", "The ministry confirms it."))
    site.pages["/src/withdrawn"] = Page("<h1>Gone</h1>", status=410)
    statement, withdrawn = site.url("/src/statement"), site.url("/src/withdrawn")
    assert preserve.run(archive, "capture", *FAST, "-q", site.url("/story")).exit_code == 0
    site.pages["/src/statement"] = Page(source_page("Statement", "The ministry denies it."))
    assert preserve.run(archive, "check", *FAST, "-q", statement).exit_code == 0

    text = preserve.run(archive, "report").stdout
    (article,) = preserve.json(archive, "report")["articles"]

    assert article["badge"] == "sources-changed"
    assert article["standing"]["state"] == "new"
    cited = [
        (c["url"], c["standing"]["state"], c["standing"]["reason"]) for c in article["citations"]
    ]
    assert cited == [
        (statement, "edited", "text"),
        (withdrawn, "failed", "http-410"),
    ]
    assert f"sources-changed  {site.url('/story')}" in text
    assert "1 of 2 cited sources changed · 1 never captured" in text
    never = [line.strip() for line in text.splitlines() if "HTTP 410" in line]
    assert never and all("never captured: HTTP 410 Gone (tried since " in line for line in never)
    assert "gone" not in text
