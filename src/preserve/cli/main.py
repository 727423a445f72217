"""The command line: parses options, calls the library, prints through `report`. The one
place where a PreserveError becomes `Error: …` on stderr and an exit code."""

from __future__ import annotations

import functools
import gc
import itertools
import json
import os
import signal
import socket
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from preserve import __version__
from preserve.cli import text as report
from preserve.config import Config, format_duration, load_config, parse_duration
from preserve.engine.archive import Archive, Run
from preserve.errors import ArchiveError, PreserveError, UsageError
from preserve.store.database import NewExport, pick_diff_pair
from preserve.times import iso, parse_iso
from preserve.urls import canonical

if TYPE_CHECKING:
    from preserve.engine.capture import ArticleCapture
    from preserve.engine.check import CheckResult
    from preserve.engine.notify import News
    from preserve.evidence.package import ExportResult
    from preserve.store.chain import Entry

# The capture engine (and the network code, and extraction) is imported by the commands
# that fetch: the others start in half the time without it.

DEFAULT_ARCHIVE = "archive"
PROGRESS_WIDTH = 30


def utc_now() -> datetime:
    """The clock (`fetch.utc_now`, without importing the network code)."""
    return datetime.now(UTC)


class PreserveGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PreserveError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (OSError, sqlite3.Error) as exc:
            click.echo(f"Error: {_storage_error(exc)}", err=True)
            ctx.exit(ArchiveError.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        finally:
            # The command is done with its extraction workers (if it started any).
            if (pool := sys.modules.get("preserve.extract.pool")) is not None:
                pool.stop()


def _storage_error(exc: OSError | sqlite3.Error) -> str:
    """One line for a failure of the storage under the archive: a full disk, a file-size
    limit, a read-only or vanished folder. Rows are committed only after the WARC records
    they point at are synced, so what was stored before it stays consistent."""
    if isinstance(exc, OSError):
        what = exc.strerror or str(exc)
        where = f" ({exc.filename})" if exc.filename else ""
    else:
        what, where = str(exc), " (the database)"
    return (
        f"storage failed: {what}{where}; what was stored before is intact "
        "(`preserve verify` checks it)"
    )


def _note_recoveries(run: Run) -> None:
    for recovery in run.recovered:
        click.echo(f"Recovered: {recovery.detail}", err=True)


@click.group(cls=PreserveGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--archive",
    "archive_path",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_ARCHIVE,
    envvar="PRESERVE_ARCHIVE",
    show_default=True,
    help="The archive folder (env PRESERVE_ARCHIVE).",
)
@click.version_option(__version__, prog_name="preserve")
@click.pass_context
def cli(ctx: click.Context, archive_path: Path) -> None:
    """Capture web articles and every source they cite into WARC, and detect later edits
    and takedowns.

    \b
    Start with:
      preserve capture https://example.org/2016/10/some-article --every 1d
      preserve status
    """
    ctx.obj = {"archive": archive_path}


def main() -> None:
    """The `preserve` command, in a process of its own.

    The garbage collector is told to leave alone what exists as the command starts (the
    modules: a run's fork of extraction workers then shares their memory rather than
    copying it as the collector touches it) and, when it ends, everything: the interpreter
    otherwise walks every object on its way out, 50 ms of a command that may take 2 s."""
    gc.freeze()
    try:
        cli(prog_name="preserve")
    finally:
        gc.freeze()


def fetch_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options every fetching command takes."""
    options = [
        click.option(
            "--timeout", type=float, help="Seconds for connecting and for each read [default: 10]."
        ),
        click.option(
            "--deadline", type=float, help="Seconds a whole fetch may take [default: 6 x timeout]."
        ),
        click.option(
            "--max-bytes",
            type=int,
            help="Cut bodies past this many bytes "
            "(the record is marked WARC-Truncated) [default: 64 MiB].",
        ),
        click.option(
            "--allow-private",
            is_flag=True,
            default=None,
            help="Fetch loopback and private addresses for links and redirects "
            "(env PRESERVE_ALLOW_PRIVATE=1).",
        ),
        click.option("--workers", type=int, help="Concurrent fetches [default: 16]."),
        click.option("--per-host", type=int, help="Concurrent fetches per host [default: 2]."),
        click.option("--json", "as_json", is_flag=True, help="Print one JSON document."),
        click.option("--quiet", "-q", is_flag=True, help="No progress output."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


on_change_option = click.option(
    "--on-change",
    metavar="COMMAND",
    help="Run this shell command when the check finds news (an edit, a takedown, a move, a "
    "return), with the news as JSON on its stdin.",
)


def _config(archive: Path, **overrides: Any) -> Config:
    return load_config(archive, **overrides)


def _archive(ctx: click.Context, *, create: bool = True, writes: bool = True) -> Archive:
    return Archive(ctx.obj["archive"], create=create, writes=writes, on_wait=_waiting)


def _waiting() -> None:
    click.echo("Waiting: another preserve process is writing to this archive…", err=True)


def _emit_json(document: Any) -> None:
    click.echo(json.dumps(document, indent=2, ensure_ascii=False, default=str))


def _colour() -> bool:
    return sys.stdout.isatty()


@contextmanager
def _progress(label: str, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr, only when stderr is a terminal (never in logs or pipes)."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return

    def show(done: int, total: int) -> None:
        filled = PROGRESS_WIDTH * done // total if total else PROGRESS_WIDTH
        bar = "█" * filled + "·" * (PROGRESS_WIDTH - filled)
        click.echo(f"\r{label} {bar} {done}/{total}", nl=False, err=True)

    try:
        yield show
    finally:
        click.echo("\r\033[K", nl=False, err=True)


@cli.command()
@click.argument("urls", nargs=-1)
@click.option(
    "--from-file",
    type=click.File("r", encoding="utf-8"),
    help="Read URLs from a file, one per line (# comments allowed).",
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
@fetch_options
@click.pass_context
def capture(
    ctx: click.Context,
    urls: tuple[str, ...],
    from_file: Any,
    every: str | None,
    depth: int | None,
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
    wanted = list(urls)
    if from_file is not None:
        wanted += [
            line.strip() for line in from_file if line.strip() and not line.lstrip().startswith("#")
        ]
    if not wanted:
        raise UsageError("no URL given (pass URLs or --from-file FILE)")
    articles = list(dict.fromkeys(canonical(url) for url in wanted))
    interval = parse_duration(every) if every else None
    archive_path: Path = ctx.obj["archive"]
    config = _config(
        archive_path,
        timeout=timeout,
        deadline=deadline,
        max_bytes=max_bytes,
        allow_private=allow_private,
        workers=workers,
        per_host=per_host,
        depth=depth,
        every=interval,
    )
    archive = _archive(ctx)
    try:
        from preserve.engine.capture import capture_articles

        run = Run(archive, "capture", config, utc_now, {"urls": articles})
        _note_recoveries(run)
        try:
            with _progress("Capturing", not (as_json or quiet)) as progress:
                results = capture_articles(
                    run,
                    articles,
                    every_seconds=int(config.every.total_seconds()),
                    progress=progress,
                )
        finally:
            run.finish()
        # The results are read from the archive as they are printed, an article at a time.
        failed: list[str | None] = []
        entries = _noting_failures(results, failed)
        if as_json:
            first = next(entries, None)
            head = first.to_json() if first else {"run": run.id}
            listed = () if first is None else itertools.chain([first], entries)
            _emit_json_with_list(head, "articles", (entry.to_json() for entry in listed))
        elif not quiet:
            colour, separator = _colour(), ""
            for entry in entries:
                if lines := report.capture_lines(entry, colour):
                    click.echo(separator + "\n".join(lines))
                    separator = "\n"
            click.echo(
                f"Archive: {archive_path}  (run {run.id}, every {format_duration(config.every)})"
            )
        else:
            for _entry in entries:
                pass
    finally:
        archive.close()
    if failed:
        ctx.exit(1)


@cli.command()
@click.argument("urls", nargs=-1, required=True)
@click.option("--every", required=True, help="How often to check: 30m, 6h, 1d, 1w.")
@click.pass_context
def track(ctx: click.Context, urls: tuple[str, ...], every: str) -> None:
    """Set how often tracked URLs are checked (an article's citations follow it).

    \b
    Example:
      preserve track https://example.org/2016/10/some-article --every 6h
    """
    interval = int(parse_duration(every).total_seconds())
    wanted = [canonical(url) for url in urls]
    archive = _archive(ctx, create=False)
    try:
        for url in wanted:
            if archive.store.target(url) is None:
                raise UsageError(f"not tracked: {url} (capture it first)")
        changed = sum(
            archive.store.set_schedule(url, interval, include_citations=True) for url in wanted
        )
    finally:
        archive.close()
    click.echo(f"{changed} tracked URL(s) now checked every {every}.")


@cli.command()
@click.argument("url")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def history(ctx: click.Context, url: str, as_json: bool) -> None:
    """Every capture and check of a URL, oldest first.

    \b
    Example:
      preserve history https://example.org/2016/10/some-article
    """
    url = canonical(url)
    archive = _archive(ctx, create=False, writes=False)
    try:
        rows = archive.store.history(url)
    finally:
        archive.close()
    captures = _history_entries(rows)
    if as_json:
        _emit_json({"url": url, "captures": captures})
    else:
        click.echo(report.history_text(url, captures, _colour()), nl=False)


def _history_entries(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """History rows with an outcome each: a check's outcome, or, for a capture made by
    `capture`, `new` (the first good one), `failed` (no good one yet) or `captured`."""
    entries = []
    seen_good = False
    for row in rows:
        good = row["status"] == "captured" and 200 <= (row["http_status"] or 0) < 300
        outcome = row.get("outcome") or ("captured" if seen_good else "new" if good else "failed")
        seen_good = seen_good or good
        entries.append(_history_entry(row, outcome))
    return entries


def _history_entry(row: dict[str, Any], outcome: str) -> dict[str, Any]:
    return {
        "captured_at": row["started_at"],
        "http_status": row["http_status"],
        "outcome": outcome,
        "reason": row.get("reason"),
        "error": row["error"],
        "sha256": row["payload_sha256"],
        "text_sha256": row["text_sha256"],
        "record_type": row["record_type"],
        "warc": row["warc"],
        "offset": row["offset"],
        "length": row["length"],
        "record_id": row["record_id"],
        "final_url": row["final_url"],
        "run": row["run_id"],
    }


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Every tracked URL with its current state.

    \b
    Example:
      preserve status --json
    """
    archive = _archive(ctx, create=False, writes=False)
    try:
        # Streamed, a thousand lines at a time: an archive may track a million URLs.
        if as_json:
            every = functools.cache(format_duration_seconds)  # a few intervals, many rows
            entries = (
                {
                    "url": url,
                    "role": role,
                    "state": state,
                    "reason": reason,
                    "confirmed": bool(confirmed),
                    "every": every(seconds),
                    "next_due": due,
                    "last_checked_at": checked,
                    "last_change_at": changed,
                    "cited_by": cited_by,
                }
                for (
                    url,
                    role,
                    state,
                    reason,
                    confirmed,
                    seconds,
                    due,
                    checked,
                    changed,
                    cited_by,
                ) in archive.store.iter_targets(_TARGET_COLUMNS)
            )
            _emit_json_list("targets", entries)
            return
        rows = archive.store.iter_targets(report.STATUS_COLUMNS)
        colour = _colour()
        first = list(itertools.islice(rows, 1000))
        if not first:
            click.echo(report.status_text([], colour), nl=False)
            return
        click.echo(report.STATUS_HEADER, nl=False)
        while first:
            click.echo("".join(report.status_lines(first, colour)), nl=False)
            first = list(itertools.islice(rows, 1000))
    finally:
        archive.close()


_TARGET_COLUMNS = (
    "url",
    "role",
    "state",
    "reason",
    "confirmed",
    "every_seconds",
    "next_due",
    "last_checked_at",
    "last_change_at",
    "cited_by",
)


def _noting_failures(
    entries: Iterable[ArticleCapture], failed: list[str | None]
) -> Iterator[ArticleCapture]:
    """`entries`, adding the URL of each article that was not captured to `failed`."""
    for entry in entries:
        if not entry.ok:
            failed.append(entry.article.job.url if entry.article else None)
        yield entry


def _emit_json_with_list(head: dict[str, Any], key: str, items: Iterator[dict[str, Any]]) -> None:
    """`{**head, key: [items…]}`, byte for byte as `_emit_json` writes it, written as the
    items come."""
    opening = json.dumps(head, indent=2, ensure_ascii=False, default=str)
    click.echo(opening[: -len("\n}")] + f',\n  "{key}": [', nl=False)
    separator = "\n"
    empty = True
    for item in items:
        # json.dumps escapes every newline inside strings, so these are its own line breaks.
        text = json.dumps(item, indent=2, ensure_ascii=False, default=str).replace("\n", "\n    ")
        click.echo(separator + "    " + text, nl=False)
        separator, empty = ",\n", False
    click.echo("]\n}" if empty else "\n  ]\n}")


def _emit_json_list(key: str, items: Iterator[dict[str, Any]]) -> None:
    """`{key: [items…]}` as one JSON document, written as the items come."""
    click.echo(f'{{\n  "{key}": [', nl=False)
    separator = "\n    "
    while chunk := list(itertools.islice(items, 1000)):
        # One C-speed dumps per thousand items, then a line per item: "}, {" occurs only
        # between items, since no value (codes, times, canonical URLs) holds a space.
        text = json.dumps(chunk, ensure_ascii=False, default=str)[1:-1]
        click.echo(separator + text.replace("}, {", "},\n    {"), nl=False)
        separator = ",\n    "
    click.echo("\n  ]\n}")


def format_duration_seconds(seconds: int | None) -> str | None:
    return format_duration(timedelta(seconds=seconds)) if seconds else None


@cli.command()
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
    from preserve.demo.run import run_demo

    given = (
        ctx.parent is not None
        and ctx.parent.get_parameter_source("archive_path") != click.core.ParameterSource.DEFAULT
    )
    run_demo(ctx.obj["archive"] if given else None, echo=click.echo, colour=_colour())


@cli.command()
@click.argument("urls", nargs=-1)
@click.option("--due", is_flag=True, help="Only the URLs whose check interval has passed.")
@click.option(
    "--exit-code",
    is_flag=True,
    help="Exit 1 when anything was edited or gone (like `git diff --exit-code`).",
)
@on_change_option
@fetch_options
@click.pass_context
def check(
    ctx: click.Context,
    urls: tuple[str, ...],
    due: bool,
    exit_code: bool,
    on_change: str | None,
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
      preserve check https://example.org/2016/10/some-article
    """
    wanted = [canonical(url) for url in urls]
    archive_path: Path = ctx.obj["archive"]
    config = _config(
        archive_path,
        timeout=timeout,
        deadline=deadline,
        max_bytes=max_bytes,
        allow_private=allow_private,
        workers=workers,
        per_host=per_host,
    )
    archive = _archive(ctx, create=False)
    output = _CheckOutput("json" if as_json else "quiet" if quiet else "text", _colour())
    from preserve.engine.notify import News

    news = News(archive.path)

    def each(run_id: int, chunk: list[CheckResult]) -> None:
        output.chunk(run_id, chunk)
        news.add(run_id, chunk)

    try:
        for url in wanted:
            if archive.store.target(url) is None:
                raise UsageError(f"not tracked: {url} (capture it first)")
        run_id = _run_check(
            archive,
            config,
            wanted,
            due=due,
            show_progress=not (as_json or quiet),
            each=each,
        )
    finally:
        archive.close()
        _tell(news, on_change)  # what was stored is news, even if the run then failed
    output.finish(run_id)
    if exit_code and output.changed:
        ctx.exit(1)


def _tell(news: News, command: str | None) -> None:
    """Run the --on-change command with a run's news, if it has any; a failure of the
    command is said on stderr (the check itself is stored either way)."""
    try:
        failed = news.tell(command) if command else None
    finally:
        news.close()
    if failed:
        click.echo(f"Warning: {failed}", err=True)


class _CheckOutput:
    """A check's report, printed a chunk of results at a time (`check.iter_checks`): a
    check of a million URLs never holds them all. `mode` is text, json or quiet."""

    def __init__(self, mode: str, colour: bool) -> None:
        self.mode = mode
        self.colour = colour
        self.counts: dict[str, int] = {}
        self.changed = False
        self._opened = False

    def chunk(self, run_id: int, results: list[CheckResult]) -> None:
        from preserve.engine.check import CHANGE_OUTCOMES

        for result in results:
            word = result.outcome.outcome
            self.counts[word] = self.counts.get(word, 0) + 1
            self.changed = self.changed or word in CHANGE_OUTCOMES
        if self.mode == "json":
            entries = ",\n    ".join(
                json.dumps(r.to_json(), ensure_ascii=False, default=str) for r in results
            )
            if entries:
                click.echo(
                    (
                        f'{{\n  "run": {run_id},\n  "results": [\n    '
                        if not self._opened
                        else ",\n    "
                    )
                    + entries,
                    nl=False,
                )
                self._opened = True
        elif self.mode == "text" and results:
            if sys.stderr.isatty():
                click.echo("\r\033[K", nl=False, err=True)  # the progress bar's line
            click.echo(report.check_lines(results, self.colour), nl=False)

    def finish(self, run_id: int | None) -> None:
        if self.mode == "json":
            if self._opened:
                click.echo("\n  ]\n}")
            else:
                _emit_json({"run": run_id, "results": []})
        elif self.mode == "text":
            click.echo(
                report.check_summary(self.counts)
                if self.counts
                else report.check_text([], self.colour),
                nl=False,
            )


def _run_check(
    archive: Archive,
    config: Config,
    urls: list[str],
    *,
    due: bool,
    show_progress: bool,
    each: Callable[[int, list[CheckResult]], None],
    stop: threading.Event | None = None,
) -> int | None:
    """Check the selected targets, handing each chunk of results to `each` as it is done;
    the run's id, or None when nothing was selected."""
    from preserve.engine.check import iter_checks, select_target_urls

    targets = select_target_urls(archive.store, urls or None, due=due, now=utc_now())
    if not targets:
        return None
    run = Run(archive, "check", config, utc_now, {"urls": urls, "due": due})
    _note_recoveries(run)
    try:
        with _progress("Checking", show_progress) as progress:
            for chunk in iter_checks(run, targets, progress, stop=stop):
                each(run.id, chunk)
    finally:
        run.finish()
    return run.id


@cli.command()
@click.option(
    "--interval",
    type=float,
    default=60.0,
    show_default=True,
    help="Longest sleep between looks at the schedule, in seconds.",
)
@on_change_option
@fetch_options
@click.pass_context
def watch(
    ctx: click.Context,
    interval: float,
    on_change: str | None,
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
    archive_path: Path = ctx.obj["archive"]
    config = _config(
        archive_path,
        timeout=timeout,
        deadline=deadline,
        max_bytes=max_bytes,
        allow_private=allow_private,
        workers=workers,
        per_host=per_host,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    from preserve.engine.notify import News

    archive = _archive(ctx, create=False)
    try:
        while not stop.is_set():
            results: list[CheckResult] = []
            news = News(archive.path)

            def each(
                run_id: int,
                chunk: list[CheckResult],
                into: list[CheckResult] = results,
                news: News = news,
            ) -> None:
                into.extend(chunk)
                news.add(run_id, chunk)

            try:
                run_id = _run_check(
                    archive, config, [], due=True, show_progress=False, each=each, stop=stop
                )
            finally:
                _tell(news, on_change)
            if results and as_json:
                click.echo(
                    json.dumps(
                        {"run": run_id, "results": [r.to_json() for r in results]},
                        ensure_ascii=False,
                        default=str,
                    )
                )
            elif results and not quiet:
                click.echo(report.check_text(results, _colour()), nl=False)
            stop.wait(_seconds_until_due(archive, interval))
    finally:
        archive.close()


def _seconds_until_due(archive: Archive, longest: float) -> float:
    upcoming = archive.store.next_due()
    if upcoming is None:
        return longest
    return max(1.0, min(longest, (parse_iso(upcoming) - utc_now()).total_seconds()))


@cli.command()
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
    url = canonical(url)
    archive = _archive(ctx, create=False, writes=False)
    try:
        old, new = pick_diff_pair(archive.store, url, _when(from_time), _when(to_time))
        old_text = (archive.store.text(old["text_sha256"]) or ("", ""))[0]
        new_text = (archive.store.text(new["text_sha256"]) or ("", ""))[0]
    finally:
        archive.close()
    from preserve.changes.classify import word_diff

    hunks = word_diff(old_text, new_text)
    if as_json:
        _emit_json(
            {
                "url": url,
                "from": _capture_ref(old),
                "to": _capture_ref(new),
                "hunks": [h.to_json() for h in hunks],
            }
        )
    else:
        click.echo(report.diff_text(url, old, new, hunks, _colour()), nl=False)


def _when(text: str | None) -> str | None:
    """A user's time as the database spells times (a prefix of it compares correctly)."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(f"not a time: {text!r} (use ISO 8601, e.g. 2026-11-01T12:00)") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso(moment)


def _capture_ref(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "captured_at": row["started_at"],
        "sha256": row["payload_sha256"],
        "text_sha256": row["text_sha256"],
        "warc": row["warc"],
        "offset": row["offset"],
        "record_id": row["record_id"],
    }


@cli.command("report")
@click.argument("urls", nargs=-1)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Write the report as one self-contained HTML file (`-`: to stdout).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
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

    wanted = list(dict.fromkeys(canonical(url) for url in urls))
    to_stdout = html_path is not None and str(html_path) == "-"
    if as_json and to_stdout:
        raise UsageError("--json and --html - both print to stdout: give --html a file name")
    archive = _archive(ctx, create=False, writes=False)
    try:
        for url in wanted:
            target = archive.store.target(url)
            if target is None:
                raise UsageError(f"not tracked: {url} (capture it first)")
            if target["role"] != "article":
                raise UsageError(
                    f"not an article: {url} is a source cited by "
                    f"{target['cited_by']} (report on that article, or see "
                    f"`preserve history {url}`)"
                )
        document = build_report(
            archive.store,
            wanted or None,
            archive=str(archive.path.resolve()),
            generated_at=iso(utc_now()),
            tool_version=__version__,
        )
    finally:
        archive.close()
    if html_path is not None:
        html = htmlreport.render(document)
        if to_stdout:
            click.echo(html, nl=False)
            return
        _write_file(html_path, html)
    if as_json:
        _emit_json(document.to_json())
    elif html_path is not None:
        sources = sum(len(d.citations) for d in document.articles)
        click.echo(
            f"Report of {len(document.articles)} article(s) and {sources} cited "
            f"source(s) written to {html_path}"
        )
    else:
        click.echo(report.report_text(document, _colour()), nl=False)


def _write_file(path: Path, text: str) -> None:
    """Write a whole file or nothing (a reader never sees half a report)."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror}") from exc


# --- evidence packages: export, keygen, verify-package (wacz.py, waczcheck.py, signing.py) -


@cli.command()
@click.argument("urls", nargs=-1, required=True)
@click.option(
    "--wacz",
    "wacz_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The package to write.",
)
@click.option(
    "--sign",
    "key_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Sign the package digest with this key (from `preserve keygen`).",
)
@click.option(
    "--timestamp",
    "tsa_urls",
    multiple=True,
    metavar="TSA_URL",
    help="Get an RFC 3161 time-stamp token over the package digest from this "
    "time-stamping authority (repeatable).",
)
@click.option("--title", help="The package's title [default: from the first article].")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def export(
    ctx: click.Context,
    urls: tuple[str, ...],
    wacz_path: Path,
    key_path: Path | None,
    tsa_urls: tuple[str, ...],
    title: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Write an evidence package (WACZ 1.1.1): every capture of the article(s) and of the
    sources they cite, with the provenance of each, optionally signed and time-stamped.

    \b
    Example:
      preserve export https://example.org/2016/10/some-article --wacz evidence.wacz \\
          --sign preserve-signing-key.pem --timestamp https://freetsa.org/tsr
    """
    from preserve.evidence.keys import load_private_key
    from preserve.evidence.package import write_package as export_package

    articles = list(dict.fromkeys(canonical(url) for url in urls))
    for tsa in tsa_urls:
        if not tsa.lower().startswith(("http://", "https://")):
            raise UsageError(f"--timestamp {tsa!r} is not an http(s) URL")
    if wacz_path.exists() and not force:
        raise UsageError(f"{wacz_path} already exists (use --force to overwrite it)")
    if not wacz_path.resolve().parent.is_dir():
        raise UsageError(f"no such folder: {wacz_path.resolve().parent}")
    key = load_private_key(key_path) if key_path is not None else None
    archive = _archive(ctx, create=False, writes=False)
    now = utc_now()
    try:
        result = export_package(
            archive.store,
            archive.warcs,
            articles,
            wacz_path,
            now=now,
            key=key,
            tsa_urls=tsa_urls,
            title=title,
        )
        logged = None if archive.store.read_only else _log_export(archive, articles, result, now)
    finally:
        archive.close()
    if as_json:
        _emit_json(
            {
                **result.to_json(),
                "logged": {
                    "export_id": int(logged.row_id),
                    "chain_entry": logged.seq,
                    "chain_head": logged.entry_hash,
                }
                if logged
                else None,
            }
        )
        return
    click.echo(f"Wrote {wacz_path} ({result.size} bytes, sha256:{result.sha256})")
    click.echo(
        f"  {result.pages} pages, {result.captures} captures, {result.records} WARC "
        f"records in {result.warcs} file(s)"
    )
    click.echo(f"  package digest {result.digest}")
    if result.signed_by:
        click.echo(f"  signed by key {result.signed_by}")
    for stamp in result.timestamps:
        click.echo(f"  time-stamped {stamp['genTime']} by {stamp['tsa']}")
    if logged:
        click.echo(
            f"  logged in the archive as export {logged.row_id}: chain entry {logged.seq}, "
            f"head {logged.entry_hash}"
        )
    else:
        click.echo("  not logged in the archive: it is read-only here")
    click.echo(f"Check it with: preserve verify-package {wacz_path}")


def _log_export(
    archive: Archive, articles: list[str], result: ExportResult, now: datetime
) -> Entry:
    """The chain of custody: who made which package from the archive, and when."""
    return archive.store.add_export(
        NewExport(
            exported_at=iso(now),
            wacz=str(result.path.resolve()),
            bytes=result.size,
            sha256=result.sha256,
            digest=result.digest,
            articles=json.dumps(articles, ensure_ascii=False),
            captures=result.captures,
            records=result.records,
            signed_by=result.signed_by,
            timestamps=json.dumps(result.timestamps, ensure_ascii=False),
            tool_version=__version__,
            host=socket.gethostname(),
            pid=os.getpid(),
        )
    )


@cli.command()
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default="preserve-signing-key.pem",
    show_default=True,
    help="Where to write the private key (PEM, mode 0600).",
)
def keygen(out_path: Path) -> None:
    """Make an ECDSA P-256 key to sign evidence packages with (`export --sign`). The public
    key is written beside it and printed: hand it to whoever will verify your packages, by
    a channel they trust.

    \b
    Example:
      preserve keygen --out ~/.preserve/signing-key.pem
    """
    from preserve.evidence.keys import fingerprint, generate_key, public_key_b64

    key = generate_key(out_path)
    public = public_key_b64(key)
    name = out_path.name[:-4] if out_path.name.endswith(".pem") else out_path.name
    public_path = out_path.with_name(name + ".pub.pem")
    pem = (
        "-----BEGIN PUBLIC KEY-----\n"
        + "\n".join(public[i : i + 64] for i in range(0, len(public), 64))
        + "\n-----END PUBLIC KEY-----\n"
    )
    try:
        public_path.write_text(pem, encoding="ascii")
    except OSError as exc:
        raise UsageError(f"cannot write {public_path}: {exc.strerror}") from exc
    click.echo(f"Wrote the private key {out_path} (mode 0600): keep it secret.")
    click.echo(f"Wrote the public key {public_path}.")
    click.echo(f"Public key: {public}")
    click.echo(f"Fingerprint: {fingerprint(public)}")


@cli.command("verify-package")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--tsa-root",
    "tsa_roots",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A certificate (PEM or DER) trusted to anchor time-stamp tokens "
    "(repeatable; a PEM file may hold a root and intermediates).",
)
@click.option(
    "--public-key",
    help="The key the package must be signed with: a PEM file "
    "(public or private key) or the base64 public key `keygen` printed.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def verify_package_command(
    ctx: click.Context,
    file: Path,
    tsa_roots: tuple[Path, ...],
    public_key: str | None,
    as_json: bool,
) -> None:
    """Check an evidence package offline: every file's hash and size, the WARC records, the
    package digest, the signature and each time-stamp token; say what each check proves.
    Exits 1 if any check fails.

    \b
    Example:
      preserve verify-package evidence.wacz --tsa-root tsa-root.pem
    """
    from preserve.evidence.keys import load_public_key_arg
    from preserve.evidence.packagecheck import report_text, verify_package
    from preserve.evidence.timestamps import load_roots

    roots = load_roots(tsa_roots)
    expected = load_public_key_arg(public_key) if public_key is not None else None
    result = verify_package(file, roots, expected)
    if as_json:
        _emit_json(result.to_json())
    else:
        click.echo(report_text(result), nl=False)
    if not result.ok:
        ctx.exit(1)


# --- end of evidence packages ------------------------------------------------------------


@cli.command()
@click.option(
    "--since",
    help="Only read WARC files closed at or after this time (ISO 8601); "
    "every file is still looked for, and the chain checked in full.",
)
@click.option(
    "--head",
    "heads",
    multiple=True,
    metavar="HASH",
    help="A chain head noted down earlier (from verify, or an exported package) that must "
    "still be an entry of the chain (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def verify(ctx: click.Context, since: str | None, heads: tuple[str, ...], as_json: bool) -> None:
    """Check the whole archive: every WARC record (gzip members, lengths, digests), every
    database row against its record, missing, extra, renamed or unfinished files, and the
    hash chain of the log. Exits 1 if anything is wrong.

    \b
    Example:
      preserve verify
      preserve verify --since 2026-11-01 --json
      preserve verify --head sha256:52aaba36…   # a head noted down at an export
    """
    from preserve.evidence.verify import render
    from preserve.evidence.verify import verify as verify_archive
    from preserve.store.chain import is_hash

    for noted in heads:
        if not is_hash(noted):
            raise UsageError(
                f"--head {noted!r}: a chain head is spelled as verify prints it, "
                "sha256: and 64 hexadecimal digits"
            )
    archive = _archive(ctx, create=False, writes=False)
    try:
        result = verify_archive(archive, since=_when(since), heads=heads)
    finally:
        archive.close()
    if as_json:
        _emit_json(result.to_json())
    else:
        click.echo(render(result), nl=False)
    if not result.ok:
        ctx.exit(1)


@cli.command("find-text")
@click.argument("quote")
@click.option("--url", help="Only captures of this URL.")
@click.option("--ignore-case", "-i", is_flag=True, help="Match regardless of case.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
def find_text_command(
    ctx: click.Context, quote: str, url: str | None, ignore_case: bool, as_json: bool
) -> None:
    """Which captures contain this text (exact phrase, after the same normalisation as the
    stored texts), and whether later captures of the same URL still do.

    \b
    Example:
      preserve find-text "the recordings would be shared with international observers"
    """
    from preserve.engine.findtext import find_text, render

    archive = _archive(ctx, create=False, writes=False)
    try:
        result = find_text(
            archive.store, quote, url=canonical(url) if url else None, ignore_case=ignore_case
        )
    finally:
        archive.close()
    if as_json:
        _emit_json(result.to_json())
    else:
        click.echo(render(result), nl=False)


@cli.command()
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
@click.pass_context
def show(ctx: click.Context, url: str, at_time: str | None, mode: str) -> None:
    """Print what a capture archived: its main text, or its exact bytes (--raw). Which
    capture is shown goes to stderr.

    \b
    Example:
      preserve show https://example.org/2016/10/some-article --at 2026-11-01
      preserve show https://example.org/docs/annex.pdf --raw > annex.pdf
    """
    from preserve.engine import show as shown

    url = canonical(url)
    archive = _archive(ctx, create=False, writes=False)
    try:
        capture = shown.pick_capture(archive.store, url, _when(at_time))
        if mode == "raw":
            body = shown.payload(archive.store, archive.warcs, capture)
            click.echo(shown.header(capture, body), err=True)
            sys.stdout.flush()
            sys.stdout.buffer.write(body.body)
            sys.stdout.buffer.flush()
        else:
            text = shown.main_text(archive.store, capture)
            click.echo(shown.header(capture), err=True)
            click.echo(text)
        if line := shown.tls_line(capture):
            click.echo(line, err=True)
        if note := shown.later_note(archive.store, capture):
            click.echo(note, err=True)
    finally:
        archive.close()
