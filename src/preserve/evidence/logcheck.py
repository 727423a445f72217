"""The log and the texts, checked by `verify`: the hash chain, and texts stored by hash.

The chain's problems are named by the captures they affect; a stored text may no longer
hash to its key, or be missing from the index find-text searches."""

from __future__ import annotations

import hashlib
from typing import Any

from preserve.evidence.problems import Problem
from preserve.store import chain


def chain_problems(db: Any, found: list[chain.ChainProblem]) -> list[Problem]:
    """The chain's problems (from `chain.check`), each with the capture it affects."""
    problems = []
    for item in found:
        url = warc = capture_id = captured_at = None
        row = _logged_row(db, item.table, item.row_id)
        if item.table == "captures" and row:
            url, capture_id, captured_at = row["url"], row["id"], row["started_at"]
        elif item.table == "checks" and row:
            url, capture_id, captured_at = row["url"], row["capture_id"], row["checked_at"]
        elif item.table == "warc_files":
            warc = item.row_id
        problems.append(Problem(item.kind, warc, None, url, item.detail, capture_id, captured_at))
    return problems


def _logged_row(db: Any, table: str | None, row_id: str | None) -> dict[str, Any] | None:
    if table not in ("captures", "checks") or row_id is None:
        return None
    rows = list(db.query(f"SELECT * FROM [{table}] WHERE id = ?", [row_id]))
    return rows[0] if rows else None


def text_problems(db: Any) -> list[Problem]:
    """Texts are stored once under their sha256 (of the UTF-8 normalised text). Read once,
    as the bytes stored (in a UTF-8 database, the text's UTF-8: nothing to decode and
    encode again), with whether each is one find-text must find."""
    ((encoding,),) = db.execute("PRAGMA encoding").fetchall()
    stored = "CAST(text AS BLOB)" if encoding == "UTF-8" else "text"
    problems = []
    searchable = []
    for sha256, text, nonempty in db.execute(
        f"SELECT sha256, {stored}, text IS NOT NULL AND text != '' FROM texts"
    ):
        if isinstance(text, str):
            text = text.encode("utf-8", "surrogatepass")
        digest = hashlib.sha256(text or b"").hexdigest()
        if digest != sha256:
            problems.append(_edited_text(db, sha256, digest))
        if nonempty and sha256 is not None:
            searchable.append(sha256)
    indexed = {key for (key,) in db.execute("SELECT sha256 FROM text_search_keys")}
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


def _edited_text(db: Any, sha256: str, digest: str) -> Problem:
    users = list(
        db.query(
            "SELECT id, url, started_at FROM captures WHERE text_sha256 = ? ORDER BY id LIMIT 1",
            [sha256],
        )
    )
    user = users[0] if users else {"id": None, "url": None, "started_at": None}
    return Problem(
        "text-sha256",
        None,
        None,
        user["url"],
        f"the text stored as {sha256} hashes to {digest}: edited (find-text "
        "and show read this text)",
        user["id"],
        user["started_at"],
    )
