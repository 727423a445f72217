"""Plant changes in a real page: edits inside the visible article prose (a word inserted or
removed, a number changed, a negation added, a sentence removed) and noise outside it (a
rotating "most read" box, script tokens and nonces, a render time, ad ids).

Pure and deterministic: `variants(page_id, html, charset, marked, language, seed)` returns
the same variants for the same input. Each edit is planted in one text node of the HTML that
holds a whole sentence of the marked article text (found once on the page), by editing the
page's source text in place: the bytes are decoded with the page's charset, entities are
mapped back to their source, and the result is encoded in the same charset (characters it
cannot hold become character references). Everything else of the page keeps its bytes.
"""

from __future__ import annotations

import html as htmllib
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass

from tests.realpages.corpus import Page, sentences, words

EDIT_KINDS = (
    "word-inserted",
    "word-removed",
    "number-changed",
    "negation-added",
    "sentence-removed",
)
NOISE_KINDS = ("most-read", "related-inline", "script-tokens", "render-time", "ad-ids")

# The word a negation adds, by language; "not" where the language is not listed.
NEGATION = {
    "en": "not",
    "de": "nicht",
    "fr": "pas",
    "es": "no",
    "pt": "não",
    "it": "non",
    "nl": "niet",
    "lv": "ne",
    "ar": "لا",
    "zh": "不",
    "ja": "ない",
    "ko": "안",
    "th": "ไม่",
    "my": "မ",
    "ru": "не",
}
_AUX = re.compile(
    r"\b(is|are|was|were|will|would|can|could|has|have|had|did|does|do|should|may|might|must)\b"
)
_UNSPACED_CHAR = re.compile(r"[\u0e00-\u0eff\u1780-\u17ff\u1000-\u109f\u3040-\u30ff\u3400-\u9fff]")

# Headlines for the boxes around the article: a rotating "most read" list and an inline
# "read more" teaser. English everywhere, as on many sites whatever their language.
HEADLINES = (
    "Council approves new budget after late-night session",
    "Storm leaves thousands without power across the region",
    "Local team clinches title in dramatic final minutes",
    "Researchers find surprising link between sleep and memory",
    "Prices at the pump fall for a third straight week",
    "Museum reopens its doors after two years of renovation",
    "Officials warn of delays as bridge repairs begin",
    "Startup raises funding to expand electric scooter fleet",
    "Court rules on long-running dispute over river access",
    "Chef shares the recipe that made her restaurant famous",
    "School district weighs later start times for teenagers",
    "Airport unveils plan for a second terminal",
)


@dataclass(frozen=True)
class Variant:
    """One planted change: serve `base` at capture and `changed` at the check."""

    page_id: str
    kind: str
    base: bytes
    changed: bytes
    removed: tuple[str, ...]  # words taken out of the visible text
    added: tuple[str, ...]  # words put in
    sentence: str  # the marked sentence edited ("" for noise)
    in_article: bool

    @property
    def is_edit(self) -> bool:
        return self.kind in EDIT_KINDS


# --- finding the article's text nodes in the source --------------------------------------------

_MARKUP = re.compile(
    r"<!--.*?(?:-->|$)"
    r"|<(script|style|textarea|title|noscript|template|svg|math)\b[^>]*>.*?(?:</\1\s*>|$)"
    r"|<!\[CDATA\[.*?\]\]>|<[!?/]?[A-Za-z][^>]*>?|<![^>]*>",
    re.S | re.I,
)
_BODY = re.compile(r"<body\b[^>]*>", re.I)
_ENTITY = re.compile(r"&(?:#[0-9]{1,7};?|#[xX][0-9a-fA-F]{1,6};?|[A-Za-z][A-Za-z0-9]{1,31};?)")


@dataclass(frozen=True)
class _Segment:
    """A text node's source: its squashed text (whitespace runs made one space, entities
    decoded) and for each character of it the source span it comes from."""

    text: str
    spans: tuple[tuple[int, int], ...]


def _segments(source: str) -> list[_Segment]:
    body = _BODY.search(source)
    pos = body.end() if body else 0
    out = []
    for match in _MARKUP.finditer(source, pos):
        if match.start() > pos:
            out.append(_segment(source, pos, match.start()))
        pos = match.end()
    if pos < len(source):
        out.append(_segment(source, pos, len(source)))
    return [s for s in out if len(s.text) >= 2]


def _segment(source: str, start: int, end: int) -> _Segment:
    chars: list[tuple[str, int, int]] = []
    pos = start
    while pos < end:
        match = _ENTITY.match(source, pos, end) if source[pos] == "&" else None
        if match:
            decoded = htmllib.unescape(match.group())
            if decoded != match.group():
                chars.extend((c, match.start(), match.end()) for c in decoded)
                pos = match.end()
                continue
        chars.append((source[pos], pos, pos + 1))
        pos += 1
    text: list[str] = []
    spans: list[tuple[int, int]] = []
    for char, a, b in chars:
        if char.isspace():
            if text and text[-1] != " ":
                text.append(" ")
                spans.append((a, b))
            continue
        text.append(char)
        spans.append((a, b))
    while text and text[-1] == " ":
        text.pop()
        spans.pop()
    return _Segment("".join(text), tuple(spans))


@dataclass(frozen=True)
class _Located:
    segment: _Segment
    start: int  # in segment.text
    end: int
    sentence: str


def _candidates(source: str, marked: str, min_words: int = 8) -> list[_Located]:
    """Sentences of the marked text (`min_words` words or more) each found exactly once on
    the page, inside one text node."""
    segments = _segments(source)
    joined = "\n".join(s.text for s in segments)
    out = []
    seen = set()
    for sentence in sentences(marked):
        sentence = " ".join(sentence.split())
        if sentence in seen or len(words(sentence)) < min_words:
            continue
        seen.add(sentence)
        if joined.count(sentence) != 1:
            continue
        for seg in segments:
            at = seg.text.find(sentence)
            if at >= 0:
                out.append(_Located(seg, at, at + len(sentence), sentence))
                break
    return out


# --- edits ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Edit:
    start: int  # in the located sentence
    end: int
    new: str
    removed: tuple[str, ...]
    added: tuple[str, ...]


def _tokens(sentence: str) -> list[re.Match[str]]:
    if len(_UNSPACED_CHAR.findall(sentence)) > len(sentence) // 3:
        return list(re.finditer(r"[^\W\d_]", sentence))
    return [m for m in re.finditer(r"[^\W\d_]{3,}", sentence)]


def _unspaced(sentence: str) -> bool:
    return len(_UNSPACED_CHAR.findall(sentence)) > len(sentence) // 3


def _edit(kind: str, sentence: str, language: str, rng: random.Random) -> _Edit | None:
    toks = _tokens(sentence)
    joiner = "" if _unspaced(sentence) else " "
    if kind == "sentence-removed":
        return _Edit(0, len(sentence), "", tuple(words(sentence)), ())
    if kind == "number-changed":
        numbers = list(re.finditer(r"(?<![\d.,])\d+(?![\d])", sentence))
        if not numbers:
            return None
        m = rng.choice(numbers)
        old = m.group()
        new = str(int(old) + rng.choice((1, 2, 3, 7)))
        if len(new) < len(old):
            new = new.zfill(len(old))
        return _Edit(m.start(), m.end(), new, (old,), (new,))
    if len(toks) < 3:
        return None
    if kind == "word-removed":
        m = rng.choice(toks[1:])
        start, end = m.start(), m.end()
        if joiner and end < len(sentence) and sentence[end] == " ":
            end += 1
        elif joiner and start > 0 and sentence[start - 1] == " ":
            start -= 1
        return _Edit(start, end, "", (m.group(),), ())
    if kind == "word-inserted":
        at = rng.choice(toks[1:])
        word = rng.choice([t.group() for t in toks if t.group() != at.group()] or ["also"])
        return _Edit(at.start(), at.start(), word + joiner, (), (word,))
    if kind == "negation-added":
        neg = NEGATION.get(language, "not")
        aux = _AUX.search(sentence) if language == "en" else None
        if aux:
            return _Edit(aux.end(), aux.end(), " " + neg, (), (neg,))
        at = rng.choice(toks[1:])
        return _Edit(at.start(), at.start(), neg + joiner, (), (neg,))
    raise ValueError(f"unknown edit kind {kind!r}")


def _apply(source: str, located: _Located, edit: _Edit, charset: str) -> str:
    spans = located.segment.spans
    a = located.start + edit.start
    b = located.start + edit.end
    if a < b:
        src_start, src_end = spans[a][0], spans[b - 1][1]
    else:  # an insertion: before the character at a (or after the last one)
        src_start = src_end = spans[a][0] if a < len(spans) else spans[-1][1]
    return source[:src_start] + _escape(edit.new, charset) + source[src_end:]


def _escape(text: str, charset: str) -> str:
    escaped = htmllib.escape(text, quote=False)
    return escaped.encode(charset, "xmlcharrefreplace").decode(charset)


# --- noise ---------------------------------------------------------------------------------


def _insert_before(source: str, pattern: str, block: str, at_end: bool = True) -> str:
    """`block` inserted before the last match of `pattern` (the first, `at_end=False`), or
    at the end (the start) of a page without one."""
    found = list(re.finditer(pattern, source, re.I))
    match = (found[-1] if at_end else found[0]) if found else None
    if match is None:
        return source + block if at_end else block + source
    return source[: match.start()] + block + source[match.start() :]


def _after_tag(source: str, pattern: str, block: str) -> str:
    match = re.search(pattern, source, re.I)
    if match is None:
        return block + source
    return source[: match.end()] + block + source[match.end() :]


def _token(rng: random.Random, n: int = 24) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


def _most_read(titles: list[str]) -> str:
    items = "".join(
        f'<li><a href="/story/{HEADLINES.index(t) + 1000}">{t}</a></li>' for t in titles
    )
    return f'\n<aside class="most-read"><h2>Most read</h2><ol>{items}</ol></aside>\n'


def _noise(
    kind: str, source: str, located: _Located | None, rng: random.Random
) -> tuple[str, str, tuple[str, ...], tuple[str, ...]]:
    """(base, changed, words removed, words added) for one kind of noise."""
    if kind == "most-read":
        pool = list(HEADLINES)
        rng.shuffle(pool)
        before = pool[:5]
        after = [pool[6], before[0], before[2], pool[7], before[1]]  # rotated, two new
        base = _insert_before(source, r"</body\s*>", _most_read(before))
        changed = _insert_before(source, r"</body\s*>", _most_read(after))
        gone = tuple(words(" ".join(t for t in before if t not in after)))
        new = tuple(words(" ".join(t for t in after if t not in before)))
        return base, changed, gone, new
    if kind == "related-inline":
        one, two = rng.sample(HEADLINES, 2)

        def teaser(title: str) -> str:
            return f'<div class="related-teaser"><a href="/story/1">Read more: {title}</a></div>'

        if located is None:
            return source, source, (), ()
        end = located.segment.spans[located.end - 1][1]
        close = re.compile(r"</(p|div|li|blockquote)\s*>", re.I).search(source, end)
        at = close.end() if close else end
        base = source[:at] + teaser(one) + source[at:]
        changed = source[:at] + teaser(two) + source[at:]
        return base, changed, tuple(words(one)), tuple(words(two))
    if kind == "script-tokens":

        def script(token: str, csrf: str) -> str:
            return (
                f'<script nonce="{token}">window.__STATE__={{"csrf":"{csrf}",'
                f'"build":"{token[:8]}","ts":{rng.randrange(10**12, 10**13)}}};</script>'
            )

        base = _insert_before(source, r"</head\s*>", script(_token(rng), _token(rng)), False)
        changed = _insert_before(source, r"</head\s*>", script(_token(rng), _token(rng)), False)
        changed = re.sub(
            r'(\bnonce=")[^"]*(")', lambda m: m.group(1) + _token(rng, 16) + m.group(2), changed
        )
        return base, changed, (), ()
    if kind == "render-time":

        def footer(ms: int, server: int) -> str:
            return (
                f'<div class="render-info">Page generated in {ms} ms</div>\n'
                f"<!-- generated in {ms / 1000:.3f}s by web-{server} -->\n"
            )

        a, b = rng.randrange(40, 900), rng.randrange(40, 900)
        while b == a:
            b = rng.randrange(40, 900)
        base = _insert_before(source, r"</body\s*>", footer(a, rng.randrange(1, 40)))
        changed = _insert_before(source, r"</body\s*>", footer(b, rng.randrange(1, 40)))
        return base, changed, (str(a),), (str(b),)
    if kind == "ad-ids":

        def ad(slot: str, unit: str) -> str:
            return (
                f'<div id="div-gpt-ad-{slot}" class="ad-slot" data-ad-unit="/{unit}/article"'
                f' data-correlator="{slot}{unit}">Advertisement</div>'
            )

        slots = [str(rng.randrange(10**9, 10**10)) for _ in range(4)]
        base = _after_tag(source, r"<body\b[^>]*>", ad(slots[0], slots[1]))
        changed = _after_tag(source, r"<body\b[^>]*>", ad(slots[2], slots[3]))
        return base, changed, (), ()
    raise ValueError(f"unknown noise kind {kind!r}")


# --- variants ------------------------------------------------------------------------------


def decode(html: bytes, charset: str) -> str:
    """The page as text, checked to encode back to the same bytes."""
    text = html.decode(charset)
    if text.encode(charset) != html:
        raise ValueError(f"{charset} does not round-trip this page's bytes")
    return text


def variants(
    page_id: str,
    html: bytes,
    charset: str,
    marked: str,
    language: str,
    seed: int = 0,
    kinds: tuple[str, ...] = EDIT_KINDS + NOISE_KINDS,
    min_words: int = 8,
) -> Iterator[Variant]:
    """Every kind of change that can be planted in this page (an edit kind is left out when
    no marked sentence fits it: no number, or no sentence found in one text node). Pages
    marked by short snippets take `min_words=3`: each snippet is then a "sentence"."""
    source = decode(html, charset)
    found = _candidates(source, marked, min_words)
    for index, kind in enumerate(kinds):
        rng = random.Random(f"{seed}:{page_id}:{kind}:{index}")
        if kind in EDIT_KINDS:
            order = list(found)
            rng.shuffle(order)
            for located in order:
                edit = _edit(kind, located.sentence, language, rng)
                if edit is None:
                    continue
                changed = _apply(source, located, edit, charset)
                yield Variant(
                    page_id,
                    kind,
                    html,
                    changed.encode(charset),
                    edit.removed,
                    edit.added,
                    located.sentence,
                    True,
                )
                break
        else:
            near = rng.choice(found) if found else None
            base, changed, removed, added = _noise(kind, source, near, rng)
            if base == changed:
                continue
            yield Variant(
                page_id,
                kind,
                base.encode(charset, "xmlcharrefreplace"),
                changed.encode(charset, "xmlcharrefreplace"),
                removed,
                added,
                "",
                False,
            )


def page_variants(
    page: Page, seed: int = 0, kinds: tuple[str, ...] = EDIT_KINDS + NOISE_KINDS
) -> list[Variant]:
    """`variants` of a corpus page, with the sentence length its marking allows (a page
    marked by snippets plants in snippets of three words or more)."""
    min_words = 3 if page.marking == "snippets" else 8
    return list(
        variants(
            page.id, page.html, page.charset, page.marked, page.language, seed,
            kinds=kinds, min_words=min_words,
        )
    )  # fmt: skip


def located_sentences(html: bytes, charset: str, marked: str, min_words: int = 8) -> list[str]:
    """The marked sentences an edit can be planted in (for reports)."""
    return [c.sentence for c in _candidates(decode(html, charset), marked, min_words)]
