"""Evidence packages: `export` writes a WACZ 1.1.1 of chosen captures with their provenance,
optionally signed and time-stamped; `verify_package` checks one offline.

What goes in. Every capture, over time, of each given article URL, and of every URL those
captures brought in: the sources cited in the article's text (by any of its captures), the
URLs tracked as its sources (a moved source's new address, a source added by an edit), and
whatever was captured on its behalf (requisites, deeper citations: the `parent_id` links);
every capture of each of those URLs, not only the latest, because a source's history (edited,
gone, moved) is the evidence. Soft-404 probes made by the checks of those captures go in as
provenance, not as pages. Then the original record of every revisit (so that it replays), and
the warcinfo record of every source WARC file.

Layout (names in the ZIP):

    archive/<source stem>-export.warc.gz   the chosen records of warcs/<source>, each gzip
                                           member copied byte for byte (same record ids,
                                           digests and record hashes), warcinfo first
    indexes/index.cdx.gz                   CDXJ (cdxj-indexer), sorted SURT keys, gzip
    pages/pages.jsonl                      json-pages-1.0: one page per article and source
    provenance/provenance.json             how each capture was made (below)
    datapackage.json                       WACZ 1.1.1: sha256 and size of every file above
    datapackage-digest.json                {path, hash, signedData?, timestamps?}

Order of trust. `datapackage.json` lists the hash of every other file; its own sha256 is the
package digest, written to `datapackage-digest.json`. The optional signature (`signedData`,
the anonymous WACZ form) and RFC 3161 tokens (`timestamps`, each a base64 DER time-stamp
response whose message imprint is that digest) are both over the digest and stored in
`datapackage-digest.json`: they are made after the datapackage, so, like the digest itself,
they sit outside its list of resources (a token cannot be listed in the manifest it stamps).
So each token covers every file, transitively; the signature does not cover the tokens, nor
they the signature: each verifies on its own.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import re
import shutil
import socket
import tempfile
import textwrap
import uuid
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from preserve import __version__
from preserve.errors import IntegrityError, UsageError
from preserve.signing import (
    check_token,
    fingerprint,
    inspect_token,
    request_token,
    sign_digest,
    verify_signed_data,
)
from preserve.store import Store
from preserve.warc import open_warc, read_record, strict_check

WACZ_VERSION = "1.1.1"
PROVENANCE_FORMAT = "preserve-provenance-1"
ARCHIVE_DIR = "archive"
INDEX_PATH = "indexes/index.cdx.gz"
IDX_PATH = "indexes/index.idx"
PAGES_PATH = "pages/pages.jsonl"
PROVENANCE_PATH = "provenance/provenance.json"
DATAPACKAGE = "datapackage.json"
DIGEST = "datapackage-digest.json"
_STORED_PREFIXES = ("archive/", "indexes/")  # WACZ: never recompressed
_COPY_CHUNK = 1 << 20
_ZIP_TIME = "%Y-%m-%dT%H:%M:%SZ"


# --- choosing what goes in ------------------------------------------------------------------


@dataclass
class Selection:
    """The captures and records of a package, with why each URL is in it."""

    articles: list[str]
    roles: dict[str, str]  # url -> article | source | requisite
    captures: dict[int, dict[str, Any]]  # id -> captures row (probes included)
    records: list[dict[str, Any]]  # records rows, with "why" for the ones not of a capture
    checks: list[dict[str, Any]]
    citations: dict[int, list[dict[str, Any]]]


def select(store: Store, articles: Sequence[str]) -> Selection:
    """Every capture over time of the articles and of all they brought in (module doc)."""
    missing = [url for url in articles if not store.export_captures_of([url])]
    if missing:
        raise UsageError(f"nothing archived for {missing[0]} (capture it first)")
    roles = {url: "article" for url in articles}
    captures: dict[int, dict[str, Any]] = {}
    pending = list(articles)
    while pending:
        for row in store.export_captures_of(pending):
            captures[row["id"]] = row
        found: dict[str, str] = {}
        article_ids = [i for i, c in captures.items() if c["url"] in articles]
        for rows in store.citations_of(article_ids).values():
            for citation in rows:
                found.setdefault(citation["url"], "source")
        for url in store.export_sources_of(articles):
            found.setdefault(url, "source")
        for child in store.export_children_of(list(captures)):
            found.setdefault(child["url"], "requisite" if child["role"] == "requisite"
                             else "source")  # fmt: skip
        pending = [url for url in found if url not in roles]
        for url in pending:
            roles[url] = found[url]
    checks = store.export_checks_of(list(captures))
    probes = [c["probe_capture_id"] for c in checks if c["probe_capture_id"]]
    for row in store.export_captures_by_id([p for p in probes if p not in captures]):
        captures[row["id"]] = row
    records = store.export_records_of(list(captures))
    citations = store.citations_of([i for i, c in captures.items() if c["role"] == "article"])
    return Selection(list(articles), roles, captures, records, checks, citations)


# --- building -------------------------------------------------------------------------------


@dataclass
class _PackageWarc:
    source: str
    path: str  # inside the ZIP
    file: Path
    warcinfo: dict[str, Any] = field(default_factory=dict)
    count: int = 0


@dataclass(frozen=True)
class ExportResult:
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


def export(
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
    `out` if anything fails, e.g. a time-stamping authority)."""
    selection = select(store, articles)
    created = now.astimezone(UTC).strftime(_ZIP_TIME)
    with tempfile.TemporaryDirectory(prefix="preserve-export-") as tmp:
        work = Path(tmp)
        warcs, placed = _write_warcs(store, warc_dir, selection, work)
        files: dict[str, Path] = {w.path: w.file for w in warcs}
        files[INDEX_PATH], files[IDX_PATH] = _write_index(work, warcs)
        pages = _pages(store, selection)
        files[PAGES_PATH] = _write_lines(work / "pages.jsonl", pages)
        provenance = _provenance(store, selection, warcs, placed, created)
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
        digest_doc: dict[str, Any] = {"path": DATAPACKAGE, "hash": digest}
        if key is not None:
            digest_doc["signedData"] = sign_digest(key, digest, created)
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
            digest_doc["timestamps"] = stamps
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
    size, sha = _hash_file(out)
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
        timestamps=[{"tsa": s["tsa"], "genTime": s["genTime"]} for s in stamps],
    )


def _write_warcs(
    store: Store, warc_dir: Path, selection: Selection, work: Path
) -> tuple[list[_PackageWarc], dict[str, tuple[str, int]]]:
    """Copy the chosen records, grouped by source file, each file's warcinfo first. Returns
    the package files and where each record landed: record_id -> (package path, offset)."""
    records = {r["record_id"]: r for r in selection.records}
    for row in list(records.values()):  # the original of each revisit (same URL, same file
        if row["type"] != "revisit":  # or an earlier one)
            continue
        original = _original_of(store, warc_dir, row)
        if original["record_id"] not in records:
            records[original["record_id"]] = {**original, "why": f"original of {row['record_id']}"}
    by_source: dict[str, list[dict[str, Any]]] = {}
    for row in records.values():
        by_source.setdefault(row["warc"], []).append(row)
    warcs: list[_PackageWarc] = []
    placed: dict[str, tuple[str, int]] = {}
    work.joinpath(ARCHIVE_DIR).mkdir()
    used: set[str] = set()
    for source in sorted(by_source):
        name = _package_name(source, used)
        target = _PackageWarc(source, f"{ARCHIVE_DIR}/{name}", work / ARCHIVE_DIR / name)
        path = warc_dir / source
        try:
            src_file = open_warc(path)
        except OSError as exc:
            raise IntegrityError(
                f"cannot read the WARC file {source} that records of these "
                f"captures are in ({exc.strerror or exc}); run `preserve "
                "verify`"
            ) from exc
        with src_file as src, open(target.file, "wb") as dst:
            length = _first_member_length(src, path)
            info = read_record(path, 0, length)
            if info.rec_type != "warcinfo":
                raise IntegrityError(f"{source}: its first record is not a warcinfo record")
            src.seek(0)
            member = src.read(length)
            dst.write(member)
            target.warcinfo = {
                "record_id": info.record_id,
                "source_offset": 0,
                "offset": 0,
                "length": length,
                "record_sha256": hashlib.sha256(member).hexdigest(),
            }
            position = length
            for row in sorted(by_source[source], key=lambda r: r["offset"]):
                if row["offset"] == 0:
                    continue  # a warcinfo listed as a record: already copied
                src.seek(row["offset"])
                member = src.read(row["length"])
                if len(member) != row["length"]:
                    raise IntegrityError(
                        f"{source} @ {row['offset']}: file ends before the "
                        f"record {row['record_id']} does"
                    )
                if row.get("record_sha256") and (
                    hashlib.sha256(member).hexdigest() != row["record_sha256"]
                ):
                    raise IntegrityError(
                        f"{source} @ {row['offset']}: record {row['record_id']} is not the one "
                        "recorded at capture (sha256 differs); run `preserve verify`"
                    )
                dst.write(member)
                placed[row["record_id"]] = (target.path, position)
                position += row["length"]
                target.count += 1
        warcs.append(target)
    selection.records = list(records.values())
    return warcs, placed


def _original_of(store: Store, warc_dir: Path, revisit: dict[str, Any]) -> dict[str, Any]:
    """The records row of the response a revisit refers to (by its WARC-Refers-To)."""
    record = read_record(warc_dir / revisit["warc"], revisit["offset"], revisit["length"])
    refers_to = record.header("WARC-Refers-To")
    row = store.export_record_by_id(refers_to) if refers_to else None
    if row is None:
        raise IntegrityError(
            f"the original {refers_to} of revisit {revisit['record_id']} "
            f"({revisit['url']}) is not in this archive"
        )
    return row


def _first_member_length(file: Any, path: Path) -> int:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    consumed = 0
    while not inflater.eof:
        chunk = file.read(64 << 10)
        if not chunk:
            raise IntegrityError(f"{path.name}: its first gzip member is incomplete")
        try:
            inflater.decompress(chunk)
        except zlib.error as exc:
            raise IntegrityError(f"{path.name}: not a gzip file ({exc})") from exc
        consumed += len(chunk) - len(inflater.unused_data)
    return consumed


def _package_name(source: str, used: set[str]) -> str:
    stem = re.sub(r"\.warc(\.gz)?$", "", source)
    stem = re.sub(r"[^A-Za-z0-9._-]", "-", stem)
    name, n = f"{stem}-export.warc.gz", 1
    while name.lower() in used:
        n += 1
        name = f"{stem}-export-{n}.warc.gz"
    used.add(name.lower())
    return name


def _write_index(work: Path, warcs: list[_PackageWarc]) -> tuple[Path, Path]:
    """The CDXJ of the package's response, revisit and resource records, sorted, as WACZ
    tools expect it: `index.cdx.gz`, gzip blocks of lines, and `index.idx`, the first key
    and place of each block (ReplayWeb.page reads only this layout; pywb reads the blocks)."""
    from cdxj_indexer import CDXJIndexer

    idx = io.StringIO()
    cdx_path = work / "index.cdx.gz"
    with open(cdx_path, "wb") as blocks:
        # fields="referrer" (as py-wacz passes) makes cdxj-indexer pair records, which it
        # needs to write recordDigest: the sha256 of each record's gzip member.
        CDXJIndexer(
            output=idx,
            inputs=[str(w.file) for w in warcs],
            sort=True,
            compress=blocks,
            data_out_name="index.cdx.gz",
            fields="referrer",
            records="response,revisit,resource",
            digest_records=True,
        ).process_all()
    idx_path = work / "index.idx"
    idx_path.write_text(idx.getvalue(), encoding="utf-8")
    return cdx_path, idx_path


def _pages(store: Store, selection: Selection) -> list[dict[str, Any]]:
    """The json-pages-1.0 header and one page per article and source that has a record to
    replay: at the time of its first capture with a 2xx answer (else its first capture with
    any answer), since that is the version the article relied on; later versions are in the
    index, and every capture is in the provenance."""
    replayable = {r["capture_id"] for r in selection.records
                  if r.get("capture_id") and r["type"] in ("response", "revisit")}  # fmt: skip
    header = {"format": "json-pages-1.0", "id": "pages", "title": "Articles and their sources",
              "hasText": True}  # fmt: skip
    pages: list[dict[str, Any]] = [header]
    for url, role in selection.roles.items():
        if role == "requisite":
            continue
        captures = sorted((c for c in selection.captures.values()
                           if c["url"] == url and c["id"] in replayable),
                          key=lambda c: (c["started_at"], c["id"]))  # fmt: skip
        if not captures:
            continue
        good = [c for c in captures if c["http_status"] and 200 <= c["http_status"] < 300]
        chosen = (good or captures)[0]
        page: dict[str, Any] = {
            "id": uuid.uuid5(uuid.NAMESPACE_URL, url).hex,
            "url": url,
            # seconds, as the CDXJ index keys the records (and as every replay tool parses)
            "ts": chosen["started_at"][:19] + "Z",
            "title": chosen["title"] or url,
            "role": role,
            "captures": len(captures),
        }
        text = store.text(chosen["text_sha256"])
        if text and text[0]:
            page["text"] = text[0]
        pages.append(page)
    return pages


def _provenance(
    store: Store,
    selection: Selection,
    warcs: list[_PackageWarc],
    placed: dict[str, tuple[str, int]],
    created: str,
) -> dict[str, Any]:
    runs = {
        r["id"]: r
        for r in store.export_runs(sorted({c["run_id"] for c in selection.captures.values()}))
    }
    chain = _chain(store, selection, warcs)
    checks_by_capture = {c["capture_id"]: c for c in selection.checks}
    records_by_capture: dict[int, list[dict[str, Any]]] = {}
    extra = []
    for row in selection.records:
        entry = _record_entry(row, placed)
        if row.get("why"):
            extra.append({**entry, "capture_id": row["capture_id"], "why": row["why"]})
        else:
            records_by_capture.setdefault(row["capture_id"], []).append(entry)
    captures = []
    for capture in sorted(selection.captures.values(), key=lambda c: (c["started_at"], c["id"])):
        run = runs.get(capture["run_id"], {})
        check = checks_by_capture.get(capture["id"])
        captures.append(
            {
                "id": capture["id"],
                "url": capture["url"],
                "role": capture["role"],
                "package_role": "probe"
                if capture["role"] == "probe"
                else selection.roles.get(capture["url"], "source"),
                "depth": capture["depth"],
                "parent_id": capture["parent_id"],
                "started_at": capture["started_at"],
                "ended_at": capture["ended_at"],
                "status": capture["status"],
                "error": capture["error"],
                "error_detail": capture["error_detail"],
                "http_status": capture["http_status"],
                "final_url": capture["final_url"],
                "redirects": _loads(capture["redirects"]),
                "response_headers": _loads(capture["headers"]),
                "peer_ip": capture["peer_ip"],
                "content_type": capture["content_type"],
                "kind": capture["kind"],
                "truncated": capture["truncated"],
                "hashes": {
                    "payload_sha256": capture["payload_sha256"],
                    "payload_length": capture["payload_length"],
                    "decoded_sha256": capture["decoded_sha256"],
                    "text_sha256": capture["text_sha256"],
                    "links_sha256": capture["links_sha256"],
                    "normalisation_version": capture["norm_version"],
                },
                "title": capture["title"],
                "record_type": capture["record_type"],
                "record_id": capture["record_id"],
                "run": capture["run_id"],
                "command": run.get("command"),
                "tool_version": run.get("tool_version"),
                "host": run.get("host"),
                "pid": run.get("pid"),
                "options": _loads(run.get("options")),
                "records": sorted(
                    records_by_capture.get(capture["id"], []),
                    key=lambda r: (r["hop"], r["source"]["offset"]),
                ),
                "citations": selection.citations.get(capture["id"], []),
                "check": _check_entry(check) if check else None,
            }
        )
    source_files = {w["name"]: w for w in store.warc_files()}
    return {
        "format": PROVENANCE_FORMAT,
        "created": created,
        "software": f"preserve {__version__}",
        "exported_on_host": socket.gethostname(),
        "selection": {
            "articles": selection.articles,
            "rule": "every capture, over time, of each article and of every URL it brought "
            "in (cited sources, tracked sources, requisites); soft-404 probes of "
            "their checks; the original of every revisit; the warcinfo of every "
            "source WARC file",
            "urls": selection.roles,
        },
        "captures": captures,
        "other_records": extra,
        "check_outcomes": [_check_entry(c) for c in selection.checks],
        "runs": [{**r, "options": _loads(r["options"])} for r in runs.values()],
        "warc_files": [
            {
                "path": w.path,
                "copied_from": w.source,
                "source_size": source_files.get(w.source, {}).get("size"),
                "source_sha256": source_files.get(w.source, {}).get("sha256"),
                "source_closed_at": source_files.get(w.source, {}).get("closed_at"),
                "warcinfo": w.warcinfo,
                "records": w.count,
                "identical_to_source": _hash_file(w.file)[1]
                == source_files.get(w.source, {}).get("sha256"),
            }
            for w in warcs
        ],
        "chain": chain,
        "about": "Each record's gzip member is copied byte for byte from the archive's WARC "
        "file `source.warc` at `source.offset` to `package.path` at `package.offset`; "
        "`record_sha256` is the sha256 of that member as computed when it was written "
        "at capture time. Times are UTC. `options` are the settings of the run that "
        "made the capture.",
    }


def _chain(store: Store, selection: Selection, warcs: list[_PackageWarc]) -> dict[str, Any] | None:
    """The archive's hash-chain entries for the exported rows, each with the row exactly as
    hashed (so that anyone can recompute it), and the chain's head at export time."""
    found = store.export_chain(
        {
            "captures": list(selection.captures),
            "checks": [c["id"] for c in selection.checks],
            "warc_files": [w.source for w in warcs],
        }
    )
    if found is None:
        return None
    from preserve import chain as chain_log

    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for table, columns in chain_log.COLUMNS.items():
        keys = [e["row_id"] for e in found["entries"] if e["table_name"] == table]
        for key, row in store.export_rows(table, chain_log.KEYS[table], columns, keys).items():
            rows[(table, key)] = row
    entries = []
    for entry in found["entries"]:
        row = rows.get((entry["table_name"], entry["row_id"]))
        entries.append({**entry, "row": row})
    return {
        "hash_rule": "entry_hash = 'sha256:' + hex(sha256(JSON of {\"prev\": prev_hash, "
        '"table": table_name, "row": row}, keys sorted, no whitespace, '
        "non-ASCII as is, UTF-8)); see preserve.chain",
        "head": found["head"],
        "entries": entries,
    }


def _record_entry(row: dict[str, Any], placed: dict[str, tuple[str, int]]) -> dict[str, Any]:
    path, offset = placed[row["record_id"]]
    return {
        "type": row["type"],
        "hop": row["hop"],
        "url": row["url"],
        "date": row["date"],
        "http_status": row["http_status"],
        "record_id": row["record_id"],
        "record_sha256": row["record_sha256"],
        "payload_sha256": row["payload_sha256"],
        "source": {"warc": row["warc"], "offset": row["offset"], "length": row["length"]},
        "package": {"path": path, "offset": offset, "length": row["length"]},
    }


def _check_entry(check: dict[str, Any]) -> dict[str, Any]:
    return {**check, "detail": _loads(check.get("detail"))}


def _loads(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _default_title(main: dict[str, Any] | None, articles: Sequence[str]) -> str:
    name = main["title"] if main else articles[0]
    more = f" (+{len(articles) - 1} more)" if len(articles) > 1 else ""
    return f"Evidence: {name}{more}"


def _resource(path: str, file: Path) -> dict[str, Any]:
    size, sha = _hash_file(file)
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


def _hash_file(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as file:
        while chunk := file.read(_COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _zip_info(path: str, zip_time: tuple[int, ...]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=zip_time)  # type: ignore[arg-type]
    info.compress_type = (zipfile.ZIP_STORED if path.startswith(_STORED_PREFIXES)
                          else zipfile.ZIP_DEFLATED)  # fmt: skip
    info.external_attr = 0o644 << 16
    return info


def _add_file(package: zipfile.ZipFile, path: str, file: Path, zip_time: tuple[int, ...]) -> None:
    info = _zip_info(path, zip_time)
    info.file_size = file.stat().st_size  # so zipfile uses ZIP64 only for files that need it
    with open(file, "rb") as src, package.open(info, "w") as dst:
        shutil.copyfileobj(src, dst, _COPY_CHUNK)


def _add_bytes(package: zipfile.ZipFile, path: str, data: bytes, zip_time: tuple[int, ...]) -> None:
    package.writestr(_zip_info(path, zip_time), data)


# --- verifying --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One check of a package: what was checked, the verdict, and what it proves."""

    name: str
    status: str  # ok | fail | warn | info
    detail: str
    proves: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "status": self.status,
            "ok": self.status != "fail",
            "detail": self.detail,
            "proves": self.proves,
        }


@dataclass
class PackageReport:
    path: Path
    checks: list[Check] = field(default_factory=list)
    created: str | None = None
    software: str | None = None
    digest: str | None = None

    @property
    def ok(self) -> bool:
        return all(check.status != "fail" for check in self.checks)

    @property
    def problems(self) -> list[Check]:
        return [check for check in self.checks if check.status == "fail"]

    def add(self, name: str, status: str, detail: str, proves: str = "") -> None:
        self.checks.append(Check(name, status, detail, proves))

    def to_json(self) -> dict[str, Any]:
        return {"file": str(self.path), "ok": self.ok, "digest": self.digest,
                "created": self.created, "software": self.software,
                "checks": [c.to_json() for c in self.checks],
                "problems": [f"{c.name}: {c.detail}" for c in self.problems]}  # fmt: skip


PROVES = {
    "files": "Every file listed in datapackage.json has exactly the listed size and sha256. "
    "Alone this shows no accident changed the package; someone who altered a file "
    "could have rewritten datapackage.json too, which the signature and time-stamps "
    "rule out.",
    "structure": "The package has the parts of a WACZ 1.1.1 that replay tools need (pages, "
    "CDXJ index, uncompressed WARCs).",
    "records": "Each WARC record is whole, its block and payload sha256 digests match, each "
    "index entry points at the record it names, and each record's gzip member has "
    "the sha256 that provenance.json says preserve computed when it wrote the "
    "record at capture time: the records are the archive's own, copied unchanged. "
    "That they are the bytes received then rests on the archive's log (`preserve "
    "verify`) and on this package's signature and time-stamps; nothing proves that "
    "the server sent them (TLS gives no such proof).",
    "chain": "The captures and WARC files described in provenance.json are the rows that the "
    "archive's hash chain logged when they were written. That they were not changed "
    "afterwards shows only against a chain head kept elsewhere: compare the head with "
    "`preserve verify` on the archive or with an earlier package; this package's "
    "signature and time-stamps fix the head as of the export.",
    "digest": "datapackage.json is the one named by the package digest, so the digest covers "
    "every listed file.",
    "signature": "Whoever holds the private key of this public key signed this package digest: "
    "they attest to this exact package. It does not prove who that is (compare "
    "the key's fingerprint with one obtained independently, or pass "
    "--public-key), nor when they signed ('created' is their own claim), nor "
    "that the web server sent these bytes.",
    "timestamp": "The time-stamping authority attests that this package digest, and so every "
    "file in the package, existed at the token's time. Trustworthy only if the "
    "token verifies to a root you trust (--tsa-root). It does not say who made the "
    "package or that the content is what the server sent.",
}


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
        datapackage_bytes = _read_member(package, DATAPACKAGE, report)
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
        _check_files(package, names, listed, report)
        _check_structure(package, names, datapackage, report)
        _check_records(package, names, report)
        _check_chain(package, names, listed, report)
        digest = "sha256:" + hashlib.sha256(datapackage_bytes).hexdigest()
        report.digest = digest
        digest_doc = _check_digest(package, names, digest, report)
        if digest_doc is not None:
            _check_signature(digest_doc, digest, datapackage, public_key, report)
            _check_timestamps(digest_doc, datapackage_bytes, roots, report)


def _read_member(
    package: zipfile.ZipFile, name: str, report: PackageReport, check: str = "files"
) -> bytes | None:
    try:
        return package.read(name)
    except KeyError:
        report.add(check, "fail", f"{name} is missing")
    except (zipfile.BadZipFile, zlib.error, OSError) as exc:
        report.add(check, "fail", f"{name} is damaged in the ZIP ({exc})")
    return None


def _member_hash(package: zipfile.ZipFile, name: str) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with package.open(name) as file:
        while chunk := file.read(_COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, "sha256:" + digest.hexdigest()


def _check_files(
    package: zipfile.ZipFile, names: list[str], listed: dict[str, Any], report: PackageReport
) -> None:
    failed = False
    for name, resource in listed.items():
        if name not in names:
            report.add("files", "fail", f"{name} is listed in datapackage.json but missing")
            failed = True
            continue
        try:
            size, digest = _member_hash(package, name)
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
            PROVES["files"],
        )


def _check_structure(
    package: zipfile.ZipFile, names: list[str], datapackage: dict[str, Any], report: PackageReport
) -> None:
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
        if info.filename.startswith(_STORED_PREFIXES) and info.compress_type != zipfile.ZIP_STORED:
            problems.append(f"{info.filename} is compressed in the ZIP (must be stored)")
    pages = _read_member(package, PAGES_PATH, report, "structure") if PAGES_PATH in names else None
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
            PROVES["structure"],
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


def _check_records(package: zipfile.ZipFile, names: list[str], report: PackageReport) -> None:
    """strict_check of every WARC, and each provenance record's member hash at its place."""
    warcs = [n for n in names if n.startswith("archive/") and n.endswith(".warc.gz")]
    failed = False
    count = 0
    with tempfile.TemporaryDirectory(prefix="preserve-verify-") as tmp:
        copies: dict[str, Path] = {}
        for number, name in enumerate(warcs):
            target = Path(tmp) / f"{number}.warc.gz"
            try:
                with package.open(name) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst, _COPY_CHUNK)
            except (zipfile.BadZipFile, zlib.error, OSError):
                failed = True  # already reported by the files check
                continue
            copies[name] = target
            problems = strict_check(target)
            for problem in problems[:5]:
                report.add(
                    "records",
                    "fail",
                    f"{name} @ {problem.offset}: {problem.kind}: {problem.detail}",
                )
            if len(problems) > 5:
                report.add("records", "fail", f"{name}: {len(problems) - 5} more problems")
            failed = failed or bool(problems)
        provenance = None
        if PROVENANCE_PATH in names:
            raw = _read_member(package, PROVENANCE_PATH, report, "records")
            try:
                provenance = json.loads(raw) if raw is not None else None
            except ValueError:
                report.add("records", "fail", f"{PROVENANCE_PATH} is not JSON")
                failed = True
        if provenance is None:
            if not failed:
                report.add(
                    "records",
                    "warn",
                    f"no readable {PROVENANCE_PATH}: records not "
                    "compared with their capture-time hashes",
                )
            failed = True
        for record in _provenance_records(provenance):
            place = record.get("package") or {}
            copy = copies.get(place.get("path", ""))
            if copy is None:
                continue
            count += 1
            offset, length = int(place.get("offset", 0)), int(place.get("length", 0))
            with open(copy, "rb") as file:
                file.seek(offset)
                member = file.read(length)
            if hashlib.sha256(member).hexdigest() != record.get("record_sha256"):
                report.add(
                    "records",
                    "fail",
                    f"{place.get('path')} @ {offset}: record "
                    f"{record.get('record_id')} ({record.get('url')}) is not the one "
                    "recorded at capture (its sha256 differs)",
                )
                failed = True
        indexed = _check_index(package, names, copies, report)
        failed = failed or indexed is None
    if not failed:
        report.add(
            "records",
            "ok",
            f"{len(warcs)} WARC file(s) whole, every digest matches; "
            f"{count} records (warcinfo included) have the sha256 recorded at capture; "
            f"{indexed} index "
            "entries point at the records they name",
            PROVES["records"],
        )


def _check_index(
    package: zipfile.ZipFile, names: list[str], copies: dict[str, Path], report: PackageReport
) -> int | None:
    """Each CDXJ line points at a whole record whose sha256 is its recordDigest; the number
    of lines, or None if any does not."""
    if INDEX_PATH not in names or IDX_PATH not in names:
        return None  # the structure check says so
    raw = _read_member(package, INDEX_PATH, report, "records")
    idx = _read_member(package, IDX_PATH, report, "records")
    if raw is None or idx is None:
        return None
    lines = None
    try:
        lines = gzip.decompress(raw).decode("utf-8").splitlines()
    except (OSError, EOFError, UnicodeDecodeError, zlib.error):
        report.add("records", "fail", f"{INDEX_PATH} is not gzipped CDXJ")
    if not _idx_ok(raw, idx, report) or lines is None:
        return None
    ok = True
    for number, line in enumerate(lines, 1):
        try:
            fields = json.loads(line.split(" ", 2)[2])
            copy = copies.get(f"{ARCHIVE_DIR}/{fields['filename']}")
            offset, length = int(fields["offset"]), int(fields["length"])
        except (IndexError, KeyError, ValueError, TypeError):
            report.add("records", "fail", f"{INDEX_PATH} line {number} is not a CDXJ line")
            ok = False
            continue
        if copy is None:
            report.add(
                "records",
                "fail",
                f"{INDEX_PATH} line {number} names "
                f"{fields['filename']!r}, which is not in archive/",
            )
            ok = False
            continue
        with open(copy, "rb") as file:
            file.seek(offset)
            member = file.read(length)
        expected = fields.get("recordDigest")
        if expected and "sha256:" + hashlib.sha256(member).hexdigest() != expected:
            report.add(
                "records",
                "fail",
                f"{INDEX_PATH} line {number} ({fields.get('url')}) "
                "does not point at the record it names",
            )
            ok = False
    return len(lines) if ok else None


def _idx_ok(blocks: bytes, idx: bytes, report: PackageReport) -> bool:
    """Each IDX line names a whole gzip block of the CDXJ, with its sha256, starting with
    the line's key; the blocks follow each other and fill the file."""
    position = 0
    for number, line in enumerate(idx.decode("utf-8", errors="replace").splitlines(), 1):
        if line.startswith("!meta"):
            continue
        try:
            key, _, text = line.partition(" {")
            fields = json.loads("{" + text)
            offset, length = int(fields["offset"]), int(fields["length"])
            block = blocks[offset : offset + length]
            first = gzip.decompress(block).decode("utf-8").split("\n", 1)[0]
        except (KeyError, ValueError, TypeError, OSError, EOFError, zlib.error):
            report.add(
                "records",
                "fail",
                f"{IDX_PATH} line {number} does not name a gzip block of {INDEX_PATH}",
            )
            return False
        digest = fields.get("digest")
        if (
            offset != position
            or not first.startswith(key)
            or (digest and digest != "sha256:" + hashlib.sha256(block).hexdigest())
        ):
            report.add(
                "records",
                "fail",
                f"{IDX_PATH} line {number} does not match the block of {INDEX_PATH} it names",
            )
            return False
        position = offset + length
    if position != len(blocks):
        report.add("records", "fail", f"{IDX_PATH} does not cover all of {INDEX_PATH}")
        return False
    return True


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


def _check_chain(
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
    from preserve import chain as chain_log

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
            PROVES["chain"],
        )


def _provenance_records(provenance: Any) -> Iterable[dict[str, Any]]:
    if not isinstance(provenance, dict):
        return
    for capture in provenance.get("captures") or []:
        yield from capture.get("records") or []
    yield from provenance.get("other_records") or []
    for warc in provenance.get("warc_files") or []:
        info = warc.get("warcinfo") or {}
        if info:
            yield {"record_id": info.get("record_id"), "record_sha256": info.get("record_sha256"),
                   "package": {"path": warc.get("path"), "offset": info.get("offset", 0),
                               "length": info.get("length", 0)}}  # fmt: skip


def _check_digest(
    package: zipfile.ZipFile, names: list[str], digest: str, report: PackageReport
) -> dict[str, Any] | None:
    if DIGEST not in names:
        report.add("digest", "fail", f"{DIGEST} is missing: nothing fixes the package digest")
        return None
    raw = _read_member(package, DIGEST, report, "digest")
    try:
        document = json.loads(raw) if raw is not None else None
    except ValueError:
        document = None
    if not isinstance(document, dict):
        report.add("digest", "fail", f"{DIGEST} is not a JSON object")
        return None
    if document.get("path") != DATAPACKAGE:
        report.add("digest", "fail", f"{DIGEST} names {document.get('path')!r}, not {DATAPACKAGE}")
    elif document.get("hash") != digest:
        report.add(
            "digest",
            "fail",
            f"datapackage.json is {digest}, but {DIGEST} says {document.get('hash')}",
        )
    else:
        report.add(
            "digest", "ok", f"datapackage.json is {digest}, as {DIGEST} says", PROVES["digest"]
        )
    return document


def _check_signature(
    document: dict[str, Any],
    digest: str,
    datapackage: dict[str, Any],
    public_key: str | None,
    report: PackageReport,
) -> None:
    signed = document.get("signedData")
    if signed is None:
        status = "fail" if public_key else "info"
        report.add("signature", status, "the package is not signed")
        return
    problem = verify_signed_data(signed, digest)
    if problem:
        report.add("signature", "fail", problem)
        return
    key = fingerprint(signed["publicKey"])
    if signed.get("created") != datapackage.get("created"):
        report.add(
            "signature",
            "fail",
            f"signedData.created {signed.get('created')!r} differs "
            f"from datapackage created {datapackage.get('created')!r}",
        )
        return
    if public_key is not None and signed["publicKey"] != public_key:
        report.add(
            "signature",
            "fail",
            f"signed by key {key}, not by the expected key {fingerprint(public_key)}",
        )
        return
    expected = " (the expected key)" if public_key is not None else ""
    report.add(
        "signature",
        "ok",
        f"ECDSA P-256 signature of {digest} by key {key}{expected}, "
        f"created {signed.get('created')} (claimed by the signer)",
        PROVES["signature"],
    )


def _check_timestamps(
    document: dict[str, Any],
    datapackage_bytes: bytes,
    roots: Sequence[x509.Certificate],
    report: PackageReport,
) -> None:
    stamps = document.get("timestamps")
    if not stamps:
        report.add("timestamp", "fail" if roots else "info", "the package has no time-stamp token")
        return
    if not isinstance(stamps, list):
        report.add("timestamp", "fail", "timestamps is not a list")
        return
    for number, stamp in enumerate(stamps, 1):
        tsa = stamp.get("tsa", "?") if isinstance(stamp, dict) else "?"
        label = f"token {number} ({tsa})"
        try:
            token = base64.b64decode(stamp["token"], validate=True)
        except (KeyError, TypeError, ValueError):
            report.add("timestamp", "fail", f"{label}: no base64 token")
            continue
        verdict = check_token(token, datapackage_bytes, roots)
        if not verdict.ok:
            report.add("timestamp", "fail", f"{label}: {verdict.detail}")
            continue
        info = verdict.info
        assert info is not None
        when = info.gen_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        status = "ok" if verdict.trusted else "warn"
        report.add(
            "timestamp",
            status,
            f"{label}: {when} by {info.signer or 'unnamed TSA'}: {verdict.detail}",
            PROVES["timestamp"],
        )
