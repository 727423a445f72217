"""preserve: capture an article and every source it cites into WARC, and watch them change.

The library under the `preserve` command, for scripts::

    import preserve

    with preserve.open_archive("archive") as archive:
        for article in preserve.capture(archive, ["https://example.org/2016/10/story"]):
            print(article.article.status, len(article.citations), "sources")
        for result in preserve.check(archive, due=True):
            print(result.outcome.outcome, result.url)
        print(preserve.verify(archive).ok)
        preserve.export(archive, ["https://example.org/2016/10/story"], "evidence.wacz")

Settings come from the archive's `preserve.toml`, overridden by keyword arguments with the
names the file uses (`timeout=20`, `allow_private=True`, `every=timedelta(hours=6)`…).
Everything else is in the packages: `engine` (the archive and its verbs), `net`, `warc`,
`extract`, `store`, `changes`, `report` and `evidence` (docs/architecture.md).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from preserve.config import Config
    from preserve.engine.archive import Archive
    from preserve.engine.captured import ArticleCapture
    from preserve.engine.results import CheckResult
    from preserve.evidence.export import Exported
    from preserve.evidence.verify import Verification

__all__ = [
    "USER_AGENT",
    "__version__",
    "capture",
    "check",
    "export",
    "open_archive",
    "settings",
    "verify",
]

# Each function imports what it needs when called: `import preserve` stays cheap, and the
# command line (which imports this package first) starts in a fifth of a second.


def _installed_version() -> str:
    """The installed version. Read from the name of the package's `.dist-info` folder when
    there is exactly one on the path: importing importlib.metadata took a tenth of a second
    of every command's start-up."""
    for entry in sys.path:
        try:
            names = [
                n
                for n in os.listdir(entry or ".")
                if n.startswith("preserve-") and n.endswith(".dist-info")
            ]
        except OSError:
            continue
        if len(names) == 1:
            return names[0][len("preserve-") : -len(".dist-info")]
        if names:
            break
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("preserve")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0.0.0"


__version__ = _installed_version()
PROJECT_URL = "https://github.com/preserve-archive/preserve"
USER_AGENT = f"preserve/{__version__} (+{PROJECT_URL})"


def open_archive(
    path: str | os.PathLike[str] = "archive", *, create: bool = True, writes: bool = True
) -> Archive:
    """The archive in folder `path`, made if missing (unless `create=False`). `writes=False`
    opens an archive on read-only media for reading. Close it, or use it in a `with`."""
    from pathlib import Path

    from preserve.engine.archive import Archive

    return Archive(Path(path), create=create, writes=writes)


def settings(archive: Archive, **overrides: Any) -> Config:
    """The archive's settings (`preserve.toml`), with these overrides (None: not given)."""
    from preserve.config import load_config

    return load_config(archive.path, **overrides)


def capture(
    archive: Archive, urls: Sequence[str], *, config: Config | None = None, **overrides: Any
) -> list[ArticleCapture]:
    """Capture these articles, everything they cite and the files they need, and track the
    articles and their sources for checks; what was captured for each article."""
    from preserve.engine.capture import capture as capture_articles

    chosen = config if config is not None else settings(archive, **overrides)
    return list(capture_articles(archive, urls, config=chosen))


def check(
    archive: Archive,
    urls: Sequence[str] = (),
    *,
    due: bool = False,
    config: Config | None = None,
    **overrides: Any,
) -> Iterator[CheckResult]:
    """Recapture tracked URLs (these, or those due, or all of them) and classify each
    against its baseline, yielding each result once it is stored. Iterate it to the end
    before closing the archive."""
    from preserve.engine.check import check as check_urls

    chosen = config if config is not None else settings(archive, **overrides)
    for chunk in check_urls(archive, urls, config=chosen, due=due):
        yield from chunk


def verify(archive: Archive, *, since: str | None = None) -> Verification:
    """The integrity of the whole archive: its problems (none when `.ok`)."""
    from preserve.evidence.verify import verify as verify_archive

    return verify_archive(archive, since=since)


def export(
    archive: Archive,
    articles: Sequence[str],
    path: str | os.PathLike[str],
    *,
    key_path: str | os.PathLike[str] | None = None,
    tsa_urls: Sequence[str] = (),
    title: str | None = None,
) -> Exported:
    """Write the evidence package (WACZ) of these articles and everything they cite to
    `path`, signed with the key at `key_path` (from `preserve keygen`) and time-stamped by
    the `tsa_urls` when given, and log it in the archive's chain of custody."""
    from pathlib import Path

    from preserve.evidence.export import export as export_package
    from preserve.evidence.keys import load_private_key
    from preserve.times import utc_now

    key = load_private_key(Path(key_path)) if key_path is not None else None
    return export_package(
        archive, articles, Path(path), now=utc_now(), key=key, tsa_urls=tsa_urls, title=title
    )
