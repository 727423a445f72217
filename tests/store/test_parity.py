"""store on two engines: PostgreSQL's migrations kept in step with SQLite's (the same names
in the same order, the same tables and columns), the chain one line when processes append
at once, and find-text's index on PostgreSQL."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from preserve.store import chain, pgmigrations
from preserve.store.database import Store
from preserve.store.migrations import migrations
from tests.support.stored import URL, add, new_run

pytestmark = pytest.mark.servers

# Each engine's full-text index is its own (store/textsearch.py): compared by name only.
FULL_TEXT = {"text_search"}
# Each engine's own bookkeeping: the applied migrations, SQLite's FTS5 shadow tables.
OWN = {"_sqlite_migrations", "preserve_migrations"}


def sqlite_schema(path: Path) -> dict[str, set[str]]:
    store = Store(path)
    try:
        return {
            name: {c.name for c in store.db[name].columns}
            for name in store.db.table_names()
            if not name.startswith("text_search_") or name == "text_search_keys"
        }
    finally:
        store.close()


def postgres_schema(dsn: str) -> dict[str, set[str]]:
    store = Store(dsn)
    try:
        found: dict[str, set[str]] = {}
        for row in store.query(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public'"
        ):
            found.setdefault(row["table_name"], set()).add(row["column_name"])
        return found
    finally:
        store.close()


def test_migrations_are_kept_in_step() -> None:
    assert [name for name, _ in pgmigrations.MIGRATIONS] == [m.name for m in migrations._migrations]


def test_both_schemas_have_the_same_tables_and_columns(tmp_path: Path, postgres_dsn: str) -> None:
    lite = sqlite_schema(tmp_path / "preserve.db")
    server = postgres_schema(postgres_dsn)
    assert set(lite) - OWN == set(server) - OWN
    for table in set(lite) - OWN - FULL_TEXT:
        assert lite[table] == server[table], table


def test_a_database_is_migrated_once_and_opened_again(postgres_dsn: str) -> None:
    Store(postgres_dsn).close()
    store = Store(postgres_dsn)
    try:
        assert store.conn.pending_migrations() == []
        assert len(store.query("SELECT * FROM preserve_migrations")) == len(pgmigrations.MIGRATIONS)
    finally:
        store.close()


def _append(dsn: str, count: int) -> None:
    store = Store(dsn)
    try:
        run = new_run(store)
        for i in range(count):
            add(store, run, f"{URL}?n={i}", payload=f"{i:064x}")
    finally:
        store.close()


def test_processes_appending_at_once_keep_one_chain(postgres_dsn: str) -> None:
    Store(postgres_dsn).close()  # migrated once, before they race
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append, args=(postgres_dsn, 25)) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    store = Store(postgres_dsn)
    try:
        assert chain.check(store.conn) == ([], 3 * 25)
    finally:
        store.close()


def test_find_text_candidates_on_postgresql(postgres_dsn: str) -> None:
    store = Store(postgres_dsn)
    try:
        run = new_run(store)
        words = [f"w{i}" for i in range(5000)]
        add(store, run, URL, text=" ".join(words))
        add(store, run, URL + "?b", text="Haddad said the recordings would be shared.")
        # A phrase deep in a long text (past a tsvector's 16383 positions), and one across
        # a window's edge, are found; words out of order are not.
        assert len(store.texts_with_phrase(" ".join(words[4200:4210]))) == 1
        assert len(store.texts_with_phrase(" ".join(words[990:1010]))) == 1
        assert store.texts_with_phrase("w2 w1") == []
        (found,) = store.texts_with_phrase("the recordings, would")
        assert found[1].startswith("Haddad")
    finally:
        store.close()
