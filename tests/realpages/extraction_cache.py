"""Extract every corpus page, and every planted variant of it, with several main-text
settings once, and keep the normalised texts: combinations of settings (choose_extraction.py)
are then measured on the saved texts, without extracting again.

    python tests/realpages/extraction_cache.py [--jobs N] [--components NAME...] [--pages ID...]

One gzipped JSON per page in `.cache/extractions/<page>.json.gz`: for each component, the
text of the page, of each planted edit (the edited page) and of each planted noise (its base
and changed page), and the CPU seconds the page itself took. Components already saved for a
page are not extracted again (`--force` does).

Components are preserve's own path (its parse, link placeholders, `bare_extraction`, its
rendering of the tree without links, its fallback when trafilatura finds nothing) with
trafilatura's options changed from preserve's, plus trafilatura's readability and justext
alone, and trafilatura's `extract()` with its defaults (its own parse; the reference).
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from copy import copy
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.realpages.corpus import ROOT, Page, load_pages
from tests.realpages.plant import EDIT_KINDS, NOISE_KINDS, page_variants

CACHE = ROOT / ".cache" / "extractions"

# preserve's options up to NORMALISATION_VERSION 2 (fast, precise, links kept), which the
# measured settings change: since version 3 see src/preserve/extract/maintext.py, `_options`
PRESERVE = {
    "output_format": "txt",
    "fast": True,
    "precision": True,
    "comments": False,
    "links": True,
    "formatting": False,
    "with_metadata": False,
}

# name → changes to preserve's options (a dict), or a special extractor's name (a str)
COMPONENTS: dict[str, dict[str, Any] | str] = {
    "today": {},
    "prec_fb": {"fast": False},
    "prec_fb_nolinks": {"fast": False, "links": False},
    "bal": {"precision": False},
    "bal_fb": {"precision": False, "fast": False},
    "bal_fb_nolinks": {"precision": False, "fast": False, "links": False},
    "recall": {"precision": False, "recall": True},
    "recall_fb": {"precision": False, "recall": True, "fast": False},
    "prec_fb_notables": {"fast": False, "tables": False},
    "bal_fb_notables": {"precision": False, "fast": False, "tables": False},
    "readability": "readability",
    "justext": "justext",
    "traf_default": "traf_default",
    # its defaults but comments, which preserve leaves out on purpose (the snippet pages'
    # must-contain strings include reader comments)
    "traf_default_nocomments": "traf_default_nocomments",
    # not texts: the text of the <article>/<main> element that holds most of prec_fb's text
    # (choose_extraction.py), without its page furniture and comment sections ("scope"), and
    # also without embedded social-media posts ("scope_embeds"); "" when there is none
    "scope": "scope",
    "scope_embeds": "scope_embeds",
    # and when there is no such element, the element holding nine tenths of it
    "scope_lca": "scope_lca",
    # or the whole body
    "scope_body": "scope_body",
}


def _options(changes: dict[str, Any]) -> Any:
    from trafilatura.settings import Extractor

    return Extractor(**{**PRESERVE, **changes})


def _pipeline(root: Any, hrefs: list[str], changes: dict[str, Any]) -> str:
    import trafilatura

    from preserve.extract import extractor as ex

    try:
        doc = trafilatura.bare_extraction(root, options=_options(changes))
    except Exception:
        doc = None
    if not isinstance(doc, trafilatura.settings.Document) or doc.body is None:
        return ex._fallback(root, hrefs)[0]
    return ex._from_trafilatura(doc.body, hrefs)[0]


def _pruned(root: Any) -> Any:
    """The raw tree as trafilatura's cascade hands it to readability (comments off)."""
    from trafilatura.htmlprocessing import prune_unwanted_nodes
    from trafilatura.xpaths import RAW_TREE_PRUNE_XPATH, REMOVE_COMMENTS_AND_LISTS_XPATH

    tree = prune_unwanted_nodes(copy(root), RAW_TREE_PRUNE_XPATH)
    return prune_unwanted_nodes(tree, REMOVE_COMMENTS_AND_LISTS_XPATH)


def _readability(root: Any, hrefs: list[str]) -> str:
    from trafilatura.external import sanitize_tree, try_readability

    from preserve.extract import extractor as ex

    body = try_readability(_pruned(root))
    if body is None or len(body) == 0:
        return ""
    body, _ = sanitize_tree(body, _options({"fast": False}))
    return ex._from_trafilatura(body, hrefs)[0]


def _justext(root: Any, hrefs: list[str]) -> str:
    from trafilatura.external import justext_rescue
    from trafilatura.htmlprocessing import tree_cleaning

    from preserve.extract.normalise import normalise

    cleaned = tree_cleaning(_pruned(root), _options({"fast": False, "precision": False}))
    body, _ = justext_rescue(cleaned, _options({"fast": False, "precision": False}))
    return normalise("\n".join(p.text or "" for p in body.iter("p")))


def _traf_default(html: str, comments: bool = True) -> str:
    import trafilatura

    from preserve.extract.normalise import normalise

    return normalise(trafilatura.extract(html, include_comments=comments) or "")


def extract_all(
    raw: bytes, charset: str, names: list[str]
) -> tuple[dict[str, str], dict[str, float]]:
    """Each component's normalised text of one page, and its CPU seconds (the shared parse
    and link marking counted in each)."""
    from preserve.extract import extractor as ex
    from preserve.extract import page
    from preserve.extract.decode import decode_text
    from preserve.extract.normalise import normalise

    texts: dict[str, str] = {}
    cpu: dict[str, float] = {}
    started = time.process_time()
    html, _ = decode_text(raw, declared=charset, markup=True)
    root = page.parse(html)
    hrefs = ex._mark_links(root) if root is not None else []
    shared = time.process_time() - started
    for name in names:
        spec = COMPONENTS[name]
        started = time.process_time()
        if spec == "traf_default":
            text = _traf_default(html)
        elif spec == "traf_default_nocomments":
            text = _traf_default(html, comments=False)
        elif root is None:
            text = ""
        elif spec == "readability":
            text = _readability(root, hrefs)
        elif spec == "justext":
            text = _justext(root, hrefs)
        elif spec in ("scope", "scope_embeds", "scope_lca", "scope_body"):
            from tests.realpages.choose_extraction import container, container_text

            a_text = normalise(_pipeline(root, hrefs, {"fast": False}))
            box = container(root, a_text, fallback=spec == "scope_lca")
            if box is None and spec == "scope_body":
                box = page.body_of(root)
            text = "" if box is None else container_text(box, embeds=spec == "scope_embeds")
        else:
            assert isinstance(spec, dict)
            text = _pipeline(root, hrefs, spec)
        texts[name] = normalise(text)
        cpu[name] = (
            time.process_time() - started + (0 if str(spec).startswith("traf_default") else shared)
        )
    return texts, cpu


def cache_file(page_id: str) -> Path:
    return CACHE / f"{page_id}.json.gz"


def load(page_id: str) -> dict[str, Any] | None:
    path = cache_file(page_id)
    if not path.exists():
        return None
    loaded: dict[str, Any] = json.loads(gzip.decompress(path.read_bytes()))
    return loaded


def _work(args: tuple[Page, list[str], int, bool]) -> str:
    page, names, seed, force = args
    saved = load(page.id) or {"page": page.id, "marking": page.marking, "components": {}}
    todo = [n for n in names if force or n not in saved["components"]]
    if not todo:
        return f"{page.id}: cached"
    edits = page_variants(page, seed, EDIT_KINDS)
    noise = page_variants(page, seed, NOISE_KINDS)
    saved["edits"] = [{"kind": v.kind, "removed": v.removed, "added": v.added} for v in edits]
    saved["noise"] = [{"kind": v.kind} for v in noise]
    text, cpu = extract_all(page.html, page.charset, todo)
    per: dict[str, dict[str, Any]] = {
        n: {"text": text[n], "cpu": cpu[n], "edits": [], "noise": []} for n in todo
    }
    for v in edits:
        changed, _ = extract_all(v.changed, page.charset, todo)
        for n in todo:
            per[n]["edits"].append(changed[n])
    for v in noise:
        base, _ = extract_all(v.base, page.charset, todo)
        changed, _ = extract_all(v.changed, page.charset, todo)
        for n in todo:
            per[n]["noise"].append([base[n], changed[n]])
    saved["components"].update(per)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = cache_file(page.id).with_suffix(".tmp")
    tmp.write_bytes(gzip.compress(json.dumps(saved, ensure_ascii=False).encode("utf-8")))
    tmp.replace(cache_file(page.id))
    return f"{page.id}: {', '.join(todo)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--components", nargs="*", choices=list(COMPONENTS))
    parser.add_argument("--pages", nargs="*")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    pages = load_pages(args.pages or None)
    names = args.components or list(COMPONENTS)
    work = [(p, names, args.seed, args.force) for p in pages]
    started = time.time()
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for i, line in enumerate(pool.map(_work, work), 1):
            print(f"[{i}/{len(work)} {time.time() - started:.0f}s] {line}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
