"""extract: the main text and its hashes (noise is never an edit), fallbacks and other
kinds of page."""

from __future__ import annotations

import hashlib

import pytest

from preserve.extract import extractor as extract_module
from preserve.extract.extractor import Extracted, loose, normalise, sha256_hex
from tests.extract.helpers import BODY, COMMENTS, PAGE, html_doc, page, run, urls

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
    monkeypatch.setattr(extract_module, "_trafilatura", lambda root, hrefs: None)
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
