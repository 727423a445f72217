"""What a run prints as it goes: the progress bar on a terminal (counts by outcome and the
URL just done, on stderr), none in pipes and logs, and `watch`'s line per finished run."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import time
from pathlib import Path

import pytest

from preserve.cli.text import watch_line
from tests.support.checking import Lab, short_article
from tests.support.processes import BIN, clean_environment, spawn
from tests.support.sites import Page, Site, article_html, free_port

BAR = re.compile(
    r"(?P<label>Capturing|Checking) (?P<bar>[█·]{30}) (?P<done>\d+)/(?P<total>\d+)  "
    r"(?P<tally>.*?)  (?P<url>\S+)\x1b\[K"
)


def on_a_terminal(archive: Path, *args: str) -> tuple[int, str, str]:
    """`preserve --archive ARCHIVE ARGS…` with its stderr on a pseudo-terminal and its stdout
    in a pipe: exit code, stdout, and what the terminal was sent."""
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [str(BIN / "preserve"), "--archive", str(archive), *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
        env={**clean_environment(), "COLUMNS": "400"},  # no URL cut short
    )
    os.close(terminal)
    shown = b""
    ends = time.monotonic() + 120
    try:
        while time.monotonic() < ends:
            if not select.select([controller], [], [], 1)[0]:
                continue
            try:
                data = os.read(controller, 1 << 16)
            except OSError:  # the process closed the terminal: it is done
                break
            if not data:
                break
            shown += data
        stdout = proc.communicate(timeout=60)[0]
    finally:
        os.close(controller)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, stdout.decode(), shown.decode()


def bars(shown: str) -> list[re.Match[str]]:
    """Each state of the bar the terminal was sent, in order."""
    return [m for frame in shown.split("\r") if (m := BAR.fullmatch(frame))]


def test_the_progress_bar_on_a_terminal(tmp_path: Path, site: Site) -> None:
    archive = tmp_path / "archive"
    dead = f"http://127.0.0.1:{free_port()}/gone"
    links = f'See <a href="/src">the first report</a> and <a href="{dead}">the second report</a>.'
    site.pages["/a"] = Page(article_html("A", [links]))
    site.pages["/src"] = Page(short_article("Source"))
    urls = {site.url("/a"), site.url("/src"), dead, site.url("/static/site.css")}

    code, stdout, shown = on_a_terminal(archive, "capture", "--allow-private", site.url("/a"))

    assert code == 0, shown
    assert "\rCapturing " + "·" * 30 + " 0/…  starting…" in shown  # from the start
    steps = bars(shown)
    assert [int(m["done"]) for m in steps] == [1, 2, 3, 4]
    assert {m["url"] for m in steps} == urls  # the URL just done, each in turn
    last = steps[-1]
    assert (last["bar"], last["total"]) == ("█" * 30, "4")
    assert last["tally"] == "3 captured · 1 failed"
    assert shown.endswith("\r\x1b[K")  # the line is cleared for what follows
    # stdout, a pipe, has the report alone: no bar, no colour.
    assert stdout.startswith(f"Article  {site.url('/a')}\n")
    assert "\r" not in stdout and "\x1b" not in stdout

    site.pages["/src"] = Page(short_article("Source, corrected", seed="Source"))
    code, stdout, shown = on_a_terminal(archive, "check")

    assert code == 0, shown
    steps = bars(shown)
    assert {m["label"] for m in steps} == {"Checking"}
    assert [int(m["done"]) for m in steps] == [1, 2, 3] and steps[-1]["total"] == "3"
    assert {m["url"] for m in steps} == urls - {site.url("/static/site.css")}
    assert "1 failed" in steps[-1]["tally"] and "1 unchanged" in steps[-1]["tally"]
    assert stdout.rstrip().endswith("1 edited, 1 failed, 1 unchanged")
    assert "\r" not in stdout and "\x1b" not in stdout


def test_no_progress_bar_in_a_pipe(tmp_path: Path, site: Site) -> None:
    site.pages["/a"] = Page(article_html("A", ['See <a href="/src">the first report</a>.']))
    site.pages["/src"] = Page(short_article("Source"))

    ran = spawn(tmp_path / "archive", "capture", "--allow-private", site.url("/a"))

    assert ran.code == 0, ran.stderr
    assert ran.stderr.startswith("Remembered allow_private") and ran.stderr.count("\n") == 1
    assert "\r" not in ran.stderr + ran.stdout and "\x1b" not in ran.stderr + ran.stdout
    assert ran.stdout.startswith(f"Article  {site.url('/a')}\n")


def test_watch_line_counts_the_outcomes_of_a_run(tmp_path: Path, site: Site) -> None:
    for path in ("/a", "/b", "/c"):
        site.pages[path] = Page(short_article(f"Story {path}", seed=path))
    lab = Lab(tmp_path / "archive")
    try:
        lab.capture(*(site.url(p) for p in ("/a", "/b", "/c")))
        site.pages["/a"] = Page(short_article("Story /a, corrected", seed="/a"))
        del site.pages["/c"]
        results = list(lab.check().values())
    finally:
        lab.archive.close()
    assert lab.last_run is not None

    line = watch_line(lab.last_run, results, "2026-12-07T08:00:01.123456Z")

    assert line == (
        f"2026-12-07 08:00:01 UTC  run {lab.last_run}: 3 checked: 1 edited, 1 gone, 1 unchanged"
    )


@pytest.mark.slow
def test_watch_prints_a_line_per_run_and_notifies(tmp_path: Path, site: Site) -> None:
    """`preserve watch` as a real process, not --quiet: a line for each run that checked
    anything, then the URLs that changed; the news sent to --notify; SIGTERM stops it."""
    archive = tmp_path / "archive"
    site.pages["/a"] = Page(short_article("Harbour budget approved", seed="watched"))
    url = site.url("/a")
    captured = spawn(archive, "capture", url, "--allow-private", "--every", "1s", "--quiet")
    assert captured.code == 0, captured.stderr
    site.pages["/a"] = Page(short_article("Harbour budget withdrawn", seed="watched"))
    site.pages["/hook"] = Page("", content_type="application/json")
    watcher = subprocess.Popen(
        [str(BIN / "preserve"), "--archive", str(archive), "watch", "--interval", "1"]
        + ["--allow-private", "--notify", f"json://127.0.0.1:{site.port}/hook"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_environment(),
    )
    try:
        deadline = time.monotonic() + 60
        while not site.posted and time.monotonic() < deadline and watcher.poll() is None:
            time.sleep(0.1)
    finally:
        watcher.send_signal(signal.SIGTERM)
        out, err = watcher.communicate(timeout=60)

    assert watcher.returncode == 0, err
    assert err == b""
    lines = out.decode().splitlines()
    runs = [line for line in lines if " UTC  run " in line]
    assert lines[0] == runs[0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC  run 2: 1 checked: 1 edited", runs[0])
    assert lines[1].startswith("edited") and lines[1].split()[2] == url  # what changed
    assert all(line.endswith(": 1 checked: 1 unchanged") for line in runs[1:]), runs
    (posted,) = site.posted
    assert posted.json()["message"].startswith(f"edited: {url} (title-only")
