"""Warming up extraction: importing this module extracts a small page.

Imported once by the process the extraction workers are forked from (this one, or the fork
server), so that what extraction loads on first use (trafilatura's lookup tables, the
public-suffix list) is loaded before pages arrive, once for every worker, instead of costing
each of them a tenth of a second on its first page.

The page's article is long enough not to be "short" to trafilatura, so that justext, its
last fallback for a short page, is not run: loading justext's stoplists takes a tenth of a
second, which the first page that needs them pays instead (none of the bulk web's pages do,
11 of the corpus's 229 real pages do)."""

from preserve.extract import maintext, page
from preserve.extract.extractor import extract

_PAGE = b"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Warm-up</title>
<meta property="og:title" content="Warm-up"></head><body><nav><a href="/">Home</a></nav>
<main><article><h1>Warm-up</h1><p class="byline">By the Desk, 1 January 2020</p>
<p>A paragraph long enough to count as the main text of a page, with <a
href="https://example.org/source">a link to a source</a> in the middle of a sentence.</p>
<p>Another paragraph follows it, so that the extractor compares what it found. It goes on
for a while, as the paragraphs of an article do, with a few more words in it each time, so
that the text is not too short for the extractor to take it as it is.</p>
</article></main><footer>Footer</footer></body></html>"""

extract(_PAGE, url="https://example.org/2020/01/warm-up", content_type="text/html")

# The main text's other runs are made only for an article with a sentence the precise run
# lacks, which this page has not: they are warmed up on it directly.
_root = page.parse(_PAGE.decode())
if _root is not None:
    maintext.warm_up(_root)
