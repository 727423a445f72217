"""migrate: an SQLite archive (captured, checked, exported) copied onto PostgreSQL and the S3
store; verify gives the same chain head on both sides, and the copy goes on working."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.checked_archive import build
from tests.support.cli import Preserve, assert_one_error_line
from tests.support.servers import S3Env
from tests.support.sites import Site

pytestmark = pytest.mark.servers


def test_migrate_then_verify_gives_the_same_chain_head(
    preserve: Preserve,
    site: Site,
    tmp_path: Path,
    postgres_dsn: str,
    s3_env: S3Env,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    archive = build(tmp_path / "archive", site)
    exported = preserve.json(
        archive, "export", site.url("/2016/10/story"), "--wacz", str(tmp_path / "e.wacz")
    )
    assert exported["logged"]["export_id"] == 1
    here = preserve.json(archive, "verify")
    assert here["ok"]
    moved = preserve.run(archive, "migrate", "--to", postgres_dsn, "--warc-store", s3_env.url)
    assert moved.exit_code == 0, moved.stderr
    head = here["chain"]["head"]
    assert f"Chain head here:  {head}\nChain head there: {head}\n" in moved.stdout
    assert "copied 1 exports row(s)" in moved.stdout
    assert moved.stdout.count(f"in {s3_env.url}") >= 2  # a line per WARC file stored
    monkeypatch.setenv("PRESERVE_DATABASE", postgres_dsn)
    monkeypatch.setenv("PRESERVE_WARC_STORE", s3_env.url)
    there = preserve.json(tmp_path / "on-servers", "verify")
    assert there["ok"], there["problems"]
    assert there["chain"]["head"] == here["chain"]["head"]
    assert there["records_checked"] == here["records_checked"]
    # The copy goes on: a check stores new rows after the copied ones, on the same chain.
    checked = preserve.json(tmp_path / "on-servers", "check", "--quiet", "--allow-private")
    assert {r["outcome"] for r in checked["results"]} <= {"unchanged", "cosmetic"}
    found = preserve.json(tmp_path / "on-servers", "find-text", "wiretap order was ever signed")
    assert found["matches"]
    again = preserve.json(tmp_path / "on-servers", "verify", "--head", here["chain"]["head"])
    assert again["ok"] and again["chain"]["entries"] > here["chain"]["entries"]


def test_migrate_refuses_a_password_on_the_command_line(
    preserve: Preserve, site: Site, tmp_path: Path
) -> None:
    archive = build(tmp_path / "archive", site, edit=False)
    result = preserve.run(
        archive, "migrate", "--to", "postgresql://preserve:s3cret@127.0.0.1:1/archive"
    )
    assert_one_error_line(result)
    assert "s3cret" not in result.stderr and "PGPASSWORD" in result.stderr
