"""check of rendered pages, end to end in real Chromium: what is compared is what was rendered
(the DOM's main text and citations), the same served bytes are no proof that nothing changed,
and a page rendered again the same way is unchanged whatever its screenshot's pixels."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import Preserve
from tests.support.rendering import api_paragraphs, latest, needs_chromium, scripted_page
from tests.support.sites import Page, Site
from tests.support.warc_checks import assert_archive_sound

pytestmark = needs_chromium

FAST = ("--allow-private", "--timeout", "2")
# A page that draws something new on every load (a canvas of random noise): its screenshot's
# pixels differ each time, its text does not.
NOISE = """<canvas id="noise" width="200" height="60"></canvas><script>
const c = document.getElementById('noise').getContext('2d');
for (let i = 0; i < 400; i++) {
  c.fillStyle = '#' + Math.floor(Math.random() * 0xffffff).toString(16).padStart(6, '0');
  c.fillRect(Math.random() * 200, Math.random() * 60, 4, 4);
}
</script>"""


def checked(preserve: Preserve, archive: Path, url: str) -> dict[str, object]:
    result = preserve.run(archive, "check", "--json", "--timeout", "2", url)
    assert result.exit_code == 0, result.output
    (only,) = json.loads(result.stdout)["results"]
    assert isinstance(only, dict)
    return only


def test_the_json_changed_between_captures_is_an_edit_with_its_word_diff(
    site: Site, archive: Path, preserve: Preserve
) -> None:
    site.pages["/api.json"] = Page(json.dumps(api_paragraphs()))
    site.pages["/story"] = Page(scripted_page(extra=NOISE))
    url = site.url("/story")
    captured = preserve.run(archive, "capture", "--json", *FAST, url)
    assert captured.exit_code == 0, captured.output
    first = latest(archive, url)
    assert first["rendered"] == "complete"

    again = checked(preserve, archive, url)
    assert (again["outcome"], again["text_equal"]) == ("unchanged", None) or again["outcome"] in (
        "unchanged",
        "cosmetic",
    )
    second = latest(archive, url)
    assert second["rendered"] == "complete"
    assert second["screenshot_sha256"] != first["screenshot_sha256"]  # other pixels
    assert second["payload_sha256"] == first["payload_sha256"]  # the same script shell

    site.pages["/api.json"] = Page(json.dumps(api_paragraphs(claim="refused to sign")))
    edited = checked(preserve, archive, url)

    assert (edited["outcome"], edited["reason"]) == ("edited", "text")
    edit = edited["edit"]
    assert isinstance(edit, dict)
    assert edit["words_added"] >= 3 and edit["words_removed"] >= 1
    assert "signed" in str(edit["first_changed_old"])
    assert "refused to sign" in str(edit["first_changed_new"])
    diff = preserve.run(archive, "diff", url)
    assert diff.exit_code == 0, diff.output
    assert "refused to sign" in diff.stdout
    assert latest(archive, url)["payload_sha256"] == first["payload_sha256"]
    assert_archive_sound(archive)


def test_checks_render_a_url_as_its_capture_asked(
    site: Site, archive: Path, preserve: Preserve
) -> None:
    site.pages["/api.json"] = Page(json.dumps(api_paragraphs()))
    site.pages["/story"] = Page(scripted_page())
    url = site.url("/story")
    assert preserve.run(archive, "capture", *FAST, "--browser", "never", url).exit_code == 0

    checked(preserve, archive, url)
    assert latest(archive, url)["rendered"] is None

    tracked = preserve.run(archive, "track", url, "--browser", "auto")
    assert tracked.exit_code == 0, tracked.output
    assert "now rendered in a browser: auto" in tracked.stdout
    result = checked(preserve, archive, url)
    assert latest(archive, url)["rendered"] == "complete"
    # Its baseline is the unrendered shell ("Loading..."): the rendered article differs.
    assert result["outcome"] != "unchanged"
