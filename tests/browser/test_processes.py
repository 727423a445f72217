"""No Chromium process outlives a run: after a capture that rendered, and after SIGINT in the
middle of a render. Each run's processes are told apart from any other Chromium on the
machine by a tag in their environment, which Chromium's processes inherit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.support.processes import clean_environment
from tests.support.rendering import api_paragraphs, needs_chromium, scripted_page
from tests.support.sites import Page, Site

pytestmark = [*needs_chromium, pytest.mark.slow]

BIN = Path(sys.executable).parent
BUSY = "<script>setInterval(() => fetch('/tick').catch(() => {}), 30);</script>"


def tagged(tag: str) -> list[int]:
    """The processes alive now whose environment holds `tag`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if tag.encode() in f.read():
                    found.append(int(entry))
        except OSError:
            continue
    return found


def left_behind(tag: str, within: float = 5.0) -> list[int]:
    """The tagged processes still alive after `within` seconds (exiting takes a moment)."""
    ends = time.monotonic() + within
    while (alive := tagged(tag)) and time.monotonic() < ends:
        time.sleep(0.1)
    return alive


def start(archive: Path, url: str, tag: str) -> subprocess.Popen[bytes]:
    env = clean_environment() | {"PRESERVE_RUN_TAG": tag}
    return subprocess.Popen(
        [str(BIN / "preserve"), "--archive", str(archive), "capture", "--json",
         "--allow-private", "--timeout", "2", "--browser", "always", url],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip


def test_no_chromium_process_is_left_after_a_run(site: Site, tmp_path: Path) -> None:
    site.pages["/api.json"] = Page(json.dumps(api_paragraphs()))
    site.pages["/story"] = Page(scripted_page())
    tag = uuid.uuid4().hex

    process = start(tmp_path / "archive", site.url("/story"), tag)
    out, err = process.communicate(timeout=120)

    assert process.returncode == 0, err
    assert json.loads(out)["article"]["rendered"] == "complete"
    assert left_behind(tag) == []


def test_no_chromium_process_is_left_after_sigint_mid_render(site: Site, tmp_path: Path) -> None:
    site.pages["/api.json"] = Page(json.dumps(api_paragraphs()))
    site.pages["/tick"] = Page("{}", content_type="application/json")
    site.pages["/busy"] = Page(scripted_page(extra=BUSY))
    tag = uuid.uuid4().hex
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "preserve.toml").write_text("render_deadline = 60\n")

    process = start(archive, site.url("/busy"), tag)
    ends = time.monotonic() + 60
    while site.hits["/tick"] < 5:  # the page is rendering
        assert time.monotonic() < ends and process.poll() is None, "the render never began"
        time.sleep(0.05)
    assert len(tagged(tag)) > 2  # preserve, Playwright's driver and Chromium's processes
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 130, err
    document = json.loads(out)
    assert document["article"]["rendered"] == "interrupted"
    assert document["article"]["status"] == "captured"
    assert left_behind(tag) == []
