"""The provenance of an evidence package (`provenance/provenance.json`).

How each capture was made, by which run and settings, where each record came from and where
it is in the package, the outcomes of the checks, and the hash-chain entries that logged
those rows."""

from __future__ import annotations

import json
import socket
from dataclasses import asdict
from typing import Any

from preserve import __version__
from preserve.evidence.hashing import sha256_of_path
from preserve.evidence.layout import PROVENANCE_FORMAT
from preserve.evidence.packagewarcs import PackageWarc, Placed
from preserve.evidence.selection import Selection
from preserve.store.database import Store
from preserve.store.rows import Capture, Check, Record, RunRow, WarcFileRow


def build_provenance(
    store: Store,
    selection: Selection,
    warcs: list[PackageWarc],
    placed: Placed,
    created: str,
) -> dict[str, Any]:
    """The provenance document of a package (`created`: the package's time, as written)."""
    run_ids = sorted({c.run_id for c in selection.captures.values() if c.run_id is not None})
    runs = {r.id: r for r in store.export_runs(run_ids)}
    chain = _chain(store, selection, warcs)
    checks_by_capture = {c.capture_id: c for c in selection.checks}
    records_by_capture: dict[int, list[dict[str, Any]]] = {}
    extra = []
    for row in selection.records:
        entry = _record_entry(row, placed)
        if why := selection.why.get(row.record_id):
            extra.append({**entry, "capture_id": row.capture_id, "why": why})
        else:
            records_by_capture.setdefault(row.capture_id, []).append(entry)
    captures = [
        _capture_entry(
            capture,
            selection,
            runs.get(capture.run_id) if capture.run_id is not None else None,
            checks_by_capture.get(capture.id),
            records_by_capture.get(capture.id, []),
        )
        for capture in sorted(selection.captures.values(), key=lambda c: (c.started_at, c.id))
    ]
    source_files = {w.name: w for w in store.warc_files()}
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
        "runs": [{**asdict(r), "options": _loads(r.options)} for r in runs.values()],
        "warc_files": [_warc_entry(w, source_files.get(w.source)) for w in warcs],
        "chain": chain,
        "about": "Each record's gzip member is copied byte for byte from the archive's WARC "
        "file `source.warc` at `source.offset` to `package.path` at `package.offset`; "
        "`record_sha256` is the sha256 of that member as computed when it was written "
        "at capture time. Times are UTC. `options` are the settings of the run that "
        "made the capture.",
    }


def _capture_entry(
    capture: Capture,
    selection: Selection,
    run: RunRow | None,
    check: Check | None,
    records: list[dict[str, Any]],
) -> dict[str, Any]:
    """How one capture was made: its row, the run and settings that made it, its records
    and where each is in the package, its citations, and the check it was made for."""
    return {
        "id": capture.id,
        "url": capture.url,
        "role": capture.role,
        "package_role": "probe"
        if capture.role == "probe"
        else selection.roles.get(capture.url, "source"),
        "depth": capture.depth,
        "parent_id": capture.parent_id,
        "started_at": capture.started_at,
        "ended_at": capture.ended_at,
        "status": capture.status,
        "error": capture.error,
        "error_detail": capture.error_detail,
        "http_status": capture.http_status,
        "final_url": capture.final_url,
        "redirects": _loads(capture.redirects),
        "response_headers": _loads(capture.headers),
        "peer_ip": capture.peer_ip,
        "tls": _loads(capture.tls),
        "content_type": capture.content_type,
        "kind": capture.kind,
        "truncated": capture.truncated,
        "hashes": {
            "payload_sha256": capture.payload_sha256,
            "payload_length": capture.payload_length,
            "decoded_sha256": capture.decoded_sha256,
            "text_sha256": capture.text_sha256,
            "links_sha256": capture.links_sha256,
            "normalisation_version": capture.norm_version,
        },
        "title": capture.title,
        "byline": capture.byline,
        "modified": capture.modified,
        "record_type": capture.record_type,
        "record_id": capture.record_id,
        "run": capture.run_id,
        "command": run.command if run else None,
        "tool_version": run.tool_version if run else None,
        "host": run.host if run else None,
        "pid": run.pid if run else None,
        "options": _loads(run.options) if run else None,
        "records": sorted(records, key=lambda r: (r["hop"], r["source"]["offset"])),
        "citations": [
            {"capture_id": capture.id, **asdict(c)} for c in selection.citations.get(capture.id, [])
        ],
        "check": _check_entry(check) if check else None,
    }


def _chain(store: Store, selection: Selection, warcs: list[PackageWarc]) -> dict[str, Any] | None:
    """The archive's hash-chain entries for the exported rows, each with the row exactly as
    hashed (so that anyone can recompute it), and the chain's head at export time."""
    found = store.export_chain(
        {
            "captures": list(selection.captures),
            "checks": [c.id for c in selection.checks],
            "warc_files": [w.source for w in warcs],
        }
    )
    if found is None:
        return None
    return {
        "hash_rule": "entry_hash = 'sha256:' + hex(sha256(JSON of {\"prev\": prev_hash, "
        '"table": table_name, "row": row}, keys sorted, no whitespace, '
        "non-ASCII as is, UTF-8)); see preserve.store.chain",
        "head": asdict(found.head) if found.head else None,
        "entries": [{**asdict(e.entry), "row": e.row} for e in found.entries],
    }


def _warc_entry(warc: PackageWarc, source: WarcFileRow | None) -> dict[str, Any]:
    """A WARC file of the package, and the archive's file it was copied from."""
    return {
        "path": warc.path,
        "copied_from": warc.source,
        "source_size": source.size if source else None,
        "source_sha256": source.sha256 if source else None,
        "source_closed_at": source.closed_at if source else None,
        "warcinfo": warc.warcinfo,
        "records": warc.count,
        "identical_to_source": sha256_of_path(warc.file)[1] == (source.sha256 if source else None),
    }


def _record_entry(row: Record, placed: Placed) -> dict[str, Any]:
    path, offset = placed[row.record_id]
    return {
        "type": row.type,
        "hop": row.hop,
        "url": row.url,
        "date": row.date,
        "http_status": row.http_status,
        "record_id": row.record_id,
        "record_sha256": row.record_sha256,
        "payload_sha256": row.payload_sha256,
        "source": {"warc": row.warc, "offset": row.offset, "length": row.length},
        "package": {"path": path, "offset": offset, "length": row.length},
    }


def _check_entry(check: Check) -> dict[str, Any]:
    return {**asdict(check), "detail": _loads(check.detail)}


def _loads(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text
