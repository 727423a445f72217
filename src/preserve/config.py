"""Settings, frozen, with named defaults; read from `preserve.toml` in the archive and
overridden by command-line options. No other module reads settings from anywhere."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from preserve import USER_AGENT
from preserve.errors import UsageError

DEFAULT_TIMEOUT = 10.0
DEADLINE_FACTOR = 6
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 10
# Fetch threads: enough that the per-host limit, not this, caps a run over many hosts.
DEFAULT_WORKERS = 16
DEFAULT_PER_HOST = 2
DEFAULT_EVERY = timedelta(days=1)
WARC_ROTATE_BYTES = 1024 * 1024 * 1024
# Text extraction inflates at most this much of a compressed body: a small gzip must not
# become gigabytes in memory.
DEFAULT_MAX_INFLATED = 32 * 1024 * 1024
# An upload to a WARC store that cannot be reached is tried again for this long.
DEFAULT_STORE_WAIT = 600.0
# With a WARC store, a run uploads what it wrote (and commits the rows pointing at it) this
# often: a file per commit, so not as often as the 0.25 s of a folder's fsync.
DEFAULT_UPLOAD_SECONDS = 30.0
# A check handed to workers goes in jobs of this many URLs: a job is a WARC file and a
# transaction, so not one URL each; and small enough that workers share a check evenly.
DEFAULT_JOB_URLS = 25
# A worker whose heartbeat is older than this is dead: its messages go to another worker.
DEFAULT_BROKER_HEARTBEAT = 30.0
PLACES = {"database": "PRESERVE_DATABASE", "warc_store": "PRESERVE_WARC_STORE",
          "broker": "PRESERVE_BROKER"}  # fmt: skip


@dataclass(frozen=True)
class FetchLimits:
    """How one fetch may behave: timeouts, caps and the private-address guard."""

    timeout: float = DEFAULT_TIMEOUT
    deadline: float | None = None
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    allow_private: bool = False
    user_agent: str = USER_AGENT
    ca_bundle: str | None = None  # a PEM file of the authorities to trust, instead of certifi's

    @property
    def total_deadline(self) -> float:
        """Seconds a whole fetch (all hops, all bytes) may take."""
        return self.deadline if self.deadline is not None else DEADLINE_FACTOR * self.timeout


@dataclass(frozen=True)
class Config:
    """Everything a run needs to know besides its URLs."""

    fetch: FetchLimits = field(default_factory=FetchLimits)
    workers: int = DEFAULT_WORKERS
    per_host: int = DEFAULT_PER_HOST
    depth: int = 1
    every: timedelta = DEFAULT_EVERY
    warc_rotate_bytes: int = WARC_ROTATE_BYTES
    max_inflated: int = DEFAULT_MAX_INFLATED
    # Where the news of a check goes besides --on-change: Apprise URLs (mailto://,
    # slack://, matrix://, tgram://, ntfy://, json://…), tokens included.
    notify: tuple[str, ...] = ()
    # --- issue 17: an archive on servers (docs/servers.md); see `Places` ---
    database: str | None = None
    warc_store: str | None = None
    broker: str | None = None
    warc_store_wait: float = DEFAULT_STORE_WAIT
    upload_seconds: float = DEFAULT_UPLOAD_SECONDS
    job_urls: int = DEFAULT_JOB_URLS
    broker_heartbeat: float = DEFAULT_BROKER_HEARTBEAT
    # --- end of issue 17's settings ---
    # --- rendering in a browser (docs/browser.md) ---
    browser: str = "auto"  # auto | always | never: when a page is rendered
    render_pages: int = 2  # pages rendered at once (each renderer holds ~250-500 MB)
    render_deadline: float = 15.0  # seconds for one page in the browser, snapshot included
    render_memory: int = 768  # MiB a page's renderer may hold before it is killed


@dataclass(frozen=True)
class Places:
    """Where an archive lives besides its folder: its database server (`database`, a
    PostgreSQL URL; None: `preserve.db` in the folder), its WARC store (`warc_store`,
    `s3://bucket/prefix`; None: `warcs/` in the folder), the broker its checks go through
    (`broker`, a Redis URL; None: checks run in the command), and how long an upload waits
    for a WARC store that cannot be reached. Read by `load_places`, before the archive is
    opened; passwords only from the environment or an owner-only file."""

    database: str | None = None
    warc_store: str | None = None
    broker: str | None = None
    warc_store_wait: float = DEFAULT_STORE_WAIT


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """`90s`, `15m`, `6h`, `1d`, `2w` → timedelta; anything else is a UsageError."""
    match = _DURATION.match(text)
    if not match or float(match.group(1)) <= 0:
        raise UsageError(f"not a duration: {text!r} (use e.g. 30m, 6h, 1d, 1w)")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def format_duration(delta: timedelta) -> str:
    """The shortest exact spelling of a duration in the units `parse_duration` reads."""
    seconds = int(delta.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % _UNIT_SECONDS[unit] == 0:
            return f"{seconds // _UNIT_SECONDS[unit]}{unit}"
    return f"{seconds}s"


def redacted(url: str) -> str:
    """A server's URL as it may be shown or stored: its password, if any, replaced by
    `***` (`postgresql://preserve:***@db/archive`). Every message and log line that names
    the database, the WARC store or the broker names it through this."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, path = rest.partition("/")
    userinfo, at, host = netloc.rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.split(":", 1)[0] + ":***"
    query = ""
    if "?" in path:
        path, _, query = path.partition("?")
        query = "?" + "&".join(
            (k + "=***" if k.lower() in _SECRET_PARAMS else k + ("=" + v if eq else ""))
            for k, eq, v in (part.partition("=") for part in query.split("&"))
        )
    return f"{scheme}://{userinfo}{at}{host}{slash}{path}{query}"


_SECRET_PARAMS = {"password", "sslpassword", "secret", "token"}


def env_allows_private() -> bool:
    return os.environ.get("PRESERVE_ALLOW_PRIVATE", "") not in ("", "0", "false", "no")


SETTINGS_FILE = "preserve.toml"
_TOML_VALUE = {True: "true", False: "false"}


def remember(archive: Path, key: str, value: bool) -> bool:
    """Write `key = value` into the archive's settings (`preserve.toml`), so that later
    commands on the archive do what this one did; False when the file already says so.
    A line setting the key is replaced; any other line, comments included, is kept."""
    path = archive / SETTINGS_FILE
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    setting = re.compile(rf"^\s*{re.escape(key)}\s*=")
    wanted = f"{key} = {_TOML_VALUE[value]}"
    if wanted in (line.split("#")[0].strip() for line in lines):
        return False
    kept = [line for line in lines if not setting.match(line)]
    path.write_text("\n".join([*kept, wanted]) + "\n", encoding="utf-8")
    return True


def _read_settings(archive: Path) -> dict[str, Any]:
    """The archive's `preserve.toml`, as a dict ({} without one)."""
    path = archive / SETTINGS_FILE
    if not path.exists():
        return {}
    import tomllib  # only for an archive that has the file

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: {exc}") from exc


def _places(archive: Path, settings: dict[str, Any]) -> dict[str, Any]:
    """The server settings: the environment (PRESERVE_DATABASE, …) wins over the file. A
    URL with a password in a file that others may read is refused."""
    found: dict[str, Any] = {}
    for key, variable in PLACES.items():
        if os.environ.get(variable):
            found[key] = os.environ[variable]
        elif settings.get(key) is not None:
            value = settings[key]
            if not isinstance(value, str):
                raise UsageError(f"{key} must be a URL (a string)")
            path = archive / SETTINGS_FILE
            if redacted(value) != value and path.stat().st_mode & 0o077:
                raise UsageError(
                    f"{path} holds a password ({key} = {redacted(value)!r}) and others may "
                    f"read it: chmod 600 {path}, or give it in {variable}"
                )
            found[key] = value
    if found.get("database") and not found["database"].startswith(("postgresql://", "postgres://")):
        raise UsageError(f"database must be a postgresql:// URL, not {redacted(found['database'])}")
    if found.get("broker") and not found["broker"].startswith(("redis://", "rediss://")):
        raise UsageError(f"broker must be a redis:// URL, not {redacted(found['broker'])}")
    if found.get("broker") and not found.get("database"):
        raise UsageError(
            'a broker needs a database server (database = "postgresql://…"): workers on '
            "other machines must reach the same database"
        )
    return found


def load_places(archive: Path) -> Places:
    """Where the archive at `archive` lives (see `Places`)."""
    settings = _read_settings(archive)
    places = _places(archive, settings)
    wait = settings.get("warc_store_wait", DEFAULT_STORE_WAIT)
    if not isinstance(wait, int | float) or wait <= 0:
        raise UsageError("warc_store_wait must be a positive number of seconds")
    return Places(**places, warc_store_wait=float(wait))


def load_config(archive: Path, **overrides: Any) -> Config:
    """The archive's `preserve.toml` (if any) with the given overrides (None = not given).

    Keys in the file: timeout, deadline, max_bytes, max_redirects, allow_private, ca_bundle,
    workers, per_host, depth, every ("1d"), max_inflated, notify, browser, render_pages,
    render_deadline, render_memory. PRESERVE_ALLOW_PRIVATE and
    PRESERVE_CA_BUNDLE in the environment win over the file; PRESERVE_BROWSER is the
    default of `browser` when neither the file nor an option sets it.
    """
    settings = _read_settings(archive)
    if os.environ.get("PRESERVE_BROWSER") and "browser" not in settings:
        settings["browser"] = os.environ["PRESERVE_BROWSER"]  # a default, under the file
    settings.update(_places(archive, settings))
    settings.update({k: v for k, v in overrides.items() if v is not None})
    if env_allows_private():
        settings["allow_private"] = True
    if os.environ.get("PRESERVE_CA_BUNDLE"):
        settings["ca_bundle"] = os.environ["PRESERVE_CA_BUNDLE"]
    fetch_names = {f.name for f in fields(FetchLimits)}
    config_names = {f.name for f in fields(Config)} - {"fetch"}
    unknown = set(settings) - fetch_names - config_names
    if unknown:
        raise UsageError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    if isinstance(settings.get("every"), str):
        settings["every"] = parse_duration(settings["every"])
    if "notify" in settings:
        given = settings["notify"]
        settings["notify"] = tuple([given] if isinstance(given, str) else given)
    fetch = replace(FetchLimits(), **{k: v for k, v in settings.items() if k in fetch_names})
    config = replace(
        Config(fetch=fetch), **{k: v for k, v in settings.items() if k in config_names}
    )
    _validate(config)
    return config


def _validate(config: Config) -> None:
    limits = config.fetch
    if limits.timeout <= 0 or limits.total_deadline <= 0:
        raise UsageError("timeout and deadline must be positive")
    if limits.max_bytes < 1 or limits.max_redirects < 0:
        raise UsageError("max_bytes must be positive and max_redirects not negative")
    if config.workers < 1 or config.per_host < 1 or config.depth < 0:
        raise UsageError("workers and per_host must be at least 1, depth at least 0")
    if config.job_urls < 1 or min(config.broker_heartbeat, config.upload_seconds) <= 0:
        raise UsageError("job_urls, broker_heartbeat and upload_seconds must be positive")
    if config.warc_store_wait <= 0:
        raise UsageError("warc_store_wait must be a positive number of seconds")
    if limits.ca_bundle is not None:
        _check_ca_bundle(limits.ca_bundle)
    if config.browser not in ("auto", "always", "never"):
        raise UsageError(f"browser must be auto, always or never, not {config.browser!r}")
    if config.render_pages < 1 or config.render_deadline <= 0 or config.render_memory < 64:
        raise UsageError(
            "render_pages must be at least 1, render_deadline positive and "
            "render_memory at least 64 (MiB)"
        )


def _check_ca_bundle(path: str) -> None:
    """A bundle that cannot be read would fail every HTTPS fetch as `tls`: say so at once."""
    import ssl

    try:
        ssl.create_default_context(cafile=path)
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise UsageError(f"ca_bundle {path}: not a PEM file of certificates ({exc})") from exc
