"""`preserve` with every host name but the loopback's unresolvable: the corpus pages name
their images, styles and scripts on the sites they came from, and a capture fetches them, so
the harness runs preserve through this module to keep every request on 127.0.0.1.

    python -m tests.realpages.offline --archive A capture ...   # as `preserve ...`

A name that does not resolve fails at once, as on a machine without a resolver: what the
figures measure is the same with or without a network.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})

_getaddrinfo = socket.getaddrinfo


def _loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode("ascii", "replace") if isinstance(host, bytes) else str(host)
    if name.strip("[]").lower() not in LOOPBACK:
        raise socket.gaierror(socket.EAI_NONAME, f"{name}: off the loopback (tests/realpages)")
    return _getaddrinfo(host, *args, **kwargs)


def main() -> int:
    socket.getaddrinfo = _loopback_only
    from preserve.cli.main import main as preserve

    sys.argv[0] = "preserve"
    try:
        preserve()
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
