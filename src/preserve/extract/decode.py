"""From a response body as received to text: undo the Content-Encoding without letting a small
body inflate into gigabytes, then pick the charset the way a browser would."""

from __future__ import annotations

import codecs
import re
import zlib

# Bytes fed to the inflater per call. Small, because zlib raises on corrupt data without
# returning what it inflated from the same call; it also bounds the copy of the input that
# zlib keeps as `unconsumed_tail`.
_FEED = 16 * 1024
# Charset detection reads at most this much; it samples across what it gets.
_DETECT_BYTES = 1024 * 1024
# A `<meta charset>` counts only in the first bytes of the document (WHATWG prescan: 1024;
# we allow more because many CMSs put long scripts before it).
META_PRESCAN_BYTES = 4096

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Labels that browsers decode with a superset (WHATWG Encoding): pages labelled latin-1 are
# full of windows-1252 curly quotes, and so on.
_SUPERSETS = {
    "iso8859-1": "cp1252",
    "ascii": "cp1252",
    "iso8859-9": "cp1254",
    "tis-620": "cp874",
    "iso8859-11": "cp874",
    "gb2312": "gbk",
    "euc_kr": "cp949",
}
# Python codecs that are not web charsets: a page must not choose to be read as one.
_NOT_WEB = frozenset(
    "idna punycode unicode_escape raw_unicode_escape undefined utf-7 palmos mbcs oem".split()
)
_CHARSET_PARAM = re.compile(rb"""charset\s*=\s*["']?\s*([a-z0-9_.:\-]+)""", re.IGNORECASE)
_META = re.compile(rb"<meta\b[^>]*?" + _CHARSET_PARAM.pattern, re.IGNORECASE)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([a-z0-9_.:\-]+)""", re.IGNORECASE)


def decode_content(raw: bytes, content_encoding: str | None, max_inflated: int) -> bytes:
    """`raw` with its Content-Encoding (gzip, x-gzip, deflate, identity; a list is undone in
    reverse order) removed, at most `max_inflated` bytes of it.

    A broken or truncated stream gives what inflated before the damage, or `raw` itself when
    nothing did (servers that label a plain body gzip). An unknown coding (br, zstd) is left as
    it is.
    """
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    data = raw
    for coding in reversed(codings):
        if coding in ("gzip", "x-gzip"):
            inflated = _inflate(data, _GZIP, max_inflated)
        elif coding == "deflate":
            # "deflate" is meant to be zlib-wrapped, but many servers send raw deflate.
            inflated = _inflate(data, zlib.MAX_WBITS, max_inflated)
            if inflated is None:
                inflated = _inflate(data, -zlib.MAX_WBITS, max_inflated)
        else:
            inflated = None
        if inflated is not None:
            data = inflated
    return data


_GZIP = 16 + zlib.MAX_WBITS


def _inflate(data: bytes, wbits: int, limit: int) -> bytes | None:
    """Inflate at most `limit` bytes; None when the stream is bad from its first byte."""
    out: list[bytes] = []
    size = pos = 0
    view = memoryview(data)
    inflater = zlib.decompressobj(wbits)
    try:
        while size < limit and pos < len(data):
            chunk = view[pos : pos + _FEED]
            piece = inflater.decompress(chunk, limit - size)
            out.append(piece)
            size += len(piece)
            pos += len(chunk) - len(inflater.unconsumed_tail) - len(inflater.unused_data)
            if inflater.eof:
                if wbits != _GZIP:
                    break
                inflater = zlib.decompressobj(wbits)  # gzip allows several members in a row
    except zlib.error:
        if not size:
            return None
    return b"".join(out)[:limit]


def mime_type(content_type: str | None) -> str | None:
    """`text/html; charset=x` → `text/html` (lowercase), None when absent."""
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    return mime or None


def header_charset(content_type: str | None) -> str | None:
    match = _CHARSET_PARAM.search((content_type or "").encode("latin-1", "replace"))
    return match.group(1).decode("ascii") if match else None


def codec_for(label: str | bytes | None) -> str | None:
    """The Python codec a browser would use for a charset label, or None if it is not one."""
    if isinstance(label, bytes):
        label = label.decode("ascii", "replace")
    if not label:
        return None
    try:
        info = codecs.lookup(label.strip().strip("\"'"))
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name in _NOT_WEB:
        return None
    return _SUPERSETS.get(info.name, info.name)


def decode_text(body: bytes, *, declared: str | None, markup: bool) -> tuple[str, str]:
    """(text, codec used): a BOM first, then the declared (header) charset, then for markup a
    `<meta charset>`/XML declaration near the start, then strict UTF-8, then detection, and
    UTF-8 with replacement characters as the last resort."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(name, "replace"), name
    codec = codec_for(declared) or (_prescan(body) if markup else None)
    if codec:
        try:
            return body.decode(codec, "replace"), codec
        except (UnicodeError, LookupError):  # a codec that fails even with "replace"
            pass
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    codec = _detect(body)
    if codec:
        try:
            return body.decode(codec, "replace"), codec
        except (UnicodeError, LookupError):
            pass
    return body.decode("utf-8", "replace"), "utf-8"


def _prescan(body: bytes) -> str | None:
    head = body[:META_PRESCAN_BYTES]
    match = _XML_DECL.match(head) or _META.search(head)
    codec = codec_for(match.group(1)) if match else None
    # An ASCII-compatible document cannot really be UTF-16 whatever its meta says (WHATWG).
    return "utf-8" if codec and codec.startswith("utf-16") else codec


def _detect(body: bytes) -> str | None:
    # Imported here: most pages declare their charset, and the import takes 12 ms.
    import charset_normalizer

    try:
        best = charset_normalizer.from_bytes(body[:_DETECT_BYTES]).best()
    except Exception:  # detection is a heuristic; it must never take the page down with it
        return None
    return codec_for(best.encoding) if best else None
