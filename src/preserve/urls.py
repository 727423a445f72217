"""URL spelling: the one canonical ASCII form preserve stores, fetches and writes to WARC.

A URL is kept as the server would see it (path case and query order untouched); only what
cannot change the resource is normalised: scheme and host case, default port, fragment,
IDNA hosts, and percent-encoding of characters that may not appear raw in a URI.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

from preserve.errors import BadURL

SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters left as they are when re-encoding a path or query: the RFC 3986 reserved and
# unreserved sets plus "%", so that an existing escape is never escaped twice.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
MAX_URL_LENGTH = 8192
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def canonical(url: str) -> str:
    """The canonical ASCII spelling of an absolute http(s) URL, without its fragment.

    Raises BadURL for anything else: a relative URL, another scheme, no host, a bad port,
    a host that cannot be IDNA-encoded, control characters, or an absurd length.
    """
    if not isinstance(url, str) or not url.strip():
        raise BadURL("empty URL")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise BadURL(f"URL longer than {MAX_URL_LENGTH} characters")
    if _CONTROL.search(url):
        raise BadURL(f"URL contains control characters: {url[:80]!r}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadURL(f"not a valid URL: {url[:200]!r} ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        what = f"unsupported scheme {scheme!r}" if scheme else "not an absolute URL"
        raise BadURL(f"{what}: {url[:200]!r} (only http and https)")
    host = parts.hostname
    if not host:
        raise BadURL(f"URL has no host: {url[:200]!r}")
    host = _ascii_host(host, url)
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    path = quote(_remove_dot_segments(parts.path) or "/", safe=_PATH_SAFE)
    query = quote(parts.query, safe=_QUERY_SAFE)
    return urlunsplit((scheme, netloc, path, query, ""))


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4: `/a/b/../c` is `/a/c`; urljoin does this only for relative hrefs."""
    if "." not in path:
        return path
    output: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if len(output) > 1:
                output.pop()
        elif segment != ".":
            output.append(segment)
    if path.endswith(("/.", "/..")):
        output.append("")
    return "/".join(output)


def _ascii_host(host: str, url: str) -> str:
    host = host.rstrip(".").lower()
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise BadURL(f"URL host cannot be encoded: {url[:200]!r}") from exc
    # Checked after IDNA too, which passes ASCII through: "\\é" became "xn--\\-9fa".
    if not host or any(c in host for c in ' <>\\^`{|}"%'):
        raise BadURL(f"URL has an invalid host: {url[:200]!r}")
    return host


def resolve(base: str, href: str) -> str | None:
    """`href` resolved against `base` in canonical form, or None if it is not http(s)."""
    try:
        return canonical(urljoin(base, href.strip()))
    except (BadURL, ValueError):
        return None


def host_key(url: str) -> str:
    """`host:port`: the unit of politeness (connections per host)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)}"


def is_site_root(url: str) -> bool:
    """True for `/`, `/index.*` and `/home.*`: where sites send links they no longer serve."""
    path = urlsplit(url).path.rstrip("/")
    last = path.rsplit("/", 1)[-1].lower()
    return path == "" or (path.count("/") == 1 and last.split(".")[0] in ("index", "home"))


# Byte-order marks of the encodings a list of URLs may come in (PowerShell writes UTF-16).
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)
MOST_BAD_LINES_SHOWN = 20


def parse_url_list(data: bytes, name: str) -> list[str]:
    """The URLs of a list file, one per line (`#` starts a comment), canonical, in order.

    Read as UTF-8 (with or without a byte-order mark) or as UTF-16 with one. Every bad
    line is named, `name:line: why`, in one UsageError: a list is refused whole, before
    anything is fetched."""
    text = _decode_list(data, name)
    urls: list[str] = []
    bad: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        try:
            urls.append(canonical(entry))
        except BadURL as exc:
            bad.append(f"{name}:{number}: {exc}")
    if bad:
        shown = bad[:MOST_BAD_LINES_SHOWN]
        more = len(bad) - len(shown)
        raise BadURL(
            f"{len(bad)} bad line(s) in {name}, nothing was fetched:\n  "
            + "\n  ".join(shown)
            + (f"\n  … and {more} more" if more else "")
        )
    return urls


def _decode_list(data: bytes, name: str) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                raise BadURL(f"{name}: not valid {encoding} after its byte-order mark") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadURL(
            f"{name}: not UTF-8 (byte {exc.start + 1}); save the list as UTF-8, or as UTF-16 "
            "with a byte-order mark"
        ) from exc
