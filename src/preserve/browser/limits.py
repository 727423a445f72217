"""What renders may do (pages at once, each page's deadline and its renderer's memory), and
the error of a browser that cannot be had. Free of Playwright: a run that renders nothing
never imports it."""

from __future__ import annotations

from dataclasses import dataclass

from preserve.errors import PreserveError


class BrowserUnavailable(PreserveError):
    """Chromium or Playwright is missing, or the browser would not start."""


@dataclass(frozen=True)
class BrowserLimits:
    """How renders may behave: pages at once, each page's deadline and its renderer's
    memory."""

    pages: int = 2
    deadline: float = 15.0  # seconds for a page, from its context to its snapshot
    memory: int = 768 * 1024 * 1024  # bytes resident a renderer may hold
