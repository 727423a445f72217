"""The main text that keeps the article (extract/maintext.py): its pieces on literals, and the
whole rule on a page whose other runs are made to bring in the page's boilerplate."""

from __future__ import annotations

import pytest

from preserve.extract import extractor, maintext, page
from tests.support.checking import long_paragraphs

PARAS = long_paragraphs(count=6)
IN_DIV = "The council met again on Friday and confirmed the decision, with two votes against."
# Full sentences, as a balanced extractor would find them, from everywhere but the article's
# prose: the nav, a related-stories list and the comments inside the article, and a block after
# it.
NAV = "World news from every continent, updated through the day."
RELATED = "Fishermen say the new quay will not be ready before the winter storms."
COMMENT = "This budget is a scandal and the mayor should resign before the summer is out."
AFTER = "Our newsletter brings the best of the week to your inbox every Sunday morning."
BOILERPLATE = (NAV, RELATED, COMMENT, AFTER)

PAGE = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>T</title></head>
<body><nav class="menu"><ul><li><a href="/">Home</a></li><li><a href="/w">{NAV}</a></li></ul></nav>
<main><article><h1>Harbour budget</h1><div class="article-body">
{"".join(f"<p>{p}</p>" for p in PARAS[:3])}<div>{IN_DIV}</div>
{"".join(f"<p>{p}</p>" for p in PARAS[3:])}</div>
<aside class="related"><h3>Related stories</h3><ul><li><a href="/r1">{RELATED}</a></li></ul></aside>
<section id="comments"><div class="comment"><p>{COMMENT}</p></div></section>
</article><div class="more"><p>{AFTER}</p></div></main>
<footer><p>Copyright the Example News Company.</p></footer></body></html>"""


def text_of(html: str) -> str:
    return extractor.extract(html.encode(), url="http://127.0.0.1/a", content_type="text/html").text


# --- the whole rule -----------------------------------------------------------------------------


def test_a_paragraph_of_the_article_left_out_by_the_precise_run_is_kept_in_its_place() -> None:
    root = page.parse(PAGE)
    assert root is not None
    precise = maintext.precise_tree(root)
    assert precise is not None and IN_DIV not in maintext._render(precise)
    lines = text_of(PAGE).split("\n")
    assert lines[lines.index(IN_DIV) - 1 : lines.index(IN_DIV) + 2] == [
        PARAS[2],
        IN_DIV,
        PARAS[3],
    ]


def test_what_the_other_runs_find_outside_the_article_prose_is_never_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The balanced run made to bring every sentence of the page, boilerplate included: only
    the article's own paragraph is added."""
    balanced = "\n".join([NAV, *PARAS[:3], IN_DIV, *PARAS[3:], RELATED, COMMENT, AFTER])
    monkeypatch.setattr(maintext, "_balanced", lambda root: balanced)
    monkeypatch.setattr(maintext, "_readability", lambda root: "")
    text = text_of(PAGE)
    assert IN_DIV in text
    assert [line for line in BOILERPLATE if line in text] == []
    assert text.split("\n")[-len(PARAS[3:]) :] == PARAS[3:]


def test_a_page_without_article_or_main_keeps_the_precise_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    html = PAGE.replace("<main>", "<div>").replace("</main>", "</div>")
    html = html.replace("<article>", "<div>").replace("</article>", "</div>")
    monkeypatch.setattr(maintext, "_balanced", lambda root: "\n".join([*PARAS, IN_DIV, AFTER]))
    root = page.parse(html)
    assert root is not None
    precise = maintext.precise_tree(root)
    assert precise is not None
    assert text_of(html) == maintext._render(precise)


def test_the_other_runs_are_skipped_when_the_article_has_nothing_the_precise_run_lacks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(root: object) -> str:
        raise AssertionError("not needed")

    monkeypatch.setattr(maintext, "_balanced", fail)
    monkeypatch.setattr(maintext, "_readability", fail)
    html = PAGE.replace(f"<div>{IN_DIV}</div>", "")
    assert IN_DIV not in text_of(html)
    assert PARAS[5] in text_of(html)


# --- the article --------------------------------------------------------------------------------


def test_the_article_is_the_element_holding_most_of_the_text_not_a_teaser() -> None:
    teaser = "<article><p>A teaser of another story that runs on for a while, more or less.</p>"
    html = f"<html><body>{teaser}</article><article id='story'>"
    html += "".join(f"<p>{p}</p>" for p in PARAS) + "</article></body></html>"
    root = page.parse(html)
    assert root is not None
    box = maintext.article(root, "\n".join(PARAS))
    assert box is not None and box.get("id") == "story"


def test_nested_articles_count_for_the_outer_one() -> None:
    half = len(PARAS) // 2
    inner = "".join(f"<article><p>{p}</p></article>" for p in PARAS[:half])
    html = f"<html><body><main id='m'>{inner}"
    html += "".join(f"<p>{p}</p>" for p in PARAS[half:]) + "</main></body></html>"
    root = page.parse(html)
    assert root is not None
    box = maintext.article(root, "\n".join(PARAS))
    assert box is not None and box.get("id") == "m"


def test_no_article_when_none_holds_the_text_or_there_is_none() -> None:
    root = page.parse("<html><body><div><p>" + PARAS[0] + "</p></div></body></html>")
    assert root is not None
    assert maintext.article(root, PARAS[0]) is None
    root = page.parse("<html><body><article><p>Other words entirely.</p></article></body></html>")
    assert root is not None
    assert maintext.article(root, PARAS[0]) is None


def test_the_articles_text_leaves_out_its_furniture_and_comments() -> None:
    root = page.parse(PAGE)
    assert root is not None
    box = next(root.iter("article"))
    scope = maintext.scope_text(box)
    assert IN_DIV in scope and PARAS[0] in scope
    assert RELATED not in scope and COMMENT not in scope


# --- the union ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "ends"),
    [
        ("It was approved.", True),
        ('"We will appeal," she said.”', True),
        ("Is it over?", True),
        ("他说。", True),
        ("Read more", False),
        ("Kreole: Stella Hoops", False),
    ],
)
def test_ends_sentence(line: str, ends: bool) -> None:
    assert maintext.ends_sentence(line) is ends


def test_the_union_adds_sentences_in_scope_after_the_line_they_follow() -> None:
    text = "One two three four.\nSeven eight nine ten."
    other = "One two three four.\nFive and six were there.\nSeven eight nine ten."
    scope = other
    assert maintext.scoped_union(text, other, scope) == (
        "One two three four.\nFive and six were there.\nSeven eight nine ten."
    )


def test_the_union_leaves_out_lines_outside_scope_repeated_or_not_sentences() -> None:
    text = "One two three four."
    other = "\n".join(
        [
            "One two three four.",
            "Outside the article entirely.",
            "Share this story",  # no sentence, short
            "Repeated teaser line.",
            "Repeated teaser line.",
            "A paragraph of the article that ends in a link to a court ruling and goes on",
        ]
    )
    scope = "\n".join(other.split("\n")[2:])
    assert maintext.scoped_union(text, other, scope) == (
        "One two three four.\n"
        "A paragraph of the article that ends in a link to a court ruling and goes on"
    )


def test_a_line_the_text_already_holds_in_other_words_is_not_added_twice() -> None:
    text = "The mayor said the port will open in May, after the storms."
    other = "The mayor said that the port will open in May, after the storms."
    assert maintext.scoped_union(text, other, other) == text


def test_nothing_to_add() -> None:
    scope = "Harbour budget\nIt was approved.\nRelated"
    assert maintext.nothing_to_add("Harbour budget\nIt was approved.", scope)
    assert not maintext.nothing_to_add("Harbour budget", scope)


# --- the search budget ----------------------------------------------------------------------


def test_past_the_search_budget_each_step_does_what_needs_no_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A hostile page can make the searches for runs of words quadratic: past the budget the
    article is found from whole lines only, the other runs are made rather than a line lost,
    and the union leaves the precise text as it is."""
    held, line = "Harbour budget. It was approved.", "It was approved."
    assert maintext.nothing_to_add(held, line)  # found by a search
    monkeypatch.setattr(maintext, "SEARCH_BUDGET", 0)
    assert not maintext.nothing_to_add(held, line)
    root = page.parse(PAGE)
    assert root is not None
    box = maintext.article(root, "\n".join(PARAS))  # whole lines: no search needed
    assert box is not None and box.tag == "article"
    assert maintext.article(root, " ".join(PARAS)) is None  # parts of one line: searches
    text = "One two three four.\nSeven eight nine ten."
    other = "One two three four.\nFive and six were there.\nSeven eight nine ten."
    assert maintext.scoped_union(text, other, other) == text
