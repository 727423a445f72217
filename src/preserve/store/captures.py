"""Captures: storing one with its WARC records, citations and text (indexed for find-text),
and reading them back: by id, by URL, by payload, a run's, the texts."""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter

from preserve.store import textsearch
from preserve.store.base import StoreBase, columns_of, insert_sql
from preserve.store.rows import (
    Capture,
    CheckedCapture,
    CitationRow,
    Extraction,
    NewCapture,
    OriginalRecord,
    Record,
    RecordRow,
)


class CapturesTable(StoreBase):
    def add_capture(self, capture: NewCapture) -> int:
        """Store a capture with its records, citations and text, all or nothing."""
        row = [getattr(capture, name) for name in _CAPTURE_COLUMNS]
        with self._write():
            capture_id = self.conn.insert(_INSERT_CAPTURE, row)
            if capture.visible_sha256 and capture.visible_text is not None:
                self.conn.execute(
                    "INSERT INTO visible_texts (sha256, text) VALUES (?, ?)"
                    " ON CONFLICT (sha256) DO NOTHING",
                    [capture.visible_sha256, capture.visible_text],
                )
            if capture.text_sha256 and capture.text is not None:
                added = self.conn.execute(
                    "INSERT INTO texts (sha256, norm_version, text) VALUES (?, ?, ?)"
                    " ON CONFLICT (sha256) DO NOTHING",
                    [capture.text_sha256, capture.norm_version, capture.text],
                ).rowcount
                if added:  # a new text: index it for find-text (see m003)
                    textsearch.index_text(self.conn, capture.text_sha256, capture.text)
            if capture.records:
                self.conn.executemany(
                    _INSERT_RECORD,
                    [(capture_id, *_record_values(record)) for record in capture.records],
                )
            if capture.citations:
                self.conn.executemany(
                    _INSERT_CITATION,
                    [(capture_id, *_citation_values(citation)) for citation in capture.citations],
                )
            self._log("captures", capture_id)
        return capture_id

    def capture(self, capture_id: int) -> Capture | None:
        return self._row(Capture, "SELECT {columns} FROM captures WHERE id = ?", [capture_id])

    def text(self, text_sha256: str | None) -> str | None:
        """The normalised main text stored under a text hash."""
        if not text_sha256:
            return None
        row = self.conn.execute("SELECT text FROM texts WHERE sha256 = ?", [text_sha256]).fetchone()
        return (row[0] or "") if row else None

    def visible_text(self, visible_sha256: str | None) -> str | None:
        """A page's full visible text stored under its hash (None: not kept; a capture
        leaves it out, see `engine.snapshots`)."""
        if not visible_sha256:
            return None
        row = self.conn.execute(
            "SELECT text FROM visible_texts WHERE sha256 = ?", [visible_sha256]
        ).fetchone()
        return (row[0] or "") if row else None

    def citations(self, capture_id: int) -> list[CitationRow]:
        return self._rows(
            CitationRow,
            "SELECT {columns} FROM citations WHERE capture_id = ? ORDER BY position",
            [capture_id],
        )

    def extraction(
        self, final_url: str, payload_sha256: str, norm_version: int
    ) -> Extraction | None:
        """What was extracted before from these exact bytes at this URL, under this
        normalisation. Extraction depends on nothing else, so a recapture of unchanged bytes
        can reuse it instead of parsing the page again."""
        row = self.conn.execute(
            "SELECT id, kind, title, byline, modified, decoded_sha256, text_sha256,"
            " loose_sha256, links_sha256, visible_sha256, text_words FROM captures"
            " WHERE payload_sha256 = ? AND final_url = ? AND norm_version = ?"
            " AND status = 'captured' AND kind IS NOT NULL AND byline IS NOT NULL"
            # A rendered capture's text is its DOM's, not these bytes' (docs/browser.md).
            " AND rendered IS NULL ORDER BY id DESC LIMIT 1",
            [payload_sha256, final_url, norm_version],
        ).fetchone()
        if row is None:
            return None
        capture_id, kind, title, byline, modified, decoded, text_hash, loose, links = row[:9]
        seen, words = row[9:]
        text = self.text(text_hash) if text_hash else ""
        if text is None:
            return None
        return Extraction(
            capture_id=capture_id,
            kind=kind,
            title=title,
            byline=byline,
            modified=modified,
            decoded_sha256=decoded,
            text_sha256=text_hash,
            loose_sha256=loose,
            links_sha256=links,
            text=text,
            visible_text=self.visible_text(seen) or "",
            citations=tuple(self.citations(capture_id)),
            text_words=words,
        )

    def resource_record(self, capture_id: int, prefix: str) -> Record | None:
        """A capture's resource record whose Target-URI starts with `prefix` (`urn:dom:`,
        `urn:fullPage:`, `urn:thumbnail:`): what a render made of the page."""
        return self._row(
            Record,
            "SELECT {columns} FROM records WHERE capture_id = ? AND type = 'resource'"
            " AND substr(url, 1, ?) = ? ORDER BY id LIMIT 1",
            [capture_id, len(prefix), prefix],
        )

    def original_for(self, url: str, payload_sha256: str) -> OriginalRecord | None:
        """The earliest full response record of this URL with this payload: what a revisit
        record refers to. Same URL only, since replay tools resolve revisits by URL."""
        return self._row(
            OriginalRecord,
            "SELECT {columns} FROM records WHERE url = ? AND payload_sha256 = ?"
            " AND type = 'response' ORDER BY id LIMIT 1",
            [url, payload_sha256],
        )

    def response_record(self, record_id: str) -> OriginalRecord | None:
        """Where the response record with this WARC-Record-ID is, if the archive has it."""
        return self._row(
            OriginalRecord,
            "SELECT {columns} FROM records WHERE record_id = ? AND type = 'response' LIMIT 1",
            [record_id],
        )

    def texts_with_phrase(self, needle: str) -> list[tuple[str, str]]:
        """(sha256, text) of the stored main texts in which the full-text index finds the
        words of `needle` in a row: candidates, which the caller confirms against the
        text (see `textsearch`)."""
        return textsearch.texts_with_phrase(self.conn, needle)

    def captures_with_texts(self, hashes: Sequence[str], url: str | None) -> list[Capture]:
        """The captures (probes aside) whose main text is one of these, oldest first; only
        those of `url` when given."""
        rows = self._rows_in(
            Capture,
            "SELECT {columns} FROM captures WHERE role != 'probe' AND text_sha256 IN ({IN})"
            + (" AND url = ?" if url is not None else ""),
            hashes,
            extra=[url] if url is not None else [],
        )
        return sorted(rows, key=lambda r: (r.started_at, r.id))

    def history(self, url: str, *, arrivals: bool = False) -> list[CheckedCapture]:
        """Every capture of a URL, oldest first, with the check it was for (none for those
        made by `capture`). `arrivals`: also the captures of other URLs that redirected to
        this one (the capture that found a page moved here, say)."""
        where = "captures.url = ?" + (" OR captures.final_url = ?" if arrivals else "")
        cursor = self.conn.execute(
            f"SELECT {columns_of(Capture, 'captures')}, checks.outcome, checks.reason,"
            " checks.confirmed, checks.new_url FROM captures"
            " LEFT JOIN checks ON checks.capture_id = captures.id"
            f" WHERE ({where}) AND captures.role != 'probe'"
            " ORDER BY captures.started_at, captures.id",
            [url, url] if arrivals else [url],
        )
        return [
            CheckedCapture(
                Capture(*row[:-4]),
                row[-4],
                row[-3],
                None if row[-2] is None else bool(row[-2]),
                row[-1],
            )
            for row in cursor
        ]

    def descendants(self, capture_id: int) -> list[Capture]:
        """The captures made because of this one, in the order they were stored: what it
        cited and showed, what those cited, and so on (see `Job.parent_id`)."""
        return self._rows(
            Capture,
            "WITH RECURSIVE tree(id) AS (SELECT id FROM captures WHERE parent_id = ?"
            " UNION ALL SELECT captures.id FROM captures JOIN tree"
            " ON captures.parent_id = tree.id)"
            " SELECT {columns} FROM captures JOIN tree USING (id) ORDER BY captures.id",
            [capture_id],
        )

    def run_captures_of(self, run_id: int, urls: Sequence[str]) -> dict[str, Capture]:
        """This run's capture of each of these URLs, by URL (a run fetches a URL once; if it
        did more, the first)."""
        found: dict[str, Capture] = {}
        for row in self._rows_in(
            Capture,
            f"SELECT {{columns}} FROM captures WHERE run_id = {int(run_id)} AND url IN ({{IN}})"
            " ORDER BY id",
            urls,
        ):
            found.setdefault(row.url, row)
        return found

    def cited_requisites(self, run_id: int, articles: Sequence[str]) -> list[tuple[str, Capture]]:
        """(article URL, capture) for each URL that one of these articles cites and this run
        fetched as a requisite (of it or of another article)."""
        unique = list(dict.fromkeys(articles))
        found: list[tuple[str, Capture]] = []
        for start in range(0, len(unique), 500):
            part = unique[start : start + 500]
            cursor = self.conn.execute(
                f"SELECT article.url, {columns_of(Capture, 'shown')} FROM captures AS article"
                " JOIN citations ON citations.capture_id = article.id"
                " JOIN captures AS shown ON shown.url = citations.url"
                " AND shown.run_id = ? AND shown.role = 'requisite'"
                f" WHERE article.url IN ({', '.join('?' * len(part))}) AND article.run_id = ?"
                " AND article.role = 'article' ORDER BY article.id, citations.position",
                [run_id, *part, run_id],
            )
            found += [(row[0], Capture(*row[1:])) for row in cursor]
        return found

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

    def good_captures(self, url: str) -> list[Capture]:
        """Captures of a URL with a 2xx answer, oldest first."""
        return self._rows(
            Capture,
            "SELECT {columns} FROM captures WHERE url = ? AND status = 'captured'"
            " AND http_status BETWEEN 200 AND 299 AND role != 'probe'"
            " ORDER BY started_at, id",
            [url],
        )

    def versions_before(self, url: str, capture_id: int, limit: int = 1000) -> list[Capture]:
        """The URL's good captures (2xx) before capture `capture_id`, newest first, at most
        `limit` of them: the versions an edit may bring back."""
        return self._rows(
            Capture,
            "SELECT {columns} FROM captures WHERE url = ? AND id < ? AND status = 'captured'"
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
