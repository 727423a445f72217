"""find-text's full-text index, the one part of the schema each engine does its own way:
SQLite's FTS5 (`text_search`, a contentless index keyed by `text_search_keys`), and
PostgreSQL's text search (`text_search` holds each text's words in overlapping windows,
with a GIN index over their tsvector). Either only picks candidates: find-text confirms
each against the stored text."""

from __future__ import annotations

import re

from preserve.store.connection import Connection

# Words as FTS5's unicode61 tokenizer takes them: runs of letters and digits.
_WORD = re.compile(r"[^\W_]+")
# PostgreSQL: a window of 2 × WINDOW words starts every WINDOW words, so any phrase of up
# to WINDOW + 1 words lies whole in one window (a tsvector's word positions stop at 16383,
# and one tsvector must stay under 1 MB); a longer quotation is looked up by its first
# WINDOW words.
WINDOW = 1000


def index_text(conn: Connection, sha256: str, text: str) -> None:
    """Index a text just stored under `sha256` (in the same transaction)."""
    key = conn.insert("INSERT INTO text_search_keys (sha256) VALUES (?)", [sha256])
    if conn.dialect == "sqlite":
        conn.execute("INSERT INTO text_search (rowid, text) VALUES (?, ?)", [key, text])
        return
    words = _WORD.findall(text)
    starts = range(0, max(len(words) - WINDOW, 1), WINDOW)
    conn.executemany(
        "INSERT INTO text_search (key_id, part, text) VALUES (?, ?, ?)",
        [(key, part, " ".join(words[start : start + 2 * WINDOW])) for part, start in
         enumerate(starts)],
    )  # fmt: skip


def texts_with_phrase(conn: Connection, needle: str) -> list[tuple[str, str]]:
    """(sha256, text) of the stored main texts in which the index finds the words of
    `needle` in a row: candidates, which the caller confirms against the text."""
    if conn.dialect == "sqlite":
        phrase = '"' + needle.replace('"', '""') + '"'
        cursor = conn.execute(
            "SELECT texts.sha256, texts.text FROM text_search"
            " JOIN text_search_keys AS keys ON keys.id = text_search.rowid"
            " JOIN texts ON texts.sha256 = keys.sha256"
            " WHERE text_search MATCH ?",
            [phrase],
        )
        return [(sha256, text or "") for sha256, text in cursor]
    words = _WORD.findall(needle)[:WINDOW]
    if not words:
        return []
    cursor = conn.execute(
        "SELECT texts.sha256, texts.text FROM texts WHERE texts.sha256 IN ("
        "SELECT keys.sha256 FROM text_search"
        " JOIN text_search_keys AS keys ON keys.id = text_search.key_id"
        " WHERE to_tsvector('simple', text_search.text) @@ phraseto_tsquery('simple', ?))",
        [" ".join(words)],
    )
    return [(sha256, text or "") for sha256, text in cursor]
