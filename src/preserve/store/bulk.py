"""Bulk reads, a query per table for many URLs at once: what `report` gathers and what
`export` selects."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from preserve.store import chain
from preserve.store.base import StoreBase, columns_of
from preserve.store.rows import (
    Capture,
    CaptureSummary,
    ChainedEntry,
    ChainExtract,
    Check,
    ChildCapture,
    CitationRow,
    Record,
    RunRow,
    Target,
)


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
            ' captures.record_type, captures.warc, captures."offset", captures.length,'
            " captures.record_id, checks.id, captures.tls, captures.text_words,"
            " captures.screenshot_sha256"
            " FROM captures"
            " LEFT JOIN checks ON checks.capture_id = captures.id"
            " WHERE captures.role != 'probe' AND captures.url IN ({IN})",
            urls,
        )
        for row in sorted(rows, key=lambda r: (r.started_at, r.id)):
            grouped[row.url].append(replace(row, certificate_sha256=_certificate(row)))
        return grouped

    def citations_of(self, capture_ids: Sequence[int]) -> dict[int, list[CitationRow]]:
        """The citations of these captures, in article order, by capture id."""
        grouped: dict[int, list[CitationRow]] = {i: [] for i in capture_ids}
        unique = list(dict.fromkeys(capture_ids))
        for start in range(0, len(unique), 500):
            part = unique[start : start + 500]
            cursor = self.conn.execute(
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

    def export_captures_of(self, urls: Sequence[str]) -> list[Capture]:
        """Every capture of these URLs but probes."""
        return self._rows_in(
            Capture, "SELECT {columns} FROM captures WHERE role != 'probe' AND url IN ({IN})", urls
        )

    def export_has_captures(self, url: str) -> bool:
        """Whether anything but a probe was ever captured of `url`."""
        found = self.conn.execute(
            "SELECT 1 FROM captures WHERE role != 'probe' AND url = ? LIMIT 1", [url]
        ).fetchone()
        return found is not None

    def export_captures_by_id(self, ids: Sequence[int]) -> list[Capture]:
        return self._rows_in(Capture, "SELECT {columns} FROM captures WHERE id IN ({IN})", ids)

    def export_children_of(self, ids: Sequence[int]) -> list[ChildCapture]:
        """Captures made on behalf of these (requisites, deeper citations), probes excluded."""
        return self._rows_in(
            ChildCapture,
            "SELECT {columns} FROM captures WHERE role != 'probe' AND parent_id IN ({IN})",
            ids,
        )

    def export_sources_of(self, articles: Sequence[str]) -> list[str]:
        """URLs tracked as sources of these articles (cited, moved to, added by an edit)."""
        found: list[str] = []
        unique = list(dict.fromkeys(articles))
        for start in range(0, len(unique), 500):
            part = unique[start : start + 500]
            found += (
                url
                for (url,) in self.conn.execute(
                    f"SELECT url FROM targets WHERE cited_by IN ({', '.join('?' * len(part))})"
                    " ORDER BY added_at, url",
                    part,
                )
            )
        return found

    def export_records_of(self, capture_ids: Sequence[int]) -> list[Record]:
        return self._rows_in(
            Record, "SELECT {columns} FROM records WHERE capture_id IN ({IN})", capture_ids
        )

    def export_record_by_id(self, record_id: str) -> Record | None:
        return self._row(
            Record, "SELECT {columns} FROM records WHERE record_id = ? LIMIT 1", [record_id]
        )

    def export_checks_of(self, capture_ids: Sequence[int]) -> list[Check]:
        """The checks whose recapture is one of these captures, oldest first."""
        rows = self._rows_in(
            Check, "SELECT {columns} FROM checks WHERE capture_id IN ({IN})", capture_ids
        )
        return sorted(rows, key=lambda r: (r.checked_at, r.id))

    def export_runs(self, ids: Sequence[int]) -> list[RunRow]:
        rows = self._rows_in(RunRow, "SELECT {columns} FROM runs WHERE id IN ({IN})", ids)
        return sorted(rows, key=lambda r: r.id)

    def export_chain(self, rows: dict[str, Sequence[Any]]) -> ChainExtract | None:
        """The hash-chain entries of these rows (table name -> row keys), oldest first, each
        with its row as hashed (so that anyone can recompute it), and the chain's latest
        entry; None if this archive keeps no chain."""
        if not self.conn.table_exists("chain"):
            return None
        entries: list[chain.Entry] = []
        for table, ids in rows.items():
            entries += chain.entries(self.conn, table, list(dict.fromkeys(str(i) for i in ids)))
        hashed: dict[tuple[str, str], dict[str, Any]] = {}
        for table in chain.COLUMNS:
            keys = [e.row_id for e in entries if e.table_name == table]
            for key, row in self._hashed_rows(table, keys).items():
                hashed[(table, key)] = row
        return ChainExtract(
            tuple(
                ChainedEntry(e, hashed.get((e.table_name, e.row_id)))
                for e in sorted(entries, key=lambda e: e.seq)
            ),
            chain.head(self.conn),
        )

    def _hashed_rows(self, table: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Rows of `table` (one `chain.COLUMNS` names) by their key as text, with just the
        columns the chain hashes, as hashed."""
        key = chain.KEYS[table]
        columns = chain.COLUMNS[table]
        names = ", ".join(f'"{c}"' for c in columns)
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            part = unique[start : start + 500]
            cursor = self.conn.execute(
                f'SELECT {names} FROM "{table}"'
                f' WHERE CAST("{key}" AS TEXT) IN ({", ".join("?" * len(part))})',
                part,
            )
            for values in cursor:
                row = dict(zip(columns, values, strict=True))
                found[str(row[key])] = row
        return found


def _certificate(row: CaptureSummary) -> str | None:
    """The server certificate's sha256 from a capture's TLS facts (read as its `tls` JSON)."""
    tls = row.certificate_sha256  # the column as stored, until this replaces it
    if not tls:
        return None
    try:
        found = json.loads(tls).get("certificate_sha256")
    except (ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None
