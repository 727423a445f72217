"""One page in the browser: its context (fresh, with no network but the backstop), loading it,
waiting for it to go quiet, scrolling so that lazy content loads, and the snapshot (the DOM,
the full-page screenshot and its thumbnail). Every wait is bounded."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from playwright.async_api import Browser as PlaywrightBrowser
from playwright.async_api import BrowserContext, Page, WebSocketRoute

from preserve.browser.answer import TOKEN_HEADER
from preserve.browser.backstop import start_backstop
from preserve.browser.pagefetch import PageFetches
from preserve.browser.rendered import Seen

VIEWPORT = (1280, 800)  # CSS pixels, at a device scale of 1
QUIET_MS = 400  # "network quiet": nothing in flight for this long
QUIET_CAP = 5.0  # seconds the first wait for quiet may take, however busy the page
SCROLL_GRACE = 0.1  # seconds after a scroll for lazy loaders to ask for what they show
MAX_SCROLLS = 20  # viewports scrolled at most: a page that grows as it is scrolled ends
MAX_NAVIGATIONS = 6  # documents the page's main frame may load (reload loops)
MAX_SCREENSHOT_HEIGHT = 16384  # CSS pixels of the full-page screenshot, at most
THUMBNAIL_SCALE = 0.25  # the thumbnail: the page at a quarter, JPEG
THUMBNAIL_MAX_HEIGHT = 6400  # CSS pixels of the page it shows, at most
SNAPSHOT_SECONDS = 5.0  # for each of the DOM and the screenshots, at most

WAIT_RULE = (
    f"the load event; then {QUIET_MS} ms with no request in flight (at most {QUIET_CAP:g} s); "
    f"then scrolled a viewport at a time (at most {MAX_SCROLLS}) until the bottom, waiting "
    f"{SCROLL_GRACE:g} s after each and for quiet again when that started requests; then "
    "back to the top, window.stop(), the DOM and the screenshots; all within the deadline"
)


@dataclass
class PageState:
    """The state of one render, shared by the handlers of its requests and events."""

    token: str
    url: str
    fetches: PageFetches
    t0: float
    seen: list[Seen] = field(default_factory=list)
    inflight: int = 0
    last_activity: float = 0.0
    navigations: int = 0
    context_id: str | None = None
    main_frame: str | None = None
    cut_off: str | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)  # crashed, cut or stopped

    def note(self, seen: Seen) -> None:
        self.seen.append(seen)

    def cut(self, why: str) -> None:
        """End the render early: the first reason given is the one kept, except that a
        renderer killed for its memory is `memory` however it then showed."""
        if self.cut_off == "memory?":  # the watchdog killed a renderer of some page
            self.cut_off = "memory" if why == "crash" else why
        elif self.cut_off is None or why == "memory":
            self.cut_off = why
        self.ended.set()


@dataclass
class Slot:
    """A fresh context and its one page, ready for a render; the handlers find the render
    that took it in `holder`."""

    token: str
    context: BrowserContext
    page: Page
    backstop: asyncio.Server
    holder: dict[str, PageState]

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.context.close(), 5)
        self.backstop.close()


async def new_slot(browser: PlaywrightBrowser, user_agent: str) -> Slot:
    """A context with no network of its own (the backstop is its proxy, loopback included),
    no service workers, no downloads, no permissions, WebSockets refused and pop-ups
    closed, and one blank page."""
    holder: dict[str, PageState] = {}
    token = uuid.uuid4().hex

    def escaped(method: str, target: str) -> None:
        if (state := holder.get("state")) is not None:
            state.note(Seen(target, method, "other", "escaped", None, "reached the backstop"))

    backstop, proxy = await start_backstop(escaped)
    try:
        context = await browser.new_context(
            viewport={"width": VIEWPORT[0], "height": VIEWPORT[1]},
            device_scale_factor=1,
            user_agent=user_agent,
            service_workers="block",
            accept_downloads=False,
            permissions=[],
            extra_http_headers={TOKEN_HEADER: token},
            proxy={"server": proxy, "bypass": ""},
        )
        await context.route_web_socket("**/*", lambda ws: _refuse_websocket(holder, ws))
        page = await context.new_page()
    except BaseException:
        backstop.close()
        raise

    def crashed(_: object) -> None:
        if (state := holder.get("state")) is not None:
            state.cut("crash")

    page.on("popup", lambda popup: asyncio.ensure_future(_close_popup(holder, popup)))
    page.on("console", lambda message: _note_local(holder, message.text))
    page.on("crash", crashed)
    return Slot(token, context, page, backstop, holder)


async def settle(page: Page, state: PageState, deadline: float) -> int:
    """Load the page and wait, by WAIT_RULE, until `deadline` (monotonic) at most; how many
    times it was scrolled."""
    try:
        await page.goto(state.url, wait_until="load", timeout=_ms_left(deadline))
    except Exception as exc:  # a refused document, a cut navigation: what loaded is kept
        if "interrupted by another navigation" not in str(exc):
            state.note(Seen(state.url, "GET", "document", "failed", None, _short(exc)))
    await _quiet(state, min(deadline, time.monotonic() + QUIET_CAP))
    scrolls = 0
    while scrolls < MAX_SCROLLS and time.monotonic() < deadline:
        scrolls += 1
        before = len(state.seen)
        at_bottom = await page.evaluate(
            "() => { window.scrollBy(0, window.innerHeight);"
            " return window.scrollY + window.innerHeight >="
            " document.documentElement.scrollHeight - 2; }"
        )
        await asyncio.sleep(SCROLL_GRACE)  # lazy loaders fire on scroll and intersection
        if len(state.seen) != before or state.inflight:
            await _quiet(state, min(deadline, time.monotonic() + 1.0))
        if at_bottom:
            break
    await page.evaluate("window.scrollTo(0, 0)")
    await asyncio.sleep(SCROLL_GRACE)
    await _quiet(state, min(deadline, time.monotonic() + 1.0))
    return scrolls


async def _quiet(state: PageState, until: float) -> None:
    """Until nothing has been in flight for QUIET_MS, or `until` (monotonic)."""
    while time.monotonic() < until:
        if state.inflight == 0 and time.monotonic() - state.last_activity >= QUIET_MS / 1000:
            return
        await asyncio.sleep(0.05)


@dataclass(frozen=True)
class Snapshot:
    """What the page showed when it was taken."""

    dom: str
    title: str
    final_url: str
    screenshot: bytes | None
    thumbnail: bytes | None


async def snapshot(context: BrowserContext, page: Page, state: PageState) -> Snapshot:
    """The DOM, the title and the screenshots, each within SNAPSHOT_SECONDS; a part that
    cannot be taken is left out and the render noted as `hung`."""
    dom, title, shot, thumb = "", "", None, None
    try:
        # Timers and pending loads stop first: a page that never goes quiet keeps changing.
        await asyncio.wait_for(page.evaluate("window.stop()"), 1)
        dom = await asyncio.wait_for(page.content(), SNAPSHOT_SECONDS)
        title = await asyncio.wait_for(page.title(), 1)
        height = await asyncio.wait_for(
            page.evaluate("Math.max(document.documentElement.scrollHeight, 1)"), 1
        )
        session = await context.new_cdp_session(page)
        shot = await _capture(session, "png", min(int(height), MAX_SCREENSHOT_HEIGHT), 1.0)
        thumb = await _capture(
            session, "jpeg", min(int(height), THUMBNAIL_MAX_HEIGHT), THUMBNAIL_SCALE
        )
    except Exception as exc:
        state.note(Seen(state.url, "-", "snapshot", "failed", None, _short(exc)))
        state.cut_off = state.cut_off or "hung"
    return Snapshot(dom, title, page.url, shot, thumb)


async def _capture(session: Any, kind: str, height: int, scale: float) -> bytes:
    params: dict[str, Any] = {
        "format": kind,
        "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": VIEWPORT[0], "height": height, "scale": scale},
    }
    if kind == "jpeg":
        params["quality"] = 60
    answer = await asyncio.wait_for(
        session.send("Page.captureScreenshot", params), SNAPSHOT_SECONDS
    )
    return base64.b64decode(answer["data"])


def _ms_left(deadline: float) -> float:
    return max(1.0, (deadline - time.monotonic()) * 1000)


async def _refuse_websocket(holder: dict[str, PageState], ws: WebSocketRoute) -> None:
    if (state := holder.get("state")) is not None:
        state.note(Seen(ws.url, "GET", "websocket", "websocket-refused", None, "not archived"))
    with contextlib.suppress(Exception):
        await ws.close(code=1008, reason="refused by preserve")


async def _close_popup(holder: dict[str, PageState], popup: Page) -> None:
    if (state := holder.get("state")) is not None:
        state.note(Seen(popup.url, "-", "popup", "popup-closed", None, None))
    with contextlib.suppress(Exception):
        await popup.close()


_LOCAL = re.compile(
    r"(?:Not allowed to load local resource: |Fetch API cannot load )(\S+?)\.?(?:\s|$)"
)


def _note_local(holder: dict[str, PageState], text: str) -> None:
    """Chromium refuses file: URLs from a web page before any request exists, so nothing is
    intercepted: its console message is what there is to record."""
    match = _LOCAL.search(text)
    state = holder.get("state")
    if state is not None and match and not match.group(1).startswith(("http:", "https:")):
        state.note(Seen(match.group(1), "GET", "local", "refused", None, f"Chromium: {text[:200]}"))


def _short(exc: BaseException) -> str:
    return (" ".join(str(exc).split()) or type(exc).__name__)[:300]
