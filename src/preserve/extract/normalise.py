"""The canonical forms that preserve hashes: normalised text (`norm_v1`), its loose variant, and
the comparison key of a cited URL.

These spellings are a stored contract: every text hash is kept with NORMALISATION_VERSION, and
changing anything here (or in how extractor.py and maintext.py find the main text) without
bumping it would turn a whole collection into false "edits". Baselines of an older version are
re-derived from their WARC records when they are next compared.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import urlsplit

from preserve.errors import BadURL
from preserve.urls import canonical

# The version of everything that turns a body into a hashed text: these spellings, and how the
# main text is found (extractor.py). 1: trafilatura comparing its result with readability and
# justext. 2: trafilatura's own algorithm alone (fast mode); the spellings are unchanged.
# 3: its precise run with those fallbacks, completed by the sentences its balanced run and
# readability find inside the page's article (maintext.py); the spellings are unchanged.
NORMALISATION_VERSION = 3

# Invisible characters that come and go with CMS or editor changes, never with an edit: soft
# hyphen, zero-width space/non-joiner/joiner, word joiner, BOM, Mongolian vowel separator, and
# bidi marks, embeddings and isolates. C0/C1 controls (other than line breaks and tabs, which the
# line handling treats as whitespace) are stray bytes, not text. Removed before NFKC so that a
# removal cannot leave a decomposed sequence behind.
_INVISIBLE = dict.fromkeys(
    [0x00AD, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF, 0x180E, 0x200E, 0x200F, 0x061C]
    + list(range(0x202A, 0x202F))
    + list(range(0x2066, 0x206A))
    + [c for c in range(0x00, 0x20) if c not in (0x09, 0x0A, 0x0B, 0x0C, 0x0D)]
    + [c for c in range(0x7F, 0xA0) if c != 0x85]
)

# Typographic variants of the same text, folded after NFKC (which has already turned
# no-break spaces into spaces and "…" into "...").
_FOLD = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u2039\u203a", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u2e3b", "-"),
    }
)


# The same deletions as one regex character class: str.translate with a dict looks every
# character up in Python, and normalising was a quarter of the time spent extracting a page.
_INVISIBLE_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_INVISIBLE)) + "]")
_ASCII_INVISIBLE = bytes(sorted(c for c in _INVISIBLE if c < 0x80))
_FOLD_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in sorted(_FOLD)) + "]")


def _fold(match: re.Match[str]) -> str:
    return match.group().translate(_FOLD)


def normalise(text: str) -> str:
    """`norm_v1`: the text as hashed.

    Remove invisible characters (soft hyphens, zero-width characters, BOMs, bidi marks,
    control characters) → NFKC → fold curly quotes, guillemets and dashes to ASCII → collapse
    runs of whitespace within each line to one space and trim → drop blank lines. Lines are
    joined with "\\n". Case and punctuation are kept.
    """
    if (
        text.isascii()
        and text.isprintable()
        and "  " not in text
        and text[:1] != " "
        and text[-1:] != " "
    ):
        # One line of printable ASCII, one-spaced and trimmed (most of the text nodes, anchor
        # texts and titles normalised one at a time): already normalised, nothing to remove.
        return text
    if text.isascii():
        # its invisible characters are the ASCII controls, deleted from its bytes in one pass
        # of C: the regex costs ~3 ns a character (40 µs for an article's text)
        raw = text.encode("ascii")
        kept = raw.translate(None, _ASCII_INVISIBLE)
        if len(kept) != len(raw):
            text = kept.decode("ascii")
    else:
        text = _INVISIBLE_RE.sub("", text)
        if not text.isascii():  # NFKC and the folds change nothing in ASCII
            text = _FOLD_RE.sub(_fold, unicodedata.normalize("NFKC", text))
    # blank lines (a page text has one between most blocks) are dropped before any call
    return "\n".join(
        [_one_spaced(line) for line in text.splitlines() if line and not line.isspace()]
    )


def _one_spaced(line: str) -> str:
    """A line with each run of whitespace made one space, trimmed. Most lines already are:
    they are returned as they are, without splitting them into words."""
    if (
        line.isascii()
        and "  " not in line
        and "\t" not in line
        and "\x1f" not in line
        and line[:1] != " "
        and line[-1:] != " "
    ):
        return line
    return " ".join(line.split())


class _LooseTable(dict[int, int | None]):
    """A str.translate table that deletes whitespace and Unicode punctuation (P*), filled in
    lazily so that no table of all of Unicode has to be built at import."""

    def __missing__(self, code: int) -> int | None:
        char = chr(code)
        value = None if char.isspace() or unicodedata.category(char)[0] == "P" else code
        self[code] = value
        return value


_LOOSE = _LooseTable()


def loose(text: str, *, normalised: bool = False) -> str:
    """The normalised text casefolded, with all whitespace and punctuation deleted: equal loose
    forms with different strict forms mean a punctuation- or case-only edit. `normalised`:
    `text` already is (normalising is idempotent, checked for every code point)."""
    return (text if normalised else normalise(text)).casefold().translate(_LOOSE)


def sha256_hex(data: bytes | str) -> str:
    """Lowercase hex sha256; a str is hashed as UTF-8."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


_TRACKING = ("utm_",)
_TRACKING_EXACT = ("fbclid", "gclid")


def links_key(url: str) -> str:
    """The comparison form of a cited URL: `//host/path?query`.

    http and https are equal, a leading `www.` and trailing slashes are dropped, and so are
    the fragment and the `utm_*`, `fbclid` and `gclid` parameters; everything else (path case,
    query order) is kept as the server would see it.
    """
    try:
        url = canonical(url)
    except BadURL:
        url = url.strip()
    return canonical_links_key(url)


def canonical_links_key(url: str) -> str:
    """`links_key` of a URL already in canonical form (skips re-checking it: this runs for
    every link of every page)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc.lower()
    if netloc.startswith("www."):
        netloc = netloc[4:]
    query = "&".join(p for p in parts.query.split("&") if p and not _is_tracking(p))
    return f"//{netloc}{parts.path.rstrip('/')}" + (f"?{query}" if query else "")


def _is_tracking(param: str) -> bool:
    name = param.split("=", 1)[0].lower()
    return name.startswith(_TRACKING) or name in _TRACKING_EXACT
