"""The `preserve` command: the group with every command family added to it."""

from __future__ import annotations

import gc

from preserve.cli import capturing, demo, evidence, reading, servers
from preserve.cli.group import cli
from preserve.cli.options import archive_after_command

for family in (capturing, reading, evidence, demo, servers):
    for command in family.COMMANDS:
        archive_after_command(command)
        cli.add_command(command)


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
