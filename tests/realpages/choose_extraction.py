"""Main text from two trafilatura runs, kept to the article: the candidate rule for issue #14
and its measurement on the corpus.

The rule ("scoped union"):

1. A: trafilatura with preserve's options but its fallbacks on (`fast=False`,
   `favor_precision=True`, links on): the text kept, as today's but for the fallbacks.
2. The page's article: the `<article>` or `<main>` element that holds most of A's text (by
   characters of its text nodes found in A). None: A is the text.
3. B: trafilatura balanced, fallbacks on, links off (`fast=False`, no precision): it finds
   more of the article when the precision run stops early, and more boilerplate elsewhere.
4. The text is A plus each line of B that A does not hold, that lies inside the article
   (leaving out its nav/aside/footer/header/form elements, comment sections and, with
   `embeds`, embedded social-media posts), ends a sentence, and is not repeated in B.

    python tests/realpages/choose_extraction.py [--rules NAME...] [--out FILE]

Reads the saved extractions (extraction_cache.py; run it first, with the `scope` and
`scope_embeds` components) and prints the tables: overall, per source package, per half
(thresholds are chosen on half A, even page index among pages of the same marking, and
reported on half B), planted edits after which the text is unchanged, noise that changes it.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lxml import etree

from preserve.extract import page
from preserve.extract.normalise import normalise
from preserve.tokens import tokens

# --- the rule and its variants, on saved texts --------------------------------------------

_SCOPES = frozenset(("article", "main"))
# Text nodes shorter than this (characters) are not evidence of where A's text lies: labels,
# bylines and dates repeat across a page.
MIN_NODE = 30
# A line of B is A's own when this share of its words is found in A (as a multiset).
COVERED = 0.6
# A line ends a sentence: . ! ? … : ; (or their CJK forms), then closing quotes or brackets.
_SENTENCE_END = re.compile(r"[.!?。！？…:;]['\"”’)\]]*(?: ?\|)*$")
_LOOSE_COMMENTS = re.compile(r"comment|disqus")
_EMBEDS = re.compile(r"twitter-tweet|instagram-media|tiktok-embed|fb-post|reddit-card")


def _squash(text: str) -> str:
    return " " + " ".join(text.split()) + " "


def container(root: etree._Element, text: str, fallback: bool = False) -> etree._Element | None:
    """The `<article>` or `<main>` element holding most of `text` (normalised), counted in
    characters of the page's text nodes (of MIN_NODE or more) found in it; the deepest on a
    tie. When no such element holds any: None, or with `fallback` the deepest element that
    holds nine tenths of those characters (None if that is the body)."""
    squashed = _squash(text)
    lines = {" ".join(line.split()) for line in text.split("\n")}
    scopes = list(root.iter("article", "main"))
    if fallback:
        return _block(root, squashed, lines)
    # only text inside an article or main counts: the outermost ones are walked, once
    tops = [el for el in scopes if not any(a.tag in _SCOPES for a in el.iterancestors())]
    nearest: dict[etree._Element, etree._Element] = {el: el for el in scopes}
    own: dict[etree._Element, int] = {}  # characters found, by nearest article/main
    for top in tops:
        for el in top.iter(etree.Element):
            for raw, owner in ((el.text, el), (el.tail, el.getparent() if el is not top else None)):
                if raw is None or len(raw) < MIN_NODE or owner is None or page.is_code(owner):
                    continue
                node = " ".join(normalise(raw).split())
                # a whole line of the text, or (slower) a part of one
                if len(node) < MIN_NODE or (node not in lines and f" {node} " not in squashed):
                    continue
                scope = nearest.get(owner)
                if scope is None:
                    path = []
                    up: etree._Element | None = owner
                    while up is not None and up not in nearest:
                        path.append(up)
                        up = up.getparent()
                    assert up is not None  # every owner is below a top, which is in `nearest`
                    scope = nearest[up]
                    for el_ in path:
                        nearest[el_] = scope
                own[scope] = own.get(scope, 0) + len(node)
    if not own:
        return None
    weight = dict(own)
    for el, n in own.items():
        for ancestor in el.iterancestors():
            if ancestor.tag in _SCOPES:
                weight[ancestor] = weight.get(ancestor, 0) + n
    return max(weight, key=lambda el: (weight[el], sum(1 for _ in el.iterancestors())))


def _block(root: etree._Element, squashed: str, lines: set[str]) -> etree._Element | None:
    """The deepest element holding nine tenths of the characters of the page's text nodes
    found in the text (None if that is the body)."""
    found: list[tuple[etree._Element, int]] = []
    for el in root.iter(etree.Element):
        for raw, owner in ((el.text, el), (el.tail, el.getparent())):
            if raw is None or len(raw) < MIN_NODE or owner is None or page.is_code(owner):
                continue
            node = " ".join(normalise(raw).split())
            if len(node) >= MIN_NODE and (node in lines or f" {node} " in squashed):
                found.append((owner, len(node)))
    if not found:
        return None
    total = sum(n for _, n in found)
    weight: dict[etree._Element, int] = {}
    for owner, n in found:
        for ancestor in itertools.chain((owner,), owner.iterancestors()):
            weight[ancestor] = weight.get(ancestor, 0) + n
    held = [el for el, n in weight.items() if n >= 0.9 * total]
    best = max(held, key=lambda el: sum(1 for _ in el.iterancestors()))
    return None if best.tag in ("body", "html") else best


def _is_furniture(el: etree._Element, embeds: bool) -> bool:
    """preserve's page furniture (nav, aside, footer, header, form, menu, comment sections),
    any element whose class or id mentions comments, and with `embeds` embedded posts."""
    if page.is_chrome(el):
        return True
    if el.tag in ("html", "body", "main", "article"):
        return False
    names = f"{el.get('class', '')} {el.get('id', '')}".lower()
    return bool(_LOOSE_COMMENTS.search(names) or (embeds and _EMBEDS.search(names)))


def container_text(box: etree._Element, embeds: bool = False) -> str:
    return normalise(page.walk_text(box, lambda el: _is_furniture(el, embeds)))


@dataclass(frozen=True)
class Union:
    """How B's lines are added to A (the rule's parameters)."""

    sentence: bool = True  # only lines that end a sentence ...
    long_words: int = 0  # ... or have this many words (0: no exception)
    sandwich: bool = False  # ... or lie between two kept lines of B (a subhead, a caption)
    unique: bool = True  # only lines B does not repeat
    min_words: int = 0


_OWN, _ADD, _MAYBE, _NO = range(4)


def scoped_union(a: str, b: str, scope: str, how: Union = Union()) -> str:
    """A's text, with the lines of B that A lacks and that lie in `scope` (the article's
    text) inserted after the line of A that precedes them in B. All texts normalised."""
    if not scope or not b:
        return a
    where = _squash(scope)
    in_a = _squash(a)
    left = Counter(tokens(a.casefold()))
    b_lines = b.split("\n")
    repeated = {line for line, n in Counter(b_lines).items() if n > 1}
    a_lines = a.split("\n") if a else []
    a_squashed = [_squash(line) for line in a_lines]
    kinds: list[int] = []
    anchors: list[int] = []  # for each line of B, the A line it follows (-1: before the first)
    at = -1
    for line in b_lines:
        words = tokens(line.casefold())
        covered = 0
        for word in words:
            if left[word] > 0:
                left[word] -= 1
                covered += 1
        squashed = _squash(line)
        if words and covered >= COVERED * len(words):
            kind = _OWN  # A's own: the insertion point moves to the A line holding it
            for j in range(at + 1, len(a_lines)):
                if squashed in a_squashed[j] or a_squashed[j] in squashed:
                    at = j
                    break
        elif (
            not words
            or squashed in in_a
            or squashed not in where
            or (how.unique and line in repeated)
            or len(words) < how.min_words
        ):
            kind = _NO
        elif (
            not how.sentence
            or _ends_sentence(line)
            or (how.long_words and len(words) >= how.long_words)
        ):
            kind = _ADD
        else:
            kind = _MAYBE
        kinds.append(kind)
        anchors.append(at)
    after: dict[int, list[str]] = {}
    added: set[str] = set()
    for i, (line, kind) in enumerate(zip(b_lines, kinds, strict=True)):
        if kind == _MAYBE and how.sandwich:
            before = next((k for k in reversed(kinds[:i]) if k != _MAYBE), _NO)
            behind = next((k for k in kinds[i + 1 :] if k != _MAYBE), _NO)
            kind = _ADD if before in (_OWN, _ADD) and behind in (_OWN, _ADD) else _NO
        if kind != _ADD or line in added:
            continue
        added.add(line)
        after.setdefault(anchors[i], []).append(line)
    if not added:
        return a
    out = after.get(-1, [])[:]
    for j, line in enumerate(a_lines):
        out.append(line)
        out += after.get(j, [])
    return "\n".join(out)


# The chosen parameters: src/preserve/extract/maintext.py runs this rule (its LONG_LINE is
# long_words); the family below is what it was chosen from.

CHOSEN = Union(sentence=True, long_words=12, sandwich=False, unique=True)


def _ends_sentence(line: str) -> bool:
    return bool(_SENTENCE_END.search(line[-40:]))


def _eligible(line: str, how: Union) -> bool:
    """Whether `scoped_union` may add this line (when B has it, in the article, not in A)."""
    if not line.strip():
        return False
    if not how.sentence or _ends_sentence(line):
        return True
    return bool(how.long_words) and len(tokens(line)) >= how.long_words


def nothing_to_add(a: str, scope: str, how: Union = CHOSEN) -> bool:
    """Whether A already holds every line of the article that could be added (one that ends
    a sentence, or is long): then the other runs are skipped."""
    lines = {" ".join(line.split()) for line in a.split("\n")}
    in_a = _squash(a)
    for line in scope.split("\n"):
        if not _eligible(line, how):
            continue
        squashed = " ".join(line.split())
        if squashed not in lines and f" {squashed} " not in in_a:
            return False
    return True


# --- measurement on the saved extractions --------------------------------------------------------

Texts = dict[str, str]
TextRule = Callable[[Texts], str]


def _single(name: str) -> TextRule:
    return lambda t: t[name]


def _scoped(
    scope: str = "scope", how: Union = CHOSEN, extra: tuple[str, ...] = (),
    b: str = "bal_fb_nolinks",
) -> TextRule:  # fmt: skip
    """A, with the lines of B (then of each `extra` component) added as `scoped_union` does,
    within the cached `scope` text."""

    def rule(t: Texts) -> str:
        text = t["prec_fb"]
        if t[scope] and not nothing_to_add(text, t[scope], how):
            for name in (b, *extra):
                text = scoped_union(text, t[name], t[scope], how)
        return text

    return rule


SENTENCE = Union(long_words=0)
RULES: dict[str, TextRule] = {
    "today (fast, precision, links)": _single("today"),
    "trafilatura default": _single("traf_default"),
    "A: precision, fallbacks on": _single("prec_fb"),
    "B: balanced, fallbacks on, links off": _single("bal_fb_nolinks"),
    "CHOSEN: A + B + readability in article, sentence or 12 words": _scoped(extra=("readability",)),
    "A + B in article, sentence or 12 words": _scoped(),
    "A + B in article, sentence": _scoped(how=SENTENCE),
    "A + B in article, any line": _scoped(how=Union(sentence=False)),
    "A + B in article, sentence, or between kept lines": _scoped(how=Union(sandwich=True)),
    "A + B in article, sentence, no embeds": _scoped("scope_embeds", SENTENCE),
    "A + B in article or A's block, sentence": _scoped("scope_lca", SENTENCE),
    "A + B in article or the body, sentence": _scoped("scope_body", SENTENCE),
    "A + B (links on) in article, sentence": _scoped(how=SENTENCE, b="bal_fb"),
    "A + B + recall run in article, sentence": _scoped(how=SENTENCE, extra=("recall_fb",)),
    "A + B + justext in article, sentence": _scoped(how=SENTENCE, extra=("justext",)),
    "A + B + readability in article, sentence": _scoped(how=SENTENCE, extra=("readability",)),
}

# The family searched by --grid: where B's lines may come from, which of them, and which
# other extractor's lines are added too.
GRID_SCOPES = ("scope", "scope_embeds", "scope_lca", "scope_body")
GRID_FILTERS = {
    "any line": Union(sentence=False),
    "sentence": Union(long_words=0),
    "sentence or 12 words": Union(long_words=12),
    "sentence or 20 words": Union(long_words=20),
    "sentence, or between kept lines": Union(long_words=0, sandwich=True),
    "sentence or 12 words, or between kept lines": Union(long_words=12, sandwich=True),
}
GRID_EXTRA = ((), ("readability",), ("justext",), ("recall_fb",), ("readability", "justext"))


def grid(cases: list[Any]) -> str:
    """Every rule of the family on the originals only: a rule is chosen on half A (it meets
    both targets there: recall at least trafilatura default's, precision at least today's,
    on the same pages; the highest F1 among those) and reported on half B."""
    from tests.realpages.evaluate_texts import run, summarise

    def summary(rule: TextRule, half: str | None) -> Any:
        rows = [run(rule, c, variants=False) for c in cases if half in (None, c.half)]
        return summarise(rows)

    target = {h: (summary(_single("traf_default"), h).recall,
                  summary(_single("today"), h).precision) for h in "AB"}  # fmt: skip
    out = [
        f"targets: half A recall >= {target['A'][0]:.4f}, precision >= {target['A'][1]:.4f}; "
        f"half B recall >= {target['B'][0]:.4f}, precision >= {target['B'][1]:.4f}",
        "",
        "| scope | lines of B | also from | half A recall | precision | F1 | meets | "
        "half B recall | precision | F1 | meets | all recall | precision |",
        "|---" * 13 + "|",
    ]
    chosen: tuple[float, str] | None = None
    for scope, (label, how), extra in itertools.product(
        GRID_SCOPES, GRID_FILTERS.items(), GRID_EXTRA
    ):
        rule = _scoped(scope, how, extra)
        a, b, every = summary(rule, "A"), summary(rule, "B"), summary(rule, None)
        ok = {h: s.recall >= target[h][0] and s.precision >= target[h][1]
              for h, s in (("A", a), ("B", b))}  # fmt: skip
        name = f"{scope} | {label} | {'+'.join(extra) or '-'}"
        out.append(
            f"| {name} | {a.recall:.4f} | {a.precision:.4f} | {a.f1:.4f} | "
            f"{'yes' if ok['A'] else ''} | {b.recall:.4f} | {b.precision:.4f} | {b.f1:.4f} | "
            f"{'yes' if ok['B'] else ''} | {every.recall:.4f} | {every.precision:.4f} |"
        )
        if ok["A"] and (chosen is None or a.f1 > chosen[0]):
            chosen = (a.f1, name)
    out += ["", f"chosen on half A: {chosen[1] if chosen else 'none meets both targets'}"]
    return "\n".join(out)


def _where(field: str, value: str) -> Callable[[Any], bool]:
    return lambda row: bool(getattr(row, field) == value)


def main(argv: list[str] | None = None) -> int:
    from tests.realpages.evaluate_texts import load_cases, run, source, summarise

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", nargs="*", choices=list(RULES))
    parser.add_argument("--grid", action="store_true", help="the rule family, by half")
    parser.add_argument("--out", type=Path, help="write the per-page rows here (JSON)")
    args = parser.parse_args(argv)
    cases = load_cases()
    if args.grid:
        print(grid(cases))
        return 0
    names = args.rules or list(RULES)
    rows: dict[str, list[Any]] = {n: [run(RULES[n], c) for c in cases] for n in names}
    groups: list[tuple[str, Callable[[Any], bool]]] = [("all", lambda r: True)]
    groups += [(f"half {h}", _where("half", h)) for h in "AB"]
    groups += [(s, _where("source", s)) for s in sorted({source(c.page.id) for c in cases})]
    for group, keep in groups:
        print(f"\n### {group}\n")
        print(
            "| rule | pages | recall | precision | F1 | < 0.9 | edits missed | noise seen |"
            " snippet pages | found | leaked | snippet edits missed |"
        )
        print("|---" * 12 + "|")
        for n in names:
            s = summarise([r for r in rows[n] if keep(r)])
            full = (
                f"{s.pages} | {s.recall:.4f} | {s.precision:.4f} | {s.f1:.3f} | {s.under} | "
                f"{s.missed}/{s.planted}"
                if s.pages
                else "0 | - | - | - | - | -"
            )
            snip = (
                f"{s.snip_pages} | {s.found:.3f} | {s.leaked:.3f} | "
                f"{s.snip_missed}/{s.snip_planted}"
                if s.snip_pages
                else "0 | - | - | -"
            )
            print(f"| {n} | {full} | {s.noise_seen}/{s.noise} | {snip} |")
    if args.out:
        args.out.write_text(
            json.dumps({n: [r.__dict__ for r in rs] for n, rs in rows.items()}), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
