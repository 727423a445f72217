"""check, end to end, of the main text that keeps the article (extract/maintext.py): an edit in
a paragraph that trafilatura's precise run alone leaves out, and archives whose baselines were
extracted the way preserve did before, which must not turn into a wave of edits."""

from __future__ import annotations

from typing import Any

import pytest

from preserve.extract import extractor
from preserve.extract.normalise import NORMALISATION_VERSION, loose, sha256_hex
from tests.support.checking import HOUR, Lab, long_paragraphs
from tests.support.sites import Page, Site, article_html

# A paragraph in a <div> of its own among the article's <p>s: trafilatura's precise run leaves
# it out (it keeps the <p>s), readability keeps it.
DIV_CLAIM = "The council met again on Friday and confirmed the decision, with two votes against."
DIV_EDITED = (
    "The council met again on Friday and quietly confirmed the decision, with two votes against."
)


def div_page(claim: str = DIV_CLAIM, title: str = "Harbour budget", seed: int = 7) -> str:
    paragraphs = long_paragraphs(count=8, seed=seed)
    return article_html(title, [*paragraphs[:4], f"</p><div>{claim}</div><p>", *paragraphs[4:]])


def _before_issue_14(root: Any, hrefs: Any) -> Any:
    """The main-text step of NORMALISATION_VERSION 2: trafilatura's fast, precise run alone."""
    import trafilatura
    from trafilatura.settings import Extractor

    options = Extractor(
        output_format="txt",
        fast=True,
        precision=True,
        comments=False,
        links=True,
        formatting=False,
        with_metadata=False,
    )
    doc = trafilatura.bare_extraction(root, options=options)
    if not isinstance(doc, trafilatura.settings.Document) or doc.body is None:
        return None
    return extractor._from_trafilatura(doc.body, hrefs)


def old_text(html: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The main text preserve stored for this page before the union."""
    with monkeypatch.context() as m:
        m.setattr(extractor, "_trafilatura", _before_issue_14)
        return extractor.extract(
            html.encode(), url="http://127.0.0.1/a", content_type="text/html; charset=utf-8"
        ).text


def test_the_old_step_leaves_the_div_paragraph_out_and_the_union_keeps_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The premise of the tests below, checked rather than assumed."""
    html = div_page()
    assert DIV_CLAIM not in old_text(html, monkeypatch)
    new = extractor.extract(html.encode(), url="http://127.0.0.1/a", content_type="text/html")
    assert DIV_CLAIM in new.text
    # in its place: after the fourth paragraph, before the fifth
    lines = new.text.split("\n")
    at = lines.index(DIV_CLAIM)
    assert lines[at - 1] == long_paragraphs(count=8)[3]
    assert lines[at + 1] == long_paragraphs(count=8)[4]


def test_a_word_inserted_in_a_paragraph_the_precise_run_leaves_out_is_an_edit(
    lab: Lab, site: Site
) -> None:
    path = "/2026/10/harbour-budget"
    site.pages[path] = Page(div_page())
    url = site.url(path)
    (captured,) = lab.capture(url)
    assert captured.ok
    assert DIV_CLAIM in (lab.store.text(captured.article.text_sha256) or "")
    site.pages[path] = Page(div_page(DIV_EDITED))
    lab.clock.advance(HOUR)
    outcome = lab.check_one(url).outcome
    assert (outcome.outcome, outcome.reason) == ("edited", "text"), outcome
    assert outcome.edit is not None
    (hunk,) = outcome.edit.hunks
    assert (hunk.old, hunk.new) == ((), ("quietly",))


def test_baselines_extracted_before_the_union_are_re_derived_not_a_wave_of_edits(
    lab: Lab, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An archive captured under NORMALISATION_VERSION 2, whose stored texts lack the
    paragraphs the union now keeps, checked after the change: every page unchanged in its
    words comes out cosmetic (its markup moved), none edited; the baselines are extracted
    again from their WARC records and the new ones carry today's version. A real edit on one
    of them is still seen."""
    assert NORMALISATION_VERSION == 3
    pages = {f"/2026/10/story-{i}": div_page(title=f"Story {i}", seed=i) for i in range(4)}
    urls = []
    for path, html in pages.items():
        site.pages[path] = Page(html)
        urls.append(site.url(path))
    captured = lab.capture(*urls)
    for one, html in zip(captured, pages.values(), strict=True):
        text = old_text(html, monkeypatch)
        assert DIV_CLAIM not in text and DIV_CLAIM in lab.store.text(one.article.text_sha256)  # type: ignore[operator]
        sha = sha256_hex(text)
        with lab.store.db.conn:
            lab.store.db.execute(
                "INSERT OR IGNORE INTO texts (sha256, norm_version, text, visible_text) "
                "VALUES (?, 2, ?, ?)",
                [sha, text, text],
            )
            lab.store.db.execute(
                "UPDATE captures SET norm_version = 2, text_sha256 = ?, loose_sha256 = ? "
                "WHERE id = ?",
                [sha, sha256_hex(loose(text, normalised=True)), one.article.capture_id],
            )
    for path, html in pages.items():  # what a CDN changes between two fetches
        site.pages[path] = Page(html.replace("</body>", "<!-- served by cache-7 --></body>"))
    edited_path = next(iter(pages))
    site.pages[edited_path] = Page(div_page(DIV_EDITED, title="Story 0", seed=0))
    lab.clock.advance(HOUR)
    results = lab.check(*urls)
    outcomes = {url: results[url].outcome.outcome for url in urls}
    assert outcomes == {
        url: "edited" if url == site.url(edited_path) else "cosmetic" for url in urls
    }, outcomes
    for url in urls:
        (row,) = lab.rows("SELECT norm_version FROM captures WHERE id = ?", [lab.baseline(url)])
        assert row["norm_version"] == NORMALISATION_VERSION
