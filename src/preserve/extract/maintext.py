"""An HTML page's main text: trafilatura's precise run, completed by the sentences that its
balanced run and readability find inside the page's article, and only there.

A line is only ever added from inside the `<article>` or `<main>` element that holds most of
the precise run's text, never from its nav, aside, footer, header, forms or comment sections:
the extra recall must not bring in a related-stories list (docs/extraction.md).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterator
from copy import copy
from typing import Any

from lxml import etree

from preserve.extract import page
from preserve.extract.normalise import normalise
from preserve.tokens import tokens

__all__ = ["complete", "precise_tree", "warm_up"]

# The figures below were chosen on half of a corpus of 229 real pages and checked on the other
# half (docs/extraction.md, "Why this rule").

# Text nodes shorter than this (characters) say nothing of where the precise text lies:
# labels, bylines and dates repeat across a page.
MIN_NODE = 30
# A line of another run is the precise run's own when this share of its words is already there
# (counted as a multiset, so that a repeated sentence is not taken for its first copy).
COVERED = 0.6
# A line that does not end a sentence is still added when it has this many words: a long
# paragraph whose last sentence ends in a link or a quote mark the pattern misses.
LONG_LINE = 12
# Characters a step of the rule may scan looking for a run of words inside a text. Each search
# scans up to the whole text, so a hostile page of many short nodes inside long lines (20,000
# spans in a megabyte) made finding the article quadratic: 2.3 s where trafilatura took 0.6.
# The corpus's most costly page scans 16 million; past the budget, a step does only what
# needs no search (whole lines) or leaves the precise text as it is.
SEARCH_BUDGET = 100_000_000

_SCOPES = ("article", "main")
# Ends a sentence: . ! ? … : ; (or their CJK forms), then closing quotes or brackets.
_SENTENCE_END = re.compile(r"[.!?。！？…:;]['\"”’)\]]*(?: ?\|)*$")
_COMMENTS = re.compile(r"comment|disqus")
# _is_furniture's tags: always furniture (page.is_chrome's), never (html, body and the scopes).
_FURNITURE = page.CHROME_TAGS
_KEPT = page.NOT_COMMENTS  # html, body and the scopes
_CODE = page.CODE_TAGS


@functools.cache
def _options(*, precise: bool) -> Any:
    """trafilatura's settings, made once: the precise run is preserve's historic one
    (precision favoured, links kept for the citations) with its fallbacks on; the balanced run
    has neither precision nor links. No URL: links are absolute placeholders by then. "txt"
    output, as for "python" it would also render the text, which we do ourselves."""
    from trafilatura.settings import Extractor

    return Extractor(
        output_format="txt",
        fast=False,
        precision=precise,
        comments=False,
        links=precise,
        formatting=False,
        with_metadata=False,
    )


def _run(root: etree._Element, options: Any) -> etree._Element | None:
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(root, options=options)
    except Exception:  # its heuristics fail in many ways on odd pages; we then fall back
        return None
    if not isinstance(doc, trafilatura.settings.Document):
        return None
    return doc.body


def precise_tree(root: etree._Element) -> etree._Element | None:
    """The main-text tree of trafilatura's precise run (links as <ref>), or None. The tree
    passed in is left as it was: trafilatura works on a copy."""
    return _run(root, _options(precise=True))


def complete(root: etree._Element, text: str) -> str:
    """`text` (the precise run's, normalised) with the lines of the balanced run and of
    readability that it lacks, where they lie inside the page's article, end a sentence (or
    are long) and are not repeated. Both other runs are skipped when the article has no such
    line that `text` lacks."""
    box = article(root, text)
    if box is None:
        return text
    scope = scope_text(box)
    if nothing_to_add(text, scope):
        return text
    for other in (_balanced(root), _readability(root)):
        if other:
            text = scoped_union(text, other, scope)
    return text


def warm_up(root: etree._Element) -> None:
    """Make the other runs once, whatever the page: what they load on first use (readability's
    modules) is then loaded before the first page that needs them (extract/warm.py)."""
    _balanced(root)
    _readability(root)


def _render(body: etree._Element) -> str:
    from trafilatura.xml import xmltotxt

    etree.strip_tags(body, "ref")
    return normalise(xmltotxt(body, False))


def _balanced(root: etree._Element) -> str:
    body = _run(root, _options(precise=False))
    return _render(body) if body is not None else ""


def _readability(root: etree._Element) -> str:
    """trafilatura's readability (the fallback it compares its own result with), on the tree
    as trafilatura prunes it for that, rendered as the other runs are. These are trafilatura's
    internal modules: a release without them leaves the rule without readability, never
    `extract()` without a text."""
    try:
        from trafilatura.external import sanitize_tree, try_readability
        from trafilatura.htmlprocessing import prune_unwanted_nodes
        from trafilatura.xpaths import RAW_TREE_PRUNE_XPATH, REMOVE_COMMENTS_AND_LISTS_XPATH

        tree = prune_unwanted_nodes(copy(root), RAW_TREE_PRUNE_XPATH)
        tree = prune_unwanted_nodes(tree, REMOVE_COMMENTS_AND_LISTS_XPATH)
        body = try_readability(tree)
        if body is None or len(body) == 0:
            return ""
        body, _ = sanitize_tree(body, _options(precise=True))
        return _render(body)
    except Exception:  # as for trafilatura's own runs: a failure adds nothing
        return ""


class _Budget:
    """What is left of SEARCH_BUDGET for one step."""

    def __init__(self) -> None:
        self.left = SEARCH_BUDGET

    def spend(self, characters: int) -> bool:
        """Whether a search of this many characters may be made (and count it)."""
        self.left -= characters
        return self.left >= 0


# --- the article ------------------------------------------------------------------------------


def _squash(text: str) -> str:
    """A normalised text on one line between spaces, to find a run of words in it. A
    normalised line is one-spaced and trimmed already: no need to split it into words."""
    return f" {text.replace(chr(10), ' ')} "


def _found(
    top: etree._Element, lines: set[str], squashed: str, budget: _Budget
) -> Iterator[tuple[etree._Element, int]]:
    """(element, characters) for each text node under `top` of MIN_NODE characters or more
    that the text holds: as a whole line, or (slower, while the budget lasts) as part of one."""
    for el in top.iter(etree.Element):  # elements only: no comments or instructions
        # the element's text, then its tail (its parent's), as page.is_code allows: owners
        # are elements, so only their tag is looked at
        raw = el.text
        if raw is not None and len(raw) >= MIN_NODE and el.tag not in _CODE:
            node = normalise(raw).replace("\n", " ")
            if len(node) >= MIN_NODE and (
                node in lines or (budget.spend(len(squashed)) and f" {node} " in squashed)
            ):
                yield el, len(node)
        raw = el.tail
        if raw is None or len(raw) < MIN_NODE or el is top:
            continue
        owner = el.getparent()
        if owner is None or owner.tag in _CODE:
            continue
        node = normalise(raw).replace("\n", " ")
        if len(node) >= MIN_NODE and (
            node in lines or (budget.spend(len(squashed)) and f" {node} " in squashed)
        ):
            yield owner, len(node)


def article(root: etree._Element, text: str) -> etree._Element | None:
    """The `<article>` or `<main>` element that holds most of `text` (normalised), counted in
    characters of the page's text nodes found in it, nested ones counting for their
    ancestors too; the deepest on a tie. None when no such element holds any."""
    squashed = _squash(text)
    lines = set(text.split("\n"))
    scopes = list(root.iter(*_SCOPES))
    if scopes and _nested(scopes) and _unbudgeted(scopes[0], squashed):
        return _outermost_holding(scopes, lines, squashed)
    # only text inside an article or main counts: the outermost ones are walked, once
    tops = [el for el in scopes if not any(a.tag in _SCOPES for a in el.iterancestors())]
    nearest: dict[etree._Element, etree._Element] = {el: el for el in scopes}
    own: dict[etree._Element, int] = {}  # characters found, by nearest article or main
    budget = _Budget()
    for top in tops:
        for owner, n in _found(top, lines, squashed, budget):
            path = []
            scope = owner
            while scope not in nearest:
                path.append(scope)
                parent = scope.getparent()
                assert parent is not None  # every owner is below a top, which is in `nearest`
                scope = parent
            for el in path:
                nearest[el] = nearest[scope]
            own[nearest[scope]] = own.get(nearest[scope], 0) + n
    if not own:
        return None
    weight = dict(own)
    for el, n in own.items():
        for ancestor in el.iterancestors(*_SCOPES):
            weight[ancestor] = weight.get(ancestor, 0) + n
    return max(weight, key=lambda el: (weight[el], sum(1 for _ in el.iterancestors())))


def _nested(scopes: list[etree._Element]) -> bool:
    """Whether each scope (in document order) is the nearest scope around the next: one
    `<article>` or `<main>`, or a chain of them such as the `<article>` of a `<main>`."""
    return all(
        next(inner.iterancestors(*_SCOPES), None) is outer
        for outer, inner in zip(scopes, scopes[1:], strict=False)
    )


def _unbudgeted(top: etree._Element, squashed: str) -> bool:
    """Whether no order of the search under `top` can spend SEARCH_BUDGET: each text node
    spends at most the text's length once."""
    nodes = top.xpath("count(.//text())")
    assert isinstance(nodes, float)
    return nodes * len(squashed) <= SEARCH_BUDGET


def _outermost_holding(
    scopes: list[etree._Element], lines: set[str], squashed: str
) -> etree._Element | None:
    """`article()` for a chain of nested scopes, when the budget cannot run out: a scope
    weighs its own characters and all of the scopes inside it, so the heaviest is the
    outermost one that holds any on its own, and a deeper one ties with it only when it holds
    none. Each scope's own text nodes are looked at only until one is found."""
    for at, scope in enumerate(scopes):
        inner = scopes[at + 1] if at + 1 < len(scopes) else None
        if _holds_own(scope, inner, lines, squashed):
            return scope
    return None


def _holds_own(
    scope: etree._Element, inner: etree._Element | None, lines: set[str], squashed: str
) -> bool:
    """Whether the text holds a text node that `_found` would count for `scope` and not for
    `inner` (the scope nested in it): `inner`'s subtree is left out, but not its tail."""
    stack = [scope]
    while stack:
        el = stack.pop()
        if el is not inner:
            raw = el.text
            if raw is not None and len(raw) >= MIN_NODE and el.tag not in _CODE:
                node = normalise(raw).replace("\n", " ")
                if len(node) >= MIN_NODE and (node in lines or f" {node} " in squashed):
                    return True
            stack.extend(el.iterchildren(etree.Element))
        if el is scope:
            continue
        raw = el.tail
        if raw is None or len(raw) < MIN_NODE:
            continue
        owner = el.getparent()
        if owner is None or owner.tag in _CODE:
            continue
        node = normalise(raw).replace("\n", " ")
        if len(node) >= MIN_NODE and (node in lines or f" {node} " in squashed):
            return True
    return False


def _is_furniture(el: etree._Element) -> bool:
    """Page furniture and comment sections as the fallback knows them, and any element whose
    class or id mentions comments. `page.is_chrome`, then the looser comment names, in one
    pass: every name `page.is_chrome` takes for comments mentions "comment" or "disqus", and
    the tags it never reads names on are these of `_KEPT`. Called on every element of the
    article (scope_text): most have neither class nor id."""
    tag = el.tag
    if not isinstance(tag, str) or tag in _FURNITURE:
        return True
    if tag in _KEPT:
        return False
    cls, ident = el.get("class"), el.get("id")
    if cls is None and ident is None:
        return False
    return bool(_COMMENTS.search(f"{cls or ''} {ident or ''}".lower()))


def scope_text(box: etree._Element) -> str:
    """The article's text, normalised, without its furniture: where added lines may come from."""
    return normalise(page.walk_text(box, _is_furniture))


# --- the union --------------------------------------------------------------------------------


def ends_sentence(line: str) -> bool:
    return bool(_SENTENCE_END.search(line[-40:]))


def _eligible(line: str) -> bool:
    """Whether a line may be added at all (when another run has it, in the article)."""
    return bool(line.strip()) and (ends_sentence(line) or len(tokens(line)) >= LONG_LINE)


def nothing_to_add(text: str, scope: str) -> bool:
    """Whether `text` already holds every line of the article that could be added: then the
    other runs, which cost more than the rest of the extraction, are not made."""
    lines = set(text.split("\n"))
    held = _squash(text)
    budget = _Budget()
    for line in scope.split("\n"):
        if line in lines or not _eligible(line):
            continue
        if not budget.spend(len(held)) or f" {line} " not in held:
            return False  # past the budget, the other runs are made: never a line lost
    return True


def scoped_union(text: str, other: str, scope: str) -> str:
    """`text` with the lines of `other` that it lacks and that lie in `scope` (the article's
    text), each inserted after the line of `text` that precedes it in `other`. A line is
    added when it ends a sentence or is long, and `other` does not repeat it (a repeated line
    is a label or a teaser, not prose). All three texts normalised."""
    if not scope or not other:
        return text
    where = _squash(scope)
    held = _squash(text)
    left = Counter(tokens(text.casefold()))
    other_lines = other.split("\n")
    repeated = {line for line, n in Counter(other_lines).items() if n > 1}
    lines = text.split("\n") if text else []
    squashed_lines = [f" {line} " for line in lines]
    after: dict[int, list[str]] = {}  # by the index of the line they follow (-1: the start)
    added: set[str] = set()
    at = -1
    budget = _Budget()
    for line in other_lines:
        if not budget.spend(len(held) + len(where)):
            return text  # a text too long to join: the precise one, as it is
        words = tokens(line.casefold())
        covered = 0
        for word in words:
            if left[word] > 0:
                left[word] -= 1
                covered += 1
        squashed = f" {line} "
        if words and covered >= COVERED * len(words):
            # the text's own line: later additions go after it
            for j in range(at + 1, len(lines)):
                if not budget.spend(len(squashed_lines[j]) + len(squashed)):
                    return text
                if squashed in squashed_lines[j] or squashed_lines[j] in squashed:
                    at = j
                    break
            continue
        if (
            not words
            or squashed in held
            or squashed not in where
            or line in repeated
            or line in added
            or not _eligible(line)
        ):
            continue
        added.add(line)
        after.setdefault(at, []).append(line)
    if not added:
        return text
    out = list(after.get(-1, []))
    for j, line in enumerate(lines):
        out.append(line)
        out += after.get(j, [])
    return "\n".join(out)
