"""check, end to end: an edit of a passage the extractor left out of the main text (a
correction box beside the article) is an edit, recorded with its passages and shown by
`diff` and `report`; the page around the article changing is not; a baseline whose visible
text cannot be had again is never called unchanged."""

from __future__ import annotations

import json
from pathlib import Path

from preserve.cli.text import check_lines
from preserve.report.markup import esc
from preserve.report.wording import OUTSIDE_MAIN_TEXT
from tests.support.checking import HOUR, Lab, long_paragraphs
from tests.support.cli import Preserve
from tests.support.sites import Page, Site, article_html

PATH = "/2026/11/harbour-plan"
TITLE = "Harbour plan approved"
CORRECTION = (
    "Correction: an earlier version of this story said the vote was 7 to 2 in favour of the plan."
)
CORRECTED = CORRECTION.replace("7 to 2", "5 to 2")
# The most read stories, each a sentence: prose, but not the article's.
STORIES = [
    "Storm closes the coast road for a second night as crews clear fallen trees.",
    "The school roof is repaired at last after three winters of leaks and buckets.",
    "Fishing boats stay in port while the council argues over the new quota rules.",
    "A museum on the hill reopens with a free exhibition of the harbour's old maps.",
]


def harbour_page(correction: str, *, most_read: list[str] = STORIES, comments: int = 12) -> Page:
    """An article with a correction box beside it (outside `<article>`, where the extractor
    does not look), a list of most read stories and a comment count."""
    html = article_html(TITLE, long_paragraphs(count=5))
    box = f'<aside class="correction"><p>{correction}</p></aside>'
    stories = "".join(f"<li>{story}</li>" for story in most_read)
    html = html.replace("</article>", f"</article>{box}")
    html = html.replace("<ul>", f"<ul>{stories}", 1)
    return Page(html.replace("</main>", f"<p>Comments ({comments})</p></main>"))


def test_an_edit_of_a_passage_outside_the_main_text_is_found_and_shown(
    lab: Lab, site: Site, preserve: Preserve, tmp_path: Path
) -> None:
    site.pages[PATH] = harbour_page(CORRECTION)
    url = site.url(PATH)
    (captured,) = lab.capture(url)
    assert captured.article is not None
    main_text = lab.store.text(captured.article.text_sha256)
    assert main_text is not None and "Correction" not in main_text  # the extractor misses it

    site.pages[PATH] = harbour_page(CORRECTED)
    lab.clock.advance(HOUR)
    result = lab.check_one(url)

    outcome = result.outcome
    assert (outcome.outcome, outcome.reason, outcome.rule) == (
        "edited",
        "outside-main-text",
        "visible.prose-edited",
    )
    assert outcome.text_equal is True
    passages = {"old": CORRECTION, "new": CORRECTED}
    assert result.to_json()["outside_main_text"] == passages
    assert result.to_json()["edit"]["numbers_changed"] == [["7", "5"]]
    (row,) = lab.rows("SELECT detail FROM checks WHERE id = ?", [result.check_id])
    assert json.loads(row["detail"])["outside_main_text"] == passages
    lines = check_lines([result], colour=False)
    assert "outside-main-text" in lines
    assert f"was: {CORRECTION}" in lines and f"now: {CORRECTED}" in lines
    assert lab.baseline(url) == result.captured.capture_id

    # diff: the main texts are equal, so the passages are what it shows.
    out = preserve.run(lab.path, "diff", url)
    assert out.exit_code == 0, out.output
    assert OUTSIDE_MAIN_TEXT in out.stdout.splitlines()
    assert "the vote was [-7-] {+5+} to 2 in favour" in out.stdout
    assert "No change" not in out.stdout
    data = preserve.json(lab.path, "diff", url)
    assert (data["changed"], data["outside_main_text"]) == (True, True)
    ((old, new),) = [(h["old"], h["new"]) for h in data["hunks"]]
    assert (old, new) == ("7", "5")

    # report: the passage's diff under the line that says the main text is the same.
    text = preserve.run(lab.path, "report", url)
    assert text.exit_code == 0, text.output
    report = text.stdout.splitlines()
    at = report.index(f"    {OUTSIDE_MAIN_TEXT}")
    assert "the vote was [-7-] {+5+} to 2 in favour" in report[at + 1]
    html_file = tmp_path / "report.html"
    assert preserve.run(lab.path, "report", url, "--html", str(html_file)).exit_code == 0
    html = html_file.read_text()
    below = html[html.index(f'<p class="outside">{esc(OUTSIDE_MAIN_TEXT)}</p>') :]
    diff = below[: below.index("</div>")]
    marked = '<del><mark class="number">7</mark></del> <ins><mark class="number">5</mark></ins>'
    assert f"the vote was {marked} to 2 in favour" in diff, diff
    (edit,) = preserve.json(lab.path, "report", url)["articles"][0]["edits"]
    assert (edit["reason"], edit["outside_main_text"]) == ("outside-main-text", True)


def test_a_rotating_most_read_list_and_a_comment_count_are_not_edits(lab: Lab, site: Site) -> None:
    site.pages[PATH] = harbour_page(CORRECTION)
    url = site.url(PATH)
    lab.capture(url)
    seen = []
    for n in range(1, 4):
        rotated = STORIES[n:] + STORIES[:n]
        site.pages[PATH] = harbour_page(CORRECTION, most_read=rotated, comments=12 + n)
        lab.clock.advance(HOUR)
        outcome = lab.check_one(url).outcome
        seen.append((outcome.outcome, outcome.reason))
    # A story that drops out of the list for a new one, and the count again.
    site.pages[PATH] = harbour_page(
        CORRECTION,
        most_read=[*STORIES[1:], "Ferry timetable changes from Monday, the port authority says."],
        comments=20,
    )
    lab.clock.advance(HOUR)
    outcome = lab.check_one(url).outcome
    seen.append((outcome.outcome, outcome.reason))

    assert seen == [("cosmetic", "markup")] * 4


def test_a_baseline_whose_warc_file_is_lost_is_unverified_not_unchanged(
    lab: Lab, site: Site, preserve: Preserve
) -> None:
    """The same main text, other bytes, and no way to read the baseline's page again: what
    lies outside the main text was not compared, and is not said to be the same."""
    site.pages[PATH] = harbour_page(CORRECTION)
    url = site.url(PATH)
    lab.capture(url)
    for path in lab.archive.warcs.iterdir():
        path.unlink()
    site.pages[PATH] = harbour_page(CORRECTED)
    lab.clock.advance(HOUR)

    result = lab.check_one(url)

    outcome = result.outcome
    assert (outcome.outcome, outcome.reason, outcome.rule) == (
        "cosmetic",
        "unverified",
        "visible.missing",
    )
    assert outcome.text_equal is True
    assert result.to_json()["outside_main_text"] is None
    # diff cannot read the baseline's page either: it says what it can, the main texts.
    out = preserve.run(lab.path, "diff", url)
    assert out.exit_code == 0, out.output
    assert "No change: the main texts are equal." in out.stdout
    assert OUTSIDE_MAIN_TEXT not in out.stdout
    # The recapture's visible text is kept: the next check compares again.
    site.pages[PATH] = harbour_page(CORRECTION)
    lab.clock.advance(HOUR)
    again = lab.check_one(url).outcome
    assert (again.outcome, again.reason) == ("edited", "outside-main-text")
