"""Tracked URLs: tracking, their state, their schedule, which are due."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from preserve.store.base import StoreBase
from preserve.store.rows import Target
from preserve.times import iso, parse_iso


class TargetsTable(StoreBase):
    def track(
        self,
        url: str,
        *,
        role: str,
        every_seconds: int,
        now: datetime,
        cited_by: str | None = None,
        baseline_capture_id: int | None = None,
        first_state: tuple[str, str | None] | None = None,
        coverage: tuple[str | None, int | None] | None = None,
    ) -> None:
        """Track a URL for checks, first due one interval after now (it was just captured).
        An existing target keeps its role ("article" wins over "citation") and its schedule
        unless this call is for an article. `first_state`: the (state, reason) of a URL not
        tracked before, as `set_state` would record it, in the same statement; and of one
        never captured well (no baseline yet), whose stale failure it replaces. `coverage`:
        the (kind, words of main text) of a good capture just made of it."""
        with self._write():
            # Read under the write lock (SQLite) or with the row locked (PostgreSQL, where an
            # INSERT that finds the URL tracked meanwhile does nothing): two runs may race.
            existing = self._row(
                Target, "SELECT {columns} FROM targets WHERE url = ?" + self.conn.for_update, [url]
            )
            if existing is None:
                row = {
                    "url": url,
                    "role": role,
                    "every_seconds": every_seconds,
                    "added_at": iso(now),
                    "next_due": iso(now + timedelta(seconds=every_seconds)),
                    "cited_by": cited_by,
                    "baseline_capture_id": baseline_capture_id,
                }
                if coverage is not None:
                    row.update(kind=coverage[0], text_words=coverage[1])
                if first_state is not None:
                    row.update(
                        state=first_state[0],
                        reason=first_state[1],
                        confirmed=0,
                        last_checked_at=iso(now),
                        last_change_at=iso(now),
                    )
                names = ", ".join(f'"{c}"' for c in row)
                added = self.conn.execute(
                    f"INSERT INTO targets ({names}) VALUES ({', '.join('?' * len(row))})"
                    " ON CONFLICT (url) DO NOTHING",
                    list(row.values()),
                ).rowcount
                if added:
                    return
                existing = self._row(
                    Target,
                    "SELECT {columns} FROM targets WHERE url = ?" + self.conn.for_update,
                    [url],
                )
                assert existing is not None  # tracked meanwhile, by another process
            update: dict[str, Any] = {}
            if role == "article":
                update.update(role="article", every_seconds=every_seconds)
            if baseline_capture_id is not None:
                update["baseline_capture_id"] = baseline_capture_id
            if coverage is not None:
                update.update(kind=coverage[0], text_words=coverage[1])
            if first_state is not None and existing.baseline_capture_id is None:
                update.update(
                    state=first_state[0],
                    reason=first_state[1],
                    confirmed=0,
                    last_checked_at=iso(now),
                )
                if (existing.state, existing.reason) != first_state:
                    update["last_change_at"] = iso(now)
            if update:
                self._update_target(url, update)

    def target(self, url: str) -> Target | None:
        return self._row(Target, "SELECT {columns} FROM targets WHERE url = ?", [url])

    def iter_targets(self, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """These columns of every target, oldest first, as tuples, read as they are used:
        `status` lists a million targets without holding them (or a dict each) at once."""
        names = ", ".join(f'"{c}"' for c in columns)
        yield from self.conn.execute(  # the order of `targets`, which an index has (m006)
            f"SELECT {names} FROM targets ORDER BY added_at, role != 'article', url"
        )

    def targets(self, urls: Sequence[str] | None = None) -> list[Target]:
        if urls is None:
            return self._rows(
                Target, "SELECT {columns} FROM targets ORDER BY added_at, role != 'article', url"
            )
        return [t for url in urls if (t := self.target(url)) is not None]

    def set_paused(self, url: str, paused: bool, *, include_citations: bool) -> int:
        """Pause or resume checks of a target (and of the sources it brought in, but, when
        pausing, those that a URL still checked cites too, which go on, brought in by that
        one's article now); how many targets changed."""
        where, params = _and_sources(url, include_citations)
        with self._write():
            picked = [
                u for (u,) in self.conn.execute(f"SELECT url FROM targets WHERE {where}", params)
            ]
            heirs = (
                self._cited_elsewhere(set(picked), [u for u in picked if u != url], active=True)
                if paused
                else {}
            )
            for source, article in heirs.items():
                self.conn.execute(
                    "UPDATE targets SET cited_by = ? WHERE url = ?", [article, source]
                )
            changed = 0
            chosen = [u for u in picked if u not in heirs]
            for start in range(0, len(chosen), 500):
                part = chosen[start : start + 500]
                changed += self.conn.execute(
                    f"UPDATE targets SET paused = ? WHERE url IN ({', '.join('?' * len(part))})"
                    " AND paused != ?",
                    [int(paused), *part, int(paused)],
                ).rowcount
            return changed

    def set_browser(self, url: str, mode: str | None, *, include_citations: bool) -> int:
        """Remember when a target (and the sources it brought in) is rendered in a browser
        (auto, always, never; None: as the archive's setting says); how many changed."""
        where, params = _and_sources(url, include_citations)
        with self._write():
            return int(
                self.conn.execute(
                    f"UPDATE targets SET browser = ? WHERE ({where})"
                    " AND coalesce(browser, '') != coalesce(?, '')",
                    [mode, *params, mode],
                ).rowcount
            )

    def untrack(self, url: str, *, include_citations: bool) -> list[str]:
        """Stop tracking a URL (and the sources it brought in, but those that a URL still
        tracked cites too, which stay, brought in by that one's article now): its captures
        and checks stay in the archive. The URLs no longer tracked."""
        where, params = _and_sources(url, include_citations)
        with self._write():
            picked = [
                u for (u,) in self.conn.execute(f"SELECT url FROM targets WHERE {where}", params)
            ]
            heirs = self._cited_elsewhere(set(picked), [u for u in picked if u != url])
            for source, article in heirs.items():
                self.conn.execute(
                    "UPDATE targets SET cited_by = ? WHERE url = ?", [article, source]
                )
            gone = [u for u in picked if u not in heirs]
            for start in range(0, len(gone), 500):
                part = gone[start : start + 500]
                self.conn.execute(
                    f"DELETE FROM targets WHERE url IN ({', '.join('?' * len(part))})", part
                )
        return gone

    def _cited_elsewhere(
        self, leaving: set[str], sources: Sequence[str], *, active: bool = False
    ) -> dict[str, str]:
        """Of these sources, those that a capture of a tracked URL not `leaving` cites (and
        not paused, when `active`), each with the article that URL belongs to (the first to
        cite it)."""
        found: dict[str, str] = {}
        for start in range(0, len(sources), 500):
            part = sources[start : start + 500]
            cursor = self.conn.execute(
                "SELECT citations.url, other.url, other.role, other.cited_by FROM citations"
                " JOIN captures ON captures.id = citations.capture_id"
                " JOIN targets AS other ON other.url = captures.url"
                f" WHERE citations.url IN ({', '.join('?' * len(part))})"
                + (" AND other.paused = 0" if active else "")
                + " ORDER BY captures.id",
                part,
            )
            for source, citer, role, cited_by in cursor:
                article = citer if role == "article" else cited_by or citer
                if citer not in leaving and article not in leaving:
                    found.setdefault(source, article)
        return found

    def hold(self, urls: Sequence[str], run_id: int) -> list[str]:
        """Hold these tracked URLs for run `run_id`'s check, but not those another check
        holds while its run goes on (a run that died is ended by the next one to start, and
        its holds with it): the URLs now held, in their order."""
        held: set[str] = set()
        unique = list(dict.fromkeys(urls))
        with self._write():
            for start in range(0, len(unique), 500):
                part = unique[start : start + 500]
                marks = ", ".join("?" * len(part))
                self.conn.execute(
                    f"UPDATE targets SET check_run = ? WHERE url IN ({marks}) AND ("
                    "check_run IS NULL OR check_run = ?"
                    " OR check_run NOT IN (SELECT id FROM runs WHERE ended_at IS NULL))",
                    [run_id, *part, run_id],
                )
                held.update(
                    url
                    for (url,) in self.conn.execute(
                        f"SELECT url FROM targets WHERE check_run = ? AND url IN ({marks})",
                        [run_id, *part],
                    )
                )
        return [url for url in unique if url in held]

    def holders(self, urls: Sequence[str]) -> list[int]:
        """The runs holding any of these URLs, in order."""
        runs: set[int] = set()
        unique = list(dict.fromkeys(urls))
        for start in range(0, len(unique), 500):
            part = unique[start : start + 500]
            runs.update(
                run
                for (run,) in self.conn.execute(
                    "SELECT DISTINCT check_run FROM targets"
                    f" WHERE url IN ({', '.join('?' * len(part))}) AND check_run IS NOT NULL",
                    part,
                )
            )
        return sorted(runs)

    def release(self, run_id: int) -> None:
        """Let go of every URL run `run_id` holds: its check is over."""
        with self._write():
            self.conn.execute("UPDATE targets SET check_run = NULL WHERE check_run = ?", [run_id])

    def set_state(
        self,
        url: str,
        state: str,
        reason: str | None,
        now: datetime,
        *,
        confirmed: bool = False,
        changed: bool = True,
    ) -> None:
        """Record a target's latest outcome (denormalised here so `status` stays fast)."""
        update: dict[str, Any] = {
            "state": state,
            "reason": reason,
            "confirmed": int(confirmed),
            "last_checked_at": iso(now),
        }
        if changed:
            update["last_change_at"] = iso(now)
        with self._write():
            self._update_target(url, update)

    def _update_target(self, url: str, values: dict[str, Any]) -> None:
        sets = ", ".join(f'"{name}" = ?' for name in values)
        self.conn.execute(f"UPDATE targets SET {sets} WHERE url = ?", [*values.values(), url])

    def due_urls(self, now: datetime) -> list[str]:
        """The URLs `due` gives, in its order, but the paused ones."""
        return [
            url
            for (url,) in self.conn.execute(
                "SELECT url FROM targets WHERE next_due <= ? AND paused = 0 ORDER BY next_due, url",
                [iso(now)],
            )
        ]

    def target_urls(self, *, active_only: bool = False) -> list[str]:
        """The URLs `targets()` gives, in its order (`active_only`: but the paused ones)."""
        where = " WHERE paused = 0" if active_only else ""
        return [
            url
            for (url,) in self.conn.execute(
                f"SELECT url FROM targets{where} ORDER BY added_at, role != 'article', url"
            )
        ]

    def due(self, now: datetime) -> list[Target]:
        return self._rows(
            Target,
            "SELECT {columns} FROM targets WHERE next_due <= ? AND paused = 0"
            " ORDER BY next_due, url",
            [iso(now)],
        )

    def next_due(self) -> str | None:
        row = self.conn.execute("SELECT min(next_due) FROM targets WHERE paused = 0").fetchone()
        return row[0] if row else None

    def set_schedule(self, url: str, every_seconds: int, *, include_citations: bool) -> int:
        """Set a target's interval (and that of the citations it brought in), and move each
        one's next due time to its last check (or its tracking) plus the new interval;
        returns how many targets changed."""
        where, params = _and_sources(url, include_citations)
        with self._write():
            rows = self.conn.execute(
                f"SELECT url, coalesce(last_checked_at, added_at) FROM targets WHERE {where}",
                params,
            ).fetchall()
            for target_url, since in rows:
                due = parse_iso(since) + timedelta(seconds=every_seconds)
                self.conn.execute(
                    "UPDATE targets SET every_seconds = ?, next_due = ? WHERE url = ?",
                    [every_seconds, iso(due), target_url],
                )
        return len(rows)


def _and_sources(url: str, include_citations: bool) -> tuple[str, list[str]]:
    """The WHERE clause (and its parameters) that picks a target and, when asked, the
    sources it brought in (those it first cited, unless tracked as articles themselves)."""
    if include_citations:
        return "url = ? OR (cited_by = ? AND role != 'article')", [url, url]
    return "url = ?", [url]
