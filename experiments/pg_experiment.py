"""psycopg 3 against a real PostgreSQL: chain appends, full-text search, restarts, pools."""

from __future__ import annotations

import hashlib
import multiprocessing
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
import psycopg_pool
from psycopg import sql

from tests.support.servers import PostgresServer

T = TypeVar("T")
CHAIN_LOCK = 0x70726573  # any bigint: one advisory lock for the one hash chain


def timed(label: str, fn: Callable[[], T]) -> T:
    began = time.perf_counter()
    result = fn()
    print(f"  {label}: {(time.perf_counter() - began) * 1000:.1f} ms")
    return result


# --- a. connect ---------------------------------------------------------------------------


def connect_costs(dsn: str) -> None:
    print("connect")
    for i in range(3):
        conn = timed(f"psycopg.connect #{i + 1}", lambda: psycopg.connect(dsn))
        conn.close()


# --- b. hash chain appends serialised across connections ---------------------------------

SCHEMA = """
CREATE TABLE chain (
    seq bigint PRIMARY KEY,
    prev_hash text NOT NULL,
    hash text NOT NULL,
    payload text NOT NULL,
    writer text NOT NULL
);
CREATE TABLE chain_head (
    id int PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL, hash text NOT NULL
);
INSERT INTO chain_head VALUES (1, 0, 'genesis');
"""


def append_advisory(conn: psycopg.Connection[Any], payload: str, writer: str) -> None:
    """One transaction: take the chain's lock, read the tip, append after it."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", [CHAIN_LOCK])
        row = conn.execute("SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (row[0], row[1]) if row else (0, "genesis")
        digest = hashlib.sha256(f"{prev}\n{payload}".encode()).hexdigest()
        conn.execute(
            "INSERT INTO chain VALUES (%s, %s, %s, %s, %s)",
            [seq + 1, prev, digest, payload, writer],
        )


def append_row_lock(conn: psycopg.Connection[Any], payload: str, writer: str) -> None:
    """Same, serialised by SELECT ... FOR UPDATE on a one-row head table instead."""
    with conn.transaction():
        row = conn.execute("SELECT seq, hash FROM chain_head WHERE id = 1 FOR UPDATE").fetchone()
        assert row is not None
        seq, prev = row
        digest = hashlib.sha256(f"{prev}\n{payload}".encode()).hexdigest()
        conn.execute(
            "INSERT INTO chain VALUES (%s, %s, %s, %s, %s)",
            [seq + 1, prev, digest, payload, writer],
        )
        conn.execute("UPDATE chain_head SET seq = %s, hash = %s WHERE id = 1", [seq + 1, digest])


def append_unlocked(conn: psycopg.Connection[Any], payload: str, writer: str) -> None:
    """No lock: the control, to show that the lock is what keeps the chain whole."""
    with conn.transaction():
        row = conn.execute("SELECT seq, hash FROM chain ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (row[0], row[1]) if row else (0, "genesis")
        time.sleep(0.001)  # widen the window a little, as real work between read and write would
        digest = hashlib.sha256(f"{prev}\n{payload}".encode()).hexdigest()
        conn.execute(
            "INSERT INTO chain VALUES (%s, %s, %s, %s, %s)",
            [seq + 1, prev, digest, payload, writer],
        )


APPENDERS: dict[str, Callable[[psycopg.Connection[Any], str, str], None]] = {
    "advisory": append_advisory,
    "row_lock": append_row_lock,
    "unlocked": append_unlocked,
}


def appender(dsn: str, how: str, writer: str, count: int, errors: Any) -> None:
    append = APPENDERS[how]
    with psycopg.connect(dsn) as conn:
        for i in range(count):
            try:
                append(conn, f"{writer}-{i}", writer)
            except psycopg.errors.UniqueViolation:
                errors.put("UniqueViolation")


def check_chain(dsn: str) -> tuple[int, bool]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT seq, prev_hash, hash, payload FROM chain ORDER BY seq"
        ).fetchall()
    prev = "genesis"
    ok = True
    for expected, (seq, prev_hash, digest, payload) in enumerate(rows, start=1):
        want = hashlib.sha256(f"{prev}\n{payload}".encode()).hexdigest()
        if seq != expected or prev_hash != prev or digest != want:
            ok = False
        prev = digest
    return len(rows), ok


def chain_experiment(server: PostgresServer) -> None:
    print("hash chain: 4 processes x 200 appends, each its own connection")
    for how in ("advisory", "row_lock", "unlocked"):
        dsn = server.create_database()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(SCHEMA.encode())
        errors: Any = multiprocessing.Queue()
        procs = [
            multiprocessing.Process(target=appender, args=(dsn, how, f"w{n}", 200, errors))
            for n in range(4)
        ]
        began = time.perf_counter()
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join()
        seconds = time.perf_counter() - began
        failures = 0
        while not errors.empty():
            errors.get()
            failures += 1
        rows, ok = check_chain(dsn)
        print(
            f"  {how:9}: {rows} rows, chain valid={ok}, unique violations={failures}, "
            f"{seconds:.2f} s ({rows / seconds:.0f} appends/s)"
        )


# --- c. full-text search for an exact quotation -------------------------------------------

DOCS = {
    1: "The minister said: “We will not, under any circumstances, raise taxes.” Then he left.",
    2: "Under any circumstances we will raise taxes, the minister did not say.",
    3: "To be, or not to be, that is the question.",
    4: "A well-known fact: the Élysée Palace answered at 10:45.",
    5: "He wrote don't panic — and the crowd didn't.",
    6: "ÉLYSÉE in capitals. élysée in lower case.",
}

QUERIES = [
    '"we will not, under any circumstances, raise taxes"',
    '"under any circumstances raise taxes"',
    '"to be or not to be"',
    '"well-known fact"',
    '"élysée palace"',
    '"don\'t panic"',
    '"raise taxes the minister"',  # spans a sentence break in doc 1? (no: "taxes.” Then")
    '"taxes then he left"',  # across the closing quote and the full stop
]


def fts_experiment(server: PostgresServer) -> None:
    print("full-text search ('simple' configuration, locale C.UTF-8)")
    dsn = server.create_database()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE doc (id int PRIMARY KEY, body text NOT NULL, "
            "tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED)"
        )
        conn.execute("CREATE INDEX doc_tsv ON doc USING gin (tsv)")
        for key, body in DOCS.items():
            conn.execute("INSERT INTO doc (id, body) VALUES (%s, %s)", [key, body])
        for text in ("“We will not, under any circumstances”", "well-known", "ÉLYSÉE", "don't"):
            vec = conn.execute("SELECT to_tsvector('simple', %s)::text", [text]).fetchone()
            print(f"  to_tsvector({text!r}) = {vec[0] if vec else None}")
        for query in QUERIES:
            ws = conn.execute("SELECT websearch_to_tsquery('simple', %s)::text", [query]).fetchone()
            ids = conn.execute(
                "SELECT id FROM doc WHERE tsv @@ websearch_to_tsquery('simple', %s) ORDER BY id",
                [query],
            ).fetchall()
            inner = query.strip('"')
            ph = conn.execute(
                "SELECT id FROM doc WHERE tsv @@ phraseto_tsquery('simple', %s) ORDER BY id",
                [inner],
            ).fetchall()
            print(
                f"  {query:55} -> {ws[0] if ws else ''}\n"
                f"      websearch ids={[r[0] for r in ids]}  phraseto ids={[r[0] for r in ph]}"
            )
        english = conn.execute(
            "SELECT websearch_to_tsquery('english', '\"to be or not to be\"')::text"
        ).fetchone()
        print(f"  'english' config drops stop words: {english[0] if english else ''!r}")

    # Positions stop at 16383: a phrase past that word cannot be found by position.
    with psycopg.connect(dsn, autocommit=True) as conn:
        filler = " ".join(f"w{i}" for i in range(20000))
        conn.execute(
            "INSERT INTO doc (id, body) VALUES (100, %s)", [filler + " needle in haystack"]
        )
        conn.execute(
            "INSERT INTO doc (id, body) VALUES (101, %s)", ["needle in haystack " + filler]
        )
        ids = conn.execute(
            "SELECT id FROM doc WHERE tsv @@ phraseto_tsquery('simple', 'needle in haystack')"
        ).fetchall()
        print(f"  phrase at word 20000 vs word 0 of a 20000-word body: found ids {ids}")

    # A larger table: how fast is a phrase query, with and without the GIN index?
    with psycopg.connect(dsn, autocommit=True) as conn:
        rng = random.Random(7)
        vocabulary = [f"w{i}" for i in range(20000)]
        bodies = {n: [rng.choice(vocabulary) for _ in range(800)] for n in range(1000, 6000)}
        conn.execute("DELETE FROM doc WHERE id >= 100")
        began = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY doc (id, body) FROM STDIN") as copy:
            for n, words_of in bodies.items():
                copy.write_row([n, " ".join(words_of)])
        load = time.perf_counter() - began
        conn.execute("ANALYZE doc")
        phrase = " ".join(bodies[3333][400:406])
        query = "SELECT id FROM doc WHERE tsv @@ phraseto_tsquery('simple', %s)"
        for seqscan in ("on", "off"):
            conn.execute(f"SET enable_seqscan = {seqscan}")
            began = time.perf_counter()
            for _ in range(20):
                ids = conn.execute(query, [phrase]).fetchall()
            per_query = (time.perf_counter() - began) / 20
            plan = conn.execute("EXPLAIN " + query, [phrase]).fetchall()
            print(
                f"  enable_seqscan={seqscan}: 6-word phrase over 5000 docs of 800 words: "
                f"{per_query * 1000:.1f} ms, ids={[r[0] for r in ids]}; plan: {plan[0][0][:60]}"
            )
        print(f"  (5000 docs loaded with COPY, tsvector generated, GIN maintained: {load:.1f} s)")
        # The same with an expression index and no stored tsvector column.
        conn.execute("SET enable_seqscan = on")
        conn.execute("CREATE TABLE doc2 (id int PRIMARY KEY, body text NOT NULL)")
        conn.execute("CREATE INDEX doc2_fts ON doc2 USING gin (to_tsvector('simple', body))")
        conn.execute("INSERT INTO doc2 SELECT id, body FROM doc WHERE id >= 1000")
        conn.execute("ANALYZE doc2")
        query2 = (
            "SELECT id FROM doc2 "
            "WHERE to_tsvector('simple', body) @@ phraseto_tsquery('simple', %s)"
        )
        began = time.perf_counter()
        for _ in range(20):
            ids = conn.execute(query2, [phrase]).fetchall()
        per_query = (time.perf_counter() - began) / 20
        plan = conn.execute("EXPLAIN " + query2, [phrase]).fetchall()
        print(
            f"  expression index, no stored column: {per_query * 1000:.1f} ms, "
            f"ids={[r[0] for r in ids]}; plan: {plan[0][0][:60]}"
        )


# --- d. what a restart raises, and retrying -------------------------------------------------


def describe(exc: BaseException) -> str:
    sqlstate = getattr(exc, "sqlstate", None)
    mro = " < ".join(c.__name__ for c in type(exc).__mro__[:4])
    return f"{mro} sqlstate={sqlstate}: {str(exc).strip().splitlines()[0]}"


def restart_experiment(server: PostgresServer) -> None:
    print("restart mid-transaction")
    dsn = server.create_database()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (n int)")
    for mode in ("fast", "immediate"):
        conn = psycopg.connect(dsn)
        conn.execute("INSERT INTO t VALUES (1)")  # a transaction is open
        seconds = server.restart(mode)
        print(f"  pg_ctl restart -m {mode}: {seconds:.2f} s")
        try:
            conn.execute("INSERT INTO t VALUES (2)")
        except psycopg.Error as exc:
            print(f"    next statement: {describe(exc)}")
            print(f"    conn.closed={conn.closed} conn.broken={conn.broken}")
        try:
            conn.execute("SELECT 1")
        except psycopg.Error as exc:
            print(f"    statement after that: {describe(exc)}")
        conn.close()

    # Commit while the server goes away: a statement in flight.
    conn = psycopg.connect(dsn)
    conn.execute("INSERT INTO t VALUES (3)")
    stopper = threading.Timer(0.2, lambda: server.stop("fast"))
    stopper.start()
    try:
        conn.execute("SELECT pg_sleep(5)")
    except psycopg.Error as exc:
        print(f"  during a running statement (stop -m fast): {describe(exc)}")
    stopper.join()
    began = time.perf_counter()
    try:
        psycopg.connect(dsn, connect_timeout=2)
    except psycopg.Error as exc:
        print(
            f"  connect while down ({(time.perf_counter() - began) * 1000:.0f} ms): {describe(exc)}"
        )
    server.start()

    # The retry: a whole transaction, re-run on OperationalError with a fresh connection.
    def run_with_retry(work: Callable[[psycopg.Connection[Any]], None], deadline: float) -> int:
        attempts = 0
        delay = 0.1
        while True:
            attempts += 1
            try:
                with psycopg.connect(dsn, connect_timeout=2) as c, c.transaction():
                    work(c)
                return attempts
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    restarter = threading.Timer(0.05, lambda: server.restart("fast"))
    restarter.start()

    def slow_insert(c: psycopg.Connection[Any]) -> None:
        c.execute("INSERT INTO t VALUES (4)")
        c.execute("SELECT pg_sleep(0.5)")

    began = time.perf_counter()
    attempts = run_with_retry(slow_insert, time.monotonic() + 30)
    restarter.join()
    with psycopg.connect(dsn) as c:
        fours = c.execute("SELECT count(*) FROM t WHERE n = 4").fetchone()
    print(
        f"  retry loop across a restart: done after {attempts} attempts, "
        f"{time.perf_counter() - began:.2f} s; rows written once: {fours}"
    )


# --- e. a connection pool across a restart ------------------------------------------------


def pool_experiment(server: PostgresServer) -> None:
    print("psycopg_pool.ConnectionPool across a restart")
    dsn = server.create_database()
    for check in (None, psycopg_pool.ConnectionPool.check_connection):
        label = "check=check_connection" if check else "no check (default)"
        pool = psycopg_pool.ConnectionPool(
            dsn, min_size=2, max_size=4, open=True, check=check, reconnect_timeout=30
        )
        pool.wait(timeout=10)
        with pool.connection() as conn:
            conn.execute("SELECT 1")
        server.restart("fast")
        outcomes = []
        for _ in range(3):
            began = time.perf_counter()
            try:
                with pool.connection(timeout=5) as conn:
                    conn.execute("SELECT 1")
                outcomes.append(f"ok ({(time.perf_counter() - began) * 1000:.0f} ms)")
            except psycopg.Error as exc:
                outcomes.append(type(exc).__name__)
        print(f"  {label}: first three uses after restart: {outcomes}")
        pool.close()

    # While the server is down: getconn waits up to its timeout, then PoolTimeout.
    pool = psycopg_pool.ConnectionPool(
        dsn, min_size=1, max_size=2, check=psycopg_pool.ConnectionPool.check_connection
    )
    pool.wait(timeout=10)
    server.stop("fast")
    began = time.perf_counter()
    try:
        with pool.connection(timeout=3) as conn:
            conn.execute("SELECT 1")
    except (psycopg.Error, psycopg_pool.PoolTimeout) as exc:
        print(
            f"  server down, pool.connection(timeout=3): {type(exc).__name__} after "
            f"{time.perf_counter() - began:.1f} s"
        )
    threading.Timer(2.0, server.start).start()
    began = time.perf_counter()
    with pool.connection(timeout=30) as conn:
        conn.execute("SELECT 1")
    print(
        f"  server back after 2 s: pool.connection(timeout=30) served after "
        f"{time.perf_counter() - began:.1f} s"
    )
    pool.close()


# --- f. waking a waiting producer: LISTEN/NOTIFY -------------------------------------------


def notify_experiment(server: PostgresServer) -> None:
    print("LISTEN/NOTIFY (a producer waiting for its capture)")
    dsn = server.create_database()
    with psycopg.connect(dsn, autocommit=True) as setup:
        setup.execute("CREATE TABLE job (id int PRIMARY KEY, state text NOT NULL)")
        setup.execute("INSERT INTO job VALUES (1, 'queued')")
    waiter = psycopg.connect(dsn, autocommit=True)
    waiter.execute("LISTEN job_done")
    sent: list[float] = []

    def finish() -> None:
        with psycopg.connect(dsn) as worker, worker.transaction():
            worker.execute("UPDATE job SET state = 'done' WHERE id = 1")
            worker.execute("SELECT pg_notify('job_done', '1')")
            time.sleep(0.2)  # still uncommitted: the notification must wait for the commit
            sent.append(time.perf_counter())

    thread = threading.Thread(target=finish)
    thread.start()
    payload = None
    got = 0.0
    for note in waiter.notifies(timeout=10):
        got = time.perf_counter()
        payload = note.payload
        break  # leave the generator first: it holds the connection's lock
    row = waiter.execute("SELECT state FROM job WHERE id = 1").fetchone()
    print(
        f"  notification {payload!r} arrived {(got - sent[0]) * 1000:.1f} ms after the "
        f"commit began; the waiter then reads state={row[0] if row else None!r}"
    )
    thread.join()
    waiter.close()

    # Lower-casing of non-ASCII letters depends on the database's LC_CTYPE.
    server.execute("CREATE DATABASE c_ctype TEMPLATE template0 LC_CTYPE 'C' LC_COLLATE 'C'")
    with psycopg.connect(server.dsn("c_ctype")) as conn:
        row = conn.execute("SELECT to_tsvector('simple', 'ÉLYSÉE Élysée')::text").fetchone()
        print(
            f"  with LC_CTYPE=C: to_tsvector('simple', 'ÉLYSÉE Élysée') = {row[0] if row else ''}"
        )


# --- g. a session advisory lock as a job claim, and a killed holder --------------------------


def claim_experiment(server: PostgresServer) -> None:
    print("pg_try_advisory_lock as a capture claim; the holder killed with SIGKILL")
    dsn = server.create_database()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import psycopg, sys, time\n"
            f"c = psycopg.connect({dsn!r}, autocommit=True)\n"
            "print(c.execute('SELECT pg_try_advisory_lock(42)').fetchone()[0], flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    print(f"  holder took the lock: {holder.stdout.readline().strip()}")
    with psycopg.connect(dsn, autocommit=True) as other:
        taken = other.execute("SELECT pg_try_advisory_lock(42)").fetchone()
        print(f"  another connection while the holder lives: {taken}")
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        killed = time.perf_counter()
        while True:
            row = other.execute("SELECT pg_try_advisory_lock(42)").fetchone()
            if row and row[0]:
                break
            time.sleep(0.005)
        print(f"  free again {(time.perf_counter() - killed) * 1000:.0f} ms after the kill -9")


def main() -> None:
    print(f"psycopg {psycopg.__version__}, psycopg_pool {psycopg_pool.__version__}")
    with PostgresServer() as server:
        print(f"PostgreSQL started (initdb + start) in {server.start_seconds:.2f} s")
        created = []
        for strategy in ("FILE_COPY", "WAL_LOG"):
            began = time.perf_counter()
            name = f"s_{strategy.lower()}"
            server.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template1 STRATEGY {}")
                .format(sql.Identifier(name), sql.SQL(strategy))
                .as_string()
            )
            created.append(f"{strategy} {(time.perf_counter() - began) * 1000:.0f} ms")
        print("CREATE DATABASE: " + ", ".join(created))
        connect_costs(server.dsn())
        chain_experiment(server)
        fts_experiment(server)
        restart_experiment(server)
        pool_experiment(server)
        notify_experiment(server)
        claim_experiment(server)


if __name__ == "__main__":
    main()
