"""Commands that fetch: capture, track, check, watch."""

from __future__ import annotations

import itertools
import json
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from preserve import jsondoc
from preserve.cli import text
from preserve.cli.options import (
    RunNoted,
    archive_path,
    browser_option,
    colour,
    fetch_options,
    interruptible,
    notify_option,
    notify_urls,
    on_change_option,
    open_archive,
    progress_bar,
    say_skipped,
    settings,
    stopped_by_signals,
    write_stdout,
)
from preserve.config import SETTINGS_FILE, format_duration, parse_duration, remember
from preserve.errors import UsageError
from preserve.times import iso, utc_now
from preserve.urls import canonical, parse_url_list

if TYPE_CHECKING:
    from preserve.engine.captured import ArticleCapture
    from preserve.engine.results import CheckResult

# The capture engine (and the network code, and extraction) is imported by the commands
# that fetch, when they run: the other commands start in half the time without it.


@click.command()
@click.argument("urls", nargs=-1)
@click.option(
    "--from-file",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
    help="Read URLs from a file, one per line (# comments allowed; UTF-8, or UTF-16 with a "
    "byte-order mark; `-`: standard input).",
)
@click.option(
    "--every",
    default=None,
    help="Check interval for these URLs and their citations: 30m, 6h, 1d, 1w [default: 1d].",
)
@click.option(
    "--depth",
    type=int,
    default=None,
    help="Follow citations of citations to this depth [default: 1].",
)
@browser_option
@fetch_options
@click.pass_context
def capture(
    ctx: click.Context,
    urls: tuple[str, ...],
    from_file: Path | None,
    every: str | None,
    depth: int | None,
    browser: str | None,
    timeout: float | None,
    deadline: float | None,
    max_bytes: int | None,
    allow_private: bool | None,
    workers: int | None,
    per_host: int | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Capture article(s) and every source they cite into WARC, and track them.

    \b
    Example:
      preserve capture https://example.org/2016/10/some-article --every 1d
    """
    from preserve.engine.capture import capture as capture_articles

    articles = [canonical(url) for url in urls]
    if from_file is not None:
        articles += _url_list(from_file)
    if not articles:
        raise UsageError("no URL given (pass URLs or --from-file FILE)")
    config = settings(
        ctx,
        timeout=timeout,
        deadline=deadline,
        max_bytes=max_bytes,
        allow_private=allow_private,
        workers=workers,
        per_host=per_host,
        depth=depth,
        every=parse_duration(every) if every else None,
        browser=browser,
    )
    archive = open_archive(ctx)
    if allow_private and remember(archive.path, "allow_private", True):
        click.echo(
            f"Remembered allow_private = true in {archive.path / SETTINGS_FILE}: checks of this "
            "archive fetch loopback and private addresses too (remove the line to undo).",
            err=True,
        )
    run = RunNoted()
    try:
        with interruptible() as stop, progress_bar("Capturing", not (as_json or quiet)) as progress:
            results = capture_articles(
                archive,
                articles,
                config=config,
                progress=progress,
                on_run=run,
                stop=stop,
                browser=browser,
            )
        # The results are read from the archive as they are printed, an article at a time.
        failed: list[str | None] = []
        entries = _noting_failures(results, failed)
        if as_json:
            first = next(entries, None)
            head = first.to_json() if first else {"run": run.id}
            listed = () if first is None else itertools.chain([first], entries)
            jsondoc.write_with_list(
                write_stdout, head, "articles", (entry.to_json() for entry in listed)
            )
        elif not quiet:
            shown, separator = colour(), ""
            for entry in entries:
                if lines := text.capture_lines(entry, shown):
                    click.echo(separator + "\n".join(lines))
                    separator = "\n"
            click.echo(
                f"Archive: {archive_path(ctx)}  (run {run.id}, every "
                f"{format_duration(config.every)})"
            )
        else:
            for _entry in entries:
                pass
    finally:
        archive.close()
    if stop.is_set():
        click.echo(
            "Interrupted: what was captured is stored (above); the URLs it had not fetched "
            "yet are tracked as failed (interrupted), and the next `preserve check` fetches "
            "them.",
            err=True,
        )
        ctx.exit(130)
    if failed:
        ctx.exit(1)


def _url_list(path: Path) -> list[str]:
    if str(path) == "-":
        return parse_url_list(sys.stdin.buffer.read(), "<stdin>")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    return parse_url_list(data, str(path))


def _noting_failures(
    entries: Iterable[ArticleCapture], failed: list[str | None]
) -> Iterator[ArticleCapture]:
    """`entries`, adding the URL of each article that was not captured to `failed`."""
    for entry in entries:
        if not entry.ok:
            failed.append(entry.article.job.url if entry.article else None)
        yield entry


@click.command()
@click.argument("urls", nargs=-1, required=True)
@click.option("--every", help="How often to check: 30m, 6h, 1d, 1w.")
@click.option(
    "--pause/--resume",
    "pause",
    default=None,
    help="Stop checking these URLs (and an article's sources) until resumed; their history stays.",
)
@browser_option
@click.pass_context
def track(
    ctx: click.Context,
    urls: tuple[str, ...],
    every: str | None,
    pause: bool | None,
    browser: str | None,
) -> None:
    """Set how often tracked URLs are checked, or pause and resume their checks (an
    article's citations follow it).

    \b
    Examples:
      preserve track https://example.org/2016/10/some-article --every 6h
      preserve track https://example.org/2016/10/some-article --pause
      preserve track https://example.org/2016/10/some-article --browser always
    """
    from preserve.engine.tracking import set_browser, set_interval, set_paused

    if every is None and pause is None and browser is None:
        raise UsageError("nothing to change: give --every, --pause, --resume or --browser")
    archive = open_archive(ctx, create=False)
    try:
        if every is not None:
            changed = set_interval(archive.store, urls, parse_duration(every))
            click.echo(f"{changed} tracked URL(s) now checked every {every}.")
        if pause is not None:
            changed = set_paused(archive.store, urls, pause)
            word = "paused: not checked until resumed" if pause else "resumed"
            click.echo(f"{changed} tracked URL(s) {word}.")
        if browser is not None:
            changed = set_browser(archive.store, urls, browser)
            click.echo(f"{changed} tracked URL(s) now rendered in a browser: {browser}.")
    finally:
        archive.close()


@click.command()
@click.argument("urls", nargs=-1, required=True)
@click.option(
    "--keep-sources",
    is_flag=True,
    help="Untrack only the URLs given, not the sources an article brought in.",
)
@click.pass_context
def untrack(ctx: click.Context, urls: tuple[str, ...], keep_sources: bool) -> None:
    """Stop checking URLs (an article with the sources it brought in). Their captures and
    checks stay in the archive: history, show, find-text, verify and export still see them.

    \b
    Example:
      preserve untrack https://example.org/2016/10/some-article
    """
    from preserve.engine.tracking import untrack as untrack_urls

    archive = open_archive(ctx, create=False)
    try:
        gone = untrack_urls(archive.store, urls, keep_sources=keep_sources)
    finally:
        archive.close()
    click.echo(
        f"{len(gone)} URL(s) no longer tracked; their captures and checks stay in the archive."
    )


@click.command()
@click.argument("urls", nargs=-1)
@click.option("--due", is_flag=True, help="Only the URLs whose check interval has passed.")
@click.option(
    "--exit-code",
    is_flag=True,
    help="Exit 1 when anything was edited or gone (like `git diff --exit-code`).",
)
@click.option(
    "--wait",
    is_flag=True,
    help="With a broker: wait for the workers and print the results (else it only queues).",
)
@on_change_option
@notify_option
@fetch_options
@click.pass_context
def check(
    ctx: click.Context,
    urls: tuple[str, ...],
    due: bool,
    exit_code: bool,
    wait: bool,
    on_change: str | None,
    notify: tuple[str, ...],
    timeout: float | None,
    deadline: float | None,
    max_bytes: int | None,
    allow_private: bool | None,
    workers: int | None,
    per_host: int | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Recapture tracked URLs and report what changed: edited, gone, moved, restored…

    \b
    Examples:
      preserve check                       # every tracked URL
      preserve check --due --exit-code     # from cron: only what is due
      preserve check --due --quiet --on-change 'mail -s "preserve: news" me@example.org'
      preserve check --due --quiet --notify 'ntfys://ntfy.sh/my-topic'
      preserve check https://example.org/2016/10/some-article
      preserve check --due --wait          # with a broker: queued for workers, waited for
    """
    from preserve.engine.check import check as check_urls
    from preserve.engine.notify import News

    given = dict(
        timeout=timeout,
        deadline=deadline,
        max_bytes=max_bytes,
        allow_private=allow_private,
        workers=workers,
        per_host=per_host,
    )
    config = settings(ctx, **given)
    telling = notify_urls(ctx, config, notify)
    archive = open_archive(ctx, create=False)
    output = _CheckOutput("json" if as_json else "quiet" if quiet else "text", colour())
    news = News(archive.path)
    run = RunNoted()
    stop = threading.Event()
    try:
        if archive.places.broker:
            options = {k: v for k, v in given.items() if v is not None}
            from preserve.cli.servers import on_workers

            for chunk in on_workers(archive, urls, config, options, due, wait, output.mode, run):
                assert run.id is not None
                output.chunk(run.id, chunk)
                news.add(run.id, chunk)
        else:
            with (
                interruptible() as stop,
                progress_bar("Checking", not (as_json or quiet)) as progress,
            ):
                for chunk in check_urls(
                    archive,
                    urls,
                    config=config,
                    due=due,
                    progress=progress,
                    on_run=run,
                    on_skipped=say_skipped,
                    stop=stop,
                ):
                    assert run.id is not None  # a run started before its first results
                    output.chunk(run.id, chunk)
                    news.add(run.id, chunk)
    finally:
        archive.close()
        # What was stored is news, even if the run then failed.
        for failed in news.tell_and_close(on_change, telling):
            _warn(failed)
    if not (run.queued and output.mode == "text"):
        output.finish(run.id)
    if stop.is_set():
        click.echo(
            "Interrupted: the checks above are stored; the URLs not checked yet stay due, "
            "and the next `preserve check --due` checks them.",
            err=True,
        )
        ctx.exit(130)
    if exit_code and output.changed:
        ctx.exit(1)


def _warn(failed: str | None) -> None:
    if failed:
        click.echo(f"Warning: {failed}", err=True)


class _CheckOutput:
    """A check's report, printed a chunk of results at a time: a check of a million URLs
    never holds them all. `mode` is text, json or quiet."""

    def __init__(self, mode: str, shown_in_colour: bool) -> None:
        self.mode = mode
        self.colour = shown_in_colour
        self.counts: dict[str, int] = {}
        self.changed = False
        self._json = jsondoc.CompactList(write_stdout, "results")

    def chunk(self, run_id: int | None, results: list[CheckResult]) -> None:
        from preserve.engine.results import CHANGE_OUTCOMES

        for result in results:
            word = result.outcome.outcome
            self.counts[word] = self.counts.get(word, 0) + 1
            self.changed = self.changed or word in CHANGE_OUTCOMES
        if self.mode == "json":
            self._json.add({"run": run_id}, (r.to_json() for r in results))
        elif self.mode == "text" and results:
            if sys.stderr.isatty():
                click.echo("\r\033[K", nl=False, err=True)  # the progress bar's line
            click.echo(text.check_lines(results, self.colour), nl=False)

    def finish(self, run_id: int | None) -> None:
        if self.mode == "json":
            self._json.close({"run": run_id})
        elif self.mode == "text":
            click.echo(
                text.check_summary(self.counts)
                if self.counts
                else text.check_text([], self.colour),
                nl=False,
            )


@click.command()
@click.option(
    "--interval",
    type=float,
    default=60.0,
    show_default=True,
    help="Longest sleep between looks at the schedule, in seconds.",
)
@on_change_option
@notify_option
@fetch_options
@click.pass_context
def watch(
    ctx: click.Context,
    interval: float,
    on_change: str | None,
    notify: tuple[str, ...],
    timeout: float | None,
    deadline: float | None,
    max_bytes: int | None,
    allow_private: bool | None,
    workers: int | None,
    per_host: int | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Stay in the foreground and run checks as they fall due (Ctrl-C or SIGTERM stops
    after the URLs in flight are recorded).

    \b
    Example:
      preserve watch --interval 300
    """
    from preserve.engine.watch import watch as watch_archive

    config = settings(
        ctx,
        timeout=timeout,
        deadline=deadline,
        max_bytes=max_bytes,
        allow_private=allow_private,
        workers=workers,
        per_host=per_host,
    )
    stop = stopped_by_signals()

    def show(run_id: int, results: list[CheckResult]) -> None:
        """A line per run that checked anything, then a line per URL that changed."""
        if as_json:
            document = {"run": run_id, "results": [r.to_json() for r in results]}
            click.echo(json.dumps(document, ensure_ascii=False, default=str))
        elif not quiet:
            click.echo(text.watch_line(run_id, results, iso(utc_now())))
            changed = [r for r in results if r.outcome.outcome not in ("unchanged", "cosmetic")]
            if changed:
                click.echo(text.check_lines(changed, colour()), nl=False)

    archive = open_archive(ctx, create=False)
    if archive.places.broker:
        from preserve.cli.servers import watch_on_workers

        try:
            watch_on_workers(archive, config, interval, quiet, stop)
        finally:
            archive.close()
        return
    try:
        watch_archive(
            archive,
            config=config,
            stop=stop,
            interval=interval,
            on_change=on_change,
            notify=notify_urls(ctx, config, notify),
            on_results=show,
            on_warning=lambda line: _warn(line),
            on_run=RunNoted(),
            on_skipped=say_skipped,
        )
    finally:
        archive.close()


COMMANDS = (capture, track, untrack, check, watch)
