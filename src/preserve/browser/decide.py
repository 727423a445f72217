"""Whether a page is rendered: by the mode asked for (`auto`, `always`, `never`) and, under
`auto`, by what its plain fetch gave: no main text to speak of, or a known script shell."""

from __future__ import annotations

import re

from preserve.coverage import THIN_WORDS

MODES = ("auto", "always", "never")
DEFAULT_MODE = "auto"

# Markers of a page whose text is built in the browser: an empty mount point of the common
# frameworks, their boot data, or a <noscript> asking for JavaScript. Searched in the first
# SHELL_BYTES of the decoded HTML.
SHELL_BYTES = 256 * 1024
_SHELL = re.compile(
    rb"<div[^>]+id=[\"'](?:root|app|__next|__nuxt|___gatsby|svelte)[\"'][^>]*>\s*</div>"
    rb"|<noscript[^>]*>[^<]{0,200}(?:enable|turn on|requires?)\s+javascript"
    rb"|<app-root[^>]*>\s*</app-root>",
    re.IGNORECASE,
)


def is_script_shell(html: bytes) -> bool:
    """Whether this HTML is a known script shell (an empty mount point, a <noscript> asking
    for JavaScript), whatever words it has around that."""
    return _SHELL.search(html[:SHELL_BYTES]) is not None


def render_reason(
    mode: str, *, kind: str | None, status: int | None, words: int | None, html: bytes
) -> str | None:
    """Why this page is rendered (`always`, `no-text`, `script-shell`), or None when it is
    not: only HTML answered with a 2xx is, and under `auto` only when it lacks text."""
    if mode == "never" or kind != "html" or status is None or not 200 <= status < 300:
        return None
    if mode == "always":
        return "always"
    if words is None or words < THIN_WORDS:
        return "no-text"
    if is_script_shell(html):
        return "script-shell"
    return None
