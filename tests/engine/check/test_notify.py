"""check --notify: the news of a run sent through Apprise, here to a JSON webhook on
127.0.0.1 (`json://`); URLs Apprise does not know refused before anything is fetched; a
service that fails is one warning line that never shows its password; `notify = [...]` in
the archive's settings, and the warning when others may read them."""

from __future__ import annotations

import os

import pytest

from preserve.config import SETTINGS_FILE
from tests.support.checking import Lab, short_article
from tests.support.cli import Preserve, assert_one_error_line
from tests.support.sites import Page, Site, free_port

CHECK = ("check", "--allow-private", "--quiet")


def edited_story(lab: Lab, site: Site) -> str:
    """A story captured, then retitled: the next check finds it edited. Its URL."""
    site.pages["/story"] = Page(short_article("Harbour budget approved", seed="story"))
    url = site.url("/story")
    lab.capture(url)
    site.pages["/story"] = Page(short_article("Harbour budget withdrawn", seed="story"))
    return url


def hook(site: Site, status: int = 200, credentials: str = "") -> str:
    """The Apprise URL of a JSON webhook at the site's /hook, which answers `status`."""
    site.pages["/hook"] = Page("", status=status, content_type="application/json")
    return f"json://{credentials}127.0.0.1:{site.port}/hook"


def checks_of(lab: Lab, url: str) -> list[str]:
    return [r["outcome"] for r in lab.rows("SELECT outcome FROM checks WHERE url = ?", [url])]


def test_the_news_of_a_check_reaches_the_webhook(lab: Lab, site: Site, preserve: Preserve) -> None:
    url = edited_story(lab, site)

    ran = preserve.run(lab.path, *CHECK, "--notify", hook(site, credentials="desk:secret@"))
    quiet = preserve.run(lab.path, *CHECK, "--notify", hook(site))  # no news: nothing sent

    assert (ran.exit_code, ran.stdout, ran.stderr) == (0, "", "")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    (posted,) = site.posted
    assert posted.path == "/hook" and posted.headers["Authorization"].startswith("Basic ")
    message = posted.json()
    run = lab.rows("SELECT run_id FROM checks WHERE url = ?", [url])[0]["run_id"]
    assert message["title"] == f"preserve: 1 change(s) found by run {run}"
    first, *rest = message["message"].splitlines()
    assert first.startswith(f"edited: {url} (title-only")
    assert rest[-1] == f"Archive: {lab.path.resolve()}"


@pytest.mark.parametrize("given", ["nonsense://desk:secret@example.org/x", "json://"])
def test_an_unknown_notification_url_is_refused_before_anything_is_fetched(
    lab: Lab, site: Site, preserve: Preserve, given: str
) -> None:
    url = edited_story(lab, site)
    hits = site.hits["/story"]

    result = preserve.run(lab.path, *CHECK, "--notify", given)

    assert_one_error_line(result)
    assert "not a notification URL" in result.stderr and "secret" not in result.stderr
    assert site.hits["/story"] == hits and checks_of(lab, url) == []
    assert lab.rows("SELECT * FROM runs WHERE command = 'check'") == []


@pytest.mark.parametrize("service", ["answers 500", "is not listening"])
def test_a_failing_service_is_one_warning_line_without_its_password(
    lab: Lab, site: Site, preserve: Preserve, service: str
) -> None:
    url = edited_story(lab, site)
    given = hook(site, 500, "desk:secret@")
    if service == "is not listening":
        given = f"json://desk:secret@127.0.0.1:{free_port()}/hook"

    result = preserve.run(lab.path, *CHECK, "--notify", given)

    assert result.exit_code == 0 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("Warning: a --notify service did not take the news of run ")
    assert "secret" not in result.stderr and "desk" not in result.stderr
    assert checks_of(lab, url) == ["edited"]  # the check is stored either way


def test_notify_in_the_settings_and_who_may_read_them(
    lab: Lab, site: Site, preserve: Preserve
) -> None:
    url = edited_story(lab, site)
    settings = lab.path / SETTINGS_FILE
    settings.write_text(f'notify = ["{hook(site, credentials="desk:secret@")}"]\n')
    settings.chmod(0o644)

    readable = preserve.run(lab.path, *CHECK)
    settings.chmod(0o600)
    site.pages["/story"] = Page(short_article("Harbour budget restored", seed="story"))
    private = preserve.run(lab.path, *CHECK)

    assert readable.exit_code == 0 and private.exit_code == 0
    (warning,) = readable.stderr.splitlines()
    assert warning == (
        f"Warning: {settings} holds notification URLs (their tokens are secrets) and others "
        f"may read it: chmod 600 {settings}"
    )
    assert private.stderr == ""
    assert [p.json()["message"].split(" ")[:2] for p in site.posted] == [
        ["edited:", url],
        ["edited:", url],
    ]
    assert os.stat(settings).st_mode & 0o777 == 0o600
