"""The library's export, as a newsroom script calls it (`preserve.evidence.export.export`):
the package is written, and its chain-of-custody entry is logged in the archive's hash
chain, naming the package by the sha256 of the file written; an archive that is read-only
where it is kept still gives its package, unlogged."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from preserve import __version__
from preserve.engine.archive import Archive
from preserve.errors import UsageError
from preserve.evidence.export import export
from preserve.evidence.keys import fingerprint, generate_key, public_key_b64
from preserve.evidence.packagecheck import verify_package
from preserve.evidence.verify import verify
from preserve.store import chain
from preserve.times import iso
from tests.support.cli import PRESERVE
from tests.support.sites import Page, Site, article_html


def captured(tmp_path: Path, site: Site) -> tuple[Path, str]:
    """An archive holding a capture of the site's /a, which cites /b; and the URL of /a."""
    site.pages["/a"] = Page(
        article_html(
            "Harbour closed",
            [
                "The harbour closed on Monday night after the council voted to shut it, "
                f'according to <a href="{site.url("/b")}">the minutes of the meeting</a>.',
                "Fishing boats were told to moor elsewhere until further notice was given.",
            ],
        )
    )
    site.pages["/b"] = Page(article_html("Minutes", ["The council voted to close the harbour."]))
    archive = tmp_path / "archive"
    ran = PRESERVE.run(archive, "capture", site.url("/a"), "--allow-private", "-q")
    assert ran.exit_code == 0, ran.output
    return archive, site.url("/a")


def rows(archive: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    db = sqlite3.connect(archive / "preserve.db")
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute(sql, params)]
    finally:
        db.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_export_is_logged_under_the_sha256_of_the_file_written(
    tmp_path: Path, site: Site
) -> None:
    path, url = captured(tmp_path, site)
    key = generate_key(tmp_path / "key.pem")
    out = tmp_path / "evidence.wacz"
    now = datetime(2026, 11, 27, 22, 34, 15, 123456, tzinfo=UTC)
    archive = Archive(path, create=False)
    try:
        # As typed by a person: the URL is canonicalised as capture did.
        done = export(archive, [url.replace("http://", "HTTP://")], out, now=now, key=key)
        assert done.logged is not None
        assert verify(archive).ok  # the chain, with its new entry, is intact
        head = chain.head(archive.store.conn)
    finally:
        archive.close()
    package = done.package
    assert (package.path, package.sha256, package.size) == (out, sha256(out), out.stat().st_size)
    assert verify_package(out).ok
    (row,) = rows(path, "SELECT * FROM exports")
    assert row == {
        "id": int(done.logged.row_id),
        "exported_at": iso(now),
        "wacz": str(out.resolve()),
        "bytes": out.stat().st_size,
        "sha256": sha256(out),
        "digest": package.digest,
        "articles": json.dumps([url]),
        "captures": package.captures,
        "records": package.records,
        "signed_by": fingerprint(public_key_b64(key)),
        "timestamps": "[]",
        "tool_version": __version__,
        "host": socket.gethostname(),
        "pid": os.getpid(),
    }
    assert done.logged.table_name == "exports"
    assert head is not None and head.entry_hash == done.logged.entry_hash


def test_an_article_never_captured_is_refused_and_nothing_is_logged(
    tmp_path: Path, site: Site
) -> None:
    path, url = captured(tmp_path, site)
    out = tmp_path / "evidence.wacz"
    archive = Archive(path, create=False)
    try:
        with pytest.raises(UsageError, match="nothing archived"):
            export(archive, [url, site.url("/never")], out, now=datetime.now(UTC))
    finally:
        archive.close()
    assert not out.exists() and not out.with_name(out.name + ".part").exists()
    assert rows(path, "SELECT * FROM exports") == []


READ_ONLY_EXPORT = """
import json, sys
from datetime import UTC, datetime
from pathlib import Path
from preserve.engine.archive import Archive
from preserve.evidence.export import export
archive = Archive(Path(sys.argv[1]), create=False, writes=False)
try:
    done = export(archive, [sys.argv[2]], Path(sys.argv[3]), now=datetime.now(UTC))
finally:
    archive.close()
print(json.dumps({"read_only": archive.store.read_only, "logged": done.logged is not None,
                  "sha256": done.package.sha256}))
"""


def read_only_prefix(archive: Path) -> tuple[str, ...]:
    """A command prefix that runs the command with `archive` read-only: file modes, or for
    root (who writes through them) a read-only bind mount in a mount namespace of its own."""
    if os.geteuid() != 0:
        for folder in (archive, archive / "warcs"):
            folder.chmod(0o555)
        return ()
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "--mount", "true"]).returncode != 0:
        pytest.skip("no mount namespace to make the archive read-only in (needs unshare)")
    script = f'mount --bind -o ro "{archive}" "{archive}" && exec "$@"'
    return (unshare, "--mount", "--propagation", "private", "sh", "-c", script, "sh")


def test_a_read_only_archive_gives_its_package_unlogged(tmp_path: Path, site: Site) -> None:
    path, url = captured(tmp_path, site)
    entries = rows(path, "SELECT count(*) AS n FROM chain")
    out = tmp_path / "evidence.wacz"
    try:
        ran = subprocess.run(
            [*read_only_prefix(path), sys.executable, "-c", READ_ONLY_EXPORT, str(path), url,
             str(out)],
            capture_output=True,
            text=True,
            timeout=120,
        )  # fmt: skip
    finally:
        for folder in (path, path / "warcs"):
            folder.chmod(0o755)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {"read_only": True, "logged": False, "sha256": sha256(out)}
    assert rows(path, "SELECT * FROM exports") == []
    assert rows(path, "SELECT count(*) AS n FROM chain") == entries
    assert verify_package(out).ok
