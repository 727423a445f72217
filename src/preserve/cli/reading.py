"""Commands that read the archive: history, status, diff, show, find-text, report."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import click

from preserve import __version__, jsondoc
from preserve.cli import text
from preserve.cli.options import (
    archive_path,
    colour,
    emit_json,
    json_option,
    open_archive,
    settings,
    write_file,
    write_stdout,
)
from preserve.errors import IntegrityError, UsageError
from preserve.times import iso, parse_user_time, utc_now
from preserve.urls import canonical


@click.command()
@click.argument("url")
@json_option
@click.pass_context
def history(ctx: click.Context, url: str, as_json: bool) -> None:
    """Every capture and check of a URL, oldest first.

    \b
    Example:
      preserve history https://example.org/2016/10/some-article
    """
    from preserve.engine.history import history as history_of

    url = canonical(url)
    archive = open_archive(ctx, create=False, writes=False)
    try:
        entries = history_of(archive.store, url)
    finally:
        archive.close()
    if as_json:
        emit_json({"url": url, "captures": [entry.to_json() for entry in entries]})
    else:
        click.echo(text.history_text(url, entries, colour()), nl=False)


@click.command()
@json_option
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Every tracked URL with its current state.

    \b
    Example:
      preserve status --json
    """
    from preserve.engine.history import status as status_of

    archive = open_archive(ctx, create=False, writes=False)
    try:
        # Streamed, a thousand lines at a time: an archive may track a million URLs.
        if as_json:
            jsondoc.write_list(write_stdout, "targets", status_of(archive.store))
            return
        rows = archive.store.iter_targets(text.STATUS_COLUMNS)
        shown = colour()
        first = list(itertools.islice(rows, 1000))
        if not first:
            click.echo(text.status_text([], shown), nl=False)
            return
        click.echo(text.STATUS_HEADER, nl=False)
        while first:
            click.echo("".join(text.status_lines(first, shown)), nl=False)
            first = list(itertools.islice(rows, 1000))
    finally:
        archive.close()


@click.command("list")
@json_option
@click.pass_context
def list_command(ctx: click.Context, as_json: bool) -> None:
    """Every tracked URL with its role, check interval and next check (or that it is
    paused), articles first.

    \b
    Example:
      preserve list --json
    """
    from preserve.engine.history import listing

    archive = open_archive(ctx, create=False, writes=False)
    try:
        entries = listing(archive.store)
        if as_json:
            jsondoc.write_list(write_stdout, "targets", entries)
            return
        first = list(itertools.islice(entries, 1000))
        if not first:
            click.echo("Nothing is tracked yet: `preserve capture URL` starts.")
            return
        click.echo(f"{'role':<9} {'every':<6} {'next check':<20} url")
        while first:
            click.echo(
                "".join(
                    f"{e['role']:<9} {e['every'] or '-':<6} "
                    f"{'paused' if e['paused'] else (e['next_check'] or '-')[:19]:<20} "
                    f"{e['url']}\n"
                    for e in first
                ),
                nl=False,
            )
            first = list(itertools.islice(entries, 1000))
    finally:
        archive.close()


@click.command()
@click.argument("url")
@click.option(
    "--from",
    "from_time",
    help="The older capture: the first at or before this "
    "time (ISO 8601, e.g. 2026-11-01 or 2026-11-01T12:00).",
)
@click.option("--to", "to_time", help="The newer capture: the last at or before this time.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (the hunks).")
@click.pass_context
def diff(
    ctx: click.Context, url: str, from_time: str | None, to_time: str | None, as_json: bool
) -> None:
    """Word diff of the main text between two captures of a URL (by default the latest good
    capture against the good capture before it whose text differs).

    \b
    Example:
      preserve diff https://example.org/2016/10/some-article --from 2026-11-01
    """
    from preserve.engine.diffs import diff as diff_of

    archive = open_archive(ctx, create=False, writes=False)
    try:
        found = diff_of(
            archive,
            url,
            parse_user_time(from_time),
            parse_user_time(to_time),
            max_inflated=settings(ctx).max_inflated,
        )
    finally:
        archive.close()
    if as_json:
        emit_json(found.to_json())
    else:
        click.echo(
            text.diff_text(found, colour()),
            nl=False,
        )


@click.command("report")
@click.argument("urls", nargs=-1)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write the report as one self-contained HTML file (`-`: to stdout).",
)
@json_option
@click.pass_context
def report_command(
    ctx: click.Context, urls: tuple[str, ...], html_path: Path | None, as_json: bool
) -> None:
    """What became of tracked articles and every source they cite: edited, moved, taken
    down or restored, with word diffs, a timeline, and the hashes and WARC records to
    prove it. All articles unless URLs are given.

    \b
    Examples:
      preserve report                          # in the terminal
      preserve report --html report.html       # one file to open, print or hand over
      preserve report https://example.org/2016/10/some-article --json
    """
    from preserve.report import html as htmlreport
    from preserve.report.build import build_report
    from preserve.report.text import report_text

    wanted = list(dict.fromkeys(canonical(url) for url in urls))
    to_stdout = html_path is not None and str(html_path) == "-"
    if as_json and to_stdout:
        raise UsageError("--json and --html - both print to stdout: give --html a file name")
    archive = open_archive(ctx, create=False, writes=False)
    try:
        for url in wanted:
            target = archive.store.target(url)
            if target is None:
                raise UsageError(f"not tracked: {url} (capture it first)")
            if target.role != "article":
                raise UsageError(
                    f"not an article: {url} is a source cited by "
                    f"{target.cited_by} (report on that article, or see "
                    f"`preserve history {url}`)"
                )
        document = build_report(
            archive.store,
            wanted or None,
            archive=str(archive_path(ctx).resolve()),
            generated_at=iso(utc_now()),
            tool_version=__version__,
        )
        if html_path is not None:  # the screenshots of rendered captures, embedded
            from preserve.engine.show import thumbnails
            from preserve.report.shots import data_uris, rendered_captures

            ids = rendered_captures(document)
            shots = data_uris(thumbnails(archive.store, archive.warcs, ids))
    finally:
        archive.close()
    if html_path is not None:
        html = htmlreport.render(document, shots)
        if to_stdout:
            click.echo(html, nl=False)
            return
        write_file(html_path, html)
    if as_json:
        emit_json(document.to_json())
    elif html_path is not None:
        sources = sum(len(d.citations) for d in document.articles)
        click.echo(
            f"Report of {len(document.articles)} article(s) and {sources} cited "
            f"source(s) written to {html_path}"
        )
    else:
        click.echo(report_text(document, colour()), nl=False)


@click.command("find-text")
@click.argument("quote")
@click.option("--url", help="Only captures of this URL.")
@click.option("--ignore-case", "-i", is_flag=True, help="Match regardless of case.")
@json_option
@click.pass_context
def find_text_command(
    ctx: click.Context, quote: str, url: str | None, ignore_case: bool, as_json: bool
) -> None:
    """Which captures contain this text (exact phrase, after the same normalisation as the
    stored texts), and whether later captures of the same URL still do. Exits 1 when no
    capture contains it, as grep does.

    \b
    Example:
      preserve find-text "the recordings would be shared with international observers"
    """
    from preserve.engine.findtext import find_text, render

    archive = open_archive(ctx, create=False, writes=False)
    try:
        result = find_text(
            archive.store, quote, url=canonical(url) if url else None, ignore_case=ignore_case
        )
    finally:
        archive.close()
    if as_json:
        emit_json(result.to_json())
    else:
        click.echo(render(result), nl=False)
    if not result.matches:
        ctx.exit(1)  # as grep does: a script can tell "not found" from "found"


@click.command()
@click.argument("url")
@click.option(
    "--at",
    "at_time",
    help="The latest good capture at or before this time (ISO 8601) [default: the latest].",
)
@click.option(
    "--text",
    "mode",
    flag_value="text",
    default=True,
    help="The archived main text (normalised) [default].",
)
@click.option(
    "--raw",
    "mode",
    flag_value="raw",
    help="The exact archived entity-body bytes (Content-Encoding kept; a revisit's "
    "from its original record).",
)
@click.option(
    "--screenshot",
    "screenshot_file",
    is_flag=False,
    flag_value="-",
    default=None,
    metavar="[FILE]",
    help="Write the full-page screenshot (PNG) of the latest rendered capture to FILE "
    "(default: stdout).",
)
@click.pass_context
def show(
    ctx: click.Context, url: str, at_time: str | None, mode: str, screenshot_file: str | None
) -> None:
    """Print what a capture archived: its main text, or its exact bytes (--raw), or write
    its screenshot (--screenshot). Which capture is shown goes to stderr.

    \b
    Example:
      preserve show https://example.org/2016/10/some-article --at 2026-11-01
      preserve show https://example.org/docs/annex.pdf --raw > annex.pdf
      preserve show https://example.org/2016/10/some-article --screenshot page.png
    """
    from preserve.engine import show as shown

    url = canonical(url)
    archive = open_archive(ctx, create=False, writes=False)
    try:
        capture = shown.pick_capture(
            archive.store, url, parse_user_time(at_time), screenshot=screenshot_file is not None
        )
        if screenshot_file is not None:
            png = shown.screenshot(archive.store, archive.warcs, capture)
            click.echo(shown.header(capture) + f"; screenshot sha256:{capture.screenshot_sha256}",
                       err=True)  # fmt: skip
            if screenshot_file == "-":
                sys.stdout.flush()
                sys.stdout.buffer.write(png)
                sys.stdout.buffer.flush()
            else:
                try:
                    Path(screenshot_file).write_bytes(png)
                except OSError as exc:
                    raise UsageError(f"cannot write {screenshot_file}: {exc.strerror}") from exc
        elif mode == "raw":
            body = shown.payload(archive.store, archive.warcs, capture)
            click.echo(shown.header(capture, body), err=True)
            sys.stdout.flush()
            sys.stdout.buffer.write(body.body)
            sys.stdout.buffer.flush()
        else:
            main_text = shown.main_text(archive.store, capture)
            # The text is what was extracted when the page was captured: given out only
            # while the record it came from still reads back as recorded (as --raw).
            try:
                shown.payload(archive.store, archive.warcs, capture)
            except IntegrityError as exc:
                raise IntegrityError(
                    f"the archived record of {url} at {capture.started_at} is damaged ({exc}): "
                    "its text is not shown; `preserve verify` tells what else is"
                ) from exc
            click.echo(shown.header(capture), err=True)
            click.echo(main_text)
        if line := shown.tls_line(capture):
            click.echo(line, err=True)
        if note := shown.later_note(archive.store, capture):
            click.echo(note, err=True)
    finally:
        archive.close()


COMMANDS = (history, status, list_command, diff, report_command, find_text_command, show)
