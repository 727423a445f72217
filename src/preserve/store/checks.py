"""Checks: storing one and moving its tracked URL on (state, next due time and, only for a
good answer, the baseline); the earlier checks confirmation rules read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from preserve.store.migrations import EVENT_OUTCOMES
from preserve.store.rows import NewCheck, PastCheckRow, Target
from preserve.store.targets import TargetsTable
from preserve.times import iso, parse_iso


class ChecksTable(TargetsTable):
    def past_checks(self, url: str) -> list[PastCheckRow]:
        """Earlier checks of a URL, oldest first (what confirmation rules look at)."""
        return self._rows(
            PastCheckRow,
            "SELECT {columns} FROM checks WHERE url = ? ORDER BY checked_at, id",
            [url],
        )

    def add_check(self, check: NewCheck) -> int:
        """Store a check and move its target on: state, next due time, and the baseline when
        the check produced a good capture (an error never replaces the baseline)."""
        with self._write():
            target = self._row(
                Target,
                "SELECT {columns} FROM targets WHERE url = ?" + self.conn.for_update,
                [check.url],
            )
            check_id = self._insert("checks", check.row())
            self._log("checks", check_id)
            if target is not None:
                changed = (target.state, target.reason) != (
                    check.outcome,
                    check.reason,
                ) or check.outcome not in ("unchanged", "cosmetic")
                update: dict[str, Any] = {
                    "state": check.outcome,
                    "reason": check.reason,
                    "confirmed": check.confirmed,
                    "last_checked_at": check.checked_at,
                    "next_due": iso(
                        parse_iso(check.checked_at) + timedelta(seconds=target.every_seconds)
                    ),
                }
                if changed:
                    update["last_change_at"] = check.checked_at
                if check.outcome in EVENT_OUTCOMES:
                    update.update(
                        last_event=check.outcome,
                        last_event_reason=check.reason,
                        last_event_at=check.checked_at,
                    )
                if check.new_baseline:
                    update["baseline_capture_id"] = check.capture_id
                    kind, words = self.conn.execute(
                        "SELECT kind, text_words FROM captures WHERE id = ?", [check.capture_id]
                    ).fetchone()
                    update.update(kind=kind, text_words=words)
                self._update_target(check.url, update)
        return check_id
