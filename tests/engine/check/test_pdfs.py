"""check, end to end, on PDFs: compared by their text when they have one (a word changed is
an edit with a word diff, the same words saved again are `resaved`), by their bytes when
they have none (a scan); a damaged one is recorded, never a crash."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfWriter

from preserve.coverage import GAPS
from preserve.demo.sample import simple_pdf
from tests.support.capturing import FAST, capture
from tests.support.checking import HOUR, Lab
from tests.support.cli import Preserve
from tests.support.sites import Page, Site

PATH = "/docs/annex-2015.pdf"
LINES = [
    "Technical annex, 2015",
    "The crossing point near the river was surveyed in March 2015.",
    "Observers counted forty vehicles on the northern road.",
]


def served(document: bytes) -> Page:
    return Page(document, content_type="application/pdf")


def annex(lines: list[str] = LINES, *, text_layer: bool = True) -> Page:
    return served(simple_pdf(lines, title="Technical annex, 2015", text_layer=text_layer))


def rewritten(document: bytes) -> bytes:
    """The same document written again by another program (pypdf): its objects in another
    order, other bytes, the same words."""
    writer = PdfWriter(clone_from=io.BytesIO(document))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_pdf_is_captured_as_a_document_with_its_text(lab: Lab, site: Site) -> None:
    site.pages[PATH] = annex()
    url = site.url(PATH)

    (captured,) = lab.capture(url)

    article = captured.article
    assert article is not None and article.ok
    data = article.to_json()
    assert (data["kind"], data["text_gap"], data["title"]) == (
        "pdf",
        None,
        "Technical annex, 2015",
    )
    assert data["text_words"] == len(" ".join(LINES).split())
    assert lab.store.text(article.text_sha256) == "\n".join(LINES)
    (row,) = lab.rows("SELECT kind, text_words FROM targets WHERE url = ?", [url])
    assert (row["kind"], row["text_words"]) == ("pdf", data["text_words"])


def test_a_word_changed_in_a_pdf_is_an_edit_with_a_word_diff(
    lab: Lab, site: Site, preserve: Preserve
) -> None:
    site.pages[PATH] = annex()
    url = site.url(PATH)
    lab.capture(url)
    site.pages[PATH] = annex([*LINES[:2], LINES[2].replace("forty", "fourteen")])
    lab.clock.advance(HOUR)

    result = lab.check_one(url)

    outcome = result.outcome
    assert (outcome.outcome, outcome.reason, outcome.rule) == ("edited", "text", "text.edited")
    assert outcome.edit is not None
    ((old, new),) = [(h.old, h.new) for h in outcome.edit.hunks]
    assert (old, new) == (("forty",), ("fourteen",))
    assert outcome.edit.first_changed_new == LINES[2].replace("forty", "fourteen")
    assert lab.baseline(url) == result.captured.capture_id
    out = preserve.run(lab.path, "diff", url)
    assert out.exit_code == 0, out.output
    assert "Observers counted [-forty-] {+fourteen+} vehicles" in out.stdout


def test_the_same_text_saved_again_is_cosmetic_resaved(lab: Lab, site: Site) -> None:
    first = simple_pdf(LINES, title="Technical annex, 2015")
    site.pages[PATH] = served(first)
    url = site.url(PATH)
    lab.capture(url)
    seen = []
    for again in (
        simple_pdf(LINES, title="Technical annex, 2015", producer="Office Suite 7.2"),
        simple_pdf(LINES, title="Technical annex, 2015", created="D:20250102030405Z"),
        rewritten(first),
    ):
        assert again != first
        site.pages[PATH] = served(again)
        lab.clock.advance(HOUR)
        result = lab.check_one(url)
        seen.append((result.outcome.outcome, result.outcome.reason, result.outcome.rule))
        assert result.outcome.text_equal is True
        assert lab.baseline(url) == result.captured.capture_id

    assert seen == [("cosmetic", "resaved", "document.text-equal")] * 3


def test_a_pdf_without_a_text_layer_says_so_and_is_compared_by_its_bytes(
    lab: Lab, site: Site, preserve: Preserve, tmp_path: Path
) -> None:
    site.pages[PATH] = annex(text_layer=False)
    url = site.url(PATH)

    data = capture(tmp_path / "cli", url)
    text = preserve.run(tmp_path / "text", "capture", *FAST, url)

    assert (data["article"]["kind"], data["article"]["text_words"]) == ("pdf", 0)
    assert data["article"]["text_gap"] == "no-text-layer"
    assert text.exit_code == 0, text.output
    assert f"warning: {GAPS['no-text-layer']}" in text.stdout
    (target,) = preserve.json(tmp_path / "cli", "status")["targets"]
    assert target["text_gap"] == "no-text-layer"

    (captured,) = lab.capture(url)
    assert captured.article is not None and captured.article.text_gap == "no-text-layer"
    lab.clock.advance(HOUR)
    assert lab.check_one(url).outcome.outcome == "unchanged"
    site.pages[PATH] = annex([*LINES, "A fourth line, drawn."], text_layer=False)
    lab.clock.advance(HOUR)
    outcome = lab.check_one(url).outcome
    assert (outcome.outcome, outcome.reason, outcome.rule) == (
        "edited",
        "payload",
        "payload.differs",
    )
    assert (outcome.text_equal, outcome.edit) == (None, None)


def test_a_damaged_pdf_is_recorded_and_never_stops_a_run(
    lab: Lab, site: Site, preserve: Preserve, tmp_path: Path
) -> None:
    whole = simple_pdf(LINES)
    site.pages[PATH] = served(whole[: len(whole) // 2])
    url = site.url(PATH)

    data = capture(tmp_path / "cli", url)
    (captured,) = lab.capture(url)

    assert (data["article"]["status"], data["article"]["kind"]) == ("captured", "pdf")
    assert (data["article"]["text_words"], data["article"]["text_gap"]) == (0, "no-text-layer")
    assert captured.article is not None and captured.article.ok
    assert captured.article.kind == "pdf" and captured.article.text_words == 0
    # Checked while damaged, mended, damaged again: each an outcome, none an error.
    outcomes = []
    for body in (whole[:100], whole, whole[:-40]):
        site.pages[PATH] = served(body)
        lab.clock.advance(HOUR)
        outcome = lab.check_one(url).outcome
        outcomes.append((outcome.outcome, outcome.reason))
    assert outcomes == [("edited", "payload")] * 3
    checked = preserve.run(tmp_path / "cli", "check", *FAST)
    assert checked.exit_code == 0, checked.output
