"""The commands of an archive on servers: `preserve worker`, and check and watch handing their
work to the workers when a broker is set."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from preserve.cli.options import (
    RunNoted,
    archive_path,
    open_archive,
    say_skipped,
    settings,
    stopped_by_signals,
)

if TYPE_CHECKING:
    from preserve.config import Config
    from preserve.engine.archive import Archive
    from preserve.engine.results import CheckResult


def on_workers(
    archive: Archive,
    urls: tuple[str, ...],
    config: Config,
    options: dict[str, Any],
    due: bool,
    wait: bool,
    mode: str,
    run: RunNoted,
) -> Iterator[list[CheckResult]]:
    """A check queued for the workers: said in a line on stderr, or, with `--wait`, their
    results as they come, as a check run here prints them."""
    from preserve.workers.enqueue import enqueue_check, results_of

    queued = enqueue_check(
        archive, urls, config=config, options=options, due=due, on_skipped=say_skipped
    )
    if queued is None:
        return
    run.id = queued.run_id
    if not wait:
        run.queued = True
        if mode == "text":
            click.echo(_queued_line(len(queued.urls), len(queued.job_ids), queued.run_id), err=True)
        return
    yield from results_of(archive, queued)


def _queued_line(urls: int, jobs: int, run_id: int) -> str:
    return (
        f"Queued {urls} URL(s) in {jobs} job(s) for the workers (run {run_id}); "
        "`preserve check --wait` waits for them."
    )


def watch_on_workers(
    archive: Archive, config: Config, interval: float, quiet: bool, stop: threading.Event
) -> None:
    """`watch` with a broker: queue what is due, look again after `interval` seconds (URLs
    still being checked are held by their run, so never queued twice)."""
    from preserve.workers.enqueue import enqueue_check

    while not stop.is_set():
        queued = enqueue_check(archive, config=config, options={}, due=True, on_skipped=say_skipped)
        if queued is not None and queued.urls and not quiet:
            click.echo(_queued_line(len(queued.urls), len(queued.job_ids), queued.run_id))
        stop.wait(interval)


@click.command()
@click.option(
    "--threads",
    type=int,
    default=4,
    show_default=True,
    help="Jobs checked at once by this worker (each with its own fetches and connection).",
)
@click.pass_context
def worker(ctx: click.Context, threads: int) -> None:
    """Check the jobs that `check` and `watch` queue on the broker, until Ctrl-C or SIGTERM
    (which let the jobs under way finish). Start one on every machine that should work.

    \b
    Example:
      PRESERVE_DATABASE=postgresql://preserve@db/archive PRESERVE_BROKER=redis://queue:6379/0 \\
        PRESERVE_WARC_STORE=s3://warcs/archive preserve worker --threads 8
    """
    from preserve.workers.worker import serve

    settings(ctx)  # a malformed preserve.toml is refused before anything starts
    stop = stopped_by_signals()
    started = time.monotonic()
    click.echo(f"Worker started with {threads} thread(s); Ctrl-C to stop.", err=True)
    serve(archive_path(ctx), threads, stop)
    click.echo(f"Worker stopped after {time.monotonic() - started:.0f} s.", err=True)


@click.command()
@click.option(
    "--to",
    "to",
    required=True,
    metavar="URL",
    help="The PostgreSQL database to copy to "
    "(empty; its password in PGPASSWORD or ~/.pgpass, never here).",
)
@click.option(
    "--warc-store",
    metavar="s3://BUCKET/PREFIX",
    help="Where to store the WARC files "
    "(endpoint and keys from AWS_*); without it they stay in the archive's folder.",
)
@click.pass_context
def migrate(ctx: click.Context, to: str, warc_store: str | None) -> None:
    """Copy an archive in a folder onto servers: every row (the hash chain and the log of
    exports included) into an empty PostgreSQL database, every WARC file into an S3 store.
    The folder's archive is left as it was; verify gives the same chain head on both.

    \b
    Example:
      PGPASSWORD=… preserve migrate --to postgresql://preserve@db/archive \\
          --warc-store s3://warcs/archive
    """
    from preserve.engine.migrate import migrate as migrate_archive

    archive = open_archive(ctx, create=False, writes=False)
    try:
        done = migrate_archive(archive, to, warc_store, on_step=click.echo)
    finally:
        archive.close()
    click.echo(f"Chain head here:  {done.source_head}")
    click.echo(f"Chain head there: {done.target_head}")
    store = f" PRESERVE_WARC_STORE={done.warc_store}" if done.warc_store else ""
    click.echo(
        f"Use it with PRESERVE_DATABASE={done.database}{store} (or database and warc_store "
        "in preserve.toml), then `preserve verify`."
    )


COMMANDS = (worker, migrate)
