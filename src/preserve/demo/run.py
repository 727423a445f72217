"""`preserve demo`: the whole job on the built-in sample web, in one command."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from preserve import __version__
from preserve.cli import text as report
from preserve.config import load_config
from preserve.demo.sample import SampleWeb
from preserve.engine.archive import Archive, Run
from preserve.engine.capture import capture_articles
from preserve.engine.check import check_targets
from preserve.report import html as htmlreport
from preserve.report.build import build_report
from preserve.times import iso, utc_now

Echo = Callable[..., None]
REPORT_NAME = "report.html"


def run_demo(archive_path: Path | None, *, echo: Echo, colour: bool) -> Path:
    """Capture the sample article into `archive_path` (a new temporary folder when None),
    change its sources, check, and write the HTML report to `archive_path/report.html`."""
    if archive_path is None:
        archive_path = Path(tempfile.mkdtemp(prefix="preserve-demo-"))
    web = SampleWeb()
    try:
        echo(f"Sample web on 127.0.0.1: article at {web.article_url}")
        echo(f"Archive: {archive_path}\n")
        # The sample web lives on loopback, which preserve refuses for cited links unless
        # told otherwise; the demo is the one place that may say so on its own.
        config = load_config(archive_path, allow_private=True, timeout=5.0)
        archive = Archive(archive_path)
        try:
            echo("== 1. Capture the article and every source it cites ==")
            run = Run(archive, "demo capture", config, utc_now, {"urls": [web.article_url]})
            try:
                results = capture_articles(run, [web.article_url], every_seconds=86400)
            finally:
                run.finish()
            echo(report.capture_text(results, colour))
            echo(
                "The footer, navigation and 'Most read' links were not captured: only the "
                "sources cited in the article's text are.\n"
            )
            echo("== 2. Later, the sources change ==")
            for line in web.change():
                echo("  " + line)
            echo("\n== 3. preserve check: recapture everything and compare ==")
            run = Run(archive, "demo check", config, utc_now, {"urls": []})
            try:
                checked = check_targets(run, archive.store.targets())
            finally:
                run.finish()
            echo(report.check_text(checked, colour))
            echo("== 4. preserve report: one page to read, print or hand over ==")
            document = build_report(
                archive.store,
                None,
                archive=str(archive_path.resolve()),
                generated_at=iso(utc_now()),
                tool_version=__version__,
            )
            page = archive_path / REPORT_NAME
            page.write_text(htmlreport.render(document), encoding="utf-8")
            echo(f"The HTML report is at {page.resolve()}")
            echo("(one self-contained file: open it in a browser, no network needed)")
        finally:
            archive.close()
    finally:
        web.close()
    echo("\nTry next:")
    echo(f"  preserve --archive {archive_path} report")
    echo(f"  preserve --archive {archive_path} status")
    echo(f"  preserve --archive {archive_path} history {web.article_url}")
    echo(f"  preserve --archive {archive_path} diff {web.wire.base}/2016/10/intercept-report")
    return archive_path
