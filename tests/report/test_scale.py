"""A 200 × 20 archive written straight into the store, and rendered."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from preserve.report import html as htmlreport
from preserve.report.build import build_report
from preserve.store.database import Store
from preserve.times import iso
from tests.report.helpers import populate
from tests.support.clock import T0


@pytest.mark.slow
def test_two_hundred_articles_of_twenty_sources_render(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = Store(tmp_path / "preserve.db")
    try:
        populate(store, 200, 20)
        started = time.perf_counter()
        report = build_report(
            store, None, archive=str(tmp_path), generated_at=iso(T0), tool_version="test"
        )
        gathered = time.perf_counter()
        page = htmlreport.render(report)
        rendered = time.perf_counter()
    finally:
        store.close()
    with capsys.disabled():
        print(
            f"\n  200 x 20 report: gathered in {gathered - started:.2f} s, rendered in "
            f"{rendered - gathered:.2f} s, {len(page) / 1e6:.1f} MB"
        )
    assert len(report.articles) == 200
    assert all(len(d.citations) == 20 for d in report.articles)
    assert sum(len(d.edits) for d in report.articles) == 200 * 2
    assert page.count('<article class="dossier"') == 200
    assert page.count('<li class="source ') == 4000
    # a report this long opens collapsed, with a table of contents
    assert "<details open><summary>" not in page
    assert page.count('<li><span class="badge') >= 200
