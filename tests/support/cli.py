"""`preserve` run in this process through click's CliRunner: the one way the tests invoke a
command without starting a process (a test that needs a real process, for signals, exit
codes of the interpreter or stdout alone, runs the `preserve` script instead)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from click.testing import CliRunner, Result

import preserve.cli.main  # noqa: F401  (adds every family of commands to the group)
from preserve.cli.group import cli


class Preserve:
    """Runs `preserve [--archive ARCHIVE] ARGS…` through a command group: by default the
    group the `preserve` script runs (tests/test_docs.py passes the group it finds from the
    entry point)."""

    def __init__(self, group: click.Group | None = None) -> None:
        self.group = cli if group is None else group

    def run(self, archive: Path | str | None, *args: str, catch_exceptions: bool = True) -> Result:
        """The result of `preserve --archive ARCHIVE ARGS…` (no `--archive` when `archive`
        is None: for commands that need none, or that are given it after their name).
        stdout and stderr are apart, as in a terminal: `result.stdout`, `result.stderr`."""
        head = [] if archive is None else ["--archive", str(archive)]
        return CliRunner().invoke(self.group, [*head, *args], catch_exceptions=catch_exceptions)

    def json(self, archive: Path | str | None, *args: str, code: int = 0) -> Any:
        """The document `preserve --archive ARCHIVE ARGS… --json` printed, once the command
        exited with `code`."""
        result = self.run(archive, *args, "--json")
        assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
        return json.loads(result.stdout)


# For helpers at module level, outside any test (the `preserve` fixture is this same object).
PRESERVE = Preserve()


def assert_one_error_line(result: Result) -> None:
    """A usage error: exit 2, nothing on stdout, one `Error: …` line on stderr."""
    assert result.exit_code == 2, (result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert result.stdout == ""
