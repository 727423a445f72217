"""extract: citations (inline links only, in order) and requisites, from literal bodies
(no network)."""

from __future__ import annotations

import re
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from preserve.extract.extractor import links_key
from preserve.extract.page import _SENTENCE_END
from tests.extract.helpers import BODY, CITED, PAGE, html_doc, page, run, urls

# --- citations --------------------------------------------------------------------------------


def test_only_inline_links_are_citations_in_order() -> None:
    result = run(
        page(
            nav='<a href="https://other.example/section">Section</a>',
            aside='<li><a href="/most-read-3">Most read three</a></li>',
            footer='<a href="https://ads.example/click?id=9">Sponsored</a>',
        )
    )
    assert result.kind == "html" and result.extractor == "trafilatura"
    assert urls(result) == CITED
    assert [c.position for c in result.citations] == [0, 1, 2]
    first, second, third = result.citations
    assert first.anchor_text == "a notice from the maritime authority"
    assert first.context == (
        "Port officials closed the northern harbour on Monday after a notice from the maritime "
        "authority warned of unstable moorings."
    )
    assert second.context == (
        "According to an inspection report from last spring, repairs had been postponed twice "
        "for lack of funds."
    )
    assert third.anchor_text == "a local radio station"
    assert "Great piece" not in result.text and "Most read" not in result.text
    assert result.text.startswith("Port officials closed the northern harbour")
    assert len(result.text.splitlines()) == 4


def test_visible_text_keeps_the_page_furniture_but_not_scripts() -> None:
    head = "<script>var tracker = 'abc';</script><style>p { color: red }</style>"
    result = run(page(extra_head=head))
    assert "Most read one" in result.visible_text and "Home World About" in result.visible_text
    assert "Port officials closed the northern harbour" in result.visible_text
    assert "tracker" not in result.visible_text and "color" not in result.visible_text


def test_without_visible_text_nothing_else_changes() -> None:
    """A capture leaves the visible text out (`visible=False`). The text's length still
    decides between trafilatura and the fallback, and must decide the same way: U+FDFA
    grows 18-fold under NFKC, so 55,000 of them stay under MAX_EXTRACTOR_TEXT once
    normalised and 58,000 go over it."""
    cases = [
        (page(), "trafilatura"),
        (html_doc("<article><p>" + "\ufdfa" * 55_000 + "</p></article>"), "trafilatura"),
        (html_doc("<article><p>" + "\ufdfa" * 58_000 + "</p></article>"), "fallback"),
        (html_doc("<article><p>" + "word " * 250_000 + "</p></article>"), "fallback"),
    ]
    for raw, extractor in cases:
        full, lean = run(raw), run(raw, visible=False)
        assert full.extractor == extractor and full.visible_text
        assert lean.visible_text == ""
        assert replace(lean, visible_text=full.visible_text) == full


def test_relative_links_resolve_against_base_href() -> None:
    body = BODY[:3] + [
        'Background is in <a href="archive/2015/report.html">the 2015 report</a> and '
        '<a href="//cdn.example.org/files/summary.pdf">its summary</a>, both still online today.'
    ]
    plain = run(page(body))
    assert urls(plain)[3:] == [
        "http://news.example.com/2016/10/harbour-closure/archive/2015/report.html",
        "http://cdn.example.org/files/summary.pdf",
    ]
    based = run(page(body, extra_head='<base href="https://static.example.com/news/">'))
    assert urls(based)[1] == "https://static.example.com/2016/10/earlier-inspection/"
    assert urls(based)[3] == "https://static.example.com/news/archive/2015/report.html"


def test_duplicates_collapse_to_the_first_occurrence() -> None:
    body = BODY + [
        'The notice itself, <a href="https://ports.example.org/notices/2016-114#page=2">published '
        'again here</a>, and <a href="https://ports.example.org/notices/2016-114">the same notice'
        "</a> were widely shared by residents on social media over the weekend."
    ]
    result = run(page(body))
    assert urls(result) == CITED
    assert result.citations[0].anchor_text == "a notice from the maritime authority"


def test_in_page_and_self_links_are_dropped() -> None:
    body = BODY + [
        'Jump <a href="#top">back to the top</a>, reload <a href="./">this story</a>, share '
        f'<a href="{PAGE}">its address</a> or <a href="{PAGE}?utm_source=mail#c">a copy</a>, '
        'or follow <a href="">an empty link</a> that goes nowhere at all in this article.'
    ]
    assert urls(run(page(body))) == CITED


def test_other_schemes_are_not_citations() -> None:
    body = BODY + [
        'Write to <a href="mailto:desk@news.example.com">the desk</a>, call '
        '<a href="tel:+15550100">the hotline</a>, run <a href="javascript:void(0)">a script</a> '
        'or open <a href="ftp://files.example.com/x">the file server</a> for the raw data.'
    ]
    assert urls(run(page(body))) == CITED


def test_a_retargeted_link_changes_only_the_link_hash() -> None:
    before = run(page())
    after = run(page([BODY[0].replace("2016-114", "2016-115")] + BODY[1:]))
    assert after.text_sha256 == before.text_sha256
    assert after.links_sha256 != before.links_sha256


def test_cosmetic_href_changes_keep_the_link_hash() -> None:
    before = run(page())
    spelled = [
        BODY[0].replace(
            "https://ports.example.org/notices/2016-114",
            "http://www.ports.example"
            ".org/notices/2016-114/?utm_source=feed&utm_medium=rss&fbclid=abc",
        ),
        BODY[1].replace("/2016/10/earlier-inspection/", "../earlier-inspection"),
        BODY[2].replace("http://radio.example.net", "https://radio.example.net"),
    ] + BODY[3:]
    after = run(page(spelled))
    assert urls(after) != urls(before)
    assert after.links_sha256 == before.links_sha256
    assert after.text_sha256 == before.text_sha256


def test_links_key() -> None:
    key = links_key("https://www.example.com/a/b/?utm_campaign=x&id=7&gclid=1#frag")
    assert key == links_key("http://example.com/a/b?id=7") == "//example.com/a/b?id=7"
    assert links_key("http://example.com/A") != links_key("http://example.com/a")
    assert links_key("http://example.com/?b=1&a=2") != links_key("http://example.com/?a=2&b=1")
    assert links_key("not a url") == "//not a url"  # never raises


# The sentence ends as first written, which the faster spelling in `page` must match exactly.
_SENTENCE_END_AS_WRITTEN = re.compile(r"[.!?]+[\"')\]]*(?=\s)|[。！？]+|\n")


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab .!?\"')]\n\t。！？\u3000"), max_size=40))
def test_sentence_ends_are_found_where_they_were(text: str) -> None:
    def spans(pattern: re.Pattern[str]) -> list[tuple[int, int]]:
        return [m.span() for m in pattern.finditer(text)]

    assert spans(_SENTENCE_END) == spans(_SENTENCE_END_AS_WRITTEN)


# --- requisites -------------------------------------------------------------------------------


def test_requisites_in_order_resolved_and_deduped() -> None:
    head = (
        '<link rel="stylesheet" href="/css/site.css"><link rel="shortcut icon" href="/fav.ico">'
        '<link rel="apple-touch-icon" href="/touch.png"><link rel="preload" href="/font.woff2">'
        '<link rel="alternate" href="/feed.xml"><link rel="canonical" href="/story">'
        '<script src="https://cdn.example.net/app.js"></script><script>inline()</script>'
    )
    body = (
        '<img src="img/a.jpg" srcset="img/a-2x.jpg 2x, img/a-3x.jpg 3x">'
        '<picture><source srcset="/p/w400.webp 400w,/p/w800.webp 800w">'
        '<img src="/p/x.jpg"></picture>'
        '<video poster="/v/poster.jpg" src="/v/clip.mp4"><source src="/v/clip.webm"></video>'
        '<audio src="/a/sound.mp3"></audio>'
        '<input type="image" src="/btn.png"><input src="/no.png">'
        '<img src="data:image/png;base64,AAAA"><img src="/css/site.css"><img data-src="/lazy.jpg">'
        '<a href="/not-a-requisite">link</a>'
    )
    result = run(html_doc(body, head=head), url="http://site.example/news/story")
    assert result.requisites == tuple(
        "http://site.example" + path if path.startswith("/") else path
        for path in [
            "/css/site.css",
            "/fav.ico",
            "/touch.png",
            "/font.woff2",
            "https://cdn.example.net/app.js",
            "/news/img/a.jpg",
            "/news/img/a-2x.jpg",
            "/news/img/a-3x.jpg",
            "/p/w400.webp",
            "/p/w800.webp",
            "/p/x.jpg",
            "/v/poster.jpg",
            "/v/clip.mp4",
            "/v/clip.webm",
            "/a/sound.mp3",
            "/btn.png",
            "/lazy.jpg",
        ]
    )
