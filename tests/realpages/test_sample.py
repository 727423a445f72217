"""A sample of the real-page corpus through `preserve capture` and `preserve check` (the
whole corpus is `make bench`'s "real pages" section): every edit planted in an article's
text is found, no noise around it is called an edit, and the main text holds the marked
text.

The sample is chosen by a rule (corpus.sample_ids): the first page by id of each package
and language among the PyPI packages, newspaper4k and trafilatura: 12 pages in 10
languages, each with two edits of each kind that fits it (in other sentences), two of each
kind of noise, and an unchanged control, every one at a URL of its own on 127.0.0.1.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.realpages.corpus import Page
from tests.realpages.harness import CONTROL, Report, run, summarise
from tests.realpages.plant import EDIT_KINDS, NOISE_KINDS

pytestmark = pytest.mark.slow

# Floors under what preserve reaches on the sample: with NORMALISATION_VERSION 3's main text
# (docs/extraction.md) mean recall 0.999, precision 0.895, the lowest page at 0.992; with
# version 2's, 0.976 and 0.917, np4k-latvian-article at 0.82 (its lead paragraph left out).
# Room is left for a change of extraction that moves a page a little.
MEAN_RECALL = 0.95
PAGE_RECALL = 0.75
MEAN_PRECISION = 0.85
# Each change planted twice on each page, in other sentences and places (one seed each).
SEEDS = (0, 1)


@pytest.fixture(scope="module")
def report(sample_pages: list[Page]) -> Report:
    return run(sample_pages, seeds=SEEDS, workers=4)


@pytest.fixture(scope="module")
def figures(report: Report) -> dict[str, Any]:
    return summarise(report)


def test_the_sample_plants_every_kind_in_several_languages(
    sample_pages: list[Page], report: Report
) -> None:
    assert len({p.language for p in sample_pages}) >= 8
    assert {p.marking for p in sample_pages} == {"full", "snippets"}
    kinds = [job["kind"] for job in report.jobs]
    for kind in (*EDIT_KINDS, *NOISE_KINDS):
        assert kinds.count(kind) >= 10, kind
    assert kinds.count(CONTROL) == len(sample_pages)


def test_every_planted_edit_is_edited(figures: dict[str, Any]) -> None:
    assert figures["missed"] == []


def test_no_noise_is_called_an_edit(figures: dict[str, Any]) -> None:
    assert figures["noise_edited"] == []
    for job in figures["noise"].values():
        assert job["planted"] > 0


def test_the_main_text_holds_the_marked_text(report: Report, figures: dict[str, Any]) -> None:
    full = [p for p in report.pages if p["marking"] == "full"]
    assert figures["full"]["recall"] >= MEAN_RECALL, figures["full"]
    assert figures["full"]["precision"] >= MEAN_PRECISION, figures["full"]
    assert [p["page"] for p in full if p["recall"] < PAGE_RECALL] == []
    # The snippet-marked pages: every sentence trafilatura's tests say must be in the text.
    assert figures["snippets"]["found"] == 1.0, figures["snippets"]
