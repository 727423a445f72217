"""`preserve demo`: the whole job on the sample web, and the commands it suggests next."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.capturing import BIN
from tests.support.cli import Preserve
from tests.support.warc_checks import assert_archive_sound


@pytest.mark.slow
def test_demo(tmp_path: Path, preserve: Preserve) -> None:
    archive = tmp_path / "demo"

    result = preserve.run(archive, "demo")

    assert result.exit_code == 0, (result.output, result.exception)
    lines = result.stdout.splitlines()
    for word in ("captured", "edited", "gone", "moved"):
        assert any(line.lstrip().startswith(word) for line in lines), word
    assert "Citations  6 of 6 captured" in result.stdout
    assert_archive_sound(archive)


@pytest.mark.slow
def test_the_demo_ends_with_commands_that_can_be_typed_as_printed(tmp_path: Path) -> None:
    """After `make demo`, `preserve` is not on the PATH: the demo's "Try next" lines must
    say how to run it, and work when typed."""
    program = BIN / "preserve"
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [str(program), "--archive", str(tmp_path / "demo"), "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    suggested = done.stdout.split("Try next:", 1)[1].strip().splitlines()
    assert suggested and all(line.strip().startswith(str(program)) for line in suggested)
    status = subprocess.run(
        suggested[1].strip(), shell=True, env=env, capture_output=True, text=True, timeout=60
    )
    assert status.returncode == 0 and "edited" in status.stdout, status.stderr
