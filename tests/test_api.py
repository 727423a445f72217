"""The Python API of `import preserve`: what a newsroom's script calls instead of shelling out,
run against a real server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import preserve
from preserve.evidence.packagecheck import report_text, verify_package
from tests.support.sites import Page, Site, article_html

STORY = [
    'The council said on Tuesday that <a href="/statement">its statement</a> stands.',
    "Officials did not comment on the recordings before the vote.",
]


def test_the_public_names_are_pinned() -> None:
    assert sorted(preserve.__all__) == [
        "USER_AGENT",
        "__version__",
        "capture",
        "check",
        "export",
        "open_archive",
        "settings",
        "verify",
    ]
    for name in preserve.__all__:
        assert getattr(preserve, name), name


def test_capture_check_and_verify_from_a_script(site: Site, tmp_path: Path) -> None:
    site.pages["/story"] = Page(article_html("Story", STORY))
    site.pages["/statement"] = Page(article_html("Statement", ["The statement, in full."]))

    with preserve.open_archive(tmp_path / "archive") as archive:
        captured = preserve.capture(archive, [site.url("/story")], allow_private=True)
        site.pages["/statement"] = Page(article_html("Statement", ["The statement, withdrawn."]))
        results = {r.url: r.outcome.outcome for r in preserve.check(archive, allow_private=True)}
        verification = preserve.verify(archive)
        exported = preserve.export(archive, [site.url("/story")], tmp_path / "story.wacz")

    assert [c.article.status for c in captured if c.article] == ["captured"]
    assert [c.job.url for c in captured[0].citations] == [site.url("/statement")]
    assert results == {site.url("/story"): "unchanged", site.url("/statement"): "edited"}
    assert verification.ok, verification.problems
    assert exported.logged is not None and exported.logged.table_name == "exports"
    assert exported.package.path == tmp_path / "story.wacz"
    assert exported.package.pages == 2  # the article and the statement it cites
    package = verify_package(exported.package.path)
    assert package.ok, report_text(package)


def test_settings_are_the_archives_with_overrides(tmp_path: Path) -> None:
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "preserve.toml").write_text('timeout = 20\nevery = "6h"\n')
    with preserve.open_archive(folder) as archive:
        chosen = preserve.settings(archive, per_host=1)
    assert (chosen.fetch.timeout, chosen.per_host, chosen.every.total_seconds()) == (20, 1, 21600)
