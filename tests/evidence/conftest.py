"""The archive `verify` is run on (a fresh copy, for each test, of the archive captured and
checked once for the session: `pristine`, in tests/conftest.py), and `made`: an evidence
package exported from the sample web, once for the package."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from preserve.config import load_config
from preserve.demo.sample import SampleWeb
from preserve.engine.archive import Archive, Run
from preserve.engine.capture import capture_articles
from preserve.engine.check import check_targets
from preserve.times import utc_now
from tests.evidence.helpers import Made
from tests.support.cli import Preserve
from tests.support.tsa import OPENSSL, LocalTSA


@pytest.fixture
def archive(pristine: Path, tmp_path: Path) -> Path:
    """A fresh copy of a captured-and-checked archive, to damage."""
    return Path(shutil.copytree(pristine, tmp_path / "archive"))


@pytest.fixture(scope="package")
def made(tmp_path_factory: pytest.TempPathFactory, preserve: Preserve) -> Iterator[Made]:
    if OPENSSL is None:
        pytest.skip("openssl is not installed")
    root = tmp_path_factory.mktemp("evidence")
    archive_path = root / "archive"
    web = SampleWeb()
    try:
        config = load_config(archive_path, allow_private=True, timeout=5.0)
        archive = Archive(archive_path)
        try:
            run = Run(archive, "capture", config, utc_now, {"urls": [web.article_url]})
            capture_articles(run, [web.article_url], every_seconds=86400)
            run.finish()
            web.change()
            # The check runs "a day later", so its records get their own CDXJ timestamps.
            run = Run(archive, "check", config, lambda: utc_now() + timedelta(days=1),
                      {"urls": []})  # fmt: skip
            check_targets(run, archive.store.targets())
            run.finish()
        finally:
            archive.close()
        sources = {"intercept": web.wire.base + "/2016/10/intercept-report",
                   "interview": web.wire.base + "/interviews/field-commander",
                   "briefing": web.gov.base + "/statements/2016/10/haddad-briefing",
                   "moved_to": web.gov.base + "/statements/archive/2016/haddad-briefing",
                   "pdf": web.gov.base + "/docs/annex-2015.pdf"}  # fmt: skip
        article = web.article_url
    finally:
        web.close()
    tsa = LocalTSA(root / "tsa")
    key = root / "signing.pem"
    result = preserve.run(None, "keygen", "--out", str(key))
    assert result.exit_code == 0, result.output
    package = root / "evidence.wacz"
    result = preserve.run(
        str(archive_path),
        "export",
        article,
        "--wacz",
        str(package),
        "--sign",
        str(key),
        "--timestamp",
        tsa.url,
    )
    assert result.exit_code == 0, (result.output, result.exception)
    yield Made(
        root,
        archive_path,
        article,
        sources,
        key,
        root / "signing.pub.pem",
        tsa,
        package,
        result.output,
    )
    tsa.close()
