"""Rendering the pages of a run that need it: which do (`browser.decide`), one browser for the
run, started on the first page that needs it, renders on threads of their own (at most
`render_pages` at once), and the rendered DOM handed to extraction like any page."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from preserve.browser.chromium import playwright_missing
from preserve.browser.decide import SHELL_BYTES, render_reason
from preserve.browser.limits import BrowserLimits, BrowserUnavailable
from preserve.browser.rendered import Rendered
from preserve.config import Config
from preserve.engine.captured import Job
from preserve.extract import pool as extractpool
from preserve.extract.decode import decode_content
from preserve.extract.extracted import Extracted
from preserve.net.fetcher import Fetched, Fetcher

# Told of a render done: the page's extraction (of its DOM, or the plain one when there is
# no DOM), and the render.
OnRendered = Callable[[Future[Extracted | None], Rendered], None]


class Rendering:
    """The browser side of a `Recorder` (see the module docstring)."""

    def __init__(self, config: Config, fetcher: Fetcher) -> None:
        self.config = config
        self.fetcher = fetcher
        self.pool = ThreadPoolExecutor(config.render_pages, thread_name_prefix="preserve-render")
        self._lock = threading.Lock()
        self._browser: Any = None  # browser.session.Browser, once started
        self._unavailable: str | None = None
        self._stopped = False

    def reason(self, job: Job, fetched: Fetched, extracted: Extracted | None) -> str | None:
        """Why this page is to be rendered, or None (see `browser.decide`)."""
        final = fetched.final
        if final is None or extracted is None or job.role in ("probe", "requisite"):
            return None  # a soft-404 probe is compared as served; a requisite is no page
        mode = job.browser or self.config.browser
        if mode == "never":
            return None
        words = extracted.text_words
        head = decode_content(
            final.body.read(SHELL_BYTES), final.header("Content-Encoding"), SHELL_BYTES
        )
        return render_reason(mode, kind=extracted.kind, status=final.status, words=words, html=head)

    def submit(
        self,
        fetched: Fetched,
        plain: Extracted | None,
        options: dict[str, Any],
        done: OnRendered,
    ) -> None:
        """Render the page on a render thread, then have its DOM extracted with `options`
        (those of its plain extraction); `done` hears of both."""
        self.pool.submit(self._render, fetched, plain, options, done)

    def _render(
        self, fetched: Fetched, plain: Extracted | None, options: dict[str, Any], done: OnRendered
    ) -> None:
        final = fetched.final
        assert final is not None
        browser, error = self._started()
        if browser is None:
            rendered = Rendered(final.url, final.url, "", "", None, None, (), (), None, error=error)
        else:
            rendered = browser.render(fetched.url, fetched.exchanges)
        if not rendered.dom:
            kept: Future[Extracted | None] = Future()
            kept.set_result(plain)
            done(kept, rendered)
            return
        base = rendered.final_url if rendered.final_url.startswith("http") else final.url
        dom_options = {
            **options,
            "url": base,
            "content_type": "text/html; charset=utf-8",
            "content_encoding": None,
        }
        extraction = extractpool.submit(rendered.dom.encode("utf-8"), **dom_options)
        extraction.add_done_callback(lambda future: done(future, rendered))

    def _started(self) -> tuple[Any, str | None]:
        """The run's browser, started on first use; or why there is none."""
        with self._lock:
            if self._stopped:
                return None, "interrupted"
            if self._browser is None and self._unavailable is None:
                limits = BrowserLimits(
                    pages=self.config.render_pages,
                    deadline=self.config.render_deadline,
                    memory=self.config.render_memory * 1024 * 1024,
                )
                try:
                    from preserve.browser.session import Browser  # Playwright, when needed

                    self._browser = Browser(self.fetcher, limits)
                except BrowserUnavailable as exc:
                    self._unavailable = str(exc)
                except ImportError as exc:  # Playwright is not installed
                    self._unavailable = playwright_missing() or f"cannot render: {exc}"
            return self._browser, self._unavailable

    def interrupt(self) -> None:
        """End the renders under way now (each keeps what it loaded); start no more."""
        with self._lock:
            self._stopped = True
            browser = self._browser
        if browser is not None:
            browser.interrupt()

    def close(self) -> None:
        self.interrupt()
        self.pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            browser, self._browser = self._browser, None
        if browser is not None:
            browser.close()
