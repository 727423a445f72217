"""preserve's benchmarks, side by side with wget and warcio in the same run.

    make bench              # prints the table, writes benchmarks/results.json
    make bench WRITE=1      # also writes BENCHMARKS.md
    make bench BIG=1        # adds the 10x web (22,000 pages: about ten minutes more)

Every figure is a ratio against a peer measured minutes apart on the same machine, or an
absolute that does not depend on the machine's speed (bytes, memory). Machines here are
shared and noisy: the load average before and after each measurement is recorded with it,
and timings are the best of `--repeat` runs.
"""

from __future__ import annotations

import argparse
import compileall
import http.client
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import dbscale  # noqa: E402
import measure  # noqa: E402
import rendering  # noqa: E402  (issue 16: pages rendered in Chromium)
import webs  # noqa: E402
import workers  # noqa: E402

sys.path.insert(0, str(HERE.parent))
import realpages  # noqa: E402  (issue 14: the real-page corpus, tests/realpages)

from preserve.config import DEFAULT_PER_HOST  # noqa: E402
from tests.support import tls  # noqa: E402  (the tests' certificate authority, made with openssl)

ROOT = HERE.parent
BIN = Path(sys.executable).parent
PRESERVE = str(BIN / "preserve")
WARCIO = str(BIN / "warcio")
RESULTS = HERE / "results.json"
SUMMARY = ROOT / "BENCHMARKS.md"
DELAY = 0.1  # seconds every latency-web response is held back
MIB = 1 << 20


# --- the webs and their servers --------------------------------------------------------------


class Server:
    """One of the webs, served from its own process group on 127.0.0.1."""

    def __init__(
        self, kind: str, web: webs.Web, delay: float = 0.0, tls: tuple[Path, Path] | None = None
    ) -> None:
        """`tls`: a certificate and its key, to serve the static web over HTTPS."""
        command = [sys.executable, str(HERE / "webs.py"), kind, str(web.root)]
        if kind == "latency":
            command.append(str(delay))
        if tls is not None:
            command += [str(tls[0]), str(tls[1])]
        self.web = web
        self.scheme = "https" if tls else "http"
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline().split()
        if not line or line[0] != "ready":
            self.close()
            raise RuntimeError(f"the {kind} server did not start")
        self.ports = [int(p) for p in line[1:]]

    def urls(self, which: str = "articles") -> list[str]:
        return self.web.urls(self.ports, which, self.scheme)

    def cpu(self) -> float:
        """CPU seconds the server processes have used so far."""
        total = 0.0
        for pid in measure._descendants(self.process.pid):
            total += measure._cpu(pid) or 0.0
        return total

    def close(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def web(root: Path, *, articles: int, sources: int, hosts: int) -> webs.Web:
    """The web of this shape under `root`, generated unless it is there already."""
    found = webs.load_web(root)
    if (
        found
        and (len(found.articles), found.hosts) == (articles, hosts)
        and (len(found.sources) == articles * sources)
    ):
        return found
    shutil.rmtree(root, ignore_errors=True)
    # In a process of its own: the pages of a big web would stay in this one's memory, and
    # every command measured is forked from it.
    subprocess.run(
        [
            sys.executable,
            str(HERE / "webs.py"),
            "generate",
            str(root),
            str(articles),
            str(sources),
            str(hosts),
        ],
        check=True,
    )
    made = webs.load_web(root)
    assert made is not None
    return made


def shape(site: webs.Web, sources: int) -> dict[str, Any]:
    """A web's size, as the results record it."""
    return {
        "articles": len(site.articles),
        "sources_each": sources,
        "hosts": site.hosts,
        "pages": site.pages,
        "bytes": site.bytes(),
    }


def server_capacity(urls: list[str], threads: int = 8) -> float:
    """Requests per second the server answers to `threads` clients, each request on a new
    connection as preserve makes them. The client is Python too, so this is a floor."""

    def get(url: str) -> int:
        host, _, path = url.removeprefix("http://").partition("/")
        conn = http.client.HTTPConnection(host, timeout=30)
        try:
            conn.request("GET", "/" + path)
            response = conn.getresponse()
            return len(response.read())
        finally:
            conn.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(get, urls))
    return len(urls) / (time.perf_counter() - started)


_EXTRACTION_COST = """
import json, sys, time
from pathlib import Path
from preserve.extract.extractor import extract
root, pages = Path(sys.argv[1]), int(sys.argv[2])
bodies = []
for path in sorted(root.glob("[0-9]*.json")):
    bodies += [html.encode() for html in json.loads(path.read_text(encoding="utf-8")).values()]
bodies = bodies[:: max(1, len(bodies) // pages)][:pages]
extract(bodies[0], url="http://127.0.0.1/warm-up", content_type="text/html")
started = time.process_time()
for body in bodies:
    extract(
        body, url="http://127.0.0.1/a/page", content_type="text/html; charset=utf-8", visible=False
    )
seconds = time.process_time() - started
# trafilatura's step alone, as extract calls it, on trees parsed beforehand: the part no change
# of preserve's own code can make cheaper. Only trafilatura's own calls are counted (the same
# functions, hence the private names): its precise run and, when the article has a sentence
# that run lacks, its balanced run and readability (extract/maintext.py). preserve's own work
# around them (links, text, the article's search and the union) is not the floor's.
from preserve.extract import extractor as ex
from preserve.extract import maintext, page
from preserve.extract.decode import decode_text
trees = [page.parse(decode_text(body, declared="utf-8", markup=True)[0]) for body in bodies]
marked = [(tree, ex._mark_links(tree)) for tree in trees]
alone = 0.0
def timed(call):
    def counted(*args, **kwargs):
        global alone
        began = time.process_time()
        try:
            return call(*args, **kwargs)
        finally:
            alone += time.process_time() - began
    return counted
maintext._run = timed(maintext._run)
maintext._readability = timed(maintext._readability)
for tree, hrefs in marked:
    ex._trafilatura(tree, hrefs)
print(json.dumps({
    "pages": len(bodies),
    "ms_per_page": round(seconds * 1000 / len(bodies), 2),
    "trafilatura_ms_per_page": round(alone * 1000 / len(bodies), 2),
}))
"""


def extraction_cost(site: webs.Web, pages: int = 300) -> dict[str, Any]:
    """CPU milliseconds `preserve.extract.extract` takes per page of this web, in one
    thread (of a process of its own), called as a capture calls it: the part of a capture
    no scheduling can hide."""
    out = subprocess.run(
        [sys.executable, "-c", _EXTRACTION_COST, str(site.root), str(pages)],
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout))


# --- running the tools -----------------------------------------------------------------------


def load() -> float:
    return round(os.getloadavg()[0], 2)


@dataclass
class Run:
    """A measured command, with the machine's load around it."""

    measured: measure.Measured
    load_before: float
    load_after: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def wall(self) -> float:
        return self.measured.wall

    def to_json(self) -> dict[str, Any]:
        return {
            **self.measured.to_json(),
            "load_before": self.load_before,
            "load_after": self.load_after,
            **self.extra,
        }


def timed(
    command: list[str],
    *,
    cwd: Path | None = None,
    check: bool = True,
    env: dict[str, str] | None = None,
) -> Run:
    before = load()
    measured = measure.run(command, cwd=cwd, env=env)
    run = Run(measured, before, load())
    if check and measured.returncode not in (0,):
        raise RuntimeError(
            f"{measured.command} exited {measured.returncode}:\n{measured.stderr[-3000:]}"
        )
    return run


def preserve(
    archive: Path, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> Run:
    return timed([PRESERVE, "--archive", str(archive), *args], check=check, env=env)


def wget_version() -> str | None:
    wget = shutil.which("wget")
    if wget is None:
        return None
    out = subprocess.run([wget, "--version"], capture_output=True, text=True).stdout
    found = re.match(r"GNU Wget (\S+)", out)
    return f"wget {found.group(1)}" if found else out.split("\n", 1)[0].strip()


def run_wget(articles: Path, folder: Path, authority: Path | None = None) -> Run:
    """wget capturing the same articles and what they link to, into one WARC. robots.txt is
    off: preserve does not fetch it, so wget does not either. `authority`: the certificate
    authority to trust for an HTTPS web."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    wget = shutil.which("wget") or "wget"
    run = timed(
        [
            wget,
            "-q",
            "--warc-file=wget",
            "-r",
            "-l1",
            "-H",
            "-e",
            "robots=off",
            *([f"--ca-certificate={authority}"] if authority else []),
            "-i",
            str(articles),
        ],
        cwd=folder,
        check=False,
    )
    # wget exits 8 when a server answered an error (a 404 among the links): still a run.
    if run.measured.returncode not in (0, 8):
        raise RuntimeError(f"wget exited {run.measured.returncode}: {run.measured.stderr}")
    pages = sum(1 for p in folder.rglob("*") if p.is_file() and ".warc" not in p.name)
    warc = sum(p.stat().st_size for p in folder.glob("wget*.warc.gz"))
    run.extra.update(pages=pages, warc_bytes=warc)
    return run


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda r: r.wall)


def has_verify() -> bool:
    out = subprocess.run([PRESERVE, "--help"], capture_output=True, text=True).stdout
    return re.search(r"^\s+verify\s", out, re.M) is not None


# --- reading an archive ----------------------------------------------------------------------


def db(archive: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{archive / 'preserve.db'}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def last_run(archive: Path) -> int:
    with db(archive) as conn:
        return int(conn.execute("SELECT max(id) FROM runs").fetchone()[0])


def run_summary(archive: Path, run_id: int) -> dict[str, Any]:
    """What one run stored: captures by status, records by type, its WARC bytes, checks by
    outcome."""
    with db(archive) as conn:
        captures = dict(
            conn.execute(
                "SELECT status, count(*) FROM captures WHERE run_id = ? GROUP BY status", [run_id]
            ).fetchall()
        )
        records = dict(
            conn.execute(
                "SELECT records.type, count(*) FROM records JOIN captures"
                " ON captures.id = records.capture_id WHERE captures.run_id = ?"
                " GROUP BY records.type",
                [run_id],
            ).fetchall()
        )
        record_bytes = conn.execute(
            "SELECT coalesce(sum(records.length), 0) FROM records JOIN captures"
            " ON captures.id = records.capture_id WHERE captures.run_id = ?",
            [run_id],
        ).fetchone()[0]
        warc_bytes = conn.execute(
            "SELECT coalesce(sum(size), 0) FROM warc_files WHERE run_id = ?", [run_id]
        ).fetchone()[0]
        outcomes = dict(
            conn.execute(
                "SELECT outcome, count(*) FROM checks WHERE run_id = ? GROUP BY outcome", [run_id]
            ).fetchall()
        )
    return {
        "captures": captures,
        "records": records,
        "record_bytes": record_bytes,
        "warc_bytes": warc_bytes,
        "outcomes": outcomes,
    }


def warc_files(archive: Path) -> list[Path]:
    return sorted((archive / "warcs").glob("*.warc.gz"))


# --- the sections ----------------------------------------------------------------------------


class Bench:
    def __init__(self, work: Path, repeat: int, realpages_sample: bool = False) -> None:
        self.work = work
        self.repeat = repeat
        self.realpages_sample = realpages_sample
        self.results: dict[str, Any] = {}
        self.wget = wget_version()

    def log(self, text: str) -> None:
        print(
            f"[{datetime.now().strftime('%H:%M:%S')} load {load():.1f}] {text}",
            file=sys.stderr,
            flush=True,
        )

    def capture_pair(
        self, server: Server, name: str, authority: Path | None = None
    ) -> tuple[Path, list[Run], list[Run]]:
        """Capture the web with preserve and with wget, alternately, `repeat` times each;
        returns the last preserve archive and every run. `authority`: the certificate
        authority both must trust (an HTTPS web)."""
        env = {**os.environ, "PRESERVE_CA_BUNDLE": str(authority)} if authority else None
        articles = self.work / f"{name}-articles.txt"
        articles.write_text("\n".join(server.urls()) + "\n")
        ours: list[Run] = []
        theirs: list[Run] = []
        archive = self.work / f"{name}-archive"
        for attempt in range(self.repeat):
            shutil.rmtree(archive, ignore_errors=True)
            self.log(f"{name}: preserve capture ({attempt + 1}/{self.repeat})")
            cpu = server.cpu()
            run = preserve(
                archive,
                "capture",
                "--from-file",
                str(articles),
                "--allow-private",
                "--quiet",
                env=env,
            )
            run.extra["server_cpu"] = round(server.cpu() - cpu, 2)
            run.extra["stored"] = run_summary(archive, last_run(archive))
            ours.append(run)
            if self.wget:
                self.log(f"{name}: wget ({attempt + 1}/{self.repeat})")
                theirs.append(run_wget(articles, self.work / f"{name}-wget", authority))
        return archive, ours, theirs

    def check(self, archive: Path, name: str, server: Server) -> Run:
        self.log(f"{name}: preserve check (nothing changed)")
        cpu = server.cpu()
        run = preserve(archive, "check", "--allow-private", "--quiet")
        run.extra["server_cpu"] = round(server.cpu() - cpu, 2)
        run.extra["stored"] = run_summary(archive, last_run(archive))
        return run

    def bulk(self, articles: int = 200, sources: int = 10, hosts: int = 4) -> None:
        self.log("bulk: generating the web")
        site = web(self.work / "bulk-web", articles=articles, sources=sources, hosts=hosts)
        with Server("static", site) as server:
            self.log("bulk: server capacity")
            capacity = server_capacity(server.urls("articles") + server.urls("sources"))
            archive, ours, theirs = self.capture_pair(server, "bulk")
            checked = self.check(archive, "bulk", server)
        verify = self.verify(archive)
        self.log("bulk: extraction alone, in this process")
        extraction = extraction_cost(site)
        self.results["bulk"] = {
            "web": shape(site, sources),
            "server_capacity_rps": round(capacity),
            "capture": [r.to_json() for r in ours],
            "wget": [r.to_json() for r in theirs],
            "check": checked.to_json(),
            "verify": verify,
            "extraction": extraction,
        }

    def https(self, articles: int = 50, sources: int = 10, hosts: int = 4) -> None:
        """A quarter of the bulk web, over HTTPS: what TLS costs each tool (a quarter: wget
        takes twenty times as long as over HTTP)."""
        if tls.OPENSSL is None:
            self.log("https: openssl is missing, so there is no certificate: skipped")
            return
        self.log("https: a certificate authority and a certificate for 127.0.0.1")
        folder = self.work / "tls"
        authority = tls.make_localhost_certificate(folder, addresses=("127.0.0.1",))
        site = web(self.work / "https-web", articles=articles, sources=sources, hosts=hosts)
        certificate = (folder / "localhost.pem", folder / "localhost.key")
        with Server("static", site) as server:  # the same web over HTTP, to tell TLS apart
            _, plain_ours, plain_theirs = self.capture_pair(server, "https-plain")
        with Server("static", site, tls=certificate) as server:
            _, ours, theirs = self.capture_pair(server, "https", authority)
        self.results["https"] = {
            "plain": {
                "capture": [r.to_json() for r in plain_ours],
                "wget": [r.to_json() for r in plain_theirs],
            },
            "web": shape(site, sources),
            "capture": [r.to_json() for r in ours],
            "wget": [r.to_json() for r in theirs],
        }

    def latency(self, articles: int = 20, sources: int = 10, hosts: int = 8) -> None:
        self.log("latency: generating the web")
        site = web(self.work / "latency-web", articles=articles, sources=sources, hosts=hosts)
        with Server("latency", site, DELAY) as server:
            archive, ours, theirs = self.capture_pair(server, "latency")
            checked = self.check(archive, "latency", server)
        self.results["latency"] = {
            "web": {**shape(site, sources), "delay": DELAY},
            "capture": [r.to_json() for r in ours],
            "wget": [r.to_json() for r in theirs],
            "check": checked.to_json(),
        }

    def workers(self, articles: int = 20, sources: int = 10, hosts: int = 8) -> None:
        """The latency web checked by 1, 2 and 4 workers on the servers (benchmarks/workers.py)."""
        from tests.support.servers import PostgresServer, RedisServer, S3Server

        missing = (
            PostgresServer.skip_reason() or RedisServer.skip_reason() or S3Server.skip_reason()
        )
        if missing:
            self.log(f"workers: skipped ({missing})")
            return
        site = web(self.work / "latency-web", articles=articles, sources=sources, hosts=hosts)
        with Server("latency", site, DELAY) as server:
            found = workers.run(PRESERVE, self.work, server.urls(), server.ports, self.log)
        self.results["workers"] = {"web": shape(site, sources), "delay": DELAY, **found}

    def verify(self, archive: Path) -> dict[str, Any]:
        files = warc_files(archive)
        size = sum(f.stat().st_size for f in files)
        if has_verify():
            self.log("verify: preserve verify")
            ours = preserve(archive, "verify", "--json", check=False)
            how = "preserve verify"
        else:
            self.log("verify: preserve.warc.scan.strict_check (no `preserve verify` yet)")
            script = (
                "import sys; from preserve.warc.scan import strict_check\n"
                "bad = [p for f in sys.argv[1:] for p in strict_check(f)]\n"
                "print(len(bad)); sys.exit(1 if bad else 0)"
            )
            ours = timed([sys.executable, "-c", script, *map(str, files)], check=False)
            how = "preserve.warc.scan.strict_check"
        self.log("verify: warcio check")
        theirs = timed([WARCIO, "check", *map(str, files)], check=False)
        return {
            "how": how,
            "files": len(files),
            "bytes": size,
            "preserve": ours.to_json(),
            "warcio": theirs.to_json(),
            "preserve_mb_s": round(size / 1e6 / ours.wall, 1),
            "warcio_mb_s": round(size / 1e6 / theirs.wall, 1),
        }

    def big(self, articles: int = 2000, sources: int = 10, hosts: int = 4) -> None:
        self.log("big: generating the 10x web")
        site = web(self.work / "big-web", articles=articles, sources=sources, hosts=hosts)
        archive = self.work / "big-archive"
        shutil.rmtree(archive, ignore_errors=True)
        with Server("static", site) as server:
            listing = self.work / "big-articles.txt"
            listing.write_text("\n".join(server.urls()) + "\n")
            self.log("big: preserve capture")
            captured = preserve(
                archive, "capture", "--from-file", str(listing), "--allow-private", "--quiet"
            )
            captured.extra["stored"] = run_summary(archive, last_run(archive))
            checked = self.check(archive, "big", server)
        verify = self.verify(archive)
        self.results["big"] = {
            "web": shape(site, sources),
            "capture": captured.to_json(),
            "check": checked.to_json(),
            "verify": verify,
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        shutil.rmtree(archive, ignore_errors=True)

    def render(self) -> None:
        """50 script-built pages rendered in Chromium against the same pages by plain HTTP,
        and auto against never on pages that need no rendering (benchmarks/rendering.py)."""
        self.results["render"] = rendering.measure(self.work, preserve, self.log, self.repeat)

    def realpages(self) -> None:
        """The real-page corpus through capture and check (benchmarks/realpages.py)."""
        found = realpages.measure(self.log, sample=self.realpages_sample)
        if found is not None:
            self.results["realpages"] = found

    def database(self, captures: int = 1_000_000) -> None:
        archive = self.work / "db-archive"
        shutil.rmtree(archive, ignore_errors=True)
        self.log(f"database: generating {captures:,} capture rows")
        now = datetime.now(UTC)
        made = dbscale.generate(archive, captures=captures, now=now)
        self.log("database: status, check --due")
        status = preserve(archive, "status")
        status_json = preserve(archive, "status", "--json")
        due_cli = preserve(archive, "check", "--due", "--quiet")
        # The selections alone, in this process: what the commands do before any output.
        from preserve.cli.text import STATUS_COLUMNS
        from preserve.engine.check import select_targets
        from preserve.store.database import Store

        store = Store(archive / "preserve.db")
        try:
            started = time.perf_counter()
            due = select_targets(store, None, due=True, now=now + timedelta(hours=3.4))
            due_seconds = time.perf_counter() - started
            started = time.perf_counter()
            everything = sum(1 for _ in store.iter_targets(STATUS_COLUMNS))
            targets_seconds = time.perf_counter() - started
        finally:
            store.close()
        self.results["database"] = {
            "rows": made,
            "status": status.to_json(),
            "status_json": status_json.to_json(),
            "check_due_cli": due_cli.to_json(),
            "due_selection": {"seconds": round(due_seconds, 3), "due": len(due)},
            "targets_selection": {"seconds": round(targets_seconds, 3), "targets": everything},
        }
        shutil.rmtree(archive, ignore_errors=True)


# --- figures, targets and output -------------------------------------------------------------


@dataclass
class Figure:
    name: str
    value: str
    peer: str = ""
    ratio: str = ""
    target: str = ""
    ok: bool | None = None  # None: no target, or not measured

    def to_json(self) -> dict[str, Any]:
        return {
            "figure": self.name,
            "preserve": self.value,
            "peer": self.peer,
            "ratio": self.ratio,
            "target": self.target,
            "pass": self.ok,
        }


def _mb(run: dict[str, Any]) -> float:
    return float(run["peak_mb"])


def figures(results: dict[str, Any]) -> list[Figure]:
    out: list[Figure] = []
    bulk, lat, big, base = (results.get(k) for k in ("bulk", "latency", "big", "database"))
    if bulk:
        ours = min(bulk["capture"], key=lambda r: r["wall"])
        pages = bulk["web"]["pages"]
        if bulk["wget"]:
            theirs = min(bulk["wget"], key=lambda r: r["wall"])
            ratio = ours["wall"] / theirs["wall"]
            out.append(
                Figure(
                    f"bulk web capture, {pages:,} pages (wall)",
                    f"{ours['wall']:.1f} s",
                    f"wget {theirs['wall']:.1f} s",
                    f"{ratio:.2f}x",
                    "<= 2x wget",
                    ratio <= 2,
                )
            )
        else:
            out.append(
                Figure(
                    f"bulk web capture, {pages:,} pages (wall)",
                    f"{ours['wall']:.1f} s",
                    "wget missing",
                    target="<= 2x wget",
                )
            )
        split = ours.get("cpu_by_process", {})
        main_ms = 1000 * split.get("main", ours["cpu"]) / pages
        ours_ms = 1000 * ours["cpu"] / pages
        alone = bulk.get("extraction", {}).get("trafilatura_ms_per_page")
        if bulk["wget"] and alone is not None:
            # The floor of issue 14: what fetching and recording cost wget, plus trafilatura's
            # own step with preserve's settings (its runs of extract/maintext.py), both
            # measured in this run.
            wget_ms = 1000 * min(bulk["wget"], key=lambda r: r["wall"])["cpu"] / pages
            floor_ms = wget_ms + alone
            out.append(
                Figure(
                    "bulk web capture, CPU per page",
                    f"{ours_ms:.1f} ms",
                    f"floor {floor_ms:.1f} ms: wget {wget_ms:.1f} + trafilatura's step {alone:.1f}",
                    f"{ours_ms / floor_ms:.2f}x (main process {main_ms:.1f} ms, extraction "
                    f"workers {ours_ms - main_ms:.1f} ms)",
                    "<= 1.5x floor",
                    ours_ms <= 1.5 * floor_ms,
                )
            )
        else:
            out.append(
                Figure(
                    "bulk web capture, CPU per page",
                    f"{ours_ms:.1f} ms",
                    "wget or the extraction measurement missing",
                    f"main process {main_ms:.1f} ms, extraction workers {ours_ms - main_ms:.1f} ms",
                    "<= 1.5x floor",
                )
            )
        if "extraction" in bulk:
            cores = results["machine"]["cores"] or 1
            floor = bulk["extraction"]["ms_per_page"] * pages / 1000 / cores
            out.append(
                Figure(
                    "extraction alone, one thread",
                    f"{bulk['extraction']['ms_per_page']:.1f} ms/page",
                    f"{pages:,} pages / {cores} cores: {floor:.1f} s at the least",
                    f"{floor / (min(bulk['wget'], key=lambda r: r['wall'])['wall']):.1f}x wget"
                    if bulk["wget"]
                    else "",
                )
            )
        if "trafilatura_ms_per_page" in bulk.get("extraction", {}):
            cores = results["machine"]["cores"] or 1
            alone = bulk["extraction"]["trafilatura_ms_per_page"]
            floor = alone * pages / 1000 / cores
            out.append(
                Figure(
                    "of which trafilatura's own step",
                    f"{alone:.1f} ms/page",
                    f"{pages:,} pages / {cores} cores: {floor:.1f} s at the least",
                    f"{floor / (min(bulk['wget'], key=lambda r: r['wall'])['wall']):.1f}x wget"
                    if bulk["wget"]
                    else "",
                )
            )
        server_share = ours.get("server_cpu", 0) / ours["wall"]
        out.append(
            Figure(
                "bulk web server: busy share during capture",
                f"{server_share:.0%}",
                f"answers >= {bulk['server_capacity_rps']:,} req/s",
                f"{pages / ours['wall'] / bulk['server_capacity_rps']:.0%} of capacity used",
                "not the bottleneck",
                server_share < 0.5,
            )
        )
        checked = bulk["check"]
        rate = pages / checked["wall"]
        stored = checked["stored"]
        revisits = stored["records"].get("revisit", 0)
        responses = stored["records"].get("response", 0)
        share = revisits / max(1, revisits + responses)
        out.append(
            Figure(
                "bulk web check, nothing changed",
                f"{rate:.0f} pages/s",
                f"{checked['wall']:.1f} s for {pages:,}",
                f"{share:.1%} revisits",
                "100% revisits",
                share == 1.0,
            )
        )
        added = stored["warc_bytes"] / pages
        out.append(
            Figure(
                "WARC bytes added per unchanged recapture",
                f"{added:,.0f} B",
                f"records alone {stored['record_bytes'] / pages:,.0f} B",
                "",
                "< 2 KiB",
                added < 2048,
            )
        )
        # Judged on the most data measured: start-up (a third of a second for both tools)
        # weighs on the bulk archive's 21 MB.
        verifies = [bulk["verify"]] + ([big["verify"]] if big and "verify" in big else [])
        for verify in verifies:
            ratio = verify["preserve_mb_s"] / max(verify["warcio_mb_s"], 1e-9)
            judged = verify is verifies[-1]
            out.append(
                Figure(
                    f"verify ({verify['how']}), {verify['bytes'] / 1e6:.0f} MB",
                    f"{verify['preserve_mb_s']} MB/s",
                    f"warcio check {verify['warcio_mb_s']} MB/s",
                    f"{ratio:.2f}x",
                    ">= 2x warcio" if judged else "",
                    ratio >= 2 if judged else None,
                )
            )
        for label, run in (("capture", ours), ("check", checked)):
            out.append(
                Figure(
                    f"peak memory, {label}, {pages:,} pages",
                    f"{_mb(run):.0f} MB",
                    f"main process {run['peak_rss_mb']:.0f} MB RSS",
                    "",
                    "< 300 MB",
                    _mb(run) < 300,
                )
            )
    https = results.get("https")
    if https:
        out += _https_figures(https)
    if big and bulk:
        pages = big["web"]["pages"]
        for label in ("capture", "check"):
            small_run = (
                min(bulk["capture"], key=lambda r: r["wall"])
                if label == "capture"
                else bulk["check"]
            )
            run = big[label]
            growth = _mb(run) / _mb(small_run)
            out.append(
                Figure(
                    f"peak memory, {label}, {pages:,} pages",
                    f"{_mb(run):.0f} MB",
                    f"{_mb(small_run):.0f} MB at {bulk['web']['pages']:,}",
                    f"{growth:.2f}x",
                    "< 300 MB, flat (< 1.25x)",
                    _mb(run) < 300 and growth < 1.25,
                )
            )
        out.append(
            Figure(
                f"10x web capture / check, {pages:,} pages",
                f"{big['capture']['wall']:.0f} s / {big['check']['wall']:.0f} s",
                f"{pages / big['capture']['wall']:.0f} / "
                f"{pages / big['check']['wall']:.0f} pages/s",
            )
        )
    if lat:
        ours = min(lat["capture"], key=lambda r: r["wall"])
        pages = lat["web"]["pages"]
        per_host = DEFAULT_PER_HOST
        limit = pages * lat["web"]["delay"] / (per_host * lat["web"]["hosts"])
        if lat["wget"]:
            theirs = min(lat["wget"], key=lambda r: r["wall"])
            speedup = theirs["wall"] / ours["wall"]
            out.append(
                Figure(
                    f"latency web capture, {pages} pages x 100 ms (wall)",
                    f"{ours['wall']:.2f} s",
                    f"wget {theirs['wall']:.1f} s",
                    f"{speedup:.1f}x faster",
                    ">= 5x faster than wget",
                    speedup >= 5,
                )
            )
        ratio = ours["wall"] / limit
        out.append(
            Figure(
                "latency web capture / politeness limit",
                f"{ours['wall']:.2f} s",
                f"limit {limit:.2f} s ({per_host}/host x {lat['web']['hosts']})",
                f"{ratio:.2f}x",
                "<= 1.5x",
                ratio <= 1.5,
            )
        )
        checked = lat["check"]
        out.append(
            Figure(
                "latency web check, nothing changed",
                f"{pages / checked['wall']:.0f} pages/s",
                f"{checked['wall']:.2f} s",
                f"{checked['wall'] / limit:.2f}x limit",
            )
        )
    if base:
        rows = base["rows"]["captures"]
        targets = base["rows"]["targets"]
        for key, label, judged in (
            ("status", "status", True),
            ("status_json", "status --json", False),
            ("check_due_cli", "check --due (none due)", True),
        ):
            run = base[key]
            out.append(
                Figure(
                    f"`{label}`, {rows:,} captures / {targets:,} URLs (wall)",
                    f"{run['wall']:.2f} s",
                    "command, start-up included",
                    "",
                    "< 1 s" if judged else "",
                    run["wall"] < 1 if judged else None,
                )
            )
        selected = base["targets_selection"]
        out.append(
            Figure(
                f"status selection ({selected['targets']:,} URLs), in process",
                f"{selected['seconds']:.3f} s",
                "",
                "",
                "< 1 s",
                selected["seconds"] < 1,
            )
        )
        due = base["due_selection"]
        out.append(
            Figure(
                f"due selection ({due['due']:,} due), in process",
                f"{due['seconds']:.3f} s",
                "",
                "",
                "< 1 s",
                due["seconds"] < 1,
            )
        )
    if results.get("render"):
        out += rendering.figures(results["render"], Figure)
    if results.get("workers"):
        out += _workers_figures(results["workers"])
    if results.get("realpages"):
        out += realpages.figures(results["realpages"], Figure)
    return out


def _workers_figures(found: dict[str, Any]) -> list[Figure]:
    """Throughput with 1, 2 and 4 workers, as a ratio to one worker's; and the most
    requests a host answered at once, which the per-host limit must hold."""
    one = found["1"]
    rows = [
        Figure(
            f"workers: check of the latency web, 1 worker ({one['pages']} pages)",
            f"{one['pages_per_second']:.1f} pages/s",
            f"{one['wall']:.1f} s",
        )
    ]
    for count in ("2", "4"):
        if count in found:
            ratio = found[count]["pages_per_second"] / one["pages_per_second"]
            rows.append(
                Figure(
                    f"workers: {count} workers, throughput against 1",
                    f"{found[count]['pages_per_second']:.1f} pages/s",
                    f"{one['pages_per_second']:.1f} pages/s",
                    f"{ratio:.2f}x",
                    f"> {int(count) // 2}x",
                    ratio > int(count) // 2,
                )
            )
    most = max(found[c]["busiest_host"] for c in ("1", "2", "4") if c in found)
    rows.append(
        Figure(
            "workers: most requests one host answered at once (any run)",
            str(most),
            f"limit {found['per_host']}",
            target=f"<= {found['per_host']}",
            ok=most <= found["per_host"],
        )
    )
    return rows


def _https_figures(https: dict[str, Any]) -> list[Figure]:
    """The web over HTTPS: the wall time against wget's, and what TLS adds to each tool's
    CPU per page (against the same web over plain HTTP, measured beside it)."""
    ours = min(https["capture"], key=lambda r: r["wall"])
    pages = https["web"]["pages"]
    if not https["wget"]:
        return [Figure(f"bulk web over HTTPS, {pages:,} pages (wall)", f"{ours['wall']:.1f} s")]
    theirs = min(https["wget"], key=lambda r: r["wall"])
    rows = [
        Figure(
            f"bulk web over HTTPS, {pages:,} pages (wall)",
            f"{ours['wall']:.1f} s",
            f"wget {theirs['wall']:.1f} s",
            f"{ours['wall'] / theirs['wall']:.2f}x",
        )
    ]
    plain = https.get("plain")
    if plain and plain["wget"]:

        def added(tls: list[dict[str, Any]], http: list[dict[str, Any]]) -> float:
            """The least CPU of each tool's runs: what the work costs, less the noise."""
            least = min(r["cpu"] for r in tls) - min(r["cpu"] for r in http)
            return float(1000 * least / pages)

        rows.append(
            Figure(
                "CPU per page that TLS adds (the same web over HTTP)",
                f"{added(https['capture'], plain['capture']):+.1f} ms",
                f"wget {added(https['wget'], plain['wget']):+.1f} ms",
                "connections kept alive, one TLS context",
            )
        )
    return rows


def table(rows: list[Figure]) -> str:
    header = ("figure", "preserve", "peer", "ratio", "target", "")
    cells = [header] + [
        (
            r.name,
            r.value,
            r.peer,
            r.ratio,
            r.target,
            "" if r.ok is None else ("pass" if r.ok else "FAIL"),
        )
        for r in rows
    ]
    widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown(rows: list[Figure], results: dict[str, Any]) -> str:
    machine = results["machine"]
    out = [
        "# Benchmarks",
        "",
        "Measured by `make bench WRITE=1` (`benchmarks/run.py`); the raw numbers are in "
        "`benchmarks/results.json`. Every timing is set against a peer measured in the same "
        "run on the same machine (wget for capturing, `warcio check` for verifying), because "
        "the machines here are shared and their speed varies by the minute.",
        "",
        f"Machine: {machine['cores']} cores ({machine['cpu']}), Python {machine['python']}, "
        f"{machine['wget'] or 'no wget'}, warcio {machine['warcio']}, preserve "
        f"{machine['preserve']} ({machine['commit']}), {machine['date']}. Load average "
        f"{machine['load_start']} at the start, {machine['load_end']} at the end.",
        "",
    ]
    if results.get("carried_over"):
        earlier = [
            f"{key} ({results[key]['measured']['commit']}, {results[key]['measured']['date']})"
            if "measured" in results[key]
            else f"{key} (an earlier run)"
            for key in results["carried_over"]
        ]
        out += [
            f"Carried over from earlier runs, not measured this time: {', '.join(earlier)}.",
            "",
        ]
    out += [
        "| figure | preserve | peer | ratio | target | |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        verdict = "" if r.ok is None else ("pass" if r.ok else "**fail**")
        out.append(f"| {r.name} | {r.value} | {r.peer} | {r.ratio} | {r.target} | {verdict} |")
    out += ["", *analysis(results)]
    if results.get("realpages"):
        out += realpages.markdown(results["realpages"])
    out += NOTES
    return "\n".join(out) + "\n"


def analysis(results: dict[str, Any]) -> list[str]:
    """Where the time goes, in this run's numbers: why a target is met or missed."""
    bulk, lat = results.get("bulk"), results.get("latency")
    cores = results["machine"]["cores"] or 1
    out = ["## Where the time goes", ""]
    if bulk and "extraction" in bulk and bulk["wget"]:
        pages = bulk["web"]["pages"]
        ours = min(bulk["capture"], key=lambda r: r["wall"])
        theirs = min(bulk["wget"], key=lambda r: r["wall"])
        extract_ms = bulk["extraction"]["ms_per_page"]
        floor = extract_ms * pages / 1000 / cores
        main = ours.get("cpu_by_process", {}).get("main", ours["cpu"])
        budget = 2 * theirs["wall"]
        floor_all = ours["cpu"] / cores
        out += [
            f"- **Bulk web.** wget took {theirs['wall']:.1f} s ({theirs['cpu']:.1f} s of CPU): "
            f"the target of 2x gives preserve {budget:.1f} s. Finding the main text of a page "
            f"(trafilatura on the parsed tree, plus preserve's normalisation, citations and "
            f"hashes) takes {extract_ms:.1f} ms of CPU in one thread, {floor:.1f} s for "
            f"{pages:,} pages on {cores} cores; it runs in {cores} worker processes. The main "
            f"process (fetching, WARC records with their digests and gzip, the database with "
            f"its hash chain and text index) used {main:.0f} s of CPU, "
            f"{1000 * main / pages:.1f} ms a page, on one core (Python threads share one). "
            f"In all preserve used {ours['cpu']:.0f} s of CPU, {floor_all:.1f} s of the "
            f"machine's {cores} cores at the least: "
            + (
                "more than the budget, so the target is out of reach on this machine "
                "whatever the scheduling; "
                if floor_all > budget
                else "within the budget; "
            )
            + f"the run took {ours['wall']:.1f} s with a load average of "
            f"{ours['load_before']} to {ours['load_after']} from other work on the machine.",
        ]
        alone = bulk["extraction"].get("trafilatura_ms_per_page")
        if alone is not None:
            # What the budget leaves once the design's extractor has had its share.
            rest = (budget * cores * 1000 / pages) - alone
            out += [
                f"- **What the target leaves.** trafilatura's own step (its main-text "
                f"runs on a parsed tree, as preserve makes them: the precise run, and the balanced "
                f"run and readability when the article has a sentence it lacks) takes "
                f"{alone:.1f} ms a page. Of the budget, {cores} cores x {budget:.1f} s, that "
                f"leaves {rest:.1f} ms a page for everything else preserve does: fetching, "
                f"parsing, its own text, citations and hashes, the WARC records and the "
                f"database. wget, which does only the fetching and the WARC records, used "
                f"{1000 * theirs['cpu'] / pages:.1f} ms a page; preserve uses "
                f"{1000 * ours['cpu'] / pages - alone:.1f}.",
            ]
    https = results.get("https")
    if https and https["wget"]:
        ours = min(https["capture"], key=lambda r: r["wall"])
        theirs = min(https["wget"], key=lambda r: r["wall"])
        pages = https["web"]["pages"]
        out += [
            f"- **Bulk web over HTTPS.** preserve keeps up to 4 connections alive per host "
            f"and makes one TLS context for the run, so TLS costs it little: "
            f"{ours['wall']:.1f} s and {ours['cpu']:.0f} s of CPU for {pages:,} pages. wget "
            f"keeps one connection alive at a time, so on this web, whose articles cite "
            f"sources on every host in turn, it connects and shakes hands again for almost "
            f"every page; its CPU barely grows ({theirs['cpu']:.1f} s), but each new TLS "
            f"connection waits tens of milliseconds on this machine's loopback, and its "
            f"wall time ({theirs['wall']:.1f} s) is that waiting. The CPU each tool spends "
            f"on TLS is the fairer comparison.",
        ]
    if lat:
        ours = min(lat["capture"], key=lambda r: r["wall"])
        pages = lat["web"]["pages"]
        limit = pages * lat["web"]["delay"] / (DEFAULT_PER_HOST * lat["web"]["hosts"])
        out += [
            f"- **Latency web.** The {pages} pages cost {ours['cpu']:.1f} s of CPU "
            f"(start-up, extraction, records), {ours['cpu'] / cores:.1f} s on {cores} cores "
            f"when the politeness limit is {limit:.2f} s: here too the run is bound by the "
            "CPU, not by the network or the scheduling (at most 2 connections per host, "
            "hosts in turn, no thread ever waiting on a busy host).",
        ]
    out.append("")
    return out


NOTES = [
    "## What is measured",
    "",
    "- **Bulk web**: 200 articles, each citing 10 sources of its own (2,200 pages of "
    "generated news-like HTML, 5–40 KB, median 16 KB), over 4 hosts (ports) on 127.0.0.1, "
    "served from memory by one asyncio process per host. The server's share of the "
    "machine during preserve's capture, and what it can answer, show it is not the "
    "bottleneck. Page chrome (navigation, footer) links to 3 section pages per host, which "
    "wget fetches too (12 pages more for it).",
    "- **Bulk web over HTTPS**: 50 articles x 10 sources of the same kind over 4 hosts, "
    "served over TLS 1.3 by the same servers, with "
    "a certificate for 127.0.0.1 from a certificate authority made for the run with "
    "`openssl`; preserve trusts it through `PRESERVE_CA_BUNDLE`, wget through "
    "`--ca-certificate`. Skipped without openssl.",
    "- **Latency web**: 20 articles x 10 sources over 8 hosts, every response held back "
    "100 ms by an asyncio server. The politeness limit is pages x 100 ms / (2 connections "
    "per host x 8 hosts), the fastest any tool keeping preserve's default per-host limit "
    "can go.",
    "- **Capture**: `preserve capture --from-file articles.txt --allow-private` with its "
    "defaults (16 fetches at once, 2 per host): fetch, WARC records with per-record gzip "
    "and sha256 digests, main-text extraction, citations, SQLite with its hash chain and "
    "text index. Against `wget --warc-file -r -l1 -H -e robots=off -i articles.txt` "
    "(robots.txt off because preserve does not fetch it). Best of `--repeat` runs each, "
    "alternating; wall time of the whole command.",
    "- **Check**: `preserve check` of everything just captured, nothing changed: every "
    "page fetched again, compared, and stored as a revisit record.",
    "- **Verify**: `preserve verify` (every record's digests, every row against its record, "
    "the hash chain, the stored texts) against `warcio check` (digests) on the same WARC "
    "files, in MB of files per second of wall time, start-up included. Judged on the "
    "largest archive measured: the 10x web's when it ran (on 21 MB, the start-up of both "
    "tools weighs).",
    "- **Memory**: the peak of the summed proportional set size (PSS) of preserve's whole "
    "process tree (it extracts pages in worker processes), sampled every 50 ms; the main "
    "process's own peak (VmHWM) beside it. Flat means under 1.25x for 10x the pages.",
    "- **Database**: 1,000,000 capture rows (2,000,000 records, 900,000 checks) over "
    "100,000 tracked URLs, generated with SQL; `status` and `check --due` timed as "
    "commands (start-up included, output to a pipe), and the selections alone in process.",
    realpages.NOTE,
    "",
    "Run it: `make bench` (about ten minutes, of which the real pages take four), "
    "`make bench WRITE=1` to rewrite this file, `make bench ONLY=realpages` for one section, "
    "`BIG=1` to add the 10x web (about ten minutes more); `benchmarks/run.py --help`.",
]


def machine() -> dict[str, Any]:
    warcio = subprocess.run([WARCIO, "--version"], capture_output=True, text=True)
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    version = subprocess.run([PRESERVE, "--version"], capture_output=True, text=True)
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "wget": wget_version(),
        "warcio": (warcio.stdout or warcio.stderr).split()[-1] if warcio.returncode == 0 else None,
        "preserve": version.stdout.split()[-1] if version.returncode == 0 else None,
        "commit": commit,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_start": load(),
    }


SECTIONS = ("bulk", "https", "latency", "big", "database", "render", "workers", "realpages")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--write", action="store_true", help="also write BENCHMARKS.md")
    parser.add_argument(
        "--big",
        action="store_true",
        help="also capture and check the 10x web (22,000 pages; several "
        "minutes). Without it, the last big run in results.json is kept.",
    )
    parser.add_argument(
        "--only",
        nargs="*",
        choices=["bulk", "https", "latency", "big", "database", "render", "workers", "realpages"],
        help="run only these sections",
    )
    parser.add_argument(
        "--repeat", type=int, default=2, help="capture runs per tool on each web, best taken [2]"
    )
    parser.add_argument(
        "--render",
        action="store_true",
        help="only print the table (and with --write, BENCHMARKS.md) from "
        "results.json, running nothing",
    )
    parser.add_argument(
        "--realpages-sample",
        action="store_true",
        help="real pages: only the 12 pages of make test's sample, not the whole corpus",
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--work", type=Path, help="working folder (kept; generated webs are reused)"
    )
    args = parser.parse_args(argv)
    if args.render:
        saved: dict[str, Any] = json.loads(RESULTS.read_text())
        rows = figures(saved)
        print(table(rows))
        if args.write:
            SUMMARY.write_text(markdown(rows, saved))
        return 0
    sections = args.only or [
        "bulk",
        "https",
        "latency",
        "database",
        "render",
        "workers",
        "realpages",
    ] + (["big"] if args.big else [])
    # The commands measured start as an installed package does, from bytecode (pip compiles
    # it at install time): an editable install under PYTHONDONTWRITEBYTECODE would compile
    # preserve's source on every start, a tenth of a second that no user pays.
    compileall.compile_dir(ROOT / "src", quiet=1)
    work = args.work or Path(tempfile.mkdtemp(prefix="preserve-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    bench = Bench(work, args.repeat, args.realpages_sample)
    results: dict[str, Any] = {"machine": machine()}
    if not bench.wget:
        bench.log("wget is missing: its figures are skipped")
    try:
        for section in SECTIONS:
            if section in sections:
                getattr(bench, section)()
                if section not in bench.results:  # skipped, and said why
                    continue
                bench.results[section]["measured"] = {
                    k: results["machine"][k] for k in ("commit", "date")
                }
                results.update(bench.results)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    results["machine"]["load_end"] = load()
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for key in SECTIONS:
        if key not in results and key in previous:
            results[key] = previous[key]  # not run this time: the last measurement stands
            results.setdefault("carried_over", []).append(key)
    rows = figures(results)
    results["figures"] = [r.to_json() for r in rows]
    print(table(rows))
    if results.get("carried_over"):
        print(f"\n(carried over from an earlier run: {', '.join(results['carried_over'])})")
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    if args.write:
        SUMMARY.write_text(markdown(rows, results))
        print(f"\nWrote {SUMMARY.relative_to(ROOT)} and {RESULTS.relative_to(ROOT)}")
    return 1 if args.strict and any(r.ok is False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
