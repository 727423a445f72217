"""Telling someone what a check found, once per check run with news (`changes.news`), so
that a takedown or an edit reaches a person the day it is seen: the user's `--on-change`
command gets the news as JSON on its stdin, and each `--notify` URL (mail, Slack, Matrix,
Telegram, ntfy, a webhook…: what Apprise, the library changedetection.io uses, knows) gets a
message saying what changed."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from preserve.engine.results import CheckResult
from preserve.errors import UsageError

# How long the command may take before it is stopped (a mail or a chat message is quick).
COMMAND_TIMEOUT = 120.0
# A notification lists this many results at most, then how many more there were.
MOST_LISTED = 50


class News:
    """The news of one check run, spooled as it comes (a check of a million URLs never
    holds its results), then handed to the command: `{"run", "archive", "results"}`, each
    result as `check --json` writes it."""

    def __init__(self, archive: Path) -> None:
        self.archive = archive
        self.run_id: int | None = None
        self.count = 0
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=1 << 20)
        self._lines: list[str] = []  # the first MOST_LISTED results, for people

    def add(self, run_id: int, results: list[CheckResult]) -> None:
        self.run_id = run_id
        for result in results:
            if result.news:
                entry = json.dumps(result.to_json(), ensure_ascii=False, default=str)
                self._file.write((",\n    " if self.count else "").encode() + entry.encode())
                self.count += 1
                if len(self._lines) < MOST_LISTED:
                    self._lines.append(_line(result))

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

    def notify(self, urls: Sequence[str]) -> str | None:
        """Send the news, if there is any, to each Apprise URL. Returns None, or a line
        saying which failed (never their tokens): the check is stored either way."""
        if not self.count or not urls:
            return None
        sender = notifier(urls)
        more = self.count - len(self._lines)
        body = "\n".join(self._lines) + (f"\n… and {more} more" if more > 0 else "")
        title = f"preserve: {self.count} change(s) found by run {self.run_id}"
        if sender.notify(title=title, body=f"{body}\n\nArchive: {self.archive.resolve()}"):
            return None
        return f"a --notify service did not take the news of run {self.run_id}"

    def tell_and_close(self, command: str | None, notify: Sequence[str] = ()) -> list[str]:
        """`tell` the command and `notify` the URLs, when given, then close: a line for
        each that failed."""
        try:
            failed = [self.tell(command) if command else None, self.notify(notify)]
        finally:
            self.close()
        return [line for line in failed if line]

    def _environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "PRESERVE_ARCHIVE": str(self.archive),
            "PRESERVE_RUN": str(self.run_id or ""),
            "PRESERVE_NEWS": str(self.count),
        }


def _line(result: CheckResult) -> str:
    """A result of the news, for a person: outcome, URL, why."""
    outcome = result.outcome
    why = outcome.reason or ""
    if outcome.new_url:
        why = f"{why} → {outcome.new_url}".strip()
    if outcome.edit is not None and outcome.edit.first_changed_new:
        why += f"; now: {outcome.edit.first_changed_new[:160]}"
    return f"{outcome.outcome}: {result.url}" + (f" ({why})" if why else "")


def notifier(urls: Sequence[str]) -> Any:
    """An Apprise sender for these URLs; a UsageError naming (without its tokens) one that
    Apprise does not know. Apprise logs nothing here: its URLs carry credentials."""
    import logging

    import apprise

    logging.getLogger("apprise").setLevel(logging.CRITICAL)
    sender = apprise.Apprise()
    for url in urls:
        if not sender.add(url):
            raise UsageError(
                f"--notify {_redacted(url)}: not a notification URL (see Apprise's list: "
                "mailto://, slack://, matrix://, tgram://, ntfy://, json://…)"
            )
    return sender


def _redacted(url: str) -> str:
    """A notification URL without what may be a secret: its scheme and host only."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1].split(":", 1)[0]
    return f"{scheme}://{host}/…" if rest else url[:12]


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
