"""The real-page corpus tools on small pages made here: planting is exact and deterministic,
noise leaves the article's words alone, and the harness's server swaps pages."""

from __future__ import annotations

import json
import re
import urllib.request
from collections import Counter

from tests.realpages.corpus import MANIFEST, html_to_text, overlap, words
from tests.realpages.harness import Pages
from tests.realpages.plant import EDIT_KINDS, NOISE_KINDS, Variant, variants

MARKED = (
    "The council met on Tuesday evening to discuss the budget for 2025.\n"
    "Members said the plan would raise spending on schools by 12 percent over two years.\n"
    "Residents who spoke at the meeting asked for more money for libraries & parks "
    "\u2014 caf\u00e9 "
    "owners too."
)
PAGE = (
    "<!DOCTYPE html><html><head><meta charset='iso-8859-1'><title>Budget</title>"
    "<script>var s = 'The council met on Tuesday';</script></head><body>"
    "<nav><a href='/'>Home</a> &middot; <a href='/news'>News</a></nav>"
    "<article><h1>Budget talks</h1>"
    "<p>The council met on Tuesday evening to discuss the budget for 2025.</p>"
    "<p>Members said the plan would raise spending on schools by 12&nbsp;percent over "
    "two years.</p>"
    "<p>Residents who spoke at the meeting asked for more money for libraries &amp; parks"
    "\u00a0&mdash; caf\u00e9 owners too.</p></article>"
    "<footer>\u00a9 2025 Caf\u00e9 Gazette</footer></body></html>"
).encode("iso-8859-1")


def _all(seed: int = 0) -> list[Variant]:
    return list(variants("p", PAGE, "iso-8859-1", MARKED, "en", seed))


def test_every_kind_is_planted_and_deterministic() -> None:
    first, again = _all(), _all()
    assert [v.kind for v in first] == list(EDIT_KINDS + NOISE_KINDS)
    assert first == again
    assert _all(seed=1) != first


def test_edits_change_only_the_sentence_and_keep_the_charset() -> None:
    for v in _all():
        if not v.is_edit:
            continue
        assert v.base == PAGE
        before, after = PAGE.decode("iso-8859-1"), v.changed.decode("iso-8859-1")
        # Only one region differs, inside the <article>, and entities elsewhere are kept.
        start = next(i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b)
        assert before.index("<article>") < start < before.index("</article>")
        assert "&middot;" in after and "\u00a9 2025 Caf\u00e9" in after
        old, new = Counter(words(html_to_text(before))), Counter(words(html_to_text(after)))
        gained, lost = sorted((new - old).elements()), sorted((old - new).elements())
        if v.kind == "sentence-removed":
            assert lost and not gained
        elif v.kind == "word-removed":
            assert lost == sorted(w.casefold() for w in v.removed) and not gained
        elif v.kind == "number-changed":
            assert lost == list(v.removed) and gained == list(v.added)
        else:
            assert gained == sorted(w.casefold() for w in v.added) and not lost
    negation = next(v for v in _all() if v.kind == "negation-added")
    assert b"would not raise" in negation.changed


def test_noise_leaves_the_article_alone() -> None:
    for v in _all():
        if v.is_edit:
            continue
        assert not v.in_article
        for html in (v.base, v.changed):
            text = html_to_text(html.decode("iso-8859-1"))
            assert overlap(MARKED, text).recall == 1.0
            assert MARKED.splitlines()[0] in text


def test_server_swaps_a_page_between_requests() -> None:
    with Pages() as server:
        server.put("/a/", b"<p>one</p>", "text/html; charset=utf-8")
        url = server.origin + "/a/"
        assert urllib.request.urlopen(url, timeout=5).read() == b"<p>one</p>"
        server.put("/a/", b"<p>two</p>", "text/html; charset=utf-8")
        assert urllib.request.urlopen(url, timeout=5).read() == b"<p>two</p>"


def test_manifest_pins_every_package_and_names_every_page_once() -> None:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    for pkg in manifest["packages"].values():
        assert re.fullmatch(r"[0-9a-f]{64}", pkg["sha256"]) and pkg["license"] and pkg["version"]
    ids = [page["id"] for page in manifest["pages"]]
    assert len(ids) == len(set(ids))
    for page in manifest["pages"]:
        assert page["package"] in manifest["packages"]
        assert page["language"] != "?" and page["marked_from"] and page["page_path"]
