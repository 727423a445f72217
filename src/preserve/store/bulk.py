"""Bulk reads, a query per table for many URLs at once: what `report` gathers and what
`export` selects."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from preserve.store.base import StoreBase, columns_of
from preserve.store.rows import CaptureSummary, Check, CitationRow, Target
from preserve.store.sql import select


class BulkReads(StoreBase):
    def articles(self, urls: Sequence[str] | None = None) -> list[Target]:
        """Tracked articles, oldest first (all, or those among `urls`, in their order)."""
        if urls is None:
            return self._rows(
                Target,
                "SELECT {columns} FROM targets WHERE role = 'article' ORDER BY added_at, url",
            )
        found = {
            t.url: t
            for t in self._rows_in(
                Target,
                "SELECT {columns} FROM targets WHERE role = 'article' AND url IN ({IN})",
                urls,
            )
        }
        return [found[url] for url in urls if url in found]

    def targets_of(self, urls: Sequence[str]) -> dict[str, Target]:
        """Target rows by URL (URLs that are not tracked are absent)."""
        return {
            t.url: t
            for t in self._rows_in(
                Target, "SELECT {columns} FROM targets WHERE url IN ({IN})", urls
            )
        }

    def captures_of(self, urls: Sequence[str]) -> dict[str, list[CaptureSummary]]:
        """Every capture of these URLs (probes excluded) with the check it was made for,
        oldest first, without the bulky columns (headers, redirects)."""
        grouped: dict[str, list[CaptureSummary]] = {url: [] for url in urls}
        rows = self._rows_in(
            CaptureSummary,
            "SELECT captures.id, captures.run_id, captures.url, captures.role,"
            " captures.started_at, captures.status, captures.error, captures.http_status,"
            " captures.final_url, captures.kind, captures.payload_sha256,"
            " captures.payload_length, captures.text_sha256, captures.title,"
            " captures.record_type, captures.warc, captures.offset, captures.length,"
            " captures.record_id, checks.id,"
            " CASE WHEN json_valid(captures.tls)"
            " THEN json_extract(captures.tls, '$.certificate_sha256') END"
            " FROM captures"
            " LEFT JOIN checks ON checks.capture_id = captures.id"
            " WHERE captures.role != 'probe' AND captures.url IN ({IN})",
            urls,
        )
        for row in sorted(rows, key=lambda r: (r.started_at, r.id)):
            grouped[row.url].append(row)
        return grouped

    def citations_of(self, capture_ids: Sequence[int]) -> dict[int, list[CitationRow]]:
        """The citations of these captures, in article order, by capture id."""
        grouped: dict[int, list[CitationRow]] = {i: [] for i in capture_ids}
        unique = list(dict.fromkeys(capture_ids))
        for start in range(0, len(unique), 500):
            part = unique[start : start + 500]
            cursor = self.db.conn.execute(
                f"SELECT capture_id, {columns_of(CitationRow)} FROM citations"
                f" WHERE capture_id IN ({', '.join('?' * len(part))})"
                " ORDER BY capture_id, position",
                part,
            )
            for capture_id, *citation in cursor:
                grouped[capture_id].append(CitationRow(*citation))
        return grouped

    def checks_of(self, urls: Sequence[str]) -> dict[str, list[Check]]:
        """Every check of these URLs, oldest first, by URL."""
        grouped: dict[str, list[Check]] = {url: [] for url in urls}
        rows = self._rows_in(Check, "SELECT {columns} FROM checks WHERE url IN ({IN})", urls)
        for row in sorted(rows, key=lambda r: (r.checked_at, r.id)):
            grouped[row.url].append(row)
        return grouped

    def texts_of(self, hashes: Sequence[str]) -> dict[str, str]:
        """Normalised main texts by their sha256."""
        return {
            r["sha256"]: r["text"] or ""
            for r in self._in("SELECT sha256, text FROM texts WHERE sha256 IN ({})", hashes)
        }

    def export_captures_of(self, urls: Sequence[str]) -> list[dict[str, Any]]:
        """Every capture of these URLs but probes, all columns."""
        return self._in("SELECT * FROM captures WHERE role != 'probe' AND url IN ({})", urls)

    def export_captures_by_id(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        return self._in("SELECT * FROM captures WHERE id IN ({})", ids)

    def export_children_of(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        """Captures made on behalf of these (requisites, deeper citations), probes excluded."""
        return self._in(
            "SELECT id, url, role FROM captures WHERE role != 'probe' AND parent_id IN ({})", ids
        )

    def export_sources_of(self, articles: Sequence[str]) -> list[str]:
        """URLs tracked as sources of these articles (cited, moved to, added by an edit)."""
        return [
            r["url"]
            for r in self._in(
                "SELECT url FROM targets WHERE cited_by IN ({}) ORDER BY added_at, url", articles
            )
        ]

    def export_records_of(self, capture_ids: Sequence[int]) -> list[dict[str, Any]]:
        return self._in("SELECT * FROM records WHERE capture_id IN ({})", capture_ids)

    def export_record_by_id(self, record_id: str) -> dict[str, Any] | None:
        rows = select(self.db, "SELECT * FROM records WHERE record_id = ? LIMIT 1", [record_id])
        return rows[0] if rows else None

    def export_checks_of(self, capture_ids: Sequence[int]) -> list[dict[str, Any]]:
        """The checks whose recapture is one of these captures, oldest first."""
        rows = self._in("SELECT * FROM checks WHERE capture_id IN ({})", capture_ids)
        return sorted(rows, key=lambda r: (r["checked_at"], r["id"]))

    def export_runs(self, ids: Sequence[int]) -> list[dict[str, Any]]:
        return sorted(self._in("SELECT * FROM runs WHERE id IN ({})", ids), key=lambda r: r["id"])

    def export_chain(self, rows: dict[str, Sequence[Any]]) -> dict[str, Any] | None:
        """The hash-chain entries of these rows (table name -> row ids), oldest first, and
        the chain's latest entry; None if this archive keeps no chain."""
        if not self.db["chain"].exists():
            return None
        entries: list[dict[str, Any]] = []
        for table, ids in rows.items():
            unique = list(dict.fromkeys(str(i) for i in ids))  # row_id is the key as text
            for start in range(0, len(unique), 500):
                part = unique[start : start + 500]
                entries += self.db.query(
                    "SELECT * FROM chain WHERE table_name = ? AND row_id IN ({})".format(
                        ", ".join("?" * len(part))
                    ),
                    [table, *part],
                )
        head = select(self.db, "SELECT * FROM chain ORDER BY seq DESC LIMIT 1")
        return {
            "entries": sorted(entries, key=lambda e: e["seq"]),
            "head": head[0] if head else None,
        }

    def export_rows(
        self, table: str, key: str, columns: Sequence[str], keys: Sequence[str]
    ) -> dict[str, dict[str, Any]]:
        """Rows of `table` by their key as text, with just these columns (names from
        `preserve.chain`, never from input)."""
        names = ", ".join(f"[{c}]" for c in columns)
        rows = self._in(
            f"SELECT {names} FROM [{table}] WHERE CAST([{key}] AS TEXT) IN ({{}})", list(keys)
        )
        return {str(row[key]): row for row in rows}
