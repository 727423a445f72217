"""The `preserve` group: its global options, and the one place where a PreserveError (or a
failure of the storage under the archive) becomes `Error: …` on stderr and an exit code."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import click

from preserve import __version__
from preserve.errors import ArchiveError, PreserveError

DEFAULT_ARCHIVE = "archive"


class PreserveGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PreserveError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except (OSError, sqlite3.Error) as exc:
            click.echo(f"Error: {storage_error(exc)}", err=True)
            ctx.exit(ArchiveError.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)
        finally:
            # The command is done with its extraction workers (if it started any).
            if (pool := sys.modules.get("preserve.extract.pool")) is not None:
                pool.stop()


def storage_error(exc: OSError | sqlite3.Error) -> str:
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
