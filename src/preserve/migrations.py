"""The database schema, as sqlite-utils migrations: one function per change, never edited
once released (add a new one instead). `Store` applies pending ones when it opens."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("preserve")


@migrations()
def m001_capture(db: Database) -> None:
    db["runs"].create(
        {
            "id": int,
            "command": str,
            "started_at": str,
            "ended_at": str,
            "tool_version": str,
            "host": str,
            "pid": int,
            "options": str,  # JSON
        },
        pk="id",
    )
    db["targets"].create(
        {
            "url": str,
            "role": str,  # article | citation
            "every_seconds": int,
            "added_at": str,
            "next_due": str,
            "cited_by": str,  # the article URL that first cited it
            "baseline_capture_id": int,  # the last good capture: what checks compare against
            "state": str,  # the latest outcome
            "reason": str,
            "confirmed": int,
            "last_checked_at": str,
            "last_change_at": str,
        },
        pk="url",
    )
    db["targets"].create_index(["next_due"])
    db["warc_files"].create(
        {
            "name": str,
            "run_id": int,
            "created_at": str,
            "closed_at": str,
            "size": int,
            "sha256": str,
        },
        pk="name",
        foreign_keys=[("run_id", "runs", "id")],
    )
    db["texts"].create(
        # Extracted texts, stored once per distinct text (recaptures mostly repeat them).
        {"sha256": str, "norm_version": int, "text": str, "visible_text": str},
        pk="sha256",
    )
    db["captures"].create(
        {
            "id": int,
            "run_id": int,
            "url": str,
            "role": str,  # article | citation | requisite | probe
            "depth": int,
            "parent_id": int,  # the capture that cited or required this one
            "started_at": str,
            "ended_at": str,
            "status": str,  # captured | failed
            "error": str,  # fetch reason code when failed
            "error_detail": str,
            "http_status": int,
            "final_url": str,
            "redirects": str,  # JSON [[url, status], ...]
            "headers": str,  # JSON [[name, value], ...] of the final response
            "peer_ip": str,
            "content_type": str,
            "kind": str,  # html | text | pdf | other
            "truncated": str,
            "payload_sha256": str,
            "payload_length": int,
            "decoded_sha256": str,
            "text_sha256": str,
            "loose_sha256": str,
            "links_sha256": str,
            "norm_version": int,
            "title": str,
            "record_type": str,  # response | revisit
            "warc": str,
            "offset": int,
            "length": int,
            "record_id": str,
            "record_sha256": str,
            "metadata_record_id": str,
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id"), ("parent_id", "captures", "id")],
    )
    db["captures"].create_index(["url", "started_at"])
    db["captures"].create_index(["payload_sha256"])
    db["records"].create(
        # Every WARC record a capture wrote: redirect hops, the final response, its request.
        {
            "id": int,
            "capture_id": int,
            "hop": int,
            "type": str,
            "url": str,
            "date": str,  # the record's WARC-Date
            "http_status": int,
            "warc": str,
            "offset": int,
            "length": int,
            "record_id": str,
            "record_sha256": str,
            "payload_sha256": str,
        },
        pk="id",
        foreign_keys=[("capture_id", "captures", "id")],
    )
    db["records"].create_index(["capture_id"])
    db["records"].create_index(["warc", "offset"])
    db["records"].create_index(["url", "payload_sha256"])
    db["citations"].create(
        {
            "id": int,
            "capture_id": int,
            "position": int,
            "url": str,
            "anchor_text": str,
            "context": str,
        },
        pk="id",
        foreign_keys=[("capture_id", "captures", "id")],
    )
    db["citations"].create_index(["capture_id", "position"])
    db["citations"].create_index(["url"])


@migrations()
def m002_checks(db: Database) -> None:
    db["checks"].create(
        {
            "id": int,
            "run_id": int,
            "url": str,
            "role": str,
            "checked_at": str,
            "capture_id": int,  # the recapture (NULL never: failures are captures too)
            "baseline_capture_id": int,  # what it was compared with
            "probe_capture_id": int,  # the random sibling URL fetched for soft-404s
            "outcome": str,
            "reason": str,
            "confirmed": int,
            "rule": str,
            "http_status": int,
            "new_url": str,
            "detail": str,  # JSON: edit summary, link changes, blocked-by, text_equal
        },
        pk="id",
        foreign_keys=[
            ("run_id", "runs", "id"),
            ("capture_id", "captures", "id"),
            ("baseline_capture_id", "captures", "id"),
            ("probe_capture_id", "captures", "id"),
        ],
    )
    db["checks"].create_index(["url", "checked_at"])
    db["checks"].create_index(["capture_id"])
