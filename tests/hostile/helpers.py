"""`preserve` as a real process (exit code, output, peak memory), what its archive must
hold afterwards, and pages to capture."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preserve.warc.files import OPEN_SUFFIX
from preserve.warc.reader import read_record
from tests.support.sites import Page, Site, article_html

BIN = Path(sys.executable).parent


# --- running preserve -----------------------------------------------------------------------


@dataclass(frozen=True)
class Ran:
    """A finished `preserve` process: exit code, output, and its peak memory."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    peak_mb: float
    seconds: float

    def json(self) -> Any:
        return json.loads(self.stdout)


def clean_environment() -> dict[str, str]:
    """The environment without PRESERVE_* settings, and rendering off: the hostile web
    measures the fetching and extraction pipeline (its renders are tests/engine/capture's
    test_render_limits.py and tests/browser/)."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("PRESERVE_")}
    return kept | {"PRESERVE_BROWSER": "never"}


class Proc:
    """`preserve --archive ARCHIVE ARGS…` started in the background; `wait()` reaps it with
    os.wait4, which gives the peak RSS of that one process."""

    def __init__(
        self,
        archive: Path,
        *args: str,
        preexec_fn: Callable[[], None] | None = None,
        prefix: tuple[str, ...] = (),
    ) -> None:
        self.args = ("--archive", str(archive), *args)
        self._out = tempfile.TemporaryFile()
        self._err = tempfile.TemporaryFile()
        self.started = time.monotonic()
        self.popen = subprocess.Popen(
            [*prefix, str(BIN / "preserve"), *self.args],
            stdout=self._out,
            stderr=self._err,
            stdin=subprocess.DEVNULL,
            env=clean_environment(),
            preexec_fn=preexec_fn,
        )

    def kill(self) -> None:
        self.popen.send_signal(signal.SIGKILL)

    def wait(self, timeout: float = 240) -> Ran:
        ends = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(self.popen.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > ends:
                self.kill()
                pid, status, usage = os.wait4(self.popen.pid, 0)
                self.popen.returncode = os.waitstatus_to_exitcode(status)
                raise AssertionError(f"preserve {' '.join(self.args)[:200]} did not finish")
            time.sleep(0.05)
        self.popen.returncode = os.waitstatus_to_exitcode(status)
        output = []
        for file in (self._out, self._err):
            file.seek(0)
            output.append(file.read().decode("utf-8", "replace"))
            file.close()
        return Ran(
            self.args,
            self.popen.returncode,
            output[0],
            output[1],
            usage.ru_maxrss / 1024,
            time.monotonic() - self.started,
        )


def spawn(archive: Path, *args: str, **kwargs: Any) -> Ran:
    """`preserve --archive ARCHIVE ARGS…` as a process of its own, waited for."""
    return Proc(archive, *args, **kwargs).wait()


def rows(archive: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    conn = sqlite3.connect(archive / "preserve.db")
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def capture_row(archive: Path, url: str) -> dict[str, Any]:
    found = rows(archive, "SELECT * FROM captures WHERE url = ? ORDER BY id DESC", (url,))
    assert found, f"no capture of {url}"
    return found[0]


def assert_rows_point_at_bytes(archive: Path) -> int:
    """Every captures and records row names a WARC file that exists (finished or `.open`)
    and a slice of it that reads back as exactly the record the row says. The count."""
    checked = 0
    for row in rows(
        archive,
        "SELECT warc, offset, length, record_id, record_sha256 FROM records"
        " UNION ALL SELECT warc, offset, length, record_id, record_sha256"
        " FROM captures WHERE warc IS NOT NULL",
    ):
        path = archive / "warcs" / row["warc"]
        still_open = path.with_name(path.name + OPEN_SUFFIX)
        assert path.exists() or still_open.exists(), f"{row['warc']} is missing"
        record = read_record(path, row["offset"], row["length"])
        assert record.record_id == row["record_id"]
        with open(path if path.exists() else still_open, "rb") as file:
            file.seek(row["offset"])
            assert hashlib.sha256(file.read(row["length"])).hexdigest() == row["record_sha256"]
        checked += 1
    return checked


def assert_verify_clean(archive: Path) -> None:
    """`preserve verify` finds nothing, and every row points at readable bytes."""
    ran = spawn(archive, "verify", "--json")
    assert ran.code == 0 and ran.json()["ok"], ran.stdout[-3000:] + ran.stderr
    assert not list((archive / "warcs").glob("*" + OPEN_SUFFIX))
    assert_rows_point_at_bytes(archive)


def one_line_error(ran: Ran) -> str:
    assert ran.stderr.startswith("Error: ") and ran.stderr.count("\n") == 1, ran.stderr[-3000:]
    assert "Traceback" not in ran.stderr
    return ran.stderr


def cite(*hrefs: str, title: str = "A hostile page") -> bytes:
    """An article citing each href in a sentence of its own (entities allowed in hrefs)."""
    paragraphs = [
        f"Reporters covered matter number {n} of the affair at length this week. "
        f'Officials said, according to <a href="{href}">source {n}</a>, that the '
        f"matter was under review. More remarks followed in the afternoon."
        for n, href in enumerate(hrefs)
    ]
    return article_html(title, paragraphs).encode()


WORDS = " ".join(
    random.Random(0).choices(("harbour", "ferry", "quay", "council", "storm", "mooring"), k=100_000)
)


def many_pages(site: Site, generation: int, articles: int = 3, sources: int = 30) -> list[str]:
    """Articles citing `sources` sources each; bodies change with `generation` so that every
    run writes full records, and some answer slowly so that runs last a few seconds."""
    rng = random.Random(generation)
    for n in range(sources * articles):
        start = rng.randrange(len(WORDS) // 2)
        words = WORDS[start : start + rng.randint(15_000, 200_000)]
        site.pages[f"/src/{n}"] = Page(
            article_html(f"Source {n}", [f"Generation {generation}.", words]),
            delay=rng.choice((0, 0, 0.05, 0.2)),
        )
    urls = []
    for a in range(articles):
        hrefs = [(f"/src/{a * sources + i}", f"source {i}") for i in range(sources)]
        paragraphs = [
            f"Paragraph {i} of article {a}, generation {generation}, cites "
            f'<a href="{href}">{anchor}</a> about the harbour.'
            for i, (href, anchor) in enumerate(hrefs)
        ]
        site.pages[f"/article/{a}"] = Page(article_html(f"Article {a}", paragraphs))
        urls.append(site.url(f"/article/{a}"))
    return urls


def captured_article(tmp_path: Path, site: Site, more: dict[str, Page] | None = None) -> Path:
    """`tmp_path/archive` after capturing the site's /a, which cites /b; `more`: other pages
    the site serves, set before the capture."""
    archive = tmp_path / "archive"
    site.pages["/a"] = Page(cite("/b"))
    site.pages.update(more or {})
    assert spawn(archive, "capture", site.url("/a"), "--allow-private", "-q").code == 0
    return archive
