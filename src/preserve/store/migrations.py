"""The database schema, as sqlite-utils migrations: one function per change, never edited
once released (add a new one instead). `Store` applies pending ones when it opens."""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from preserve.store import chain
from preserve.store.sqlite import SqliteConnection

migrations = Migrations("preserve")


@migrations()
def m001_capture(db: Database) -> None:
    db.table("runs").create(
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
    db.table("targets").create(
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
    db.table("targets").create_index(["next_due"])
    db.table("warc_files").create(
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
    db.table("texts").create(
        # Extracted texts, stored once per distinct text (recaptures mostly repeat them).
        {"sha256": str, "norm_version": int, "text": str, "visible_text": str},
        pk="sha256",
    )
    db.table("captures").create(
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
    db.table("captures").create_index(["url", "started_at"])
    db.table("captures").create_index(["payload_sha256"])
    db.table("records").create(
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
    db.table("records").create_index(["capture_id"])
    db.table("records").create_index(["warc", "offset"])
    db.table("records").create_index(["url", "payload_sha256"])
    db.table("citations").create(
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
    db.table("citations").create_index(["capture_id", "position"])
    db.table("citations").create_index(["url"])


@migrations()
def m002_checks(db: Database) -> None:
    db.table("checks").create(
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
    db.table("checks").create_index(["url", "checked_at"])
    db.table("checks").create_index(["capture_id"])


@migrations()
def m003_chain_and_text_search(db: Database) -> None:
    # The provenance log's hash chain (see preserve.chain for exactly what is hashed).
    db.table("chain").create(
        {
            "seq": int,
            "table_name": str,  # captures | checks | warc_files
            "row_id": str,  # the logged row's key, as text
            "prev_hash": str,  # the previous entry's entry_hash; NULL for the first
            "entry_hash": str,  # "sha256:<hex>"
            "created_at": str,
        },
        pk="seq",
    )
    db.table("chain").create_index(["table_name", "row_id"])
    # Full-text search over the normalised main texts, for find-text: a contentless FTS5
    # index (the texts are already stored once, in `texts`) whose rowids are the ids of
    # `text_search_keys`, which maps them to text hashes. Its own key table rather than the
    # rowid of `texts`, which VACUUM may renumber.
    db.table("text_search_keys").create({"id": int, "sha256": str}, pk="id")
    db.table("text_search_keys").create_index(["sha256"], unique=True)
    db.execute(
        "CREATE VIRTUAL TABLE text_search USING fts5("
        "text, content='', tokenize='unicode61 remove_diacritics 2')"
    )
    for row in db.query("SELECT sha256, text FROM texts WHERE text IS NOT NULL"):
        key = db.table("text_search_keys").insert({"sha256": row["sha256"]}).last_pk
        db.execute("INSERT INTO text_search (rowid, text) VALUES (?, ?)", [key, row["text"]])
    chain.backfill(SqliteConnection.over(db.conn, Path("preserve.db")))


@migrations()
def m004_recoveries(db: Database) -> None:
    # What a run found left behind by runs that died (kill -9, a crash, power loss): `.open`
    # WARC files it sealed or dropped, closed files it entered in warc_files, runs it ended.
    # See archive.seal_orphans.
    db.table("recoveries").create(
        {
            "id": int,
            "recovered_at": str,
            "by_run_id": int,  # the run that found it
            "run_id": int,  # the run that died (NULL when not known)
            # sealed-warc | dropped-warc | registered-warc | unsealable-warc | dead-run
            "kind": str,
            "warc": str,
            "kept_bytes": int,
            "cut_bytes": int,  # the torn tail cut off
            "records": int,  # whole records kept
            "detail": str,
        },
        pk="id",
        foreign_keys=[("by_run_id", "runs", "id"), ("run_id", "runs", "id")],
    )


@migrations()
def m005_targets_in_status_order(db: Database) -> None:
    # `status` lists targets oldest first: walked in this index's order, a million of them
    # stream out without being sorted first.
    db.table("targets").create_index(["added_at", "url"])


@migrations()
def m006_targets_in_status_order(db: Database) -> None:
    # The order of `status` (and of Store.targets) became: each article before the sources
    # tracked with it. The index follows, so that status still streams without a sort.
    db.execute("DROP INDEX IF EXISTS idx_targets_added_at_url")
    db.execute(
        "CREATE INDEX idx_targets_status_order ON targets (added_at, role != 'article', url)"
    )


@migrations()
def m007_captures_by_parent(db: Database) -> None:
    # A capture's report lists what each article brought in (its citations and their
    # citations, its requisites), read back from the database by walking parent_id down.
    db.table("captures").create_index(["parent_id"])


@migrations()
def m008_byline_and_modified(db: Database) -> None:
    # Compared on their own since: the byline and the page's stated dateModified.
    # NULL in the rows from before, which no comparison reads as a change. Not in the hash
    # chain, whose columns are fixed (chain.py); both are derived from the chained record.
    db.table("captures").add_column("byline", str)
    db.table("captures").add_column("modified", str)


@migrations()
def m009_tls(db: Database) -> None:
    # Over HTTPS, what the connection showed of the server (tlspeer.TlsPeer, as JSON); also
    # in the capture's metadata record, in the WARC file.
    db.table("captures").add_column("tls", str)


@migrations()
def m010_exports(db: Database) -> None:
    # Chain of custody: every evidence package made from the archive, by its sha256, in the
    # hash chain (a table of its own, so the entries made before are untouched).
    db.table("exports").create(
        {
            "id": int,
            "exported_at": str,
            "wacz": str,  # the package's path, as written
            "bytes": int,
            "sha256": str,  # of the .wacz file
            "digest": str,  # of its datapackage.json, which signatures cover
            "articles": str,  # JSON: the article URLs asked for
            "captures": int,
            "records": int,
            "signed_by": str,  # the signing key's fingerprint
            "timestamps": str,  # JSON: the RFC 3161 tokens' times and authorities
            "tool_version": str,
            "host": str,
            "pid": int,
        },
        pk="id",
    )


# What changed last, by outcome: a check's outcome that is a change of what the page says or
# where it is (status shows it beside the current state, which a later quiet check resets).
EVENT_OUTCOMES = ("edited", "moved", "gone", "restored")


@migrations()
def m011_last_event_pauses_and_holds(db: Database) -> None:
    # The last change a check found (outcome, reason, time), so that `status` can say
    # "unchanged · edited 2026-12-07"; filled in from the checks made before.
    # `paused`: tracked, but not checked until resumed (track --pause / --resume).
    # `check_run`: the run that holds the URL while it checks it, so that a second check
    # running at the same time skips it; a hold counts only while that run has not ended.
    targets = db.table("targets")
    targets.add_column("last_event", str)
    targets.add_column("last_event_reason", str)
    targets.add_column("last_event_at", str)
    targets.add_column("paused", int, not_null_default=0)
    targets.add_column("check_run", int)
    outcomes = ", ".join(f"'{o}'" for o in EVENT_OUTCOMES)
    latest = (
        "(SELECT {} FROM checks WHERE checks.url = targets.url"
        f" AND checks.outcome IN ({outcomes}) ORDER BY checked_at DESC, id DESC LIMIT 1)"
    )
    db.execute(
        "UPDATE targets SET last_event = {}, last_event_reason = {}, last_event_at = {}".format(
            latest.format("outcome"), latest.format("reason"), latest.format("checked_at")
        )
    )


@migrations()
def m012_visible_texts_and_text_words(db: Database) -> None:
    # A page's full visible text, per capture: two captures with the same main text may show
    # different text around it (an edit in a paragraph the extractor leaves out), which
    # `texts.visible_text` (one per main text) could not tell apart. Stored by its sha256,
    # once; NULL for the captures made before, whose visible text is extracted again from
    # their WARC record when a comparison needs it. Not in the hash chain: derived from the
    # chained record.
    db.table("visible_texts").create({"sha256": str, "text": str}, pk="sha256")
    db.table("captures").add_column("visible_sha256", str)
    # How many words of main text a capture holds (NULL for those made before), and, on a
    # tracked URL, its latest capture's: a page captured with no text to speak of says so
    # (preserve.coverage) in status and the report, never passing for archived.
    db.table("captures").add_column("text_words", int)
    db.table("targets").add_column("text_words", int)
    db.table("targets").add_column("kind", str)


@migrations()
def m013_rendering(db: Database) -> None:
    # Pages rendered in a browser (docs/browser.md). `targets.browser`: the mode a tracked
    # URL is checked with (auto | always | never; NULL: the archive's setting).
    # `captures.rendered`: how the render of a capture ended (complete, or why it was cut
    # off: deadline, memory, crash, navigation-loop, hung, interrupted; failed: no DOM);
    # NULL when the page was not rendered. The sha256 of its DOM and full-page screenshot
    # resource records (their payloads), beside the capture; both records are in `records`
    # too, so that `verify` holds them against the WARC file. Not in the hash chain, whose
    # columns are fixed: the chained metadata record names both digests.
    db.table("targets").add_column("browser", str)
    db.table("captures").add_column("rendered", str)
    db.table("captures").add_column("dom_sha256", str)
    db.table("captures").add_column("screenshot_sha256", str)


@migrations()
def m014_jobs(db: Database) -> None:
    # Checks run by workers (issue 17, `preserve worker`): a check's URLs in jobs, one
    # message each on the broker. The row is the truth, not the message: a worker takes a
    # job by marking it done in the transaction that stores its checks, so a message
    # delivered twice (a worker killed, a lost acknowledgement) is checked once; the
    # results are kept for `check --wait`.
    db.table("jobs").create(
        {
            "id": int,
            "run_id": int,
            "urls": str,  # JSON: the URLs, in the check's order
            "options": str,  # JSON: the fetch options the check was given
            "state": str,  # queued | done
            "enqueued_at": str,
            "done_at": str,
            "attempts": int,
            "worker": str,  # host and process of the attempt that stored it
            "results": str,  # JSON: each URL's result, as `check --json` prints it
        },
        pk="id",
        foreign_keys=[("run_id", "runs", "id")],
    )
    db.table("jobs").create_index(["run_id", "state"])
