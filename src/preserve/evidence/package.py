"""Writing an evidence package: the chosen captures, their provenance, signed and stamped.

A WACZ 1.1.1 file of the captures `selection` chooses, with their provenance, optionally
signed and time-stamped. `layout` says what is where in it; `packagecheck` checks one
offline."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric import ec

from preserve import __version__
from preserve.evidence.hashing import CHUNK, sha256_of_path
from preserve.evidence.index import write_index
from preserve.evidence.keys import fingerprint
from preserve.evidence.layout import (
    DATAPACKAGE,
    DIGEST,
    IDX_PATH,
    INDEX_PATH,
    PAGES_PATH,
    PROVENANCE_PATH,
    STORED_PREFIXES,
    WACZ_VERSION,
)
from preserve.evidence.packagewarcs import write_warcs
from preserve.evidence.pages import list_pages
from preserve.evidence.provenance import build_provenance
from preserve.evidence.selection import select
from preserve.evidence.signatures import sign_digest
from preserve.evidence.timestamps import inspect_token, request_token
from preserve.store.database import Store

_ZIP_TIME = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class ExportResult:
    """A package as written: where, its size and hashes, and what went into it."""

    path: Path
    size: int
    sha256: str  # of the .wacz file
    digest: str  # of datapackage.json
    captures: int
    records: int
    pages: int
    warcs: int
    signed_by: str | None  # the public key's fingerprint
    timestamps: list[dict[str, str]]

    def to_json(self) -> dict[str, Any]:
        return {"wacz": str(self.path), "bytes": self.size, "sha256": self.sha256,
                "digest": self.digest, "captures": self.captures, "records": self.records,
                "pages": self.pages, "warc_files": self.warcs, "signed_by": self.signed_by,
                "timestamps": self.timestamps}  # fmt: skip


def write_package(
    store: Store,
    warc_dir: Path,
    articles: Sequence[str],
    out: Path,
    *,
    now: datetime,
    key: ec.EllipticCurvePrivateKey | None = None,
    tsa_urls: Sequence[str] = (),
    title: str | None = None,
    session: requests.Session | None = None,
) -> ExportResult:
    """Write the evidence package for `articles` to `out` (atomically: nothing is left at
    `out` if anything fails, e.g. a time-stamping authority). `warc_dir`: the archive's
    WARC files; `now`: the package's time; `key`: sign it; `tsa_urls`: time-stamp it by
    each of these authorities. This logs nothing in the archive (`evidence.export` does)."""
    selection = select(store, articles)
    created = now.astimezone(UTC).strftime(_ZIP_TIME)
    with tempfile.TemporaryDirectory(prefix="preserve-export-") as tmp:
        work = Path(tmp)
        warcs, placed = write_warcs(store, warc_dir, selection, work)
        files: dict[str, Path] = {w.path: w.file for w in warcs}
        files[INDEX_PATH], files[IDX_PATH] = write_index(work, warcs)
        pages = list_pages(store, selection)
        files[PAGES_PATH] = _write_lines(work / "pages.jsonl", pages)
        provenance = build_provenance(store, selection, warcs, placed, created)
        files[PROVENANCE_PATH] = _write_json(work / "provenance.json", provenance)
        main = pages[1] if len(pages) > 1 else None
        datapackage = {
            "profile": "data-package",
            "wacz_version": WACZ_VERSION,
            "title": title or _default_title(main, articles),
            "description": "Evidence package made by preserve: every capture of the article(s)"
            " and of the sources they cite, with provenance/provenance.json.",
            "created": created,
            "software": f"preserve {__version__}",
            "mainPageUrl": main["url"] if main else articles[0],
            **({"mainPageDate": main["ts"]} if main else {}),
            "resources": [_resource(path, file) for path, file in files.items()],
        }
        datapackage_bytes = _json_bytes(datapackage)
        digest = "sha256:" + hashlib.sha256(datapackage_bytes).hexdigest()
        digest_doc = _digest_document(
            digest, datapackage_bytes, created, key=key, tsa_urls=tsa_urls, session=session
        )
        _write_zip(out, files, datapackage_bytes, digest_doc, now)
    size, sha = sha256_of_path(out)
    signed = digest_doc.get("signedData")
    return ExportResult(
        path=out,
        size=size,
        sha256=sha,
        digest=digest,
        captures=len(selection.captures),
        records=sum(w.count for w in warcs),
        pages=len(pages) - 1,
        warcs=len(warcs),
        signed_by=fingerprint(signed["publicKey"]) if signed else None,
        timestamps=[
            {"tsa": s["tsa"], "genTime": s["genTime"]} for s in digest_doc.get("timestamps", [])
        ],
    )


def _digest_document(
    digest: str,
    datapackage_bytes: bytes,
    created: str,
    *,
    key: ec.EllipticCurvePrivateKey | None,
    tsa_urls: Sequence[str],
    session: requests.Session | None,
) -> dict[str, Any]:
    """`datapackage-digest.json`: the package digest, with the signature and the time-stamp
    tokens over it (if asked for)."""
    document: dict[str, Any] = {"path": DATAPACKAGE, "hash": digest}
    if key is not None:
        document["signedData"] = sign_digest(key, digest, created)
    stamps = []
    for url in tsa_urls:
        token = request_token(url, datapackage_bytes, session=session)
        info = inspect_token(token)
        when = info.gen_time.astimezone(UTC).isoformat().replace("+00:00", "Z")
        stamps.append({"tsa": url, "token": base64.b64encode(token).decode("ascii"),
                       "genTime": when,
                       "messageImprint": info.imprint, "serialNumber": str(info.serial),
                       "policy": info.policy, "signer": info.signer})  # fmt: skip
    if stamps:
        document["timestamps"] = stamps
    return document


def _write_zip(
    out: Path,
    files: dict[str, Path],
    datapackage_bytes: bytes,
    digest_doc: dict[str, Any],
    now: datetime,
) -> None:
    """The ZIP, written beside `out` and renamed to it once whole."""
    zip_time = now.astimezone(UTC).timetuple()[:6]
    partial = out.with_name(out.name + ".part")
    try:
        with zipfile.ZipFile(partial, "w", allowZip64=True) as package:
            for path, file in files.items():
                _add_file(package, path, file, zip_time)
            _add_bytes(package, DATAPACKAGE, datapackage_bytes, zip_time)
            _add_bytes(package, DIGEST, _json_bytes(digest_doc), zip_time)
        partial.replace(out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _default_title(main: dict[str, Any] | None, articles: Sequence[str]) -> str:
    name = main["title"] if main else articles[0]
    more = f" (+{len(articles) - 1} more)" if len(articles) > 1 else ""
    return f"Evidence: {name}{more}"


def _resource(path: str, file: Path) -> dict[str, Any]:
    size, sha = sha256_of_path(file)
    name = re.sub(r"[^a-z0-9._-]", "-", path.rsplit("/", 1)[-1].lower())
    return {"name": name, "path": path, "hash": f"sha256:{sha}", "bytes": size}


def _json_bytes(document: Any) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _write_json(path: Path, document: Any) -> Path:
    path.write_bytes(_json_bytes(document))
    return path


def _write_lines(path: Path, lines: Iterable[Any]) -> Path:
    with open(path, "w", encoding="utf-8") as file:
        for line in lines:
            file.write(json.dumps(line, ensure_ascii=False) + "\n")
    return path


def _zip_info(path: str, zip_time: tuple[int, ...]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=zip_time)  # type: ignore[arg-type]
    info.compress_type = (zipfile.ZIP_STORED if path.startswith(STORED_PREFIXES)
                          else zipfile.ZIP_DEFLATED)  # fmt: skip
    info.external_attr = 0o644 << 16
    return info


def _add_file(package: zipfile.ZipFile, path: str, file: Path, zip_time: tuple[int, ...]) -> None:
    info = _zip_info(path, zip_time)
    info.file_size = file.stat().st_size  # so zipfile uses ZIP64 only for files that need it
    with open(file, "rb") as src, package.open(info, "w") as dst:
        shutil.copyfileobj(src, dst, CHUNK)


def _add_bytes(package: zipfile.ZipFile, path: str, data: bytes, zip_time: tuple[int, ...]) -> None:
    package.writestr(_zip_info(path, zip_time), data)
