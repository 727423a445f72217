"""Check of the hash-chain entries that a package's provenance carries.

Each is recomputed from the row it carries, and those rows are held against the captures
and WARC files the provenance describes."""

from __future__ import annotations

import json
import zipfile
import zlib
from typing import Any

from preserve.evidence.layout import PROVENANCE_PATH
from preserve.evidence.packagechecks.report import PackageReport
from preserve.store import chain as chain_log

_PROVES_CHAIN = (
    "The captures and WARC files described in provenance.json are the rows that the "
    "archive's hash chain logged when they were written. That they were not changed "
    "afterwards shows only against a chain head kept elsewhere: `preserve verify --head` "
    "with this head on the archive checks that it is still an entry of its chain; this "
    "package's signature and time-stamps fix the head as of the export."
)


_CHAINED_CAPTURE_FIELDS = (
    "url",
    "started_at",
    "ended_at",
    "status",
    "http_status",
    "final_url",
    "peer_ip",
    "title",
    "record_id",
)
_CHAINED_HASHES = ("payload_sha256", "decoded_sha256", "text_sha256")


def check_chain(
    package: zipfile.ZipFile, names: list[str], listed: dict[str, Any], report: PackageReport
) -> None:
    """Recompute each chain entry in provenance.json from the row it carries, and compare
    those rows with the captures and WARC files the provenance describes."""
    if PROVENANCE_PATH not in names:
        return
    try:
        provenance = json.loads(package.read(PROVENANCE_PATH))
    except (ValueError, KeyError, zipfile.BadZipFile, zlib.error, OSError):
        return  # the records check has said so
    found = provenance.get("chain") if isinstance(provenance, dict) else None
    if not found:
        report.add("chain", "info", "the archive kept no hash chain for these rows")
        return
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in sorted(found.get("entries") or [], key=lambda e: e.get("seq", 0)):
        latest[(entry.get("table_name"), entry.get("row_id"))] = entry
    captures = {str(c.get("id")): c for c in provenance.get("captures") or []}
    warcs = {w.get("copied_from"): w for w in provenance.get("warc_files") or []}
    problems = []
    for (table, row_id), entry in latest.items():
        row = entry.get("row")
        where = f"chain entry {entry.get('seq')} ({table} {row_id})"
        if table not in chain_log.COLUMNS or not isinstance(row, dict):
            problems.append(f"{where} carries no row to recompute it from")
            continue
        if chain_log.entry_hash(entry.get("prev_hash"), table, row) != entry.get("entry_hash"):
            problems.append(
                f"{where} does not hash to its entry_hash: the row in "
                "provenance.json is not the row that was logged"
            )
            continue
        if table == "captures" and row_id in captures:
            capture = captures[row_id]
            differ = [f for f in _CHAINED_CAPTURE_FIELDS if capture.get(f) != row.get(f)]
            differ += [f for f in _CHAINED_HASHES
                       if (capture.get("hashes") or {}).get(f) != row.get(f)]  # fmt: skip
            if differ:
                problems.append(
                    f"capture {row_id} in provenance.json differs from its logged "
                    f"row: {', '.join(differ)}"
                )
        elif table == "warc_files" and row_id in warcs:
            warc = warcs[row_id]
            if warc.get("source_sha256") != row.get("sha256"):
                problems.append(
                    f"WARC file {row_id}: provenance.json gives sha256 "
                    f"{warc.get('source_sha256')}, its logged row {row.get('sha256')}"
                )
            elif (
                warc.get("identical_to_source")
                and (listed.get(warc.get("path")) or {}).get("hash")
                != f"sha256:{row.get('sha256')}"
            ):
                problems.append(
                    f"{warc.get('path')} is said to be identical to {row_id}, but "
                    "its sha256 is not the one the chain logged"
                )
    for problem in problems:
        report.add("chain", "fail", problem)
    if not problems:
        head = found.get("head") or {}
        report.add(
            "chain",
            "ok",
            f"{len(latest)} chain entries recompute from the rows in "
            "provenance.json, which match its captures and WARC files; chain head "
            f"{head.get('entry_hash')} (entry {head.get('seq')})",
            _PROVES_CHAIN,
        )
