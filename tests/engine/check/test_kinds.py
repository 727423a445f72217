"""check, end to end: other encodings (windows-1251), a baseline from an older extractor, and
the citations of an edited article (PDFs: test_pdfs.py)."""

from __future__ import annotations

import hashlib
import random

from preserve.extract.normalise import NORMALISATION_VERSION
from tests.support.checking import HOUR, Lab, long_paragraphs, sentences, short_article
from tests.support.cli import Preserve
from tests.support.sites import Page, Site, article_html

# --- other encodings ----------------------------------------------------------------------

RU_CLAIM = "Министр подтвердил, что приказ был подписан в марте."
RU_NEGATED = "Министр не подтвердил, что приказ был подписан в марте."
RU_WORDS = (
    "город суд письмо архив деревня река документ доклад комиссия граница совет свидетель "
    "заявление агентство бюджет гавань мэр станция"
).split()


def cyrillic_page(claim: str) -> Page:
    rng = random.Random(11)

    def para(count: int) -> str:
        return " ".join(
            " ".join(rng.choice(RU_WORDS) for _ in range(14)).capitalize() + "."
            for _ in range(count)
        )

    paragraphs = [para(3) for _ in range(5)]
    paragraphs[2] = f"{para(1)} {claim} {para(1)}"
    html = article_html("Приказ о прослушке", paragraphs).replace('<meta charset="utf-8">', "")
    return Page(html.encode("windows-1251"), content_type="text/html; charset=windows-1251")


def test_windows_1251_page_edited_gives_a_correct_cyrillic_diff(
    lab: Lab, site: Site, preserve: Preserve
) -> None:
    site.pages["/ru/statya"] = cyrillic_page(RU_CLAIM)
    url = site.url("/ru/statya")
    (captured,) = lab.capture(url)
    assert captured.article is not None and captured.article.title == "Приказ о прослушке"
    site.pages["/ru/statya"] = cyrillic_page(RU_NEGATED)
    lab.clock.advance(HOUR)
    result = lab.check_one(url)
    assert (result.outcome.outcome, result.outcome.reason) == ("edited", "text")
    edit = result.outcome.edit
    assert edit is not None
    (hunk,) = edit.hunks
    assert (hunk.old, hunk.new) == ((), ("не",))
    assert hunk.before == "" or hunk.before.endswith("Министр")
    assert edit.negations_added == ("не",)
    assert edit.first_changed_old == RU_CLAIM
    assert edit.first_changed_new == RU_NEGATED
    # And the same through `diff`.
    out = preserve.run(lab.path, "diff", url)
    assert out.exit_code == 0, out.output
    assert "Министр {+не+} подтвердил," in out.stdout


def test_a_baseline_from_an_older_extractor_is_re_derived_not_reported_as_an_edit(
    lab: Lab, site: Site
) -> None:
    """An archive made by an older version (another main-text extractor): its stored text
    differs from what today's finds in the same bytes. A cosmetic change must not show up as
    an edit for that; the baseline is extracted again from its WARC record."""
    path = "/2016/10/older-extractor"
    site.pages[path] = Page(article_html("Wiretap inquiry", long_paragraphs(count=6)))
    url = site.url(path)
    (captured,) = lab.capture(url)
    old_text = "Navigation Home World\n" + lab.store.text(captured.article.text_sha256)[0]  # type: ignore[index]
    old_sha = hashlib.sha256(old_text.encode()).hexdigest()
    with lab.store.db.conn:
        lab.store.db.execute(
            "INSERT INTO texts (sha256, norm_version, text, visible_text) VALUES (?, 1, ?, ?)",
            [old_sha, old_text, old_text],
        )
        lab.store.db.execute(
            "UPDATE captures SET norm_version = 1, text_sha256 = ? WHERE id = ?",
            [old_sha, captured.article.capture_id],
        )
    site.pages[path] = Page(
        article_html("Wiretap inquiry", long_paragraphs(count=6)).replace(
            "</body>", "<!-- served 2026-10-02 by cache-7 --></body>"
        )
    )
    lab.clock.advance(HOUR)
    outcome = lab.check_one(url).outcome
    assert (outcome.outcome, outcome.edit) == ("cosmetic", None), outcome
    # The new baseline carries today's version: the next comparison needs no re-derivation.
    (row,) = lab.rows("SELECT norm_version FROM captures WHERE id = ?", [lab.baseline(url)])
    assert row["norm_version"] == NORMALISATION_VERSION


# --- citations over time ------------------------------------------------------------------


def test_edited_article_that_drops_and_adds_citations(lab: Lab, site: Site) -> None:
    rng = random.Random(13)
    intro, rest = sentences(rng, 3), [sentences(rng, 3) for _ in range(3)]

    def article(links: list[tuple[str, str]]) -> Page:
        cited = " ".join(
            f'According to <a href="{href}">{anchor}</a>, it was so.' for href, anchor in links
        )
        return Page(article_html("Wiretap inquiry", [f"{intro} {cited}", *rest]))

    for path, title in (
        ("/src/one", "First report"),
        ("/src/two", "Court filing"),
        ("/src/three", "New statement"),
    ):
        site.pages[path] = Page(short_article(title))
    site.pages["/story"] = article(
        [("/src/one", "the first report"), ("/src/two", "the court filing")]
    )
    url = site.url("/story")
    one, two, three = site.url("/src/one"), site.url("/src/two"), site.url("/src/three")
    (captured,) = lab.capture(url)
    assert [c.job.url for c in captured.citations] == [one, two]
    assert lab.store.target(three) is None

    site.pages["/story"] = article(
        [("/src/two", "the court filing"), ("/src/three", "a new statement")]
    )
    lab.clock.advance(HOUR)
    results = lab.check()
    assert set(results) == {url, one, two}
    result = results[url]
    assert result.outcome.outcome == "edited"
    links = result.outcome.links
    assert links is not None
    assert [link.url for link in links.added] == [three]
    assert [link.url for link in links.removed] == [one]
    data = result.to_json()
    assert [link["url"] for link in data["links"]["added"]] == [three]
    assert [link["url"] for link in data["links"]["removed"]] == [one]
    # The new source is captured at once and tracked as the article's citation.
    assert [(c.job.url, c.ok) for c in result.added_citations] == [(three, True)]
    assert data["added_citations"][0]["url"] == three
    target = lab.store.target(three)
    assert target is not None
    assert (target.role, target.cited_by) == ("citation", url)
    assert target.baseline_capture_id == result.added_citations[0].capture_id
    lab.clock.advance(HOUR)
    assert lab.check_one(three).outcome.outcome == "unchanged"
