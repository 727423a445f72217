"""What extraction yields: the data that leaves `extract` (in a worker process) for the
capture, the database and the comparison. Apart from `extract.py` so that the processes that
only receive it need not import lxml."""

from __future__ import annotations

from dataclasses import dataclass

from preserve.extract.normalise import NORMALISATION_VERSION


@dataclass(frozen=True)
class Citation:
    """One link inside the main text."""

    url: str  # canonical absolute http(s), no fragment
    anchor_text: str
    context: str  # the sentence around the link, normalised, about page.MAX_CONTEXT at most
    position: int  # 0-based order in the article


@dataclass(frozen=True)
class Extracted:
    """What one body says, in the forms later captures are compared by."""

    kind: str  # "html", "text" (text/plain), "pdf", "other"
    charset: str | None  # the codec actually used to decode
    title: str | None
    text: str  # normalised main text, one paragraph a line; "" when none
    visible_text: str  # normalised text of the whole page, for the boundary-shift test
    citations: tuple[Citation, ...]
    requisites: tuple[str, ...]  # images, stylesheets, scripts, icons, media: canonical URLs
    text_sha256: str | None
    links_sha256: str | None  # over the sorted (links_key(url), anchor text) pairs
    loose_sha256: str | None
    decoded_sha256: str  # of the body without its Content-Encoding (capped at max_inflated)
    byline: str | None = None
    modified: str | None = None  # dateModified / article:modified_time as the page states it
    extractor: str = "none"  # what made `text`: "trafilatura", "fallback", "plain", "none"
    text_words: int = 0  # words of `text` (`tokens.count_tokens`), counted where it was made
    norm_version: int = NORMALISATION_VERSION
