"""Runs, what they repaired of runs that died, the WARC files they closed, and the evidence
packages made from the archive."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from preserve.store import chain
from preserve.store.base import StoreBase
from preserve.store.rows import NewExport, OpenRun, RunRow, WarcFileRow
from preserve.times import iso


class RunsTable(StoreBase):
    def start_run(
        self,
        command: str,
        options: dict[str, Any],
        *,
        started_at: datetime,
        tool_version: str,
        host: str,
        pid: int,
    ) -> int:
        with self._write():
            return self._insert(
                "runs",
                {
                    "command": command,
                    "started_at": iso(started_at),
                    "tool_version": tool_version,
                    "host": host,
                    "pid": pid,
                    "options": json.dumps(options, sort_keys=True, default=str),
                },
            )

    def end_run(self, run_id: int, ended_at: datetime) -> None:
        with self._write():
            self.conn.execute("UPDATE runs SET ended_at = ? WHERE id = ?", [iso(ended_at), run_id])

    def open_runs(self) -> list[OpenRun]:
        """Runs that started and have not ended: still going, or dead."""
        return self._rows(OpenRun, "SELECT {columns} FROM runs WHERE ended_at IS NULL ORDER BY id")

    def run_exists(self, run_id: int) -> bool:
        return self.conn.execute("SELECT 1 FROM runs WHERE id = ?", [run_id]).fetchone() is not None

    def end_dead_run(self, run_id: int, *, by_run_id: int, now: datetime, detail: str) -> bool:
        """End a run whose process died, at the end of its last stored capture (or at its
        start), and say so in `recoveries`. False if it had been ended already."""
        with self._write():
            ended = self.conn.execute(
                "UPDATE runs SET ended_at = coalesce((SELECT max(ended_at) FROM captures"
                " WHERE run_id = runs.id), started_at) WHERE id = ? AND ended_at IS NULL",
                [run_id],
            ).rowcount
            if ended:
                self.add_recovery(now, by_run_id, "dead-run", run_id, detail=detail)
        return bool(ended)

    def add_recovery(
        self,
        recovered_at: datetime,
        by_run_id: int,
        kind: str,
        run_id: int | None,
        *,
        warc: str | None = None,
        kept_bytes: int = 0,
        cut_bytes: int = 0,
        records: int = 0,
        detail: str = "",
    ) -> None:
        """Log what a run repaired of what a dead run left behind (see m004_recoveries)."""
        with self._write():
            self._insert(
                "recoveries",
                {
                    "recovered_at": iso(recovered_at),
                    "by_run_id": by_run_id,
                    "run_id": run_id,
                    "kind": kind,
                    "warc": warc,
                    "kept_bytes": kept_bytes,
                    "cut_bytes": cut_bytes,
                    "records": records,
                    "detail": detail,
                },
            )

    def rows_end(self, warc: str) -> int:
        """Where the last record that any row points at in file `warc` ends (0: none)."""
        row = self.conn.execute(
            'SELECT max(e) FROM (SELECT max("offset" + length) AS e FROM records'
            ' WHERE warc = ? UNION ALL SELECT max("offset" + length) FROM captures'
            " WHERE warc = ?) AS ends",
            [warc, warc],
        ).fetchone()
        return int(row[0] or 0)

    def add_warc_file(
        self, name: str, run_id: int | None, *, size: int, sha256: str, closed_at: datetime
    ) -> None:
        with self._write():
            self.conn.execute(
                "INSERT INTO warc_files (name, run_id, closed_at, size, sha256)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET run_id = excluded.run_id,"
                " closed_at = excluded.closed_at, size = excluded.size, sha256 = excluded.sha256",
                [name, run_id, iso(closed_at), size, sha256],
            )
            self._log("warc_files", name)

    def add_export(self, export: NewExport) -> chain.Entry:
        """Log an evidence package made from the archive (an `exports` row, m010) in the
        hash chain: the chain entry that covers it."""
        with self._write():
            export_id = self._insert("exports", asdict(export))
            self._log("exports", export_id)
            entry = self._log_pending()  # now: the caller is told its entry
            assert entry is not None
            return entry

    def warc_file(self, name: str) -> WarcFileRow | None:
        return self._row(WarcFileRow, "SELECT {columns} FROM warc_files WHERE name = ?", [name])

    def warc_files(self) -> list[WarcFileRow]:
        return self._rows(WarcFileRow, "SELECT {columns} FROM warc_files ORDER BY name")

    def runs(self) -> list[RunRow]:
        return self._rows(RunRow, "SELECT {columns} FROM runs ORDER BY id")
