"""Checking an evidence package offline (`preserve verify-package`), and the verdict.

Every file against the datapackage, the datapackage against its digest, the signature and
time-stamp tokens against the digest, every WARC record against its own digests, the index
against the records, and each hash-chain entry in the provenance recomputed from the row it
carries. The layout it checks is the one `evidence.package` writes (see `evidence.layout`);
each part is checked by a module of `evidence.packagechecks`."""

from __future__ import annotations

import hashlib
import json
import textwrap
import zipfile
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509

from preserve.evidence.layout import DATAPACKAGE
from preserve.evidence.packagechecks.chain import check_chain
from preserve.evidence.packagechecks.digest import (
    check_digest,
    check_signature,
    check_timestamps,
)
from preserve.evidence.packagechecks.files import check_files, check_structure
from preserve.evidence.packagechecks.records import check_records
from preserve.evidence.packagechecks.report import PackageReport, read_member


def verify_package(
    path: Path, roots: Sequence[x509.Certificate] = (), public_key: str | None = None
) -> PackageReport:
    """Check an exported package offline. Never raises for a damaged package: every problem
    is a failed check."""
    report = PackageReport(Path(path))
    try:
        _verify(report, roots, public_key)
    except Exception as exc:  # a package malformed in a way no check foresaw: still one line
        report.add(
            "package",
            "fail",
            f"cannot be read as an evidence package ({type(exc).__name__}: {exc})",
        )
    return report


def report_text(report: PackageReport) -> str:
    """The verdict for a terminal: one line per check, then what the passed checks prove."""
    lines = [
        f"{report.path.name}: created {report.created or '?'} by "
        f"{report.software or '?'}, digest {report.digest or '?'}"
    ]
    for check in report.checks:
        lines.append(f"{check.status:<5} {check.name:<10} {check.detail}")
    proven = [c for c in report.checks if c.proves and c.status in ("ok", "warn")]
    if proven:
        lines += ["", "What the passed checks prove (and what they do not):"]
        seen: set[str] = set()
        for check in proven:
            if check.name in seen:
                continue
            seen.add(check.name)
            lines += textwrap.wrap(
                check.proves, width=96, initial_indent=f"  {check.name}: ", subsequent_indent="    "
            )
    lines.append("")
    problems = report.problems
    warnings = sum(1 for c in report.checks if c.status == "warn")
    if problems:
        lines.append(f"FAILED: {len(problems)} problem(s).")
    elif warnings:
        lines.append(f"OK: no check failed ({warnings} warning(s) above).")
    else:
        lines.append("OK: every check passed.")
    return "\n".join(lines) + "\n"


def _verify(
    report: PackageReport, roots: Sequence[x509.Certificate], public_key: str | None
) -> None:
    path = report.path
    try:
        package = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        report.add("files", "fail", f"not a readable ZIP file ({exc})")
        return
    with package:
        names = [i.filename for i in package.infolist() if not i.is_dir()]
        datapackage_bytes = read_member(package, DATAPACKAGE, report)
        if datapackage_bytes is None:
            return
        try:
            datapackage = json.loads(datapackage_bytes)
            resources = datapackage["resources"]
            listed = {r["path"]: r for r in resources}
        except (ValueError, KeyError, TypeError) as exc:
            report.add("files", "fail", f"datapackage.json is not a WACZ datapackage ({exc})")
            return
        report.created = datapackage.get("created")
        report.software = datapackage.get("software")
        check_files(package, names, listed, report)
        check_structure(package, names, datapackage, report)
        check_records(package, names, report)
        check_chain(package, names, listed, report)
        digest = "sha256:" + hashlib.sha256(datapackage_bytes).hexdigest()
        report.digest = digest
        digest_doc = check_digest(package, names, digest, report)
        if digest_doc is not None:
            check_signature(digest_doc, digest, datapackage, public_key, report)
            check_timestamps(digest_doc, datapackage_bytes, roots, report)
