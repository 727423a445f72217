"""Captures: storing one with its WARC records, citations and text (indexed for find-text),
and reading them back: by id, by URL, by payload, a run's, the texts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from operator import attrgetter
from typing import Any

from preserve.store import chain
from preserve.store.base import StoreBase, insert_sql, inserted_id
from preserve.store.rows import CitationRow, NewCapture, RecordRow
from preserve.store.sql import select


class CapturesTable(StoreBase):
    def add_capture(self, capture: NewCapture) -> int:
        """Store a capture with its records, citations and text, all or nothing."""
        row = [getattr(capture, name) for name in _CAPTURE_COLUMNS]
        with self._write():
            capture_id = inserted_id(self.db.execute(_INSERT_CAPTURE, row))
            if capture.text_sha256 and capture.text is not None:
                added = self.db.execute(
                    "INSERT OR IGNORE INTO texts (sha256, norm_version, text, visible_text)"
                    " VALUES (?, ?, ?, ?)",
                    [capture.text_sha256, capture.norm_version, capture.text, capture.visible_text],
                ).rowcount
                if added:  # a new text: index it for find-text (see m003)
                    key = self._insert("text_search_keys", {"sha256": capture.text_sha256})
                    self.db.execute(
                        "INSERT INTO text_search (rowid, text) VALUES (?, ?)", [key, capture.text]
                    )
            if capture.records:
                self.db.conn.executemany(
                    _INSERT_RECORD,
                    [(capture_id, *_record_values(record)) for record in capture.records],
                )
            if capture.citations:
                self.db.conn.executemany(
                    _INSERT_CITATION,
                    [(capture_id, *_citation_values(citation)) for citation in capture.citations],
                )
            chain.append(self.db, "captures", capture_id)
        return capture_id

    def capture(self, capture_id: int) -> dict[str, Any] | None:
        rows = select(self.db, "SELECT * FROM captures WHERE id = ?", [capture_id])
        return rows[0] if rows else None

    def text(self, text_sha256: str | None) -> tuple[str, str] | None:
        """(text, visible_text) stored under a text hash. The visible text is "" when the
        archive does not hold it: a capture leaves it out (see `check._with_visible_text`)."""
        if not text_sha256:
            return None
        rows = select(
            self.db, "SELECT text, visible_text FROM texts WHERE sha256 = ?", [text_sha256]
        )
        return (rows[0]["text"] or "", rows[0]["visible_text"] or "") if rows else None

    def citations(self, capture_id: int) -> list[dict[str, Any]]:
        return select(
            self.db,
            "SELECT position, url, anchor_text, context FROM citations"
            " WHERE capture_id = ? ORDER BY position",
            [capture_id],
        )

    def extraction(
        self, final_url: str, payload_sha256: str, norm_version: int
    ) -> dict[str, Any] | None:
        """What was extracted before from these exact bytes at this URL, under this
        normalisation: the capture's extraction columns, its `text` and `visible_text` and
        its `citations`. Extraction depends on nothing else, so a recapture of unchanged
        bytes can reuse it instead of parsing the page again."""
        rows = select(
            self.db,
            "SELECT id, kind, title, byline, modified, decoded_sha256, text_sha256,"
            " loose_sha256, links_sha256 FROM captures"
            " WHERE payload_sha256 = ? AND final_url = ? AND norm_version = ?"
            " AND status = 'captured' AND kind IS NOT NULL AND byline IS NOT NULL"
            " ORDER BY id DESC LIMIT 1",
            [payload_sha256, final_url, norm_version],
        )
        if not rows:
            return None
        row = rows[0]
        texts = self.text(row["text_sha256"]) if row["text_sha256"] else ("", "")
        if texts is None:
            return None
        return {
            **row,
            "text": texts[0],
            "visible_text": texts[1],
            "citations": self.citations(row["id"]),
        }

    def original_for(self, url: str, payload_sha256: str) -> dict[str, Any] | None:
        """The earliest full response record of this URL with this payload: what a revisit
        record refers to (record_id, url, date, warc, offset, length). Same URL only, since
        replay tools resolve revisits by URL."""
        rows = select(
            self.db,
            "SELECT record_id, url, date, warc, offset, length FROM records"
            " WHERE url = ? AND payload_sha256 = ? AND type = 'response'"
            " ORDER BY id LIMIT 1",
            [url, payload_sha256],
        )
        return rows[0] if rows else None

    def history(self, url: str) -> list[dict[str, Any]]:
        """Every capture of a URL, oldest first, with the outcome of the check it was for
        (or `new`/`failed` for captures made by `capture`)."""
        return select(
            self.db,
            "SELECT captures.*, checks.outcome AS outcome, checks.reason AS reason,"
            " checks.confirmed AS confirmed FROM captures"
            " LEFT JOIN checks ON checks.capture_id = captures.id"
            " WHERE captures.url = ? AND captures.role != 'probe'"
            " ORDER BY captures.started_at, captures.id",
            [url],
        )

    def descendants(self, capture_id: int) -> list[dict[str, Any]]:
        """The captures made because of this one, in the order they were stored: what it
        cited and showed, what those cited, and so on (see `Job.parent_id`)."""
        return select(
            self.db,
            "WITH RECURSIVE tree(id) AS (SELECT id FROM captures WHERE parent_id = ?"
            " UNION ALL SELECT captures.id FROM captures JOIN tree"
            " ON captures.parent_id = tree.id)"
            " SELECT captures.* FROM captures JOIN tree USING (id) ORDER BY captures.id",
            [capture_id],
        )

    def run_captures_of(self, run_id: int, urls: Sequence[str]) -> dict[str, dict[str, Any]]:
        """This run's capture of each of these URLs, by URL (a run fetches a URL once; if it
        did more, the first)."""
        found: dict[str, dict[str, Any]] = {}
        for row in self._in(
            f"SELECT * FROM captures WHERE run_id = {int(run_id)} AND url IN ({{}}) ORDER BY id",
            urls,
        ):
            found.setdefault(row["url"], row)
        return found

    def cited_requisites(
        self, run_id: int, articles: Sequence[str]
    ) -> list[tuple[str, dict[str, Any]]]:
        """(article URL, capture row) for each URL that one of these articles cites and this
        run fetched as a requisite (of it or of another article)."""
        rows = self._in(
            "SELECT article.url AS cited_by, shown.* FROM captures AS article"
            " JOIN citations ON citations.capture_id = article.id"
            " JOIN captures AS shown ON shown.url = citations.url"
            f" AND shown.run_id = {int(run_id)} AND shown.role = 'requisite'"
            f" WHERE article.url IN ({{}}) AND article.run_id = {int(run_id)}"
            " AND article.role = 'article' ORDER BY article.id, citations.position",
            articles,
        )
        return [(row.pop("cited_by"), row) for row in rows]

    def citation_counts(self, capture_ids: Sequence[int]) -> dict[int, int]:
        """How many citations each of these captures has (absent: none)."""
        return {
            row["capture_id"]: row["n"]
            for row in self._in(
                "SELECT capture_id, count(*) AS n FROM citations WHERE capture_id IN ({})"
                " GROUP BY capture_id",
                capture_ids,
            )
        }

    def records(self) -> Iterator[dict[str, Any]]:
        yield from self.db.query("SELECT * FROM records ORDER BY warc, offset")

    def good_captures(self, url: str) -> list[dict[str, Any]]:
        """Captures of a URL with a 2xx answer and a text, oldest first."""
        return select(
            self.db,
            "SELECT * FROM captures WHERE url = ? AND status = 'captured'"
            " AND http_status BETWEEN 200 AND 299 AND role != 'probe'"
            " ORDER BY started_at, id",
            [url],
        )

    def versions_before(self, url: str, capture_id: int, limit: int = 1000) -> list[dict[str, Any]]:
        """What the URL's good captures (2xx) before capture `capture_id` said, newest first,
        at most `limit` of them: the versions an edit may bring back."""
        return select(
            self.db,
            "SELECT id, started_at, kind, title, text_sha256, links_sha256, payload_sha256"
            " FROM captures WHERE url = ? AND id < ? AND status = 'captured'"
            " AND http_status BETWEEN 200 AND 299 ORDER BY id DESC LIMIT ?",
            [url, capture_id, limit],
        )


_CAPTURE_COLUMNS = tuple(
    name
    for name in NewCapture.__dataclass_fields__
    if name not in ("text", "visible_text", "records", "citations")
)


_INSERT_CAPTURE = insert_sql("captures", _CAPTURE_COLUMNS)


_INSERT_RECORD = insert_sql("records", ("capture_id", *RecordRow.__dataclass_fields__))


_INSERT_CITATION = insert_sql("citations", ("capture_id", *CitationRow.__dataclass_fields__))


_record_values = attrgetter(*RecordRow.__dataclass_fields__)


_citation_values = attrgetter(*CitationRow.__dataclass_fields__)
