"""The provenance of an evidence package (`provenance/provenance.json`).

How each capture was made, by which run and settings, where each record came from and where
it is in the package, the outcomes of the checks, and the hash-chain entries that logged
those rows."""

from __future__ import annotations

import json
import socket
from typing import Any

from preserve import __version__
from preserve.evidence.hashing import sha256_of_path
from preserve.evidence.layout import PROVENANCE_FORMAT
from preserve.evidence.packagewarcs import PackageWarc, Placed
from preserve.evidence.selection import Selection
from preserve.store import chain as chain_log
from preserve.store.database import Store


def build_provenance(
    store: Store,
    selection: Selection,
    warcs: list[PackageWarc],
    placed: Placed,
    created: str,
) -> dict[str, Any]:
    """The provenance document of a package (`created`: the package's time, as written)."""
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
                "identical_to_source": sha256_of_path(w.file)[1]
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


def _chain(store: Store, selection: Selection, warcs: list[PackageWarc]) -> dict[str, Any] | None:
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
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for table, columns in chain_log.COLUMNS.items():
        keys = [e["row_id"] for e in found["entries"] if e["table_name"] == table]
        for key, row in store.export_rows(table, chain_log.KEYS[table], columns, keys).items():
            rows[(table, key)] = row
    entries = [
        {**entry, "row": rows.get((entry["table_name"], entry["row_id"]))}
        for entry in found["entries"]
    ]
    return {
        "hash_rule": "entry_hash = 'sha256:' + hex(sha256(JSON of {\"prev\": prev_hash, "
        '"table": table_name, "row": row}, keys sorted, no whitespace, '
        "non-ASCII as is, UTF-8)); see preserve.store.chain",
        "head": found["head"],
        "entries": entries,
    }


def _record_entry(row: dict[str, Any], placed: Placed) -> dict[str, Any]:
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
