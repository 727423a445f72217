"""The real-page corpus as the other scripts read it: where it lives, its pages, and the
word-level measures (tokens, bag-of-words recall and precision) taken against marked text."""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lxml.html
from lxml import etree

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MANIFEST = HERE / "manifest.json"


def cache_dir() -> Path:
    """Where the corpus is unpacked: `$PRESERVE_CORPUS_CACHE`, else `.cache/corpus` in the
    work tree (gitignored)."""
    return Path(os.environ.get("PRESERVE_CORPUS_CACHE") or ROOT / ".cache" / "corpus")


@dataclass(frozen=True)
class Page:
    """One corpus page as unpacked: its bytes exactly as the package ships them, its marked
    article text, and its manifest entry (plus what fetch.py measured)."""

    id: str
    html: bytes
    marked: str
    meta: dict[str, Any]

    @property
    def charset(self) -> str:
        """The charset the bytes are really in (served in the Content-Type header)."""
        return str(self.meta["charset"])

    @property
    def language(self) -> str:
        return str(self.meta["language"])

    @property
    def marking(self) -> str:
        """`full` (the whole article text) or `snippets` (some sentences that must be in the
        main text, in `must_contain`, and some that must not, in `must_not_contain`)."""
        return str(self.meta.get("marking", "full"))

    @property
    def reliable(self) -> bool:
        return bool(self.meta.get("reliable", True))


def manifest() -> dict[str, Any]:
    """manifest.json: the pinned packages and every page's entry."""
    loaded: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return loaded


def sample_ids(entries: dict[str, Any] | None = None) -> list[str]:
    """The pages `make test` runs (tests/realpages/test_sample.py), chosen by a rule, not by
    hand: of the packages that come from PyPI (pip is all CI is sure to have), the first page
    by id of each package and language, leaving out pages the manifest excludes."""
    found = entries if entries is not None else manifest()
    pypi = {k for k, pkg in found["packages"].items() if pkg["registry"] == "pypi"}
    first: dict[tuple[str, str], str] = {}
    for entry in sorted(found["pages"], key=lambda e: str(e["id"])):
        if entry["package"] in pypi and not entry.get("excluded"):
            first.setdefault((entry["package"], entry["language"]), entry["id"])
    return sorted(first.values())


def load_pages(ids: Iterable[str] | None = None, *, marking: str | None = None) -> list[Page]:
    """The unpacked pages (run fetch.py first), in manifest order; only `ids` if given, only
    pages of that `marking` if given."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    wanted = set(ids) if ids is not None else None
    root = cache_dir()
    pages = []
    for entry in manifest["pages"]:
        if wanted is not None and entry["id"] not in wanted:
            continue
        folder = root / entry["id"]
        meta_file = folder / "meta.json"
        if not meta_file.exists():
            continue
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        if meta.get("excluded"):
            continue
        if marking is not None and meta.get("marking", "full") != marking:
            continue
        pages.append(
            Page(
                id=entry["id"],
                html=(folder / "page.html").read_bytes(),
                marked=(folder / "marked.txt").read_text(encoding="utf-8"),
                meta=meta,
            )
        )
    return pages


# --- words -----------------------------------------------------------------------------------

# Scripts written without spaces between words: each character counts as a word (as preserve's
# similarity does), since a whitespace split would make a whole paragraph one "word".
_UNSPACED = (
    "\u0e00-\u0e7f"  # Thai
    "\u0e80-\u0eff"  # Lao
    "\u1780-\u17ff"  # Khmer
    "\u1000-\u109f"  # Burmese
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    "\u3100-\u312f"  # Bopomofo
)
_TOKEN = re.compile(rf"[{_UNSPACED}]|[^\W{_UNSPACED}]+", re.UNICODE)
_MARKS = re.compile(r"[\u0300-\u036f\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u102b-\u103e]")


def words(text: str) -> list[str]:
    """The words of `text` for counting: NFKC, casefolded, runs of letters and digits (each
    character alone in scripts without spaces), combining marks dropped."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _TOKEN.findall(_MARKS.sub("", text))


@dataclass(frozen=True)
class Overlap:
    """Bag-of-words overlap of an extracted text with the marked text."""

    marked: int
    extracted: int
    common: int

    @property
    def recall(self) -> float:
        return self.common / self.marked if self.marked else 1.0

    @property
    def precision(self) -> float:
        return self.common / self.extracted if self.extracted else (1.0 if not self.marked else 0.0)

    @property
    def f1(self) -> float:
        r, p = self.recall, self.precision
        return 2 * r * p / (r + p) if r + p else 0.0


def overlap(marked: str, extracted: str) -> Overlap:
    """Multiset overlap of the words of `marked` and `extracted`."""
    want, got = Counter(words(marked)), Counter(words(extracted))
    common = sum((want & got).values())
    return Overlap(sum(want.values()), sum(got.values()), common)


def squash(text: str) -> str:
    """`text` with its whitespace collapsed to single spaces, NFKC: for finding a sentence in
    another text whatever its line breaks."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


def snippet_scores(page: Page, extracted: str) -> tuple[float, float]:
    """For a page marked by snippets: the share of its must-contain snippets found in
    `extracted`, and the share of its must-not-contain snippets found there."""
    text = squash(extracted)
    must = [squash(s) for s in page.meta.get("must_contain", [])]
    must_not = [squash(s) for s in page.meta.get("must_not_contain", [])]
    found = sum(1 for s in must if s in text) / len(must) if must else 1.0
    leaked = sum(1 for s in must_not if s in text) / len(must_not) if must_not else 0.0
    return found, leaked


# --- HTML to text ----------------------------------------------------------------------------

_SKIP = frozenset("script style noscript template head title".split())
_BLOCK = frozenset(
    "p div li ul ol dl dt dd table tr td th blockquote pre h1 h2 h3 h4 h5 h6 section article "
    "main figure figcaption address hr body header footer nav aside form br".split()
)


def html_to_text(html: str) -> str:
    """The text of an HTML fragment or page, a line break around each block, without scripts,
    styles and the head. Used for expected-extraction files (readability's expected.html,
    Mercury's content), never for the page under test."""
    if not html.strip():
        return ""
    root = lxml.html.fromstring(html)
    parts: list[str] = []
    for event, node in etree.iterwalk(root, events=("start", "end")):
        tag = node.tag if isinstance(node.tag, str) else ""
        if event == "start":
            if tag in _SKIP:
                continue
            if tag in _BLOCK:
                parts.append("\n")
            if node.text and not _inside_skipped(node):
                parts.append(node.text)
        else:
            if tag in _BLOCK:
                parts.append("\n")
            if node.tail and node is not root and not _inside_skipped(node.getparent()):
                parts.append(node.tail)
    lines = (" ".join(line.split()) for line in "".join(parts).splitlines())
    return "\n".join(line for line in lines if line)


def _inside_skipped(node: etree._Element | None) -> bool:
    while node is not None:
        tag: object = node.tag
        if not isinstance(tag, str) or tag in _SKIP:  # a comment or processing instruction
            return True
        node = node.getparent()
    return False


def sentences(text: str) -> Iterator[str]:
    """The sentences of a marked text, line by line: split after . ! ? and their CJK forms."""
    for line in text.splitlines():
        for piece in re.split(r"(?<=[.!?。！？])\s+|(?<=[。！？])", line):
            piece = piece.strip()
            if piece:
                yield piece
