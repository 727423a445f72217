"""preserve: capture an article and every source it cites into WARC, and watch them change."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("preserve")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"

PROJECT_URL = "https://github.com/preserve-archive/preserve"
USER_AGENT = f"preserve/{__version__} (+{PROJECT_URL})"
