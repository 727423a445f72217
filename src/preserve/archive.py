"""An archive is a folder: `preserve.db` (the index and the log) and `warcs/` (WARC files,
never rewritten once closed). This module opens one and starts runs in it."""

from __future__ import annotations

import os
import socket
from dataclasses import asdict
from pathlib import Path
from typing import Any

from preserve import __version__
from preserve.config import Config
from preserve.errors import ArchiveError
from preserve.fetch import Clock
from preserve.store import Store
from preserve.warc import ClosedWarc, WarcWriter

DB_NAME = "preserve.db"
WARC_DIR = "warcs"


class Archive:
    """An archive folder, created on first use."""

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = path
        self.warcs = path / WARC_DIR
        if not path.exists() and not create:
            raise ArchiveError(f"no archive at {path} (run `preserve capture URL` first)")
        try:
            self.warcs.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArchiveError(f"cannot create the archive folder {path}: {exc.strerror}") from exc
        if not os.access(path, os.W_OK) or not os.access(self.warcs, os.W_OK):
            raise ArchiveError(f"the archive folder {path} is not writable")
        self.store = Store(path / DB_NAME)

    def close(self) -> None:
        self.store.close()

    def warc_path(self, name: str) -> Path:
        return self.warcs / name


class Run:
    """One command's work in an archive: a `runs` row and the WARC file(s) it writes."""

    def __init__(self, archive: Archive, command: str, config: Config, clock: Clock,
                 options: dict[str, Any]) -> None:
        self.archive = archive
        self.clock = clock
        self.config = config
        self.host = socket.gethostname()
        self.id = archive.store.start_run(
            command, {**options, "config": _plain(config)}, started_at=clock(),
            tool_version=__version__, host=self.host, pid=os.getpid())
        self.writer = WarcWriter(
            archive.warcs,
            info={"operator": f"preserve run {self.id} on {self.host}",
                  "preserve-run": str(self.id), "preserve-command": command},
            rotate_bytes=config.warc_rotate_bytes,
            clock=clock,
            on_closed=self._closed,
        )

    def _closed(self, warc: ClosedWarc) -> None:
        self.archive.store.add_warc_file(warc.name, self.id, size=warc.size,
                                         sha256=warc.sha256, closed_at=self.clock())

    def finish(self) -> None:
        self.writer.close()
        self.archive.store.end_run(self.id, self.clock())


def _plain(config: Config) -> dict[str, Any]:
    return {k: (v.total_seconds() if hasattr(v, "total_seconds") else v)
            for k, v in asdict(config).items()} | {"fetch": asdict(config.fetch)}
