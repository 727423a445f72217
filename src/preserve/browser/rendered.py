"""What a render yields: every request the page made and how it was answered, the settings it
ran under, and the rendered DOM and screenshots."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from preserve.net.fetcher import Fetched

# How a request the page made was answered:
# - fetched: by preserve's fetcher (a response, whatever its status)
# - served: from the capture's own fetch of the page (the document itself, not fetched twice)
# - failed: the fetcher tried and got no answer (refused connection, timeout, the guard…)
# - refused: never sent (a scheme other than http(s), too many requests or navigations,
#   a file: URL Chromium refused itself)
# - escaped: reached the backstop proxy instead of interception, and got a 403
# - websocket-refused, popup-closed: what their names say
OUTCOMES = ("fetched", "served", "failed", "refused", "escaped", "websocket-refused",
            "popup-closed")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Seen:
    """One request the page made, and how it was answered."""

    url: str
    method: str
    kind: str  # Chromium's resource type, lowercase: document, script, xhr, fetch, image…
    outcome: str  # see OUTCOMES
    status: int | None = None
    detail: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "method": self.method,
            "kind": self.kind,
            "outcome": self.outcome,
            "status": self.status,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class RenderSettings:
    """How a page was rendered, as its capture's metadata record keeps it."""

    viewport: tuple[int, int]
    user_agent: str
    browser_version: str
    playwright_version: str
    wait_rule: str
    deadline_ms: int
    waited_ms: int  # from the start of the navigation to the snapshot
    scrolls: int

    def to_json(self) -> dict[str, Any]:
        return {
            "viewport": {"width": self.viewport[0], "height": self.viewport[1]},
            "user_agent": self.user_agent,
            "browser_version": self.browser_version,
            "playwright_version": self.playwright_version,
            "wait_rule": self.wait_rule,
            "deadline_ms": self.deadline_ms,
            "waited_ms": self.waited_ms,
            "scrolls": self.scrolls,
        }


@dataclass(frozen=True)
class Rendered:
    """A page as the browser rendered it. `fetched` holds the fetches made for it (their
    bodies open until the caller has recorded and closed them); `cut_off` says why the
    render was cut short (deadline, memory, crash, navigation-loop, hung, interrupted), and
    `error` why there is no render at all (the browser could not be started)."""

    url: str
    final_url: str
    title: str
    dom: str  # the rendered DOM, serialised; "" when none could be taken
    screenshot: bytes | None  # PNG, the full page at the viewport's width
    thumbnail: bytes | None  # JPEG, the same downscaled (for page lists and the report)
    requests: tuple[Seen, ...]
    fetched: tuple[Fetched, ...]
    settings: RenderSettings | None
    cut_off: str | None = None
    error: str | None = None

    @property
    def state(self) -> str:
        """How the render ended, as stored (`captures.rendered`): complete, the reason it
        was cut off (with or without a DOM: `captures.dom_sha256` says), or failed (no
        browser, or no DOM)."""
        if self.error is not None:
            return "failed"
        if self.cut_off is not None:
            return self.cut_off
        return "complete" if self.dom else "failed"

    def close(self) -> None:
        for fetched in self.fetched:
            fetched.close()

    def about(self) -> dict[str, Any]:
        """What the capture's metadata record says of the render."""
        return {
            "state": self.state,
            "cut_off": self.cut_off,
            "error": self.error,
            "final_url": self.final_url,
            "settings": self.settings.to_json() if self.settings else None,
            "requests": [seen.to_json() for seen in self.requests],
        }
