"""Integrity of a whole archive, as a list of problems (empty: intact).

One pass over each WARC file (`preserve.warc.check.scan`: every gzip member whole, exact
lengths, block and payload digests, the member hashes and the file hash), holding the
database against what that pass saw: every `records` and `captures` row must name a whole
member at its offset, of its length, with its sha256, record id, type and payload digest;
every closed file must have the size and sha256 that `warc_files` (and so the hash chain)
says. Then the hash chain (`preserve.store.chain`) and the stored texts are recomputed.

Problem kinds:

- files (`evidence.files`): `file-missing` (known to the database, not on disk),
  `file-extra` (on disk, unknown), `file-renamed` (found under another name, told by its
  warcinfo's WARC-Filename), `file-unfinished` (still `NAME.open` with no writer alive: a
  crashed run; its complete records are still checked and readable), `file-unrecorded`
  (closed on disk, never entered in `warc_files`), `file-changed` (size or sha256 differs
  from `warc_files`);
- WARC content, as `preserve.warc.check` names it: `truncated`, `bad-gzip`, `block-digest`,
  `payload-digest`, `length-mismatch`, `bad-header`, …;
- rows against records (`evidence.rows`): `record-missing` (no record starts at the row's
  offset, or its file is missing), `record-length`, `record-sha256`, `record-id`,
  `record-type`, `payload-sha256`;
- the log (`evidence.logcheck`): `chain-broken`, `chain-reordered`, `row-edited`,
  `row-deleted`, `row-reordered`, `row-unlogged` (see `preserve.store.chain`);
  `chain-head-missing` (a head noted down earlier and given to check against is no entry of
  the chain: the log was rewritten after it was noted); `text-sha256` (a stored text that no
  longer hashes to its key), `text-unindexed` (a text find-text cannot find).

`since` limits the reading to files closed at or after that time (and to files not closed
yet); every file is still looked for on disk and its size compared, and the chain and the
texts are always checked in full (they live in the database and are quick to read).

When there is much to read, the files are read on worker processes, in parts
(`evidence.parts`), while this process checks the chain and the texts; the parts are then
joined (`evidence.reading`). Parts that do not join (damage across their bounds) are read
again here, in one pass, so the answer is always the one a single pass gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from preserve.engine.archive import Archive
from preserve.evidence.files import locate
from preserve.evidence.logcheck import chain_problems, text_problems
from preserve.evidence.parts import digest, workers_for
from preserve.evidence.problems import Problem
from preserve.evidence.reading import checked_files
from preserve.evidence.rows import Row, capture_rows, row_problem
from preserve.store import chain, integrity


@dataclass(frozen=True)
class Verification:
    """What `verify` found and how much it read."""

    problems: tuple[Problem, ...]
    records_checked: int
    files_checked: int
    bytes_read: int
    chain_entries: int
    chain_head: str | None
    in_progress: tuple[str, ...] = ()  # `.open` files of a run still writing: not checked
    # Heads noted down earlier and given to check against: (hash, seq of its entry or None).
    given_heads: tuple[tuple[str, int | None], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "records_checked": self.records_checked,
            "files_checked": self.files_checked,
            "bytes_read": self.bytes_read,
            "chain": {
                "entries": self.chain_entries,
                "head": self.chain_head,
                "given_heads": [{"hash": h, "seq": seq} for h, seq in self.given_heads],
            },
            "in_progress": list(self.in_progress),
            "problems": [p.to_json() for p in self.problems],
        }


def verify(
    archive: Archive,
    *,
    since: str | None = None,
    workers: int | None = None,
    heads: Sequence[str] = (),
) -> Verification:
    """Check everything; see the module docstring. Never raises for damage it finds.

    `heads`: chain heads noted down earlier (printed by an earlier verify, or carried by an
    exported package), each of which must still be an entry of the chain. The chain only
    grows, so an old head is an entry somewhere in it; one that is not means the log was
    rewritten since, however consistent it is now."""
    store = archive.store
    conn = store.conn
    closed = {row.name: row for row in store.warc_files()}
    known = set(closed) | integrity.named_files(conn)
    located = locate(archive, known, closed, since)
    files = located.files
    problems = [p for f in files for p in f.problems] + located.extra

    to_read = [f for f in files if f.read and f.path is not None]
    records_checked = bytes_read = 0
    with workers_for(to_read, workers) as pool:  # None: read here, one file after another
        # The files' hashes first: the workers start on them while the rows are read here.
        digests = (
            pool.map(digest, [f.path for f in to_read if f.path], ahead=len(to_read))
            if pool
            else None
        )
        captures = capture_rows(conn)
        for f in files:
            if f.path is None:  # missing: each capture in it is affected
                problems += [
                    row_problem(
                        "record-missing",
                        Row("captures", *row),
                        f"its WARC file {f.name} is missing",
                    )
                    for row in captures.get(f.name, [])
                ]
        checked = checked_files(conn, store, to_read, captures, pool, digests)
        # The log and the texts, while the workers (if any) read the files.
        found_in_chain, entries = chain.check(conn)
        logged = chain_problems(conn, found_in_chain) + text_problems(conn)
        for file_problems, records, size in checked:
            records_checked += records
            bytes_read += size
            problems += file_problems
    problems.sort(key=lambda p: (p.warc or "", p.offset if p.offset is not None else -1))
    problems += logged
    given = []
    for noted in heads:
        entry = chain.find(conn, noted)
        given.append((noted, entry.seq if entry else None))
        if entry is None:
            problems.append(
                Problem(
                    "chain-head-missing",
                    None,
                    None,
                    None,
                    f"no chain entry has the hash {noted}: the log was rewritten after that "
                    "head was noted down (or the head is another archive's)",
                )
            )
    head = chain.head(conn)
    return Verification(
        tuple(problems),
        records_checked,
        len(to_read),
        bytes_read,
        entries,
        head.entry_hash if head else None,
        tuple(located.in_progress),
        tuple(given),
    )


def render(result: Verification) -> str:
    """verify for a terminal: each problem with the file, offset, URL and capture it
    affects, then a summary with the chain head (worth noting down: it stands for the
    whole log)."""
    lines = []
    for p in result.problems:
        where = p.warc or ""
        if p.warc and p.offset is not None:
            where += f" @ {p.offset}"
        lines.append(f"{p.kind:<16} {where}".rstrip())
        if p.url:
            lines.append(f"    affects {p.url} (capture {p.capture_id}, {p.captured_at})")
        lines.append(f"    {p.detail}")
    read = (
        f"{result.files_checked} WARC file(s), {result.bytes_read:,} bytes, "
        f"{result.records_checked} records; {result.chain_entries} chain entries"
    )
    if result.ok:
        lines.append(f"OK: no problems ({read}).")
    else:
        lines.append(f"{len(result.problems)} problem(s) ({read}).")
    if result.in_progress:
        lines.append(f"Not checked, still being written: {', '.join(result.in_progress)}")
    for noted, seq in result.given_heads:
        if seq is not None:
            lines.append(f"Head {noted} is chain entry {seq}: the log up to it is still there.")
    lines.append(f"Chain head: {result.chain_head}")
    return "\n".join(lines) + "\n"
