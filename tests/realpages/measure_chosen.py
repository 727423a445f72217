"""preserve's `extract()` as it is (the main-text rule of src/preserve/extract/maintext.py)
against the same with the main-text step it had before (trafilatura's fast, precise run
alone): scores, planted edits and noise on every page and variant, and CPU time per page,
both in one process.

    python tests/realpages/measure_chosen.py [--jobs N] [--repeat N] [--bench-pages N]

Texts: extracted again here (not from the cache), so this checks that the code measured is
the code proposed. Time: `time.process_time` of `extract(..., visible=False)` (as a capture
calls it) per page, the least of `--repeat` runs, the two settings alternating page by page;
plus the main-text step alone (`_trafilatura` on the parsed tree, as the benchmark measures
it: before, one fast run; now, the precise run, the article and, when the article has a
sentence the precise run lacks, the balanced run and readability). Also on pages
of the benchmark's bulk web (benchmarks/webs.py), as `make bench` samples them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.realpages.corpus import ROOT, Page, load_pages
from tests.realpages.plant import EDIT_KINDS, NOISE_KINDS, page_variants

URL = "http://127.0.0.1/page"


def _old_trafilatura(root: Any, hrefs: Any) -> Any:
    """preserve's main-text step before issue #14: trafilatura in fast mode alone, precision
    favoured, links kept (NORMALISATION_VERSION 2)."""
    import trafilatura
    from trafilatura.settings import Extractor

    from preserve.extract import extractor as ex

    options = Extractor(
        output_format="txt", fast=True, precision=True, comments=False, links=True,
        formatting=False, with_metadata=False,
    )  # fmt: skip
    try:
        doc = trafilatura.bare_extraction(root, options=options)
    except Exception:
        return None
    if not isinstance(doc, trafilatura.settings.Document) or doc.body is None:
        return None
    return ex._from_trafilatura(doc.body, hrefs)


@contextmanager
def today() -> Any:
    """preserve's extract() with the main-text step it had before (`_old_trafilatura`)."""
    from preserve.extract import extractor as ex

    saved = ex._trafilatura
    ex._trafilatura = _old_trafilatura
    try:
        yield
    finally:
        ex._trafilatura = saved


def _text(raw: bytes, charset: str) -> str:
    from preserve.extract.extractor import extract

    return extract(raw, url=URL, content_type=f"text/html; charset={charset}").text


def _texts(page: Page, seed: int) -> dict[str, Any]:
    """Each setting's text of the page, of each planted edit and of each noise pair, in the
    shape extraction_cache.py saves."""
    edits = page_variants(page, seed, EDIT_KINDS)
    noise = page_variants(page, seed, NOISE_KINDS)

    def run(extract: Any) -> dict[str, Any]:
        return {
            "text": extract(page.html),
            "edits": [extract(v.changed) for v in edits],
            "noise": [[extract(v.base), extract(v.changed)] for v in noise],
        }

    out: dict[str, Any] = {}
    with today():
        out["today"] = run(lambda raw: _text(raw, page.charset))
    out["chosen"] = run(lambda raw: _text(raw, page.charset))
    return {
        "page": page.id,
        "marking": page.marking,
        "edits": [{"kind": v.kind} for v in edits],
        "noise": [{"kind": v.kind} for v in noise],
        "components": out,
    }


def _work(args: tuple[Page, int]) -> dict[str, Any]:
    import faulthandler

    print(f"{args[0].id}: start", file=sys.stderr, flush=True)
    faulthandler.dump_traceback_later(600, exit=True)  # a hung page shows where, and ends
    try:
        return _texts(*args)
    finally:
        faulthandler.cancel_dump_traceback_later()


def cpu_per_page(bodies: list[tuple[bytes, str]], repeat: int) -> list[dict[str, float]]:
    """For each body: CPU ms of extract() with the step before and with the chosen rule
    (least of `repeat`, the two alternating), and each one's main-text step alone on the
    parsed tree with its links marked (as the benchmark measures it)."""
    from preserve.extract import extractor as ex
    from preserve.extract import page as pg
    from preserve.extract.decode import decode_text

    def one(raw: bytes, charset: str, new: bool) -> float:
        ctype = f"text/html; charset={charset}"
        if new:
            started = time.process_time()
            ex.extract(raw, url=URL, content_type=ctype, visible=False)
            return time.process_time() - started
        with today():
            started = time.process_time()
            ex.extract(raw, url=URL, content_type=ctype, visible=False)
            return time.process_time() - started

    def step(raw: bytes, charset: str, new: bool) -> float | None:
        html, _ = decode_text(raw, declared=charset, markup=True)
        tree = pg.parse(html)
        if tree is None:
            return None
        hrefs = ex._mark_links(tree)
        started = time.process_time()
        (ex._trafilatura if new else _old_trafilatura)(tree, hrefs)
        return time.process_time() - started

    one(bodies[0][0], bodies[0][1], False)  # imports and caches
    one(bodies[0][0], bodies[0][1], True)
    rows = []
    for i, (raw, charset) in enumerate(bodies):
        best: dict[str, float] = {}
        for r in range(repeat):
            for new in (False, True) if (i + r) % 2 == 0 else (True, False):
                key = "chosen" if new else "today"
                best[key] = min(best.get(key, 1e9), one(raw, charset, new))
                alone = step(raw, charset, new)
                if alone is not None:
                    best[f"{key}_step"] = min(best.get(f"{key}_step", 1e9), alone)
        rows.append({k: v * 1000 for k, v in best.items()})
    return rows


def _bench_bodies(pages: int) -> list[tuple[bytes, str]]:
    """Pages of the benchmark's bulk web, sampled as `make bench` samples them."""
    import importlib

    sys.path.insert(0, str(ROOT / "benchmarks"))
    webs: Any = importlib.import_module("webs")

    root = Path(tempfile.mkdtemp(prefix="preserve-chosen-bench-"))
    webs.generate(root, articles=200, sources=10, hosts=4)
    bodies: list[bytes] = []
    for path in sorted(root.glob("[0-9]*.json")):
        bodies += [html.encode() for html in json.loads(path.read_text(encoding="utf-8")).values()]
    bodies = bodies[:: max(1, len(bodies) // pages)][:pages]
    return [(b, "utf-8") for b in bodies]


def _stats(rows: list[dict[str, float]], key: str) -> str:
    values = [r[key] for r in rows if key in r]
    return f"{statistics.median(values):.1f}, {statistics.fmean(values):.1f}"


def _component(name: str) -> Callable[[dict[str, str]], str]:
    return lambda texts: texts[name]


def _where(field: str, value: str) -> Callable[[Any], bool]:
    return lambda row: bool(getattr(row, field) == value)


def tables(result: dict[str, Any]) -> str:
    """The scores of today's, the chosen and trafilatura's default text (this last from
    extraction_cache.py's saved texts), overall, per half and per source package."""
    from tests.realpages.evaluate_texts import Case, load_cases, run, summarise
    from tests.realpages.extraction_cache import load

    by_page = {c.page.id: c for c in load_cases()}
    cases = []
    for data in result["texts"]:
        ref = by_page[data["page"]]
        saved = load(data["page"]) or {"components": {}}
        components = dict(data["components"])
        for name, label in (
            ("traf_default", "trafilatura default"),
            ("traf_default_nocomments", "trafilatura default, comments off"),
        ):
            if name in saved["components"]:
                components[label] = saved["components"][name]
        cases.append(Case(ref.page, ref.half, {**data, "components": components}))
    names = ["today", "trafilatura default", "trafilatura default, comments off", "chosen"]
    rows = {n: [run(_component(n), c) for c in cases] for n in names}
    groups: list[tuple[str, Any]] = [("all pages", lambda r: True)]
    groups += [(f"half {h}", _where("half", h)) for h in "AB"]
    groups += [(s, _where("source", s)) for s in sorted({r.source for r in rows["today"]})]
    out = [
        "| pages | setting | recall | precision | F1 | < 0.9 | edits missed | noise seen |"
        " snippet found | leaked | snippet edits missed |",
        "|---" * 11 + "|",
    ]
    for group, keep in groups:
        for n in names:
            s = summarise([r for r in rows[n] if keep(r)])
            full = (
                f"{s.recall:.4f} | {s.precision:.4f} | {s.f1:.3f} | {s.under} | "
                f"{s.missed}/{s.planted}"
                if s.pages
                else "- | - | - | - | -"
            )
            snip = (
                f"{s.found:.3f} | {s.leaked:.3f} | {s.snip_missed}/{s.snip_planted}"
                if s.snip_pages
                else "- | - | -"
            )
            out.append(f"| {group} ({s.pages} + {s.snip_pages}) | {n} | {full} | "
                       f"{s.noise_seen}/{s.noise} | {snip} |")  # fmt: skip
    kinds: dict[str, dict[str, list[int]]] = {}
    for n in names:
        for r in rows[n]:
            for kind, seen in r.noise or []:
                kinds.setdefault(n, {}).setdefault(kind, [0, 0])
                kinds[n][kind][0] += seen
                kinds[n][kind][1] += 1
    out += ["", "| setting | " + " | ".join(NOISE_KINDS) + " |", "|---" * 6 + "|"]
    for n in names:
        out.append(f"| {n} | " + " | ".join(
            f"{kinds[n][k][0]}/{kinds[n][k][1]}" for k in NOISE_KINDS) + " |")  # fmt: skip
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bench-pages", type=int, default=300)
    parser.add_argument("--skip-texts", action="store_true", help="only the times")
    parser.add_argument("--pages", nargs="*", help="only these page ids")
    parser.add_argument("--out", type=Path, default=ROOT / ".cache" / "chosen.json")
    parser.add_argument("--tables", type=Path, help="only print the tables of a saved --out")
    args = parser.parse_args(argv)
    if args.tables:
        print(tables(json.loads(args.tables.read_text(encoding="utf-8"))))
        return 0
    pages = load_pages(args.pages or None)
    result: dict[str, Any] = {}
    if not args.skip_texts:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            result["texts"] = list(pool.map(_work, [(p, args.seed) for p in pages]))
    print(f"load before timing: {Path('/proc/loadavg').read_text().split()[:3]}", flush=True)
    corpus_rows = cpu_per_page([(p.html, p.charset) for p in pages], args.repeat)
    for row, p in zip(corpus_rows, pages, strict=True):
        row["page"] = p.id  # type: ignore[assignment]
        row["marking"] = p.marking  # type: ignore[assignment]
    bench_rows = cpu_per_page(_bench_bodies(args.bench_pages), args.repeat)
    print(f"load after timing: {Path('/proc/loadavg').read_text().split()[:3]}", flush=True)
    result["cpu"] = {"corpus": corpus_rows, "bench": bench_rows}
    args.out.write_text(json.dumps(result), encoding="utf-8")
    print(
        "\n| pages | extract() before | extract() now | main-text step before | "
        "main-text step now |  (ms of CPU per page: median, mean)"
    )
    print("|---|---|---|---|---|")
    full = [r for r, p in zip(corpus_rows, pages, strict=True) if p.marking == "full"]
    for name, rows in (("corpus, full-text (149)", full), ("corpus, all (229)", corpus_rows),
                       (f"benchmark bulk web ({len(bench_rows)})", bench_rows)):  # fmt: skip
        print(
            f"| {name} | {_stats(rows, 'today')} | {_stats(rows, 'chosen')} | "
            f"{_stats(rows, 'today_step')} | {_stats(rows, 'chosen_step')} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
