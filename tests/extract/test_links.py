"""extract: main text, citations, requisites, decoding and hashes, from literal bodies (no
network)."""

from __future__ import annotations

import gzip
import hashlib
import random
import time
import tracemalloc
import zlib
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preserve.extract import extractor as extract_module
from preserve.extract.extractor import (
    Extracted,
    decode_content,
    extract,
    links_key,
    loose,
    normalise,
    sha256_hex,
)
from tests.support.sites import article_html

PAGE = "http://news.example.com/2016/10/harbour-closure/"
HTML = "text/html; charset=utf-8"
MiB = 1024 * 1024

# Body paragraphs long enough for trafilatura to be sure of them; each cites something.
BODY = [
    'Port officials closed the northern harbour on Monday after <a href="https://ports.example.org'
    '/notices/2016-114">a notice from the maritime authority</a> warned of unstable moorings. '
    "Fishing crews were told to stay ashore until further notice.",
    "The harbour master said the decision was not taken lightly. According to "
    '<a href="/2016/10/earlier-inspection/">an inspection report from last spring</a>, repairs '
    "had been postponed twice for lack of funds.",
    'Engineers from the regional council, quoted by <a href="http://radio.example.net/'
    'harbour-interview#t=120">a local radio station</a>, estimated that the work would take '
    "at least six weeks and cost more than the annual maintenance budget.",
    "Residents gathered at the quay in the evening to ask when the ferry would run again; "
    "nobody from the port authority came to answer their questions in person that night.",
]
CITED = [
    "https://ports.example.org/notices/2016-114",
    "http://news.example.com/2016/10/earlier-inspection/",
    "http://radio.example.net/harbour-interview",
]
COMMENTS = """<section id="comments" class="comments"><h3>Comments</h3>
<div class="comment"><p>Great piece! More on this <a href="http://spam.example/deals">here</a>.</p>
</div></section>"""


def page(paragraphs: list[str] = BODY, *, comments: str = COMMENTS, **kwargs: str) -> bytes:
    html = article_html("Harbour closed after moorings fail", paragraphs, **kwargs)
    return html.replace("</main>", comments + "</main>").encode("utf-8")


def html_doc(body: str, head: str = "") -> bytes:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>".encode()


def run(raw: bytes, url: str = PAGE, content_type: str | None = HTML, **kwargs) -> Extracted:
    return extract(raw, url=url, content_type=content_type, **kwargs)


def urls(result: Extracted) -> list[str]:
    return [c.url for c in result.citations]


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


# --- noise vs edits ---------------------------------------------------------------------------


def test_text_hash_ignores_ads_nonces_and_comments() -> None:
    ad = '<div class="ad" data-slot="{}"><script nonce="{}">show({})</script></div>'
    first = run(page(extra_head=ad.format("a1", "n0nce1", 1), footer=ad.format("z", "q", 2)))
    second = run(
        page(
            extra_head=ad.format("b7", "n0nce2", 3),
            footer=ad.format("y", "r", 4),
            comments=COMMENTS.replace("Great piece!", "Fake news, see"),
        )
    )
    assert first.decoded_sha256 != second.decoded_sha256
    assert (first.text_sha256, first.links_sha256) == (second.text_sha256, second.links_sha256)


def test_typography_does_not_change_the_text_hash() -> None:
    straight = BODY[:3] + [
        "The mayor said: \"It's a sad day - but we'll reopen.\" Café owners agreed."
    ]
    curly = BODY[:3] + [
        "The\u00a0mayor said: \u201cIt\u2019s a sad day \u2014 but we\u2019ll re\u00adopen."
        "\u201d\u200b Cafe\u0301 owners agreed."
    ]
    assert run(page(straight)).text_sha256 == run(page(curly)).text_sha256


def test_a_negation_changes_the_text_hash() -> None:
    edited = [BODY[0], BODY[1].replace("was not taken lightly", "was taken lightly")] + BODY[2:]
    before, after = run(page()), run(page(edited))
    assert before.text_sha256 != after.text_sha256
    assert before.loose_sha256 != after.loose_sha256
    assert before.links_sha256 == after.links_sha256


def test_punctuation_only_edit_keeps_the_loose_hash() -> None:
    edited = [BODY[0], BODY[1].replace("lightly. According", "lightly; according")] + BODY[2:]
    before, after = run(page()), run(page(edited))
    assert before.text_sha256 != after.text_sha256
    assert before.loose_sha256 == after.loose_sha256


def test_normalise_is_the_documented_contract() -> None:
    assert normalise("\u201cQuote\u201d \u2018x\u2019 \u00abguillemets\u00bb") == (
        '"Quote" \'x\' "guillemets"'
    )
    assert normalise("a\u2013b\u2014c \u2212 d") == "a-b-c - d"
    assert normalise("soft\u00adhyphen zero\u200bwidth\ufeff") == "softhyphen zerowidth"
    assert normalise("caf\u0065\u0301") == normalise("caf\u00e9") == "caf\u00e9"
    assert normalise("  two\u00a0\u00a0spaces\t\there  \r\n\r\n\n  next line ") == (
        "two spaces here\nnext line"
    )
    assert normalise("Case, Kept! Punctuation?") == "Case, Kept! Punctuation?"
    assert normalise("\ufb01ve \u2460") == "five 1"  # NFKC
    assert normalise("") == ""


def test_loose_and_hashes() -> None:
    assert loose("Did NOT deny, it said.") == loose("did not deny it said") == "didnotdenyitsaid"
    assert loose("did deny") != loose("did not deny")
    assert sha256_hex("é") == hashlib.sha256("é".encode()).hexdigest()
    assert sha256_hex(b"x") == hashlib.sha256(b"x").hexdigest()


# --- fallbacks and other kinds ----------------------------------------------------------------


def test_short_page_keeps_text_and_citations() -> None:
    raw = html_doc(
        '<nav><a href="/">Home</a></nav><main><p>The agency <a href="https://agency.example/'
        'statement">confirmed the closure</a> on Monday.</p></main>',
        head="<title>Short note</title>",
    )
    result = run(raw)
    assert result.text == "The agency confirmed the closure on Monday."
    assert urls(result) == ["https://agency.example/statement"]
    assert result.citations[0].context == result.text
    assert result.title == "Short note"


def test_fallback_when_trafilatura_finds_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract_module, "_trafilatura", lambda root: None)
    in_main = run(
        html_doc(
            '<nav><a href="/menu">Menu</a></nav><main><p>See <a href="https://a.example/one">the '
            'first source</a>. Then <a href="#top">top</a>.</p><footer><a href="/legal">Legal</a>'
            '</footer></main><aside><a href="/other">Other</a></aside>',
            head="<title>Fallback page</title>",
        )
    )
    assert in_main.extractor == "fallback"
    assert in_main.text == "See the first source. Then top."
    assert urls(in_main) == ["https://a.example/one"]
    assert in_main.citations[0].context == "See the first source."
    assert in_main.title == "Fallback page"
    paragraphs = run(
        html_doc(
            '<header><p><a href="/login">Log in</a></p></header><div><p>One <a href="https://b.'
            'example/x">source</a>.</p></div><div class="comments"><p><a href="https://spam.'
            'example/">spam</a></p></div><p>Two <a href="https://b.example/y">more</a>.</p>'
        )
    )
    assert urls(paragraphs) == ["https://b.example/x", "https://b.example/y"]
    assert paragraphs.text == "One source.\nTwo more."
    bare = run(html_doc('<div>Only a <a href="https://c.example/">link</a> here</div>'))
    assert bare.text == "Only a link here" and bare.citations == ()


def test_title_prefers_trafilatura_then_the_title_element() -> None:
    assert run(page()).title == "Harbour closed after moorings fail"
    no_text = run(html_doc("", head="<title> Empty   page </title>"))
    assert no_text.title == "Empty page" and no_text.text == "" and no_text.text_sha256 is None


def test_byline_and_stated_date_are_what_the_page_declares() -> None:
    head = (
        '<meta name="author" content="Jane Doe">'
        '<meta property="article:modified_time" content=" 2026-11-02T09:30:00Z ">'
    )
    declared = run(page(extra_head=head))
    assert (declared.byline, declared.modified) == ("Jane Doe", "2026-11-02T09:30:00Z")
    ld = (
        '<script type="application/ld+json">{"@context": "https://schema.org", '
        '"@type": "NewsArticle", "dateModified": '
        '"2026-11-03", "author": {"@type": "Person", "name": "Ada Okafor"}}</script>'
    )
    assert (run(page(extra_head=ld)).byline, run(page(extra_head=ld)).modified) == (
        "Ada Okafor",
        "2026-11-03",
    )
    # A byline only in the body is not taken, neither the header's "By Staff Writer" nor a
    # related story's author: the first "author" element on a page is as often in such a
    # card, which would make a rotating sidebar a new byline.
    cards = '<li><a href="/other">Other story</a> <span class="author">Tom Moreau</span></li>'
    undeclared = run(page(aside=cards))
    assert (undeclared.byline, undeclared.modified) == (None, None)


def test_plain_text_finds_urls() -> None:
    text = (
        "Sources for the harbour story\r\n\r\n"
        "Notice: https://ports.example.org/notices/2016-114.\n"
        "Radio (http://radio.example.net/interview), see also "
        "https://en.wikipedia.org/wiki/Harbour_(disambiguation); and HTTPS://Example.org/A?b=1,\n"
        "Repeat: https://ports.example.org/notices/2016-114 and self " + PAGE + "\n"
    )
    result = run(text.encode(), content_type="text/plain")
    assert result.kind == "text" and result.title is None and result.requisites == ()
    assert result.text.splitlines()[0] == "Sources for the harbour story"
    assert result.visible_text == result.text
    assert urls(result) == [
        "https://ports.example.org/notices/2016-114",
        "http://radio.example.net/interview",
        "https://en.wikipedia.org/wiki/Harbour_(disambiguation)",
        "https://example.org/A?b=1",
    ]
    assert result.citations[0].context == "Notice: https://ports.example.org/notices/2016-114."


def test_pdf_and_binary_bodies() -> None:
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF"
    for content_type in ("application/pdf", "text/html", None):
        result = run(pdf, content_type=content_type)
        assert result.kind == "pdf"
        assert (result.text, result.citations, result.requisites) == ("", (), ())
        assert result.decoded_sha256 == hashlib.sha256(pdf).hexdigest()
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    assert run(png, content_type="text/html").kind == "other"
    assert run(png, content_type="image/png").kind == "other"
    assert run(b"\x00\x01\x02binary", content_type="application/octet-stream").kind == "other"
    assert run(b"<html><body><p>Hi</p></body></html>", content_type=None).kind == "html"


def test_empty_and_garbage_bodies() -> None:
    empty = run(b"")
    assert (empty.kind, empty.text, empty.citations, empty.text_sha256) == ("html", "", (), None)
    assert empty.decoded_sha256 == hashlib.sha256(b"").hexdigest()
    for raw in (b"\x00" * 100, bytes(range(256)) * 40, b"<<<>>><a href=", b"\xff\xfe\x00<"):
        result = run(raw)
        assert isinstance(result, Extracted)


# --- decoding ---------------------------------------------------------------------------------

CYRILLIC = "Порт закрыт после аварии. Министр заявил, что решение было принято не сразу."


def cyrillic_page(meta: str = "") -> bytes:
    paragraph = f"<p>{CYRILLIC} {CYRILLIC}</p>"
    return (
        f"<html><head>{meta}<title>Новости</title></head><body><article>{paragraph * 3}"
        "</article></body></html>"
    ).encode("cp1251")


@pytest.mark.parametrize(
    ("content_type", "meta"),
    [
        ("text/html; charset=windows-1251", ""),
        ("text/html", '<meta charset="windows-1251">'),
        ("text/html", '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'),
    ],
)
def test_windows_1251_from_header_or_meta(content_type: str, meta: str) -> None:
    result = run(cyrillic_page(meta), content_type=content_type)
    assert result.charset == "cp1251"
    assert CYRILLIC in result.text
    assert result.title == "Новости"


def test_invalid_charset_names_fall_back() -> None:
    body = "<html><body><p>Café crème — déjà vu</p></body></html>".encode()
    for content_type in (
        "text/html; charset=no-such-charset",
        "text/html; charset=base64",
        'text/html; charset="utf-7"',
        "text/html; charset=\x00",
    ):
        result = run(body, content_type=content_type)
        assert result.charset == "utf-8" and "Café crème - déjà vu" in result.text
    meta = html_doc("<p>Café</p>", head='<meta charset="x-bogus">')
    assert run(meta, content_type="text/html").text == "Café"


def test_latin1_label_decodes_as_windows_1252() -> None:
    raw = "<html><body><p>\u201cQuoted\u201d caf\u00e9</p></body></html>".encode("cp1252")
    result = run(raw, content_type="text/html; charset=ISO-8859-1")
    assert result.charset == "cp1252" and result.text == '"Quoted" café'


def test_bom_and_xml_declaration() -> None:
    raw = b"\xef\xbb\xbf<?xml version='1.0' encoding='utf-8'?><html><body><p>Gr\xc3\xbc\xc3\x9fe"
    result = run(raw + b"</p></body></html>", content_type="application/xhtml+xml")
    assert result.text == "Grüße" and result.charset == "utf-8"


def test_gzip_and_deflate_bodies() -> None:
    raw = page()
    gzipped = run(gzip.compress(raw), content_encoding="gzip")
    assert gzipped.text_sha256 == run(raw).text_sha256
    assert gzipped.decoded_sha256 == hashlib.sha256(raw).hexdigest()
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    deflated = raw_deflate.compress(raw) + raw_deflate.flush()
    assert decode_content(zlib.compress(raw), "deflate", 100 * MiB) == raw
    assert decode_content(deflated, "Deflate", 100 * MiB) == raw
    assert decode_content(gzip.compress(gzip.compress(raw)), "gzip, x-gzip", 100 * MiB) == raw
    assert decode_content(raw, "identity", 10) == raw
    assert decode_content(raw, "br", 10) == raw  # unknown: left alone
    assert decode_content(gzip.compress(b""), "gzip", 10) == b""


def test_broken_gzip_gives_what_decoded() -> None:
    raw = page()
    truncated = gzip.compress(raw)[: len(raw) // 4]
    partial = decode_content(truncated, "gzip", 100 * MiB)
    assert partial and raw.startswith(partial)
    assert decode_content(b"not gzip at all", "gzip", 100) == b"not gzip at all"
    rng = random.Random(7)
    words = "harbour notice ferry council quay mooring repair budget".split()
    text = " ".join(f"{rng.choice(words)}{i}" for i in range(200_000)).encode()
    compressed = gzip.compress(text)
    middle = len(compressed) // 2
    corrupt = compressed[:middle] + bytes(500) + compressed[middle + 500 :]
    partial = decode_content(corrupt, "gzip", 100 * MiB)
    # What inflated before the error is kept: the text up to the damage, then whatever
    # garbage zlib produced until its checks failed.
    assert len(partial) > len(text) // 3
    assert partial[: len(text) // 3] == text[: len(text) // 3]


def _zeros_gzip(megabytes: int, *, members: bool) -> bytes:
    """`megabytes` MiB of zeros, gzipped without ever holding them: one member compressed in
    1 MiB steps, or (much faster to build) the same 1 MiB member repeated."""
    chunk = bytes(MiB)
    if members:
        return gzip.compress(chunk, compresslevel=9, mtime=0) * megabytes
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [compressor.compress(chunk) for _ in range(megabytes)]
    return b"".join(parts) + compressor.flush()


@pytest.mark.parametrize(("megabytes", "members"), [(1024, True), (64, False)])
def test_decompression_bomb_is_capped(megabytes: int, members: bool) -> None:
    bomb = _zeros_gzip(megabytes, members=members)
    assert len(bomb) < 2 * MiB
    tracemalloc.start()
    try:
        decoded = decode_content(bomb, "gzip", MiB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert decoded == bytes(MiB)
    assert peak < 8 * MiB
    result = run(bomb, content_encoding="gzip", max_inflated=2 * MiB)
    assert result.decoded_sha256 == hashlib.sha256(bytes(2 * MiB)).hexdigest()


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


# --- robustness -------------------------------------------------------------------------------


def test_deep_nesting_finishes() -> None:
    for opener, closer in (("<div>", "</div>"), ("<span><b>", "</b></span>"), ("<a href=/x>", "")):
        raw = ("<html><body>" + opener * 100_000 + "deep" + closer * 100_000).encode()
        started = time.monotonic()
        result = run(raw)
        assert time.monotonic() - started < 10
        assert all(c.url.startswith("http") for c in result.citations)


def test_fifty_megabytes_of_links() -> None:
    raw = b"<html><body><article><p>" + b'<a href="/l?n=1">a link</a> ' * 2_000_000
    assert len(raw) > 50 * MiB
    started = time.monotonic()
    result = run(raw)
    assert time.monotonic() - started < 30
    assert urls(result) == ["http://news.example.com/l?n=1"]


def test_many_distinct_links_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract_module, "MAX_LINKS", 20)
    links = "".join(f'<a href="/s/{i}">source {i}</a>, ' for i in range(100))
    result = run(html_doc(f"<article><p>Sources: {links}</p></article>"))
    assert urls(result) == [f"http://news.example.com/s/{i}" for i in range(20)]


HREFS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "#x",
            "/a",
            "//h.example/b",
            "mailto:x@y",
            "http://[::1",
            "https://h/%zz",
            "http://h.example:99999/",
            "javascript:x",
            " http://h.example/ok ",
        ]
    ),
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=st.binary(max_size=2000),
    content_type=st.sampled_from(
        [HTML, "text/plain", None, "application/pdf", "text/html; charset=x"]
    ),
    encoding=st.sampled_from([None, "gzip", "deflate"]),
)
def test_random_bytes_never_raise(
    raw: bytes, content_type: str | None, encoding: str | None
) -> None:
    result = run(raw, content_type=content_type, content_encoding=encoding)
    for citation in result.citations:
        assert citation.url.startswith(("http://", "https://")) and "#" not in citation.url


@settings(max_examples=50, deadline=None)
@given(hrefs=st.lists(HREFS, max_size=6), text=st.text(max_size=200))
def test_random_links_are_absolute_http_without_fragments(hrefs: list[str], text: str) -> None:
    anchors = "".join(f'<a href="{h.replace(chr(34), "")}">{text[:9]}</a> ' for h in hrefs)
    raw = html_doc(f"<article><p>{text} {anchors} {text}</p></article>")
    for citation in run(raw, url="http://h.example/page").citations:
        assert citation.url.startswith(("http://", "https://")) and "#" not in citation.url
