"""Text for a terminal: ANSI styles, and the colour of each state and outcome, shared by the
commands' output and the report's (the library below the command line never imports click)."""

from __future__ import annotations

# Green is fine, yellow an edit, cyan a move or a return, red a takedown or a failure,
# magenta inconclusive.
OUTCOME_COLOURS = {
    "new": "green",
    "captured": "green",
    "ok": "green",
    "unchanged": "green",
    "cosmetic": "green",
    "edited": "yellow",
    "moved": "cyan",
    "restored": "cyan",
    "gone": "red",
    "failed": "red",
    "restricted": "magenta",
    "unreachable": "magenta",
    "sources-changed": "yellow",
    "no-text": "magenta",
}
_FOREGROUND = {"red": 31, "green": 32, "yellow": 33, "blue": 34, "magenta": 35, "cyan": 36}


def style(
    text: str,
    *,
    fg: str | None = None,
    bold: bool = False,
    dim: bool = False,
    underline: bool = False,
    strikethrough: bool = False,
) -> str:
    """`text` with these ANSI styles, reset after it (as click.style writes them)."""
    codes = [str(_FOREGROUND[fg])] if fg in _FOREGROUND else []
    for flag, code in ((bold, "1"), (dim, "2"), (underline, "4"), (strikethrough, "9")):
        if flag:
            codes.append(code)
    if not codes:
        return text
    return "".join(f"\033[{code}m" for code in codes) + text + "\033[0m"


def badge(word: str | None, colour: bool) -> str:
    """A state or outcome, in its colour on a terminal; `-` for none."""
    word = word or "-"
    if not colour:
        return word
    return style(word, fg=OUTCOME_COLOURS.get(word), bold=True)
