"""The HTML report opened in headless Chromium (tests/support/browser.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.report.helpers import Investigation
from tests.support.browser import find_chromium, load
from tests.support.cli import Preserve

# Headless Chromium (make test-fast skips).
pytestmark = pytest.mark.browser

# --- in a real browser ----------------------------------------------------------------------


def test_report_renders_in_chromium_without_errors(
    investigation: Investigation,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    preserve: Preserve,
) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(
            "no chromium on PATH (Debian: apt-get install chromium); the HTML "
            "report is not tested in a browser"
        )
    folder = Path(tempfile.mkdtemp(prefix="preserve-report-"))
    page_file = folder / "report.html"
    assert (
        preserve.run(
            investigation.path, "report", "--html", str(page_file), catch_exceptions=False
        ).exit_code
        == 0
    )
    page = load(chromium, page_file.as_uri(), tmp_path / "chromium")  # profile: not kept
    screenshot = folder / "report.png"
    screenshot.write_bytes(page.screenshot)
    with capsys.disabled():
        print(f"\n  report screenshot: {screenshot}")
    assert page.errors() == []
    assert page.requests == [page_file.as_uri()]  # nothing fetched but the file itself
    (dossier,) = investigation.report.articles
    for citation in dossier.citations:
        assert citation.last_capture is not None
        assert citation.last_capture.sha256 is not None
        assert citation.last_capture.sha256 in page.dom
    assert "HTTP 410 Gone" in page.dom and "moved to" in page.dom
    assert (
        'id="controls"' in page.dom and "hidden" not in page.dom.split('id="controls"')[0][-60:]
    )  # our script ran: the buttons are shown
    assert page.screenshot.startswith(b"\x89PNG")
