"""Measure main-text extractors on the real-page corpus: word recall, precision and F1
against the marked text, time per page, and the share of planted in-article edits each one
would miss (the edited page's text equal to the original's).

    python tests/realpages/measure_extractors.py [--settings NAME...] [--jobs N] [--out FILE]

Settings: preserve's own `extract()` (from this work tree); trafilatura's `extract()` with its
defaults, `favor_recall`, `fast`, `favor_precision`; preserve's pipeline (its parse, link
placeholders and text rendering) around `bare_extraction` with preserve's exact options but
one changed (precision off; fallbacks on; both; recall instead of precision); and the whole
visible text of the body (what preserve's `visible_text` holds).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.realpages.corpus import Page, load_pages, overlap, snippet_scores
from tests.realpages.extraction_cache import PRESERVE
from tests.realpages.plant import EDIT_KINDS, NOISE_KINDS, page_variants

Extractor = Callable[[bytes, str], str]  # (page bytes, charset) → main text


def _preserve(raw: bytes, charset: str) -> str:
    from preserve.extract.extractor import extract

    return extract(
        raw, url="http://127.0.0.1/page", content_type=f"text/html; charset={charset}"
    ).text


def _visible(raw: bytes, charset: str) -> str:
    from preserve.extract.extractor import extract

    ctype = f"text/html; charset={charset}"
    return extract(raw, url="http://127.0.0.1/page", content_type=ctype, visible=True).visible_text


def _trafilatura(**kwargs: Any) -> Extractor:
    def run(raw: bytes, charset: str) -> str:
        import trafilatura

        return trafilatura.extract(raw.decode(charset), **kwargs) or ""

    return run


def _pipeline(**changes: Any) -> Extractor:
    """preserve's own path to the main text, with trafilatura's options changed."""

    def run(raw: bytes, charset: str) -> str:
        import trafilatura
        from trafilatura.settings import Extractor as Options

        from preserve.extract import extractor as ex
        from preserve.extract import page
        from preserve.extract.decode import decode_text

        html, _ = decode_text(raw, declared=charset, markup=True)
        root = page.parse(html)
        if root is None:
            return ""
        hrefs = ex._mark_links(root)
        settings: dict[str, Any] = {**PRESERVE, **changes}
        try:
            doc = trafilatura.bare_extraction(root, options=Options(**settings))
        except Exception:
            doc = None
        if not isinstance(doc, trafilatura.settings.Document) or doc.body is None:
            return ex._fallback(root, hrefs)[0]
        return ex._from_trafilatura(doc.body, hrefs)[0]

    return run


SETTINGS: dict[str, Extractor] = {
    "preserve extract()": _preserve,
    "trafilatura default": _trafilatura(),
    "trafilatura favor_recall": _trafilatura(favor_recall=True),
    "trafilatura fast": _trafilatura(fast=True),
    "trafilatura favor_precision": _trafilatura(favor_precision=True),
    "trafilatura as preserve (fast, precision, links)": _trafilatura(
        fast=True, favor_precision=True, include_links=True, include_comments=False
    ),
    "pipeline links off": _pipeline(links=False),
    "pipeline links off, precision off": _pipeline(links=False, precision=False),
    "pipeline links off, precision off, fallbacks on": _pipeline(
        links=False, precision=False, fast=False
    ),
    "pipeline precision off": _pipeline(precision=False),
    "pipeline fallbacks on": _pipeline(fast=False),
    "pipeline precision off, fallbacks on": _pipeline(precision=False, fast=False),
    "pipeline recall": _pipeline(precision=False, recall=True),
    "pipeline recall, fallbacks on": _pipeline(precision=False, recall=True, fast=False),
    "visible text": _visible,
}


def _measure(args: tuple[str, Page, int, bool]) -> dict[str, Any]:
    """One setting on one page: its scores, its time, and for each planted edit whether the
    edited page's text differs from the original's (with `noise`, likewise for each kind of
    noise: a text-only comparison would call it an edit)."""
    from preserve.extract.normalise import normalise

    name, page, seed, noise = args
    extract = SETTINGS[name]
    started = time.perf_counter()
    text = extract(page.html, page.charset)
    seconds = time.perf_counter() - started
    row: dict[str, Any] = {"setting": name, "page": page.id, "marking": page.marking}
    row["seconds"] = seconds
    if page.marking == "snippets":
        row["found"], row["leaked"] = snippet_scores(page, text)
    else:
        o = overlap(page.marked, text)
        row.update(recall=o.recall, precision=o.precision, f1=o.f1)
    base = normalise(text)
    edits = []
    for v in page_variants(page, seed, EDIT_KINDS):
        changed = normalise(extract(v.changed, page.charset))
        edits.append({"kind": v.kind, "seen": changed != base})
    row["edits"] = edits
    if noise:
        row["noise"] = [
            {
                "kind": v.kind,
                "seen": normalise(extract(v.base, page.charset))
                != normalise(extract(v.changed, page.charset)),
            }
            for v in page_variants(page, seed, NOISE_KINDS)
        ]
    return row


def _mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def tables(rows: list[dict[str, Any]]) -> str:
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by[row["setting"]].append(row)
    names = [n for n in SETTINGS if n in by]
    full_pages = len({r["page"] for r in rows if r["marking"] == "full"})
    out = [
        f"### Full-text pages ({full_pages}): word recall, precision, F1 against the marked text",
        "",
        "| setting | recall | precision | F1 | pages < 0.9 recall | ms/page (median, mean) |"
        " edits missed |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in names:
        full = [r for r in by[name] if r["marking"] == "full"]
        edits = [e for r in full for e in r["edits"]]
        missed = sum(not e["seen"] for e in edits)
        ms = [r["seconds"] * 1000 for r in full]
        out.append(
            f"| {name} | {_mean([r['recall'] for r in full]):.3f} | "
            f"{_mean([r['precision'] for r in full]):.3f} | {_mean([r['f1'] for r in full]):.3f}"
            f" | {sum(r['recall'] < 0.9 for r in full)} | "
            f"{statistics.median(ms):.0f}, {_mean(ms):.0f} | "
            f"{missed} of {len(edits)} ({missed / max(len(edits), 1):.1%}) |"
        )
    snip_pages = len({r["page"] for r in rows if r["marking"] == "snippets"})
    if snip_pages:
        out += [
            "",
            f"### Snippet-marked pages ({snip_pages}, trafilatura's own test pages)",
            "",
            "| setting | must-contain found | must-not-contain leaked | pages missing a snippet |"
            " edits missed |",
            "|---|---|---|---|---|",
        ]
        for name in names:
            snip = [r for r in by[name] if r["marking"] == "snippets"]
            edits = [e for r in snip for e in r["edits"]]
            missed = sum(not e["seen"] for e in edits)
            out.append(
                f"| {name} | {_mean([r['found'] for r in snip]):.3f} | "
                f"{_mean([r['leaked'] for r in snip]):.3f} | "
                f"{sum(r['found'] < 1 for r in snip)} | "
                f"{missed} of {len(edits)} ({missed / max(len(edits), 1):.1%}) |"
            )
    out += ["", "### Edits missed by kind (all pages)", ""]
    out += ["| setting | " + " | ".join(EDIT_KINDS) + " |", "|---" * (len(EDIT_KINDS) + 1) + "|"]
    for name in names:
        cells = []
        for kind in EDIT_KINDS:
            es = [e for r in by[name] for e in r["edits"] if e["kind"] == kind]
            cells.append(f"{sum(not e['seen'] for e in es)}/{len(es)}")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    if any("noise" in r for r in rows):
        out += ["", "### Noise that changes the extracted text (all pages)", ""]
        out += [
            "| setting | " + " | ".join(NOISE_KINDS) + " |",
            "|---" * (len(NOISE_KINDS) + 1) + "|",
        ]
        for name in names:
            if not all("noise" in r for r in by[name]):
                continue
            cells = []
            for kind in NOISE_KINDS:
                ns = [n for r in by[name] for n in r["noise"] if n["kind"] == kind]
                cells.append(f"{sum(n['seen'] for n in ns)}/{len(ns)}")
            out.append(f"| {name} | " + " | ".join(cells) + " |")
    out += ["", *pairs(rows)]
    out += ["", *suspects(rows)]
    return "\n".join(out)


PRIMARY = ("preserve extract()", "pipeline fallbacks on")


def pairs(rows: list[dict[str, Any]]) -> list[str]:
    """A second text compared too: an edit is seen when either setting's text changes (and so
    is noise). The main text kept stays the first setting's."""
    by: dict[tuple[str, str], dict[str, Any]] = {(r["setting"], r["page"]): r for r in rows}
    names = [n for n in SETTINGS if any(r["setting"] == n for r in rows)]
    pages = sorted({r["page"] for r in rows})
    out = [
        "### Two texts compared: an edit (or noise) is seen when either text changes",
        "",
        "| kept text | compared too | edits missed (full) | edits missed (snippets) | noise seen |",
        "|---|---|---|---|---|",
    ]
    for first in (n for n in PRIMARY if n in names):
        for second in names:
            if second == first or second == "visible text":
                continue
            missed: Counter[str] = Counter()
            planted: Counter[str] = Counter()
            noise = noise_total = 0
            for page in pages:
                a, b = by.get((first, page)), by.get((second, page))
                if a is None or b is None:
                    continue
                for ea, eb in zip(a["edits"], b["edits"], strict=True):
                    planted[a["marking"]] += 1
                    missed[a["marking"]] += not (ea["seen"] or eb["seen"])
                if "noise" in a and "noise" in b:
                    for na, nb in zip(a["noise"], b["noise"], strict=True):
                        noise_total += 1
                        noise += na["seen"] or nb["seen"]
            noise_cell = f"{noise}/{noise_total}" if noise_total else "-"
            out.append(
                f"| {first} | {second} | {missed['full']}/{planted['full']} | "
                f"{missed['snippets']}/{planted['snippets']} | {noise_cell} |"
            )
    return out


def suspects(rows: list[dict[str, Any]]) -> list[str]:
    """Full-text pages whose marking looks unreliable: marked words that even the whole
    visible text lacks (the marking holds text the page does not show), or a marked text much
    shorter than what every trafilatura setting takes for the article (a partial marking)."""
    pages: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        if row["marking"] == "full":
            pages[row["page"]][row["setting"]] = row
    out = [
        "### Full-text pages whose marking looks unreliable",
        "",
        "| page | visible-text recall | best precision of a trafilatura setting | why |",
        "|---|---|---|---|",
    ]
    for page, by in sorted(pages.items()):
        visible = by.get("visible text", {}).get("recall", 1.0)
        precisions = [r["precision"] for n, r in by.items() if n.startswith("trafilatura")]
        best = max(precisions, default=1.0)
        why = []
        if visible < 0.9:
            why.append("marked words not in the visible text")
        if best < 0.6:
            why.append("marked text shorter than any extraction")
        if why:
            out.append(f"| {page} | {visible:.3f} | {best:.3f} | {'; '.join(why)} |")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="*", choices=list(SETTINGS), help="only these")
    parser.add_argument("--pages", nargs="*", help="only these page ids")
    parser.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--noise", action="store_true", help="also plant noise (twice as long)")
    parser.add_argument("--out", type=Path, help="write every row (JSON) here")
    parser.add_argument("--tables", type=Path, help="only print the tables of a saved --out")
    args = parser.parse_args(argv)
    if args.tables:
        print(tables(json.loads(args.tables.read_text(encoding="utf-8"))))
        return 0
    pages = load_pages(args.pages or None)
    if not pages:
        print("no corpus pages: run tests/realpages/fetch.py first", file=sys.stderr)
        return 2
    names = args.settings or list(SETTINGS)
    work = [(name, page, args.seed, args.noise) for page in pages for name in names]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        rows = list(pool.map(_measure, work, chunksize=4))
    print(tables(rows))
    if args.out:
        args.out.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
