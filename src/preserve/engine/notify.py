"""Telling someone what a check found: the user's `--on-change` command runs once per check
run with the news (`changes.news`) as JSON on its stdin, so that a takedown or an edit
reaches a person, by mail, chat or a ticket, the day it is seen."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import IO, Any

from preserve.engine.results import CheckResult

# How long the command may take before it is stopped (a mail or a chat message is quick).
COMMAND_TIMEOUT = 120.0


class News:
    """The news of one check run, spooled as it comes (a check of a million URLs never
    holds its results), then handed to the command: `{"run", "archive", "results"}`, each
    result as `check --json` writes it."""

    def __init__(self, archive: Path) -> None:
        self.archive = archive
        self.run_id: int | None = None
        self.count = 0
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=1 << 20)

    def add(self, run_id: int, results: list[CheckResult]) -> None:
        self.run_id = run_id
        for result in results:
            if result.news:
                entry = json.dumps(result.to_json(), ensure_ascii=False, default=str)
                self._file.write((",\n    " if self.count else "").encode() + entry.encode())
                self.count += 1

    def tell(self, command: str) -> str | None:
        """Run `command` (a shell line) with the news on stdin, if there is any. Returns
        None, or a line saying how the command failed: the check is stored either way."""
        if not self.count:
            return None
        document = tempfile.TemporaryFile()
        with document:
            head = {"run": self.run_id, "archive": str(self.archive)}
            document.write(json.dumps(head, ensure_ascii=False)[:-1].encode())
            document.write(b', "results": [\n    ')
            self._file.seek(0)
            while chunk := self._file.read(1 << 16):
                document.write(chunk)
            document.write(b"\n  ]\n}\n")
            document.seek(0)
            return _run(command, document, self._environment())

    def close(self) -> None:
        self._file.close()

    def tell_and_close(self, command: str | None) -> str | None:
        """`tell` the command, if one is given, then close: a line saying how the command
        failed, or None."""
        try:
            return self.tell(command) if command else None
        finally:
            self.close()

    def _environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "PRESERVE_ARCHIVE": str(self.archive),
            "PRESERVE_RUN": str(self.run_id or ""),
            "PRESERVE_NEWS": str(self.count),
        }


def _run(command: str, stdin: IO[bytes], environment: dict[str, Any]) -> str | None:
    try:
        # Its output is not preserve's (which may be JSON on stdout): kept, and its last
        # line said if it fails.
        done = subprocess.run(
            command,
            shell=True,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=environment,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return f"the --on-change command did not finish in {COMMAND_TIMEOUT:.0f} s: stopped"
    except OSError as exc:
        return f"the --on-change command could not be run: {exc.strerror or exc}"
    if done.returncode != 0:
        said = done.stdout.decode("utf-8", "replace").strip().splitlines()
        return f"the --on-change command failed (exit {done.returncode})" + (
            f": {said[-1][:200]}" if said else ""
        )
    return None
