"""preserve: capture an article and every source it cites into WARC, and watch them change."""

import os
import sys


def _installed_version() -> str:
    """The installed version. Read from the name of the package's `.dist-info` folder when
    there is exactly one on the path: importing importlib.metadata took a tenth of a second
    of every command's start-up."""
    for entry in sys.path:
        try:
            names = [
                n
                for n in os.listdir(entry or ".")
                if n.startswith("preserve-") and n.endswith(".dist-info")
            ]
        except OSError:
            continue
        if len(names) == 1:
            return names[0][len("preserve-") : -len(".dist-info")]
        if names:
            break
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("preserve")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0.0.0"


__version__ = _installed_version()
PROJECT_URL = "https://github.com/preserve-archive/preserve"
USER_AGENT = f"preserve/{__version__} (+{PROJECT_URL})"
