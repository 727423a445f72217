"""The log and the texts, checked by `verify`: the hash chain, and texts stored by hash.

The chain's problems are named by the captures they affect; a stored text may no longer
hash to its key, or be missing from the index find-text searches."""

from __future__ import annotations

import hashlib

from preserve.evidence.problems import Problem
from preserve.store import chain, integrity
from preserve.store.connection import Connection


def chain_problems(conn: Connection, found: list[chain.ChainProblem]) -> list[Problem]:
    """The chain's problems (from `chain.check`), each with the capture it affects."""
    problems = []
    for item in found:
        url = warc = capture_id = captured_at = None
        if item.table == "warc_files":
            warc = item.row_id
        elif item.table is not None and item.row_id is not None:
            affected = integrity.logged_capture(conn, item.table, item.row_id)
            if affected is not None:
                url, capture_id, captured_at = (
                    affected.url,
                    affected.capture_id,
                    affected.captured_at,
                )
        problems.append(Problem(item.kind, warc, None, url, item.detail, capture_id, captured_at))
    return problems


def text_problems(conn: Connection) -> list[Problem]:
    """Texts are stored once under their sha256 (of the UTF-8 normalised text). Read once,
    as the bytes stored (in a UTF-8 database, the text's UTF-8: nothing to decode and
    encode again), with whether each is one find-text must find."""
    problems = []
    searchable = []
    for sha256, text, nonempty in integrity.stored_texts(conn):
        if isinstance(text, str):
            text = text.encode("utf-8", "surrogatepass")
        digest = hashlib.sha256(text or b"").hexdigest()
        if digest != sha256:
            problems.append(_edited_text(conn, sha256, digest))
        if nonempty and sha256 is not None:
            searchable.append(sha256)
    indexed = integrity.search_keys(conn)
    if None in indexed:  # as SQL's NOT IN has it: nothing is "not in" a set holding NULL
        return problems
    for sha256 in searchable:
        if sha256 not in indexed:
            problems.append(
                Problem(
                    "text-unindexed",
                    None,
                    None,
                    None,
                    f"the text {sha256} is not in the search index: find-text cannot find it",
                )
            )
    return problems


def _edited_text(conn: Connection, sha256: str, digest: str) -> Problem:
    user = integrity.first_capture_with_text(conn, sha256)
    return Problem(
        "text-sha256",
        None,
        None,
        user.url if user else None,
        f"the text stored as {sha256} hashes to {digest}: edited (find-text "
        "and show read this text)",
        user.capture_id if user else None,
        user.captured_at if user else None,
    )
