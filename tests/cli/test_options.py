"""The group's own options: `--archive` before or after the command's name, and an
archive whose parent folder does not exist."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.capturing import FAST
from tests.support.cli import Preserve
from tests.support.sites import Page, Site


def test_the_archive_may_be_named_after_the_command_too(
    site: Site, tmp_path: Path, preserve: Preserve
) -> None:
    """`preserve status --archive X` was "No such option"."""
    site.pages["/a"] = Page("<html><body><p>A</p></body></html>")
    folder = tmp_path / "investigation"

    captured = preserve.run(None, "capture", *FAST, site.url("/a"), "--archive", str(folder))
    status = preserve.run(None, "status", "--json", "--archive", str(folder))
    later_wins = preserve.run(tmp_path / "other", "status", "--archive", str(folder))

    assert captured.exit_code == 0, captured.output
    assert [t["url"] for t in json.loads(status.stdout)["targets"]] == [site.url("/a")]
    assert later_wins.exit_code == 0 and site.url("/a") in later_wins.stdout
    assert not (tmp_path / "other").exists()


def test_a_mistyped_archive_path_is_not_made_into_a_tree_of_folders(
    site: Site, tmp_path: Path, preserve: Preserve
) -> None:
    site.pages["/a"] = Page("<html><body><p>A</p></body></html>")
    deep = tmp_path / "no" / "such" / "archive"

    result = preserve.run(deep, "capture", *FAST, site.url("/a"))

    assert result.exit_code == 2
    assert f"its parent folder {deep.parent} does not exist" in result.stderr
    assert not (tmp_path / "no").exists() and site.hits["/a"] == 0
