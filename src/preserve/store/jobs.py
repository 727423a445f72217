"""Jobs (m014): a check's URLs handed to workers, a message each on the broker. A job is
done in the transaction that stores its checks, once: the first attempt to commit wins, so
a message delivered twice checks its URLs once. A run with jobs not done is alive, whatever
became of the process that queued them; the last job done ends it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from preserve.store.base import StoreBase

# pg_try_advisory_lock(JOB_CLAIMS, id): a session lock, held while a worker checks a job
# and dropped by the server when that worker's connection goes (a killed worker included).
JOB_CLAIMS = 0x7072_6A6F  # "prjo"


@dataclass(frozen=True)
class JobRow:
    """One row of `jobs`."""

    id: int
    run_id: int
    urls: str  # JSON list
    options: str  # JSON object
    state: str
    enqueued_at: str
    done_at: str | None
    attempts: int
    worker: str | None
    results: str | None  # JSON list

    @property
    def url_list(self) -> list[str]:
        return list(json.loads(self.urls))

    @property
    def option_values(self) -> dict[str, Any]:
        return dict(json.loads(self.options))

    @property
    def result_list(self) -> list[dict[str, Any]]:
        return list(json.loads(self.results)) if self.results else []


class JobsTable(StoreBase):
    def add_jobs(
        self, run_id: int, batches: Sequence[Sequence[str]], options: dict[str, Any], now: str
    ) -> list[int]:
        """Queue a job per batch of URLs for run `run_id`; their ids, in order."""
        with self._write():
            return [
                self._insert(
                    "jobs",
                    {
                        "run_id": run_id,
                        "urls": json.dumps(list(urls)),
                        "options": json.dumps(options, sort_keys=True),
                        "state": "queued",
                        "enqueued_at": now,
                        "attempts": 0,
                    },
                )
                for urls in batches
            ]

    def job(self, job_id: int) -> JobRow | None:
        return self._row(JobRow, "SELECT {columns} FROM jobs WHERE id = ?", [job_id])

    def jobs_of(self, run_id: int) -> list[JobRow]:
        return self._rows(
            JobRow, "SELECT {columns} FROM jobs WHERE run_id = ? ORDER BY id", [run_id]
        )

    def jobs_left(self, run_id: int) -> int:
        """How many of a run's jobs are not done."""
        (left,) = self.conn.execute(
            "SELECT count(*) FROM jobs WHERE run_id = ? AND state != 'done'", [run_id]
        ).fetchone()
        return int(left)

    def queued_jobs(self) -> list[JobRow]:
        """Every job not done, oldest first (to queue again what a broker lost)."""
        return self._rows(JobRow, "SELECT {columns} FROM jobs WHERE state != 'done' ORDER BY id")

    def runs_with_jobs_left(self) -> set[int]:
        """Runs that workers are still checking: alive, whoever queued them."""
        return {
            int(run)
            for (run,) in self.conn.execute(
                "SELECT DISTINCT run_id FROM jobs WHERE state != 'done'"
            )
        }

    def claim_job(self, job_id: int) -> bool:
        """Hold a job for this connection while it is checked (PostgreSQL's session lock);
        False if another worker holds it now. Counts the attempt."""
        row = self.conn.execute(
            "SELECT pg_try_advisory_lock(?, ?)", [JOB_CLAIMS, job_id]
        ).fetchone()
        if not row[0]:
            return False
        self.conn.execute("UPDATE jobs SET attempts = attempts + 1 WHERE id = ?", [job_id])
        return True

    def unclaim_job(self, job_id: int) -> None:
        self.conn.execute("SELECT pg_advisory_unlock(?, ?)", [JOB_CLAIMS, job_id])

    def finish_job(
        self, job_id: int, results: list[dict[str, Any]], *, now: str, worker: str
    ) -> bool:
        """Mark a job done with its results, in the transaction that stored its checks; False
        (and nothing changed) if another attempt did first."""
        with self._write():
            done = self.conn.execute(
                "UPDATE jobs SET state = 'done', done_at = ?, worker = ?, results = ?"
                " WHERE id = ? AND state != 'done'",
                [now, worker, json.dumps(results, ensure_ascii=False, default=str), job_id],
            ).rowcount
        return bool(done)

    def end_finished_runs(self, now: str) -> list[int]:
        """End the runs whose jobs are all done, letting go of their URLs; their ids. Each
        in a transaction of its own, after the jobs' own, holding the run's row first: of
        two workers finishing a run's last two jobs at once, the second to get here sees
        both done."""
        ended: list[int] = []
        candidates = [
            int(run)
            for (run,) in self.conn.execute(
                "SELECT id FROM runs WHERE ended_at IS NULL AND EXISTS"
                " (SELECT 1 FROM jobs WHERE jobs.run_id = runs.id)"
            )
        ]
        for run_id in candidates:
            with self._write():
                self.conn.execute(
                    "SELECT id FROM runs WHERE id = ?" + self.conn.for_update, [run_id]
                ).fetchall()
                if self.conn.execute(
                    "UPDATE runs SET ended_at = ? WHERE id = ? AND ended_at IS NULL AND NOT EXISTS"
                    " (SELECT 1 FROM jobs WHERE run_id = ? AND state != 'done')",
                    [now, run_id, run_id],
                ).rowcount:
                    self.conn.execute(
                        "UPDATE targets SET check_run = NULL WHERE check_run = ?", [run_id]
                    )
                    ended.append(run_id)
        return ended
