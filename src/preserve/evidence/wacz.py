"""Evidence packages: `export` writes a WACZ 1.1.1 of chosen captures with their provenance,
optionally signed and time-stamped (`waczcheck` checks one offline).

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
import hashlib
import io
import json
import re
import shutil
import socket
import tempfile
import uuid
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric import ec

from preserve import __version__
from preserve.errors import IntegrityError, UsageError
from preserve.evidence.signing import (
    fingerprint,
    inspect_token,
    request_token,
    sign_digest,
)
from preserve.store.database import Store
from preserve.warc.files import open_warc
from preserve.warc.reader import read_record

WACZ_VERSION = "1.1.1"
PROVENANCE_FORMAT = "preserve-provenance-1"
ARCHIVE_DIR = "archive"
INDEX_PATH = "indexes/index.cdx.gz"
IDX_PATH = "indexes/index.idx"
PAGES_PATH = "pages/pages.jsonl"
PROVENANCE_PATH = "provenance/provenance.json"
DATAPACKAGE = "datapackage.json"
DIGEST = "datapackage-digest.json"
STORED_PREFIXES = ("archive/", "indexes/")  # WACZ: never recompressed
COPY_CHUNK = 1 << 20
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
                "tls": _loads(capture["tls"]),
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
                "byline": capture["byline"],
                "modified": capture["modified"],
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
    from preserve.store import chain as chain_log

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
        while chunk := file.read(COPY_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


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
        shutil.copyfileobj(src, dst, COPY_CHUNK)


def _add_bytes(package: zipfile.ZipFile, path: str, data: bytes, zip_time: tuple[int, ...]) -> None:
    package.writestr(_zip_info(path, zip_time), data)
