"""Rendering under the guard and the limits: a script cannot reach what a link cannot (the
guard ON: nothing connects outside 127.0.0.0/8), file: URLs and WebSockets are refused and
recorded, and a page that never goes quiet, reloads itself forever, opens pop-ups or
allocates without end is cut off and recorded with what it loaded."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import urllib3.util.connection

from tests.support.cli import Preserve
from tests.support.rendering import (
    api_paragraphs,
    latest,
    needs_chromium,
    outcomes,
    render_of,
    resource,
    scripted_page,
)
from tests.support.sites import Page, Site
from tests.support.warc_checks import assert_archive_sound, rows

pytestmark = needs_chromium

FAST = ("--allow-private", "--timeout", "2")


def settings(archive: Path, **values: object) -> None:
    archive.mkdir(parents=True, exist_ok=True)
    lines = [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    (archive / "preserve.toml").write_text("\n".join(lines) + "\n")


# --- the guard and file: --------------------------------------------------------------------

HOSTILE = """
<img src="http://10.0.0.1/pixel.png">
<img src="http://169.254.169.254/latest/meta-data/">
<iframe src="file:///etc/passwd"></iframe>
<img src="file:///etc/passwd">
<script>
fetch('http://10.0.0.1/api').catch(() => {});
fetch('file:///etc/passwd').then(r => r.text()).then(t => {
  document.body.append('LEAK' + 'ED ' + t);
}).catch(() => {});
fetch('/same-host.json').catch(() => {});
try { new WebSocket('ws://127.0.0.1:9/socket'); } catch (e) {}
</script>"""


def test_the_guard_holds_for_every_request_a_script_makes(
    site: Site, archive: Path, preserve: Preserve, monkeypatch: pytest.MonkeyPatch
) -> None:
    connected: list[str] = []
    real: Callable[..., Any] = urllib3.util.connection.create_connection

    def spy(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        connected.append(address[0])
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", spy)
    site.pages["/same-host.json"] = Page(json.dumps(api_paragraphs()))
    site.pages["/guarded"] = Page(scripted_page("/same-host.json", extra=HOSTILE))

    # The guard is ON: only the URL typed may be on a private address (127.0.0.1 here).
    result = preserve.run(archive, "capture", "--json", "--timeout", "2", site.url("/guarded"))

    assert result.exit_code == 0, result.output
    assert connected and all(ipaddress.ip_address(a) in ipaddress.ip_network("127.0.0.0/8")
                             for a in connected), connected  # fmt: skip
    assert [path for path, _ in site.requests] == ["/guarded"]
    render = render_of(archive, site.url("/guarded"))
    seen = outcomes(render)
    failed = {s["url"]: s["detail"] for s in seen["failed"]}
    for url in (
        "http://10.0.0.1/pixel.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/api",
        site.url("/same-host.json"),
    ):
        assert "blocked-private-address" in failed[url], (url, failed)
    assert {s["url"] for s in seen["refused"]} >= {"file:///etc/passwd"}
    assert {s["kind"] for s in seen["refused"] if s["url"] == "file:///etc/passwd"}
    assert [s["url"] for s in seen["websocket-refused"]] == ["ws://127.0.0.1:9/socket"]
    row = latest(archive, site.url("/guarded"))
    _, dom = resource(archive, row["id"], "urn:dom:")
    assert b"LEAKED" not in dom and b"root:x:0:0" not in dom
    fetched = rows(
        archive, "SELECT url FROM records WHERE capture_id = ? AND type = 'response'", (row["id"],)
    )
    assert [r["url"] for r in fetched] == [site.url("/guarded")]
    assert_archive_sound(archive)


# --- pages that never end --------------------------------------------------------------------

NEVER_QUIET = """<script>
let n = 0;
setInterval(() => { fetch('/tick').catch(() => {}); n += 1; }, 30);
</script>"""


def test_a_page_that_never_goes_quiet_is_cut_at_its_deadline_with_what_it_loaded(
    site: Site, archive: Path, preserve: Preserve
) -> None:
    settings(archive, render_deadline=4)
    site.pages["/api.json"] = Page(json.dumps(api_paragraphs()))
    site.pages["/tick"] = Page("{}", content_type="application/json")
    site.pages["/busy"] = Page(scripted_page(extra=NEVER_QUIET))

    result = preserve.run(archive, "capture", "--json", *FAST, site.url("/busy"))

    assert result.exit_code == 0, result.output
    article = json.loads(result.stdout)["article"]
    assert (article["rendered"], article["title"]) == ("deadline", "Accord signed in the capital")
    assert article["text_words"] > 60
    row = latest(archive, site.url("/busy"))
    assert row["dom_sha256"] and row["screenshot_sha256"]
    ticks = rows(
        archive,
        "SELECT * FROM records WHERE capture_id = ? AND url = ? AND type = 'response'",
        (row["id"], site.url("/tick")),
    )
    assert len(ticks) >= 10
    assert render_of(archive, site.url("/busy"))["cut_off"] == "deadline"
    assert_archive_sound(archive)


RELOADS = """<script>setTimeout(() => location.reload(), 20);
window.open('/elsewhere');</script>"""


def test_a_page_that_reloads_itself_forever_is_cut_after_six_loads(
    site: Site, archive: Path, preserve: Preserve
) -> None:
    site.pages["/api.json"] = Page(json.dumps(api_paragraphs()))
    site.pages["/loop"] = Page(scripted_page(extra=RELOADS))

    result = preserve.run(archive, "capture", "--json", *FAST, site.url("/loop"))

    assert result.exit_code == 0, result.output
    article = json.loads(result.stdout)["article"]
    assert article["rendered"] == "navigation-loop"
    render = render_of(archive, site.url("/loop"))
    documents = [s for s in render["requests"] if s["url"] == site.url("/loop")]
    assert [s["outcome"] for s in documents] == ["served"] * 6 + ["refused"]
    assert site.hits["/loop"] == 1  # the document itself was served from the capture's fetch
    assert any(s["outcome"] == "popup-closed" for s in render["requests"])
    assert site.hits["/elsewhere"] == 0
    row = latest(archive, site.url("/loop"))
    _, dom = resource(archive, row["id"], "urn:dom:")
    assert b"Accord signed in the capital" in dom  # the last load, not an error page


ALLOCATES = """<script>
const kept = [];
setInterval(() => { kept.push(new Uint8Array(16 << 20).fill(7)); }, 10);
</script>"""


def test_a_page_that_allocates_without_end_is_killed_and_the_run_goes_on(
    site: Site, archive: Path, preserve: Preserve
) -> None:
    settings(archive, render_memory=300, render_deadline=8, render_pages=1)
    site.pages["/api.json"] = Page(json.dumps(api_paragraphs()))
    site.pages["/tick"] = Page("{}", content_type="application/json")
    site.pages["/hog"] = Page(scripted_page(extra=ALLOCATES + NEVER_QUIET))
    site.pages["/calm"] = Page(scripted_page())

    result = preserve.run(archive, "capture", "--json", *FAST, site.url("/hog"), site.url("/calm"))

    assert result.exit_code == 0, result.output
    hog, calm = (latest(archive, site.url(p)) for p in ("/hog", "/calm"))
    assert hog["rendered"] == "memory", render_of(archive, site.url("/hog"))["cut_off"]
    assert hog["dom_sha256"] is None and hog["status"] == "captured"
    assert calm["rendered"] == "complete" and calm["text_words"] > 60
    assert_archive_sound(archive)
