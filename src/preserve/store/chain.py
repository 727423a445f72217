"""The provenance log's hash chain: every `captures`, `checks`, `warc_files` and `exports` row
gets an entry in the `chain` table, written in the same transaction as the row, whose hash
covers the row and the previous entry's hash. Editing, deleting or reordering a logged row,
or deleting or reordering entries, breaks the chain where it happened; `check` says where.

What is hashed, exactly (this is a contract: changing any of it changes every hash):

    entry_hash = "sha256:" + hex(sha256(canonical_json({
        "prev": <the previous entry's entry_hash, or null for the first entry>,
        "table": <"captures" | "checks" | "warc_files" | "exports">,
        "row": {<column>: <value as stored in SQLite> for column in COLUMNS[table]},
    })))

- `canonical_json`: keys sorted, no whitespace (separators `,` and `:`), non-ASCII characters
  kept as they are (`ensure_ascii=False`), encoded as UTF-8. Values are what SQLite returns:
  integers, text, or null (JSON numbers, strings, null).
- `COLUMNS` below lists, per table, the columns hashed: every column the table had when the
  chain began (or, for `exports`, when the table was added), including its key (`id`, or
  `name` for `warc_files`). Columns added to a table later are not covered; covering them
  needs a new tag (e.g. "sha256-v2:") so that entries made before still verify with the
  list they were made with. A new table is new entries only, and changes no earlier hash.
- `warc_files` rows carry each closed WARC file's size and sha256, so every byte of every
  closed file is in the chain.
- Not hashed: the entry's own `seq` (order is carried by `prev`), `row_id` (the row's key is
  inside `row`) and `created_at` (when the entry was written, for people to read).

A row written again (an upsert of the same `warc_files` name) gets a new entry; the row must
match its latest entry.

The chain shows tampering only relative to a head hash kept elsewhere: someone who can write
the database can also recompute every hash after an edit. `preserve verify` prints the head;
exported packages carry the entries and the head, and signing them anchors the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from preserve.store.connection import Connection, rows_as_dicts
from preserve.times import iso

TAG = "sha256:"

COLUMNS: dict[str, tuple[str, ...]] = {
    "captures": (
        "id", "run_id", "url", "role", "depth", "parent_id", "started_at", "ended_at",
        "status", "error", "error_detail", "http_status", "final_url", "redirects", "headers",
        "peer_ip", "content_type", "kind", "truncated", "payload_sha256", "payload_length",
        "decoded_sha256", "text_sha256", "loose_sha256", "links_sha256", "norm_version",
        "title", "record_type", "warc", "offset", "length", "record_id", "record_sha256",
        "metadata_record_id",
    ),
    "checks": (
        "id", "run_id", "url", "role", "checked_at", "capture_id", "baseline_capture_id",
        "probe_capture_id", "outcome", "reason", "confirmed", "rule", "http_status", "new_url",
        "detail",
    ),
    "warc_files": ("name", "run_id", "created_at", "closed_at", "size", "sha256"),
    # A table added later (m010), whole: the entries made before it are untouched.
    "exports": (
        "id", "exported_at", "wacz", "bytes", "sha256", "digest", "articles", "captures",
        "records", "signed_by", "timestamps", "tool_version", "host", "pid",
    ),
}  # fmt: skip
KEYS = {"captures": "id", "checks": "id", "warc_files": "name", "exports": "id"}


@dataclass(frozen=True)
class Entry:
    """One row of the `chain` table."""

    seq: int
    table_name: str
    row_id: str  # the logged row's key, as text
    prev_hash: str | None
    entry_hash: str
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "table": self.table_name,
            "row_id": self.row_id,
            "prev_hash": self.prev_hash,
            "entry_hash": self.entry_hash,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class ChainProblem:
    """Something the chain shows: `kind` is one of `chain-broken`, `chain-reordered`,
    `row-edited`, `row-deleted`, `row-reordered`, `row-unlogged`."""

    kind: str
    table: str | None
    row_id: str | None
    seq: int | None
    detail: str


def canonical_json(value: Any) -> bytes:
    """The bytes hashed: keys sorted, no whitespace, non-ASCII as is, UTF-8."""
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_plain,
    ).encode("utf-8", "surrogatepass")


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):  # never written by preserve; a hand edit could store one
        return {"bytes": value.hex()}
    raise TypeError(f"cannot hash a {type(value).__name__}")


def entry_hash(prev: str | None, table: str, row: Mapping[str, Any]) -> str:
    """The hash of an entry logging `row` of `table` after the entry hashed `prev`."""
    hashed = {"prev": prev, "table": table, "row": {c: row.get(c) for c in COLUMNS[table]}}
    return TAG + hashlib.sha256(canonical_json(hashed)).hexdigest()


def append(conn: Connection, table: str, row_id: Any, after: Entry | None = None) -> Entry:
    """Log the row `row_id` of `table` as it now stands in the database (read back, so the
    values hashed are exactly those stored). Call inside the transaction that wrote the row,
    holding the chain's lock (`Connection.lock_chain`; on SQLite, BEGIN IMMEDIATE holds the
    whole database): that is what keeps the head read here the head when the entry is
    written, however many processes append at once, so the chain stays one line. `after`:
    the head, when the caller has just appended it under the same lock (a run appends a
    batch of captures at each commit; reading the head back for each was a statement more
    a capture)."""
    columns = ", ".join(f'"{c}"' for c in COLUMNS[table])
    rows = rows_as_dicts(
        conn.execute(f'SELECT {columns} FROM "{table}" WHERE "{KEYS[table]}" = ?', [row_id])
    )
    if not rows:
        raise LookupError(f"no {table} row {row_id!r} to log")
    last = after or head(conn)
    prev = last.entry_hash if last else None
    new_hash = entry_hash(prev, table, rows[0])
    created_at = iso(datetime.now(UTC))
    seq = conn.insert(
        "INSERT INTO chain (table_name, row_id, prev_hash, entry_hash, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        [table, str(row_id), prev, new_hash, created_at],
        key="seq",
    )
    return Entry(seq, table, str(row_id), prev, new_hash, created_at)


_ENTRY = "seq, table_name, row_id, prev_hash, entry_hash, created_at"  # Entry's field order


def find(conn: Connection, entry_hash: str) -> Entry | None:
    """The entry whose hash is `entry_hash` (a head noted down earlier), if the chain has it."""
    row = conn.execute(
        f"SELECT {_ENTRY} FROM chain WHERE entry_hash = ? ORDER BY seq LIMIT 1", [entry_hash]
    ).fetchone()
    return Entry(*row) if row else None


def is_hash(text: str) -> bool:
    """Whether `text` is spelled as an entry hash is: the tag, then 64 lowercase hex digits."""
    digest = text.removeprefix(TAG)
    return text.startswith(TAG) and len(digest) == 64 and all(c in _HEX for c in digest)


_HEX = frozenset("0123456789abcdef")


def head(conn: Connection) -> Entry | None:
    """The latest entry, whose hash stands for the whole log up to it."""
    row = conn.execute(f"SELECT {_ENTRY} FROM chain ORDER BY seq DESC LIMIT 1").fetchone()
    return Entry(*row) if row else None


def entries(
    conn: Connection, table: str | None = None, row_ids: list[Any] | None = None
) -> list[Entry]:
    """Entries in order: all, or those of one table (and of some of its rows)."""
    if table is None:
        return [Entry(*r) for r in conn.execute(f"SELECT {_ENTRY} FROM chain ORDER BY seq")]
    if row_ids is None:
        return [
            Entry(*r)
            for r in conn.execute(
                f"SELECT {_ENTRY} FROM chain WHERE table_name = ? ORDER BY seq", [table]
            )
        ]
    found: list[Entry] = []
    keys = [str(r) for r in row_ids]
    for start in range(0, len(keys), 500):
        part = keys[start : start + 500]
        marks = ", ".join("?" * len(part))
        found += [
            Entry(*r)
            for r in conn.execute(
                f"SELECT {_ENTRY} FROM chain WHERE table_name = ? AND row_id IN ({marks})"
                " ORDER BY seq",
                [table, *part],
            )
        ]
    return sorted(found, key=lambda e: e.seq)


def backfill(conn: Connection) -> int:
    """Log every row not yet logged, oldest first (by its own time); returns how many. Used
    once, when the chain table is created in an archive that already has rows."""
    logged = {(t, r) for t, r in conn.execute("SELECT table_name, row_id FROM chain")}
    pending = []
    for table, when in (
        ("captures", "ended_at"),
        ("checks", "checked_at"),
        ("warc_files", "closed_at"),
    ):
        key = KEYS[table]
        for k, t in conn.execute(f'SELECT "{key}", "{when}" FROM "{table}"'):
            if (table, str(k)) not in logged:
                pending.append((t or "", table, k))
    pending.sort(key=lambda item: (item[0], list(KEYS).index(item[1]), str(item[2])))
    for _, table, key in pending:
        append(conn, table, key)
    return len(pending)


# canonical_json's encoder, made once: checking hashes every logged row, and json.dumps
# would build an encoder for each.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_plain
)


def check(conn: Connection) -> tuple[list[ChainProblem], int]:
    """Recompute the chain; returns (problems, entries checked). Reads each table once."""
    # Entries as plain tuples in Entry's field order: there may be millions.
    chain = [tuple(e) for e in conn.execute(f"SELECT {_ENTRY} FROM chain ORDER BY seq")]
    problems = _links(chain)
    latest: dict[tuple[str, str], tuple[Any, ...]] = {(e[1], e[2]): e for e in chain}
    for table, key in KEYS.items():
        # Read in sorted column order, so the encoder's sort has nothing to do.
        names = sorted(COLUMNS[table])
        at = names.index(key)
        columns = ", ".join(f'"{c}"' for c in names)
        mismatched: dict[str, dict[str, Any]] = {}
        seen: set[str] = set()
        encode = _ENCODER.encode
        for values in conn.execute(f'SELECT {columns} FROM "{table}" ORDER BY "{key}"'):
            row_id = str(values[at])
            seen.add(row_id)
            entry = latest.get((table, row_id))
            row = dict(zip(names, values, strict=True))
            if entry is None:
                problems.append(
                    ChainProblem(
                        "row-unlogged",
                        table,
                        row_id,
                        None,
                        f"{table} row {row_id} has no chain entry: written outside preserve, or "
                        "its entry was deleted",
                    )
                )
            elif (
                TAG
                + hashlib.sha256(
                    encode({"prev": entry[3], "row": row, "table": table}).encode(
                        "utf-8", "surrogatepass"
                    )
                ).hexdigest()
                != entry[4]
            ):
                mismatched[row_id] = row
        logged = {k: Entry(*e) for k, e in latest.items() if k[0] == table and k[1] in mismatched}
        problems += _edited(table, mismatched, logged)
        for (entry_table, row_id), entry in latest.items():
            if entry_table == table and row_id not in seen:
                problems.append(
                    ChainProblem(
                        "row-deleted",
                        table,
                        row_id,
                        entry[0],
                        f"{table} row {row_id} (chain entry {entry[0]}) was deleted",
                    )
                )
    return problems, len(chain)


def _links(chain: list[tuple[Any, ...]]) -> list[ChainProblem]:
    """Entries that do not follow the one before them (`chain`: tuples in Entry's field
    order, in seq order)."""
    problems: list[ChainProblem] = []
    by_hash: dict[str, tuple[Any, ...]] | None = None  # made at the first break
    prev: str | None = None
    for seq, table_name, row_id, prev_hash, hashed, _ in chain:
        if prev_hash != prev:
            if by_hash is None:
                by_hash = {e[4]: e for e in chain}
            earlier = by_hash.get(prev_hash or "")
            if prev_hash is not None and earlier is not None:
                problems.append(
                    ChainProblem(
                        "chain-reordered",
                        table_name,
                        row_id,
                        seq,
                        f"chain entry {seq} follows entry {earlier[0]} in the log's hashes "
                        "but not in its order: entries were reordered or renumbered",
                    )
                )
            else:
                problems.append(
                    ChainProblem(
                        "chain-broken",
                        table_name,
                        row_id,
                        seq,
                        f"chain entry {seq} does not follow the entry before it: an entry "
                        "before it was deleted or altered",
                    )
                )
        prev = hashed
    return problems


def _edited(
    table: str, mismatched: dict[str, dict[str, Any]], latest: dict[tuple[str, str], Entry]
) -> list[ChainProblem]:
    """Rows that no longer match their entries: each is either edited, or holds what another
    row held when it was logged (rows swapped or renumbered: reordered). `latest` holds at
    least the entries of the mismatched rows."""
    problems = []
    key = KEYS[table]
    candidates = [latest[(table, r)] for r in mismatched] if len(mismatched) <= 1000 else []
    for row_id, row in mismatched.items():
        entry = latest[(table, row_id)]
        was = None
        for other in candidates:
            if other.row_id == row_id:
                continue
            moved = dict(row)
            moved[key] = type(row[key])(other.row_id) if row[key] is not None else None
            if entry_hash(other.prev_hash, table, moved) == other.entry_hash:
                was = other
                break
        if was is not None:
            problems.append(
                ChainProblem(
                    "row-reordered",
                    table,
                    row_id,
                    entry.seq,
                    f"{table} row {row_id} holds what row {was.row_id} held when it was logged "
                    f"(chain entry {was.seq}): rows were swapped or renumbered",
                )
            )
        else:
            problems.append(
                ChainProblem(
                    "row-edited",
                    table,
                    row_id,
                    entry.seq,
                    f"{table} row {row_id} no longer matches its chain entry {entry.seq}: "
                    "edited after it was logged",
                )
            )
    return problems
