"""One response body → what preserve compares later: its kind, main text, title, citations
(the links inside the main text) and requisites, with their hashes.

Never raises for anything a server can send: garbage in, empty fields out. The HTML is parsed
once with lxml; trafilatura then picks the main text from that tree. Its own href resolution is
bypassed (it sends `#top` to the site root): every <a> href is swapped for a numbered
placeholder before the call and mapped back to the raw href afterwards, which we resolve.

Split across modules: `decode` (bytes → text), `normalise` (normalisation and hashes), `page`
(reading the lxml tree), `maintext` (trafilatura's runs, joined inside the article); this
module decides what is what.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from itertools import islice

import lxml.html
from lxml import etree

from preserve.config import DEFAULT_MAX_INFLATED
from preserve.extract import maintext, page
from preserve.extract.decode import decode_content, decode_text, header_charset, mime_type
from preserve.extract.extracted import Citation, Extracted
from preserve.extract.normalise import (
    NORMALISATION_VERSION,
    canonical_links_key,
    links_key,
    loose,
    normalise,
    sha256_hex,
)
from preserve.extract.pdf import pdf_text
from preserve.tokens import count_tokens
from preserve.urls import resolve

__all__ = [
    "NORMALISATION_VERSION",
    "Citation",
    "Extracted",
    "decode_content",
    "extract",
    "links_key",
    "loose",
    "normalise",
    "sha256_hex",
]

# trafilatura itself is imported on first use, not with this module: that takes a fifth of
# a second, and most commands (and a capture's main process) never extract a page.

# Only this much of a decoded body is read; the rest of a bigger page is ignored.
MAX_TEXT_BYTES = 8 * 1024 * 1024
# Pages with more elements skip trafilatura (about 3 s per MB of dense text) for the lxml
# fallback, which is linear and fast. Real articles have a few thousand.
MAX_EXTRACTOR_ELEMENTS = 50_000
# Likewise for pages with more visible text than this (characters): trafilatura takes some
# 20 times a page's size in memory, and no article is a million characters long.
MAX_EXTRACTOR_TEXT = 1_000_000
# Links past this count are ignored: no article cites ten thousand sources.
MAX_LINKS = 10_000

_PLACEHOLDER = "https://preserve.invalid/link/"
_PLACEHOLDER_RE = re.compile(re.escape(_PLACEHOLDER) + r"(\d{1,9})")
_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_SNIFF_TYPES = {None, "application/octet-stream", "unknown/unknown"}
# Images, archives, media and fonts that servers label text/html.
_MAGIC = tuple(b"\x89PNG GIF8 \xff\xd8\xff PK\x03\x04 \x1f\x8b RIFF OggS ID3 wOFF wOF2".split())
_HTML_START = re.compile(rb"\s*<(!doctype\s+html|html|head|body|title|div|p|a|!--)[\s>]", re.I)
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")
_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'`{}|\\^]+", re.I)
_OPENER = {")": "(", "]": "["}

Item = tuple[str | None, str, str]  # (raw href, anchor text, context)


def extract(
    raw: bytes,
    *,
    url: str,
    content_type: str | None,
    content_encoding: str | None = None,
    max_inflated: int = DEFAULT_MAX_INFLATED,
    visible: bool = True,
) -> Extracted:
    """Extract a response body fetched from `url`. Never raises for bad input.

    `visible=False` leaves an HTML page's `visible_text` empty. Only comparisons read it,
    and only for some pages: a capture leaves it out (it took an eighth of the extraction's
    time, and a third of the database) and a check derives it again from the WARC record
    when it needs it."""
    body = decode_content(raw, content_encoding, max_inflated)
    decoded = sha256_hex(body)
    kind = _kind(body, mime_type(content_type))
    if kind == "html":
        return _from_html(
            body[:MAX_TEXT_BYTES], url, header_charset(content_type), decoded, visible
        )
    if kind == "text":
        return _from_plain(body[:MAX_TEXT_BYTES], url, header_charset(content_type), decoded)
    if kind == "pdf":
        return _from_pdf(body, url, decoded)
    return _result(kind, None, decoded)


def _kind(body: bytes, mime: str | None) -> str:
    start = body[:1024].lstrip()
    if mime == "application/pdf" or start.startswith(b"%PDF-"):
        return "pdf"
    if start.startswith(_MAGIC):
        return "other"
    if mime in _HTML_TYPES:
        return "html"
    if mime == "text/plain":
        return "text"
    if mime in _SNIFF_TYPES:
        if _HTML_START.match(start):
            return "html"
        if not _CONTROL.search(body[:1024]):
            return "text"
    return "other"


def _result(
    kind: str,
    charset: str | None,
    decoded: str,
    *,
    title: str | None = None,
    text: str = "",
    visible: str = "",
    citations: tuple[Citation, ...] = (),
    requisites: tuple[str, ...] = (),
    byline: str | None = None,
    modified: str | None = None,
    extractor: str = "none",
) -> Extracted:
    return Extracted(
        kind=kind,
        charset=charset,
        title=title,
        text=text,
        visible_text=visible,
        citations=citations,
        requisites=requisites,
        text_sha256=sha256_hex(text) if text else None,
        links_sha256=_links_hash(citations),
        loose_sha256=sha256_hex(loose(text, normalised=True)) if text else None,
        decoded_sha256=decoded,
        byline=byline,
        modified=modified,
        extractor=extractor,
        text_words=count_tokens(text, normalised=True),
    )


def _links_hash(citations: Iterable[Citation]) -> str | None:
    pairs = sorted({(canonical_links_key(c.url), c.anchor_text) for c in citations})
    if not pairs:
        return None
    return sha256_hex(json.dumps(pairs, ensure_ascii=False, separators=(",", ":")))


def _citations(items: Iterable[Item], base: str, page_url: str) -> tuple[Citation, ...]:
    """Resolve; drop in-page anchors, links to the page itself and other schemes; keep the
    first of each URL; number in article order."""
    own = links_key(page_url)
    seen: set[str] = set()
    out: list[Citation] = []
    for raw, anchor, context in items:
        if raw is None or not raw.strip() or raw.strip().startswith("#"):
            continue
        url = resolve(base, raw)
        if url is None or url in seen or canonical_links_key(url) == own:
            continue
        seen.add(url)
        out.append(Citation(url=url, anchor_text=anchor, context=context, position=len(out)))
    return tuple(out)


# --- text/plain -------------------------------------------------------------------------------


def _from_plain(body: bytes, url: str, declared: str | None, decoded: str) -> Extracted:
    decoded_text, charset = decode_text(body, declared=declared, markup=False)
    text = normalise(decoded_text)
    items: list[Item] = []
    for line in text.splitlines():
        for match in islice(_URL_IN_TEXT.finditer(line), MAX_LINKS - len(items)):
            link = _trim_url(match.group())
            items.append((link, link, page.clip(line, match.start())))
    citations = _citations(items, url, url)
    return _result(
        "text", charset, decoded, text=text, visible=text, citations=citations, extractor="plain"
    )


# --- PDF --------------------------------------------------------------------------------------


def _from_pdf(body: bytes, url: str, decoded: str) -> Extracted:
    """A PDF's text layer as its main text; its links (annotations, then URLs written in its
    text) as its citations. A PDF without a text layer (a scan) has no text."""
    document = pdf_text(body)
    text = normalise(document.text)
    items: list[Item] = [(uri, "", "") for uri in document.links[:MAX_LINKS]]
    for line in text.splitlines():
        for match in islice(_URL_IN_TEXT.finditer(line), max(0, MAX_LINKS - len(items))):
            link = _trim_url(match.group())
            items.append((link, link, page.clip(line, match.start())))
    return _result(
        "pdf",
        None,
        decoded,
        title=page.one_line(document.title),
        text=text,
        visible=text,
        citations=_citations(items, url, url),
        extractor="pypdf",
    )


def _trim_url(link: str) -> str:
    """Drop the punctuation that follows a URL in prose, keeping balanced brackets
    (`…/Foo_(bar)`)."""
    while link:
        last = link[-1]
        unbalanced = last in _OPENER and link.count(_OPENER[last]) < link.count(last)
        if last not in ".,;:!?'\"" and not unbalanced:
            break
        link = link[:-1]
    return link


# --- HTML -------------------------------------------------------------------------------------


def _from_html(
    body: bytes, url: str, declared: str | None, decoded: str, with_visible: bool
) -> Extracted:
    html, charset = decode_text(body, declared=declared, markup=True)
    root = page.parse(html)
    if root is None:
        return _result("html", charset, decoded)
    base = page.base_url(root, url)
    requisites = page.requisites(root, base)
    modified = page.modified(root)
    size = sum(1 for _ in islice(root.iter(), MAX_EXTRACTOR_ELEMENTS + 1))
    # The visible text's length decides between trafilatura and the fallback, so it is
    # measured whenever it might be too long, wanted or not: the choice never depends on
    # `with_visible`.
    page_body = page.body_of(root)
    measured = with_visible or _may_have_long_text(page_body, size)
    visible = normalise(page.walk_text(page_body, page.is_invisible)) if measured else ""
    small = size <= MAX_EXTRACTOR_ELEMENTS and len(visible) <= MAX_EXTRACTOR_TEXT
    hrefs = _mark_links(root) if small else None
    title, byline = _metadata(root) if hrefs is not None else (None, None)
    found = _trafilatura(root, hrefs) if hrefs is not None else None
    if found is not None:
        text, items = found
        extractor = "trafilatura"
    else:
        text, items = _fallback(root, hrefs)
        extractor = "fallback"
    return _result(
        "html",
        charset,
        decoded,
        title=page.one_line(title) or page.page_title(root),
        text=text,
        visible=visible if with_visible else "",
        citations=_citations(items, base, url),
        requisites=requisites,
        byline=page.one_line(byline),
        modified=modified,
        extractor=extractor,
    )


# No character grows to more than 18 under NFKC (U+FDFA does), and walking the text adds at
# most two separators per element: a body whose text nodes hold fewer characters than this,
# with its elements counted twice, cannot normalise to more than MAX_EXTRACTOR_TEXT.
_SURELY_SHORT = MAX_EXTRACTOR_TEXT // 18
_TEXT_LENGTH = etree.XPath("string-length()")


def _may_have_long_text(body: etree._Element, elements: int) -> bool:
    length = _TEXT_LENGTH(body)
    assert isinstance(length, float)  # string-length() is a number
    return int(length) + 2 * elements > _SURELY_SHORT


def _mark_links(root: lxml.html.HtmlElement) -> list[str]:
    """Replace each <a href> with a numbered placeholder; return the raw hrefs by number."""
    hrefs: list[str] = []
    for a in root.iter("a"):
        href = a.get("href")
        if href is not None:
            a.set("href", f"{_PLACEHOLDER}{len(hrefs)}")
            hrefs.append(href)
    return hrefs


def _raw_href(target: str | None, hrefs: list[str] | None) -> str | None:
    if hrefs is None:  # links were not marked (a page too big for trafilatura)
        return target
    match = _PLACEHOLDER_RE.fullmatch(target or "")
    return hrefs[int(match.group(1))] if match and int(match.group(1)) < len(hrefs) else None


def _trafilatura(
    root: lxml.html.HtmlElement, hrefs: list[str] | None
) -> tuple[str, list[Item]] | None:
    """The main text and its links by trafilatura (`maintext`), or None when it finds none.
    The citations are the links of its precise run: the lines the other runs add bring their
    words, not their links."""
    body = maintext.precise_tree(root)
    if body is None:
        return None
    text, items = _from_trafilatura(body, hrefs)
    return maintext.complete(root, text), items


def _metadata(root: lxml.html.HtmlElement) -> tuple[str | None, str | None]:
    """Title and byline by trafilatura's rules: the steps of its `extract_metadata` that find
    them, without the date, site name, categories, tags and licence it also looks for, which
    preserve never uses and which took a fifth of the extraction time.

    The byline only as the page declares it, in its meta tags or JSON-LD: bylines are
    compared, and trafilatura's search of the body takes the first element anywhere whose
    class says "author", often in a card of related stories, so that a rotating sidebar
    would read as a new byline."""
    from html import unescape

    from trafilatura.metadata import examine_meta, extract_meta_json, extract_title
    from trafilatura.utils import line_processing

    def trimmed(value: str | None) -> str | None:  # as its Document.clean_and_trim
        return line_processing(unescape(value[:10_000])) if value else value

    try:
        meta = examine_meta(root)
        if meta.author and " " not in meta.author:
            meta.author = None
        try:
            meta = extract_meta_json(root, meta)
        except Exception:  # trafilatura's JSON-LD reader has its bugs; the tags still count
            pass
        return trimmed(meta.title or extract_title(root)), trimmed(meta.author)
    except Exception:  # metadata is a bonus, never a reason to fail
        return None, None


def _from_trafilatura(body: etree._Element, hrefs: list[str] | None) -> tuple[str, list[Item]]:
    from trafilatura.xml import xmltotxt

    refs = list(islice(body.iter("ref"), MAX_LINKS))
    contexts = page.link_contexts(refs)
    items = [
        (_raw_href(ref.get("target"), hrefs), page.anchor_text(ref), context)
        for ref, context in zip(refs, contexts, strict=True)
    ]
    # The text comes from the tree without its links, so a retargeted URL changes only the
    # link hash (trafilatura's own text would embed the URLs as markdown).
    etree.strip_tags(body, "ref")
    return normalise(xmltotxt(body, False)), items


def _fallback(root: lxml.html.HtmlElement, hrefs: list[str] | None) -> tuple[str, list[Item]]:
    """When trafilatura finds nothing, or is skipped: the first <article> or <main>, else the
    <p> elements outside nav/aside/footer/header/forms/comments, else the body's text with no
    citations (without structure, links cannot be told from navigation)."""
    scope = next(root.iter("article"), None)
    if scope is None:
        scope = next(root.iter("main"), None)
    if scope is not None:
        blocks = [scope]
    else:
        blocks = [p for p in root.iter("p") if not page.inside(p, root, page.is_chrome)]
    if not blocks:
        return normalise(page.walk_text(page.body_of(root), page.is_invisible)), []
    text = normalise("\n".join(page.walk_text(b, page.is_chrome) for b in blocks))
    candidates = (
        a
        for b in blocks
        for a in b.iter("a")
        if a.get("href") is not None and not page.inside(a, b, page.is_chrome)
    )
    anchors = list(islice(candidates, MAX_LINKS))
    contexts = page.link_contexts(anchors)
    items = [
        (_raw_href(a.get("href"), hrefs), page.anchor_text(a), context)
        for a, context in zip(anchors, contexts, strict=True)
    ]
    return text, items
