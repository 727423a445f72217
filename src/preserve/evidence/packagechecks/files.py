"""Checks of a package's files: as the datapackage lists them, and as replay tools need them.

Each file listed with its size and sha256, none unlisted, and the parts of a WACZ that
replay tools need, stored as they need them."""

from __future__ import annotations

import json
import zipfile
import zlib
from typing import Any

from preserve.evidence.hashing import sha256_of
from preserve.evidence.layout import (
    DATAPACKAGE,
    DIGEST,
    IDX_PATH,
    INDEX_PATH,
    PAGES_PATH,
    STORED_PREFIXES,
    WACZ_VERSION,
)
from preserve.evidence.packagechecks.report import PackageReport, read_member

_PROVES_FILES = (
    "Every file listed in datapackage.json has exactly the listed size and sha256. "
    "Alone this shows no accident changed the package; someone who altered a file "
    "could have rewritten datapackage.json too, which the signature and time-stamps "
    "rule out."
)

_PROVES_STRUCTURE = (
    "The package has the parts of a WACZ 1.1.1 that replay tools need (pages, "
    "CDXJ index, uncompressed WARCs)."
)


def check_files(
    package: zipfile.ZipFile, names: list[str], listed: dict[str, Any], report: PackageReport
) -> None:
    """Every listed file is in the package with its listed size and sha256; no other file
    is, besides the datapackage and its digest."""
    failed = False
    for name, resource in listed.items():
        if name not in names:
            report.add("files", "fail", f"{name} is listed in datapackage.json but missing")
            failed = True
            continue
        try:
            with package.open(name) as member:
                size, sha256 = sha256_of(member)
            digest = f"sha256:{sha256}"
        except (zipfile.BadZipFile, zlib.error, OSError) as exc:
            report.add("files", "fail", f"{name} is damaged in the ZIP ({exc})")
            failed = True
            continue
        if digest != resource.get("hash"):
            report.add(
                "files",
                "fail",
                f"hash mismatch: {name} has {digest}, datapackage.json says {resource.get('hash')}",
            )
            failed = True
        elif size != resource.get("bytes"):
            report.add(
                "files",
                "fail",
                f"size mismatch: {name} has {size} bytes, "
                f"datapackage.json says {resource.get('bytes')}",
            )
            failed = True
    for name in names:
        if name not in listed and name not in (DATAPACKAGE, DIGEST):
            report.add("files", "fail", f"{name} is in the package but not in datapackage.json")
            failed = True
    if not failed:
        report.add(
            "files",
            "ok",
            f"{len(listed)} files match datapackage.json (sha256 and size), no unlisted file",
            _PROVES_FILES,
        )


def check_structure(
    package: zipfile.ZipFile, names: list[str], datapackage: dict[str, Any], report: PackageReport
) -> None:
    """The parts of a WACZ 1.1.1 that replay tools need are there, stored as they need them."""
    problems = []
    if datapackage.get("wacz_version") != WACZ_VERSION:
        problems.append(
            f"wacz_version is {datapackage.get('wacz_version')!r}, not {WACZ_VERSION!r}"
        )
    if datapackage.get("profile") != "data-package":
        problems.append("profile is not 'data-package'")
    warcs = [n for n in names if n.startswith("archive/") and n.endswith((".warc", ".warc.gz"))]
    if not warcs:
        problems.append("no WARC file under archive/")
    for index in (INDEX_PATH, IDX_PATH):
        if index not in names:
            problems.append(f"no {index}")
    for info in package.infolist():
        if info.filename.startswith(STORED_PREFIXES) and info.compress_type != zipfile.ZIP_STORED:
            problems.append(f"{info.filename} is compressed in the ZIP (must be stored)")
    pages = read_member(package, PAGES_PATH, report, "structure") if PAGES_PATH in names else None
    if PAGES_PATH not in names:
        problems.append(f"no {PAGES_PATH}")
    elif pages is not None:
        problems += _pages_problems(pages)
    if problems:
        for problem in problems:
            report.add("structure", "fail", problem)
    else:
        report.add(
            "structure",
            "ok",
            f"WACZ {WACZ_VERSION}: {len(warcs)} WARC file(s) stored "
            "uncompressed, CDXJ index (blocks and IDX), pages.jsonl",
            _PROVES_STRUCTURE,
        )


def _pages_problems(data: bytes) -> list[str]:
    lines = data.decode("utf-8", errors="replace").splitlines()
    try:
        header = json.loads(lines[0]) if lines else {}
        entries = [json.loads(line) for line in lines[1:] if line.strip()]
    except ValueError:
        return [f"{PAGES_PATH} is not JSON lines"]
    if header.get("format") != "json-pages-1.0":
        return [f"{PAGES_PATH} has no json-pages-1.0 header"]
    if any("url" not in e or "ts" not in e for e in entries):
        return [f"{PAGES_PATH} has a page without url or ts"]
    return []
