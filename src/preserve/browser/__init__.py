"""Rendering pages in Chromium with no network of its own: every request the page makes is
answered by preserve's fetcher, under its guard and limits (docs/browser.md)."""
