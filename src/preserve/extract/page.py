"""Reading a parsed page with lxml: parse it once, then its base URL, title, dateModified,
requisites, the text of any part of it, and the sentence around each link.

Every walk is iterative (lxml's iter/iterwalk), so no page can exhaust the Python stack.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from itertools import islice

import lxml.html
from lxml import etree

from preserve.extract.normalise import normalise
from preserve.urls import resolve

MAX_REQUISITES = 10_000
# A parsed tree takes about 600 bytes per element: a page that is nothing but tags (50 MB of
# links) is parsed only up to this many of them, which keeps it to some 60 MB.
MAX_TAGS = 200_000
MAX_CONTEXT = 300

_CODE = frozenset("script style noscript template".split())
_INVISIBLE = _CODE | {"head", "title", "iframe"}
_CHROME = frozenset("nav aside footer header form menu".split())
_NOT_COMMENTS = frozenset("html body main article".split())
# The tags is_chrome always takes for furniture, and those it never does (maintext's test).
CHROME_TAGS = _INVISIBLE | _CHROME
NOT_COMMENTS = _NOT_COMMENTS
CODE_TAGS = _CODE
_COMMENTS = re.compile(r"(comments?|disqus_thread|commentlist)([-_](list|section|area|wrapper))?")
_BREAKS = frozenset(("br", "lb"))
_CELLS = frozenset(("td", "th", "cell"))
# Line breaks go around these; HTML's and trafilatura's XML vocabulary alike.
_BLOCKS = _CHROME | frozenset(
    "p div li ul ol dl dt dd table tr td th blockquote pre h1 h2 h3 h4 h5 h6 section article "
    "main figure figcaption address hr body head item list row cell quote code".split()
)
# The nearest of these around a link holds its sentence.
_CONTEXT_BLOCKS = frozenset(
    "p li td th dd dt blockquote pre figcaption h1 h2 h3 h4 h5 h6 head item cell quote code div "
    "section article main body".split()
)
_LINK_RELS = frozenset(
    "stylesheet icon apple-touch-icon apple-touch-icon-precomposed mask-icon preload "
    "modulepreload".split()
)
_START, _END = "\ue000", "\ue001"  # private-use marks around a link while finding its sentence
_MARKS = re.compile(f"([{_START}{_END}])")
# A sentence ends at . ! ? (and closing quotes/brackets) before a space, at a CJK full stop, or
# at a line break. Each branch opens with one character of a set (`[.!?][.!?]*`, not
# `[.!?]+`): the regex engine then skips to the next of those characters instead of trying
# every position, which halved the time of cutting a page's link contexts out (0.065 ->
# 0.037 ms a page on the bulk web).
_SENTENCE_END = re.compile(r"[.!?][.!?]*[\"')\]]*(?=\s)|[。！？][。！？]*|\n")

_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# The bytes that are not among _CONTROLS (all of them but C0 controls other than tab, line
# feed and carriage return): deleting them leaves only controls.
_NOT_CONTROL_BYTES = bytes(
    b for b in range(256) if not (b <= 0x08 or 0x0B <= b <= 0x0C or 0x0E <= b <= 0x1F)
)

Skip = Callable[[etree._Element], bool]

# Every element as lxml.html's HtmlElement, chosen by lxml itself. lxml.html's own lookup is
# Python code that lxml calls each time an element is first seen from Python (some 550 times a
# page of the bulk web, in our walks and trafilatura's), only to pick a form, input, select,
# textarea or label its own subclass, whose extra methods nothing here or in trafilatura uses.
_CLASSES = etree.ElementDefaultClassLookup(
    element=lxml.html.HtmlElement,
    comment=lxml.html.HtmlComment,
    pi=lxml.html.HtmlProcessingInstruction,
    entity=lxml.html.HtmlEntity,
)


def parse(html: str) -> lxml.html.HtmlElement | None:
    """The page's tree, or None when there is nothing to parse."""
    # lxml refuses a str that carries an XML encoding declaration, and refuses to set text
    # with control characters (which we do to mark links): drop them, they are never text.
    html = re.sub(r"^\s*<\?xml[^>]*>", "", html, count=1)
    if _has_controls(html):
        html = _CONTROLS.sub("", html)
    if not html.strip():
        return None
    if html.count("<") > MAX_TAGS:
        html = html[: _nth(html, "<", MAX_TAGS)]
    # A parser per call: lxml parsers must not be shared between threads. libxml2 caps the tree
    # depth (at 256), so a page nested 100,000 deep parses into a shallow tree.
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True)
    parser.set_element_class_lookup(_CLASSES)
    try:
        return lxml.html.document_fromstring(html, parser=parser)
    except (etree.LxmlError, ValueError):
        return None


def _has_controls(html: str) -> bool:
    """Whether `html` may hold a character of _CONTROLS. Pages almost never do, and the regex
    scans a page at some 2.5 ns a character (0.05 ms of a 19 kB page). An ASCII page's bytes,
    with every byte that is not a control deleted, say it seven times faster (`isascii` is
    a flag of the str, and encoding it a copy); other pages are left to the regex, as
    encoding them costs as much as it saves."""
    return not html.isascii() or bool(html.encode("ascii").translate(None, _NOT_CONTROL_BYTES))


def _nth(text: str, sub: str, n: int) -> int:
    """The index of the n-th occurrence (counting from 1) of `sub` in `text`."""
    at = -1
    for _ in range(n):
        at = text.find(sub, at + 1)
    return at


def body_of(root: etree._Element) -> etree._Element:
    body = root.find("body")
    return body if body is not None else root


def base_url(root: etree._Element, url: str) -> str:
    """The first `<base href>` resolved against the page URL, else the page URL."""
    for base in root.iter("base"):
        href = base.get("href")
        if href and href.strip():
            return resolve(url, href) or url
    return url


def one_line(text: str | None) -> str | None:
    return (" ".join(normalise(text).split()) or None) if text else None


def page_title(root: etree._Element) -> str | None:
    title = root.find("head/title")
    if title is None:
        title = root.find(".//title")
    return (
        one_line("".join(str(piece) for piece in title.itertext())) if title is not None else None
    )


def modified(root: etree._Element) -> str | None:
    """The page's own dateModified, as written (its first 64 characters: no date is longer,
    and it is stored with every capture): meta tags first, then JSON-LD."""
    keys = ("article:modified_time", "og:updated_time", "datemodified", "dcterms.modified")
    for meta in root.iter("meta"):
        key = meta.get("property") or meta.get("itemprop") or meta.get("name") or ""
        if key.lower() in keys and (meta.get("content") or "").strip():
            return meta.get("content", "").strip()[:64]
    for script in root.iter("script"):
        if (script.get("type") or "").lower() == "application/ld+json" and script.text:
            match = re.search(r'"dateModified"\s*:\s*"([^"]{1,64})"', script.text)
            if match:
                return match.group(1).strip()
    return None


def requisites(root: etree._Element, base: str) -> tuple[str, ...]:
    """What a browser loads to render the page, canonical, in order, once each. Stylesheets are
    not parsed for url(): whoever fetches them can do that."""
    found: dict[str, None] = {}
    for el in root.iter("img", "source", "link", "script", "video", "audio", "track", "input"):
        for href in _requisite_hrefs(el):
            url = resolve(base, href)
            if url:
                found[url] = None
        if len(found) >= MAX_REQUISITES:
            break
    return tuple(islice(found, MAX_REQUISITES))


def _requisite_hrefs(el: etree._Element) -> list[str]:
    tag, get = el.tag, el.get
    if tag == "link":
        rels = set((get("rel") or "").lower().split())
        return [get("href") or ""] if rels & _LINK_RELS else []
    if tag == "input":
        return [get("src") or ""] if (get("type") or "").lower() == "image" else []
    # data-src/data-srcset: lazy-loading scripts swap these in, so replay needs them too.
    hrefs = [get("poster") or "", get("src") or "", get("data-src") or ""]
    for srcset in (get("srcset"), get("data-srcset")):
        hrefs.extend(srcset_urls(srcset or ""))
    return [h for h in hrefs if h.strip()]


def srcset_urls(srcset: str) -> list[str]:
    """The URLs of a srcset: each candidate is a URL (no spaces; trailing commas separate)
    followed by optional descriptors up to a comma."""
    return [m.group(1).rstrip(",") for m in re.finditer(r"([^\s,]\S*)(?:\s+[^,]*)?", srcset)]


def is_code(el: etree._Element) -> bool:
    return not isinstance(el.tag, str) or el.tag in _CODE


def is_invisible(el: etree._Element) -> bool:
    return not isinstance(el.tag, str) or el.tag in _INVISIBLE


def is_chrome(el: etree._Element) -> bool:
    """Page furniture and comment sections (for the fallback; trafilatura has its own rules)."""
    if is_invisible(el) or el.tag in _CHROME:
        return True
    if el.tag in _NOT_COMMENTS:  # body classes like "comments-open" say nothing about content
        return False
    names = f"{el.get('class', '')} {el.get('id', '')}".lower().split()
    return any(_COMMENTS.fullmatch(name) for name in names)


def inside(el: etree._Element, scope: etree._Element, skip: Skip) -> bool:
    """Whether an ancestor of `el` below `scope` is one `skip` rejects."""
    for ancestor in el.iterancestors():
        if ancestor is scope:
            return False
        if skip(ancestor):
            return True
    return False


def walk_text(el: etree._Element, skip: Skip) -> str:
    """The text of `el` with a line break around each block, leaving out subtrees `skip`
    rejects (their tails stay: they follow the skipped element)."""
    parts: list[str] = []
    skipping = None
    for event, node in etree.iterwalk(el, events=("start", "end")):
        if skipping is not None:
            if event == "end" and node is skipping:
                skipping = None
                if node is not el and node.tail:
                    parts.append(node.tail)
            continue
        tag = node.tag
        if event == "start":
            if skip(node):
                skipping = node
                continue
            if tag in _BLOCKS or tag in _BREAKS:
                parts.append("\n")
            if node.text:
                parts.append(node.text)
            continue
        if tag in _BLOCKS:
            parts.append("\n")
        elif tag in _CELLS:
            parts.append(" ")
        if node is not el and node.tail:
            parts.append(node.tail)
    return "".join(parts)


def anchor_text(link: etree._Element) -> str:
    return " ".join(normalise("".join(str(piece) for piece in link.itertext())).split())


def link_contexts(links: list[etree._Element]) -> list[str]:
    """The sentence around each link. Each block holding links is walked once, with marks
    around every link in it; then each link's sentence is cut out around its marks."""
    by_block: dict[etree._Element, list[int]] = {}
    for index, link in enumerate(links):
        by_block.setdefault(_block_of(link), []).append(index)
    contexts = [""] * len(links)
    for block, indexes in by_block.items():
        saved = [(links[i].text, links[i].tail) for i in indexes]
        for i in indexes:
            links[i].text = _START + (links[i].text or "")
            links[i].tail = _END + (links[i].tail or "")
        try:
            marked = normalise(walk_text(block, is_code))
        finally:
            for i, (text, tail) in zip(indexes, saved, strict=True):
                links[i].text, links[i].tail = text, tail
        for i, sentence in zip(indexes, _sentences(marked, len(indexes)), strict=True):
            contexts[i] = sentence
    return contexts


def _block_of(link: etree._Element) -> etree._Element:
    for ancestor in link.iterancestors():
        if ancestor.tag in _CONTEXT_BLOCKS:
            return ancestor
    parent = link.getparent()
    return parent if parent is not None else link


def _sentences(marked: str, count: int) -> list[str]:
    """Take the marks out of `marked`, then cut the sentence around each marked span."""
    starts: list[int] = []
    ends: list[int] = []
    pieces: list[str] = []
    length = 0
    for piece in _MARKS.split(marked):
        if piece == _START:
            starts.append(length)
        elif piece == _END:
            ends.append(length)
        else:
            pieces.append(piece)
            length += len(piece)
    text = "".join(pieces)
    if len(starts) != count or len(ends) != count:  # the page itself used our marks
        return [clip(text, 0)] * count
    cuts = [m.end() for m in _SENTENCE_END.finditer(text) if _ends_sentence(text, m)]
    out = []
    for start, end in zip(starts, ends, strict=True):
        before = bisect_right(cuts, start)
        first = cuts[before - 1] if before else 0
        after = bisect_left(cuts, max(end, start + 1))
        sentence = text[first : cuts[after] if after < len(cuts) else len(text)]
        lead = len(sentence) - len(sentence.lstrip())
        out.append(clip(sentence.strip(), start - first - lead))
    return out


def _ends_sentence(text: str, match: re.Match[str]) -> bool:
    """Not an end when the next word starts lowercase ("U.S. officials", "e.g. this")."""
    following = text[match.end() : match.end() + 2].lstrip()
    return match.group() == "\n" or not following[:1].islower()


def clip(text: str, at: int) -> str:
    """`text`, or a window of about MAX_CONTEXT characters starting a little before `at`, cut
    at spaces and marked with "..." where cut."""
    if len(text) <= MAX_CONTEXT:
        return text
    left = max(0, min(at - MAX_CONTEXT // 3, len(text) - MAX_CONTEXT))
    right = left + MAX_CONTEXT
    if left:
        left = text.find(" ", left, right) + 1 or left
    if right < len(text):
        space = text.rfind(" ", left, right)
        right = space if space > left else right
    return ("..." if left else "") + text[left:right].strip() + ("..." if right < len(text) else "")
