"""Credentials of an archive on servers: from the environment or an owner-only file only, and
never in the database or in a message (docs/servers.md#security)."""

from __future__ import annotations

from pathlib import Path

import pytest

from preserve.config import load_places, redacted
from preserve.errors import ServerUnavailable, UsageError
from preserve.store.database import Store
from tests.support.cli import Preserve
from tests.support.sites import Page, Site, article_html

SECRET = "s3cret-Pa55"


def with_password(dsn: str) -> str:
    """The test server trusts every connection: a password in the URL is accepted, unread."""
    return dsn.replace("postgres@", f"postgres:{SECRET}@", 1)


def test_redacted_hides_passwords_and_secret_parameters() -> None:
    assert redacted(f"postgresql://preserve:{SECRET}@db:5432/archive?sslmode=require") == (
        "postgresql://preserve:***@db:5432/archive?sslmode=require"
    )
    assert redacted(f"redis://:{SECRET}@queue:6379/0") == "redis://:***@queue:6379/0"
    assert redacted(f"postgresql://db/archive?password={SECRET}") == (
        "postgresql://db/archive?password=***"
    )
    assert redacted("postgresql://preserve@db/archive") == "postgresql://preserve@db/archive"


def test_a_password_in_a_file_others_may_read_is_refused(tmp_path: Path) -> None:
    settings = tmp_path / "preserve.toml"
    settings.write_text(f'database = "postgresql://preserve:{SECRET}@db/archive"\n')
    settings.chmod(0o644)
    with pytest.raises(UsageError) as refused:
        load_places(tmp_path)
    assert SECRET not in str(refused.value) and "chmod 600" in str(refused.value)
    settings.chmod(0o600)
    assert load_places(tmp_path).database == f"postgresql://preserve:{SECRET}@db/archive"


def test_a_broker_needs_a_database_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESERVE_BROKER", "redis://127.0.0.1:1/0")
    with pytest.raises(UsageError, match="needs a database server"):
        load_places(tmp_path)


def test_an_unreachable_database_is_named_without_its_password() -> None:
    with pytest.raises(ServerUnavailable) as failed:
        Store(f"postgresql://preserve:{SECRET}@127.0.0.1:1/archive")
    assert SECRET not in str(failed.value)
    assert "postgresql://preserve:***@127.0.0.1:1/archive" in str(failed.value)


@pytest.mark.servers
def test_no_password_reaches_the_database(
    preserve: Preserve,
    site: Site,
    tmp_path: Path,
    postgres_dsn: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PRESERVE_DATABASE", with_password(postgres_dsn))
    site.pages["/a"] = Page(article_html("A", ["Words of the story, enough of them to count."]))
    captured = preserve.run(tmp_path / "archive", "capture", site.url("/a"), "--json")
    assert captured.exit_code == 0, captured.stderr
    store = Store(postgres_dsn)
    try:
        (run,) = store.query("SELECT options FROM runs")
    finally:
        store.close()
    assert SECRET not in run["options"] and ":***@" in run["options"]
    assert SECRET not in captured.stdout + captured.stderr
