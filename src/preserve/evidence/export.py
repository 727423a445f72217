"""Exporting evidence from an archive: a package written, and logged in the archive.

The log entry is the chain of custody: who made which package from the archive, and when,
as a row of `exports` covered by the archive's hash chain."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from preserve import __version__
from preserve.engine.archive import Archive
from preserve.errors import UsageError
from preserve.evidence.package import ExportResult, write_package
from preserve.store.chain import Entry
from preserve.store.rows import NewExport
from preserve.times import iso
from preserve.urls import canonical


@dataclass(frozen=True)
class Exported:
    """A package written from an archive, and the chain entry that logged it (None when the
    archive is read-only here, so the export could not be logged)."""

    package: ExportResult
    logged: Entry | None


def export(
    archive: Archive,
    articles: Sequence[str],
    path: Path,
    *,
    now: datetime,
    key: ec.EllipticCurvePrivateKey | None = None,
    tsa_urls: Sequence[str] = (),
    title: str | None = None,
) -> Exported:
    """Write the evidence package of `articles` (URLs, canonicalised here) to `path`, then
    log it in the archive unless the archive is read-only. `now`: the package's time, and
    the export's in the log; `key`: sign the package; `tsa_urls`: have it time-stamped by
    each of these authorities. Raises UsageError for an article never captured; nothing is
    left at `path` if writing fails."""
    urls = list(dict.fromkeys(canonical(url) for url in articles))
    if not urls:
        raise UsageError("no article to export")
    package = write_package(
        archive.store,
        archive.warcs,
        urls,
        path,
        now=now,
        key=key,
        tsa_urls=tsa_urls,
        title=title,
    )
    logged = None if archive.store.read_only else _log(archive, urls, package, now)
    return Exported(package, logged)


def _log(archive: Archive, articles: list[str], package: ExportResult, now: datetime) -> Entry:
    """The chain of custody: which package was made from the archive, when, by which host,
    process and tool, signed by which key and time-stamped by whom."""
    return archive.store.add_export(
        NewExport(
            exported_at=iso(now),
            wacz=str(package.path.resolve()),
            bytes=package.size,
            sha256=package.sha256,
            digest=package.digest,
            articles=json.dumps(articles, ensure_ascii=False),
            captures=package.captures,
            records=package.records,
            signed_by=package.signed_by,
            timestamps=json.dumps(package.timestamps, ensure_ascii=False),
            tool_version=__version__,
            host=socket.gethostname(),
            pid=os.getpid(),
        )
    )
