"""What the commands share: the fetch options, opening the archive and its settings, and
printing (JSON documents, colour, a progress bar on a terminal)."""

from __future__ import annotations

import shutil
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from queue import SimpleQueue
from typing import Any

import click

from preserve import jsondoc, processes
from preserve.config import SETTINGS_FILE, Config, load_config
from preserve.engine.archive import Archive, Run
from preserve.engine.captured import Step
from preserve.errors import UsageError

PROGRESS_WIDTH = 30

json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")

on_change_option = click.option(
    "--on-change",
    metavar="COMMAND",
    help="Run this shell command when the check finds news (an edit, a takedown, a move, a "
    "return), with the news as JSON on its stdin.",
)

notify_option = click.option(
    "--notify",
    "notify",
    multiple=True,
    metavar="URL",
    help="Send the news to this Apprise URL too (mailto://, slack://, matrix://, tgram://, "
    "ntfy://, json://…; repeatable; or `notify = [...]` in preserve.toml).",
)


# --- rendering in a browser (issue 16) ---
browser_option = click.option(
    "--browser",
    type=click.Choice(["auto", "always", "never"]),
    default=None,
    help="When to render a page in Chromium: auto (when its text is missing or it is a "
    "script shell), always, never; remembered for its checks [default: auto].",
)
# --- end of rendering ---


def notify_urls(ctx: click.Context, config: Config, given: tuple[str, ...]) -> tuple[str, ...]:
    """The notification URLs of a check: the archive's settings and the command line's,
    each checked now (an unknown one is refused before anything is fetched). Their tokens
    are secrets: settings that hold them should be readable by their owner only."""
    from preserve.engine.notify import notifier

    urls = tuple(dict.fromkeys((*config.notify, *given)))
    if urls:
        notifier(urls)
    path = archive_path(ctx) / SETTINGS_FILE
    if config.notify and path.exists() and path.stat().st_mode & 0o077:
        click.echo(
            f"Warning: {path} holds notification URLs (their tokens are secrets) and others "
            f"may read it: chmod 600 {path}",
            err=True,
        )
    return urls


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
        json_option,
        click.option("--quiet", "-q", is_flag=True, help="No progress output."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def archive_after_command(command: click.Command) -> None:
    """Let `--archive DIR` come after the command's name too (`preserve status --archive
    DIR`), as people type it; given in both places, the later one wins."""
    if command.name == "keygen" or any(p.name == "archive_after" for p in command.params):
        return  # keygen works outside any archive
    command.params.append(
        click.Option(
            ["--archive", "archive_after"],
            type=click.Path(file_okay=False, path_type=Path),
            expose_value=False,
            is_eager=True,
            callback=_archive_given_after,
            help="The archive folder (env PRESERVE_ARCHIVE); also accepted before the command.",
        )
    )


def _archive_given_after(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.obj["archive"] = value
        ctx.obj["archive_given"] = True


def archive_given(ctx: click.Context) -> bool:
    """Whether the user named the archive (before or after the command), rather than it
    being the default."""
    if ctx.obj.get("archive_given"):
        return True
    parent = ctx.parent
    return (
        parent is not None
        and parent.get_parameter_source("archive_path") != click.core.ParameterSource.DEFAULT
    )


def archive_path(ctx: click.Context) -> Path:
    path: Path = ctx.obj["archive"]
    return path


def open_archive(ctx: click.Context, *, create: bool = True, writes: bool = True) -> Archive:
    return Archive(archive_path(ctx), create=create, writes=writes, on_wait=_waiting)


def settings(ctx: click.Context, **overrides: Any) -> Config:
    """The archive's settings with the options given on the command line (None: not given)."""
    return load_config(archive_path(ctx), **overrides)


def _waiting() -> None:
    click.echo("Waiting: another preserve process is writing to this archive…", err=True)


class RunNoted:
    """Hears of a command's run as it starts (`on_run`): keeps its id, and says on stderr
    what it repaired of runs that died."""

    def __init__(self) -> None:
        self.id: int | None = None
        self.queued = False  # handed to the workers, not waited for: nothing to report

    def __call__(self, run: Run) -> None:
        self.id = run.id
        for recovery in run.recovered:
            click.echo(f"Recovered: {recovery.detail}", err=True)


def say_skipped(urls: list[str], runs: list[int]) -> None:
    """On stderr: the URLs another check is checking right now, which this one skips."""
    by = f" (run {', '.join(map(str, runs))})" if runs else ""
    click.echo(
        f"Skipped {len(urls)} URL(s) that another check{by} is checking right now: "
        + ", ".join(urls[:3])
        + (" …" if len(urls) > 3 else ""),
        err=True,
    )


def write_stdout(text: str) -> None:
    click.echo(text, nl=False)


def emit_json(document: Any) -> None:
    jsondoc.write_document(write_stdout, document)


def colour() -> bool:
    return sys.stdout.isatty()


@contextmanager
def progress_bar(label: str, enabled: bool) -> Iterator[Callable[[Step], None] | None]:
    """A progress bar on stderr, only when stderr is a terminal (never in logs, pipes or
    --json runs): done of total, the counts by outcome so far, and the URL just done."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    counts: dict[str, int] = {}

    def show(step: Step) -> None:
        counts[step.outcome] = counts.get(step.outcome, 0) + 1
        filled = PROGRESS_WIDTH * step.done // step.total if step.total else PROGRESS_WIDTH
        bar = "█" * filled + "·" * (PROGRESS_WIDTH - filled)
        tally = " · ".join(f"{n} {word}" for word, n in sorted(counts.items()))
        line = f"{label} {bar} {step.done}/{step.total}  {tally}  {step.url}"
        width = shutil.get_terminal_size((100, 20)).columns - 1
        click.echo("\r" + line[:width] + "\033[K", nl=False, err=True)

    click.echo(f"\r{label} {'·' * PROGRESS_WIDTH} 0/…  starting…", nl=False, err=True)
    try:
        yield show
    finally:
        click.echo("\r\033[K", nl=False, err=True)


def on_signal_stop(
    stop: threading.Event, then: Callable[[], None] | None = None
) -> Callable[[int, object], None]:
    """A handler for SIGINT and SIGTERM that sets `stop` (then calls `then`), on a thread
    started now. Not in the handler itself: it runs in the main thread between two of its
    steps, and `stop.set()` there waits forever for the event's lock when the main thread
    was inside `stop.wait()` (a `watch` given SIGTERM between two runs hung so). The handler
    only puts the signal on a `SimpleQueue`, whose `put` is made to be called from signal
    handlers."""
    signals: SimpleQueue[int] = SimpleQueue()

    def wait_for_signal() -> None:
        signals.get()
        stop.set()
        if then is not None:
            then()

    # A waiting thread: the extraction workers are still forked from this process.
    processes.waiting_thread(wait_for_signal, "preserve-signals")
    return lambda signum, _frame: signals.put(signum)


def stopped_by_signals() -> threading.Event:
    """An event that SIGINT or SIGTERM sets (`on_signal_stop`), for a command that runs
    until it is told to stop (`watch`, `worker`)."""
    stop = threading.Event()
    handler = on_signal_stop(stop)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handler)
    return stop


@contextmanager
def interruptible() -> Iterator[threading.Event]:
    """Ctrl-C (SIGINT) or SIGTERM while a run fetches. The first time: a stop, said on
    stderr; the fetches under way end at once, what was fetched is stored, and the run ends
    within a second or two. The second time: at once (KeyboardInterrupt), what was not yet
    committed rolled back, the archive left whole for `verify`."""
    stop = threading.Event()
    asked: list[int] = []  # read here rather than `stop`, which is set a moment later

    def said() -> None:
        click.echo(
            "\nStopping: the fetches under way end now, and what was fetched is kept "
            "(Ctrl-C again to stop at once)…",
            err=True,
        )

    first = on_signal_stop(stop, said)

    def handle(signum: int, frame: object) -> None:
        if asked:
            raise KeyboardInterrupt
        asked.append(signum)
        first(signum, frame)

    previous = {signum: signal.signal(signum, handle) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            # Stopped, the run has ended, and what it stored is being printed: a second
            # Ctrl-C now ends the command at once too, with 130. A KeyboardInterrupt (the
            # default) raised there could land where nothing turns it into 130: click's
            # "Aborted!" and exit 1, or the interpreter's exit, killed by the signal.
            signal.signal(signum, _exit_at_once if asked else handler)


def _exit_at_once(_signum: int, _frame: object) -> None:
    """A second Ctrl-C (or SIGTERM) once a stopped run has ended: exit 130 now, the files
    closed on the way out (the run itself is already stored)."""
    click.echo("\nInterrupted.", err=True)
    raise SystemExit(130)


def write_file(path: Path, text: str) -> None:
    """Write a whole file or nothing (a reader never sees half a report)."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror}") from exc
