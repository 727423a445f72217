"""One Chromium for a run: launched on the first render, relaunched if it dies, killed with its
whole process group on close (and at exit). Every request of every target is paused by CDP's
Fetch domain on the browser session and answered through the page's `PageFetches`; a
renderer past its memory limit is killed. `render()` is blocking and thread-safe: Playwright
runs on an event loop thread of its own, fetches on a thread pool."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version
from typing import Any, TypeVar

from preserve import USER_AGENT
from preserve.browser import chromium
from preserve.browser.answer import (
    fulfilment,
    page_token,
    post_body,
    refusal,
    request_headers,
)
from preserve.browser.limits import BrowserLimits, BrowserUnavailable
from preserve.browser.page import (
    MAX_NAVIGATIONS,
    VIEWPORT,
    WAIT_RULE,
    PageState,
    Slot,
    new_slot,
    settle,
    snapshot,
)
from preserve.browser.pagefetch import PageFetches
from preserve.browser.rendered import Rendered, RenderSettings, Seen
from preserve.net.exchange import Exchange
from preserve.net.fetcher import Fetcher

T = TypeVar("T")
# V8's old-space heap per isolate, in MB: a page that grows JS objects without end dies of
# it (its renderer crashes) long before the renderer's memory limit.
JS_HEAP_MB = 512
WATCHDOG_SECONDS = 0.1  # how often renderers' memory is looked at
LAUNCH_SECONDS = 30.0


class Browser:
    """One Chromium for a run (see the module docstring). At most `limits.pages` pages
    render at once; the others wait their turn."""

    def __init__(self, fetcher: Fetcher, limits: BrowserLimits) -> None:
        missing = chromium.playwright_missing()
        executable = chromium.find_chromium()
        if missing is not None:
            raise BrowserUnavailable(missing)
        if executable is None:
            raise BrowserUnavailable("no Chromium on this machine (apt-get install chromium)")
        self.executable = executable
        self.fetcher = fetcher
        self.limits = limits
        self.pool = ThreadPoolExecutor(16, thread_name_prefix="preserve-render-fetch")
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="preserve-browser", daemon=True
        )
        self._thread.start()
        self._pages: dict[str, PageState] = {}  # by token
        self._contexts: dict[str, PageState] = {}  # by CDP browserContextId
        self._targets: dict[str, str] = {}  # CDP targetId -> browserContextId
        self._tabs: set[str] = set()  # the targetIds of pages (a page's own, and pop-ups)
        self._tasks: set[asyncio.Future[Any]] = set()
        self._pw: Any = None
        self._browser: Any = None
        self._cdp: Any = None
        self._slots: asyncio.Semaphore | None = None
        self.pid: int | None = None  # the browser process, leader of its process group
        self.user_agent = ""
        self.launches = 0
        self._closed = False
        self._interrupted = False

    # --- from any thread ----------------------------------------------------------------

    def render(self, url: str, served: Sequence[Exchange]) -> Rendered:
        """Render `url` in a fresh context: its document is answered from `served` (the
        capture's own fetch of it), everything else by the fetcher. Never raises for what
        the page does; a browser that cannot be started gives a render with its `error`."""
        fetches = PageFetches(self.fetcher, served)
        if self._closed or self._interrupted:
            return _failed(url, fetches, "interrupted")
        try:
            return self._call(self._render(url, fetches), self.limits.deadline + 45)
        except BrowserUnavailable as exc:
            return _failed(url, fetches, str(exc))
        except Exception as exc:  # a bug, or Playwright's: it costs this page, not the run
            return _failed(url, fetches, f"{type(exc).__name__}: {exc}"[:300])

    def interrupt(self) -> None:
        """End every render under way now (each keeps what it loaded), and refuse more."""
        self._interrupted = True
        if not self._closed:
            self.loop.call_soon_threadsafe(self._cut_all, "interrupted")

    def close(self) -> None:
        """Close the browser; whatever of it is left is killed, its whole process group."""
        if self._closed:
            return
        self._closed = True
        try:
            self._call(self._shutdown(), 15)
        except Exception:
            pass
        finally:
            chromium.kill_groups([self.pid])
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(5)
            self.pool.shutdown(wait=False, cancel_futures=True)

    def tree_pids(self) -> list[int]:
        return chromium.tree(self.pid)

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()
            raise

    # --- the loop thread ----------------------------------------------------------------

    async def _launch(self) -> None:
        from playwright.async_api import async_playwright

        try:
            if self._pw is None:
                self._pw = await async_playwright().start()
            browser = await self._pw.chromium.launch(
                executable_path=self.executable,
                args=[*chromium.ARGS, f"--js-flags=--max-old-space-size={JS_HEAP_MB}"],
                timeout=LAUNCH_SECONDS * 1000,
            )
            cdp = await browser.new_browser_cdp_session()
        except Exception as exc:
            raise BrowserUnavailable(f"Chromium would not start: {exc}"[:300]) from exc
        cdp.on("Fetch.requestPaused", lambda event: self._spawn(self._answer(event)))
        cdp.on("Target.targetCreated", self._on_target)
        cdp.on("Target.targetInfoChanged", self._on_target)
        await cdp.send("Target.setDiscoverTargets", {"discover": True})
        await cdp.send(
            "Fetch.enable", {"patterns": [{"urlPattern": "*", "requestStage": "Request"}]}
        )
        info = await cdp.send("SystemInfo.getProcessInfo")
        self.pid = next(p["id"] for p in info["processInfo"] if p["type"] == "browser")
        chromium.started(self.pid)
        agent = (await cdp.send("Browser.getVersion"))["userAgent"]
        # Chromium's own user agent, as a reader's browser sends it, and who is asking.
        self.user_agent = f"{agent.replace('HeadlessChrome', 'Chrome')} {USER_AGENT}"
        browser.on("disconnected", lambda _: self._cut_all("crash"))
        self._browser, self._cdp = browser, cdp
        self._slots = self._slots or asyncio.Semaphore(self.limits.pages)
        self.launches += 1
        self._spawn(self._watchdog(browser))

    async def _ensure_browser(self) -> Any:
        """The browser, launched (again, if it crashed or was killed)."""
        if self._browser is None or not self._browser.is_connected():
            chromium.kill_groups([self.pid])
            self._targets.clear()
            await self._launch()
        return self._browser

    async def _shutdown(self) -> None:
        self._cut_all("interrupted")
        for task in list(self._tasks):
            task.cancel()
        if self._browser is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._browser.close(), 10)
        if self._pw is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._pw.stop(), 10)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _cut_all(self, why: str) -> None:
        for state in list(self._pages.values()):
            state.cut(why)

    async def _render(self, url: str, fetches: PageFetches) -> Rendered:
        browser = await self._ensure_browser()
        assert self._slots is not None
        async with self._slots:
            t0 = time.monotonic()
            deadline = t0 + self.limits.deadline
            slot = await new_slot(browser, self.user_agent)
            state = PageState(slot.token, url, fetches, t0, last_activity=t0)
            try:
                return await self._render_in(slot, state, deadline)
            finally:
                fetches.close()
                await slot.close()
                self._pages.pop(state.token, None)
                if state.context_id:
                    self._contexts.pop(state.context_id, None)

    async def _render_in(self, slot: Slot, state: PageState, deadline: float) -> Rendered:
        self._pages[state.token] = state
        slot.holder["state"] = state
        if self._interrupted:
            state.cut("interrupted")
        started = time.monotonic()
        work = asyncio.ensure_future(settle(slot.page, state, deadline))
        ended = asyncio.ensure_future(state.ended.wait())
        done, _ = await asyncio.wait(
            {work, ended}, timeout=max(0.1, deadline - started), return_when=asyncio.FIRST_COMPLETED
        )
        scrolls = work.result() if work in done and work.exception() is None else 0
        if work not in done:
            work.cancel()
            state.cut("deadline")
            with contextlib.suppress(BaseException):
                await work
        ended.cancel()
        if state.cut_off == "memory?":  # another page's renderer was the one killed
            state.cut_off = None
        waited = time.monotonic() - started
        taken = None
        if state.cut_off not in ("crash", "memory"):
            taken = await snapshot(slot.context, slot.page, state)
        settings = RenderSettings(
            viewport=VIEWPORT,
            user_agent=self.user_agent,
            browser_version=self._browser.version if self._browser.is_connected() else "",
            playwright_version=version("playwright"),
            wait_rule=WAIT_RULE,
            deadline_ms=round(self.limits.deadline * 1000),
            waited_ms=round(waited * 1000),
            scrolls=scrolls,
        )
        return Rendered(
            url=state.url,
            final_url=taken.final_url if taken else state.url,
            title=taken.title if taken else "",
            dom=taken.dom if taken else "",
            screenshot=taken.screenshot if taken else None,
            thumbnail=taken.thumbnail if taken else None,
            requests=tuple(state.seen),
            fetched=state.fetches.close(),
            settings=settings,
            cut_off=state.cut_off,
        )

    # --- interception -------------------------------------------------------------------

    def _on_target(self, event: dict[str, Any]) -> None:
        info = event["targetInfo"]
        if info.get("browserContextId"):
            self._targets[info["targetId"]] = info["browserContextId"]
        if info.get("type") == "page":
            self._tabs.add(info["targetId"])

    def _owner(self, event: dict[str, Any]) -> PageState | None:
        token = page_token(event["request"].get("headers", {}))
        if token is not None:
            return self._pages.get(token)
        # Shared and service workers send no extra headers: their frame is their target.
        context_id = self._targets.get(event.get("frameId", ""))
        return self._contexts.get(context_id) if context_id else None

    async def _answer(self, event: dict[str, Any]) -> None:
        """Answer one paused request: refused, failed, or fulfilled with a fetched answer."""
        rid, request = event["requestId"], event["request"]
        url, method = request["url"], request["method"]
        kind = str(event.get("resourceType", "Other")).lower()
        state = self._owner(event)
        if state is None or state.ended.is_set():
            await self._fail(rid, "BlockedByClient")
            if state is not None:
                state.note(Seen(url, method, kind, "refused", None, "the render was over"))
            return
        frame = event.get("frameId", "")
        if state.main_frame is None and kind == "document":
            # The page's first document: its frame is the page's target, which tells its
            # context (for the requests of shared workers).
            state.main_frame = frame
            state.context_id = self._targets.get(frame)
            if state.context_id:
                self._contexts[state.context_id] = state
        if (
            kind == "document"
            and frame == state.main_frame
            and not event.get("redirectedRequestId")
        ):
            state.navigations += 1
            if state.navigations > MAX_NAVIGATIONS:
                detail = f"more than {MAX_NAVIGATIONS} documents loaded in the page"
                state.note(Seen(url, method, kind, "refused", None, detail))
                state.cut("navigation-loop")
                # A 204 leaves the page on the document it has, where a failed navigation
                # would put Chromium's error page in its place.
                with contextlib.suppress(Exception):
                    await self._cdp.send(
                        "Fetch.fulfillRequest",
                        {"requestId": rid, "responseCode": 204, "responseHeaders": []},
                    )
                return
        if kind == "document" and frame != state.main_frame and frame in self._tabs:
            # A pop-up's document (a page's main frame is its target): never loaded.
            state.note(Seen(url, method, kind, "refused", None, "a pop-up"))
            await self._fail(rid, "BlockedByClient")
            return
        if (why := refusal(url)) is not None:
            state.note(Seen(url, method, kind, "refused", None, why))
            await self._fail(rid, "BlockedByClient")
            return
        headers = request_headers(request.get("headers", {}))
        state.inflight += 1
        state.last_activity = time.monotonic()
        try:
            answer = await self.loop.run_in_executor(
                self.pool, state.fetches.answer, method, url, headers, post_body(request)
            )
        finally:
            state.inflight -= 1
            state.last_activity = time.monotonic()
        exchange = answer.exchange
        state.note(
            Seen(url, method, kind, answer.outcome, exchange.status if exchange else None,
                 answer.detail)
        )  # fmt: skip
        if exchange is None:
            await self._fail(rid, "BlockedByClient" if answer.outcome == "refused" else "Failed")
            return
        try:
            params = await self.loop.run_in_executor(self.pool, fulfilment, exchange)
            await self._cdp.send("Fetch.fulfillRequest", {"requestId": rid, **params})
        except Exception:  # the page, or the body, went away meanwhile
            await self._fail(rid, "Aborted")

    async def _fail(self, request_id: str, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self._cdp.send(
                "Fetch.failRequest", {"requestId": request_id, "errorReason": reason}
            )

    # --- memory -------------------------------------------------------------------------

    async def _watchdog(self, browser: Any) -> None:
        """Kill any renderer past the memory limit: its page crashes and is cut off as
        `memory`. V8's heap limit catches JS objects sooner; this catches the rest
        (ArrayBuffers, DOM, canvas)."""
        while browser.is_connected():
            for pid in chromium.tree(self.pid):
                if chromium.is_renderer(pid) and chromium.rss(pid) > self.limits.memory:
                    # Which page the renderer served is not known here; every page in
                    # progress that then crashes was cut for its memory.
                    for state in list(self._pages.values()):
                        state.cut_off = state.cut_off or "memory?"
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
            await asyncio.sleep(WATCHDOG_SECONDS)


def _failed(url: str, fetches: PageFetches, error: str) -> Rendered:
    return Rendered(
        url=url,
        final_url=url,
        title="",
        dom="",
        screenshot=None,
        thumbnail=None,
        requests=(),
        fetched=fetches.close(),
        settings=None,
        cut_off=None,
        error=error,
    )
