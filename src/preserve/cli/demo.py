"""`preserve demo`: the whole job on the built-in sample web, in one command."""

from __future__ import annotations

import shlex
import shutil
import sys
import tempfile
from pathlib import Path

import click

from preserve import __version__
from preserve.cli import text
from preserve.cli.options import archive_given, archive_path, colour
from preserve.config import load_config
from preserve.engine.archive import Archive
from preserve.times import iso, utc_now

REPORT_NAME = "report.html"


@click.command()
@click.option("--keep/--no-keep", default=True, help="Keep the demo archive afterwards.")
@click.pass_context
def demo(ctx: click.Context, keep: bool) -> None:
    """Serve a built-in sample web on 127.0.0.1, capture its article and sources, change
    some sources, check them, and write the HTML report (ARCHIVE/report.html). Uses a new
    temporary archive unless --archive is given.

    \b
    Example:
      preserve demo
    """
    run_demo(archive_path(ctx) if archive_given(ctx) else None, shown_in_colour=colour())


def run_demo(folder: Path | None, *, shown_in_colour: bool) -> Path:
    """Capture the sample article into `folder` (a new temporary folder when None), change
    its sources, check, and write the HTML report to `folder/report.html`."""
    from preserve.demo.sample import SampleWeb
    from preserve.engine.capture import capture
    from preserve.engine.check import check
    from preserve.report import html as htmlreport
    from preserve.report.build import build_report

    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="preserve-demo-"))
    web = SampleWeb()
    try:
        click.echo(f"Sample web on 127.0.0.1: article at {web.article_url}")
        click.echo(f"Archive: {folder}\n")
        # The sample web lives on loopback, which preserve refuses for cited links unless
        # told otherwise; the demo is the one place that may say so on its own.
        config = load_config(folder, allow_private=True, timeout=5.0)
        archive = Archive(folder)
        try:
            click.echo("== 1. Capture the article and every source it cites ==")
            results = capture(archive, [web.article_url], config=config)
            click.echo(text.capture_text(results, shown_in_colour))
            click.echo(
                "The footer, navigation and 'Most read' links were not captured: only the "
                "sources cited in the article's text are.\n"
            )
            click.echo("== 2. Later, the sources change ==")
            for line in web.change():
                click.echo("  " + line)
            click.echo("\n== 3. preserve check: recapture everything and compare ==")
            checked = [result for chunk in check(archive, config=config) for result in chunk]
            click.echo(text.check_text(checked, shown_in_colour))
            click.echo("== 4. preserve report: one page to read, print or hand over ==")
            document = build_report(
                archive.store,
                None,
                archive=str(folder.resolve()),
                generated_at=iso(utc_now()),
                tool_version=__version__,
            )
            page = folder / REPORT_NAME
            page.write_text(htmlreport.render(document), encoding="utf-8")
            click.echo(f"The HTML report is at {page.resolve()}")
            click.echo("(one self-contained file: open it in a browser, no network needed)")
        finally:
            archive.close()
    finally:
        web.close()
    me = command_name()
    click.echo("\nTry next:")
    click.echo(f"  {me} --archive {folder} report")
    click.echo(f"  {me} --archive {folder} status")
    click.echo(f"  {me} --archive {folder} history {web.article_url}")
    click.echo(f"  {me} --archive {folder} diff {web.wire.base}/2016/10/intercept-report")
    return folder


def command_name() -> str:
    """This program's name as it can be typed again: `preserve` when that is what the PATH
    finds, else the path it was started by (`.venv/bin/preserve` after `make demo`)."""
    started = Path(sys.argv[0])
    found = shutil.which("preserve")
    if found and started.exists() and Path(found).resolve() == started.resolve():
        return "preserve"
    if started.name == "preserve" and started.exists():
        return shlex.quote(str(started))
    return f"{shlex.quote(sys.executable)} -m preserve"


COMMANDS = (demo,)
