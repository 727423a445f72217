"""The backstop: each render's context is given a proxy on 127.0.0.1 that answers every
request 403 and notes it. Interception answers everything Chromium lets it see; whatever
it does not (a worker's WebSocket, a feature yet to come) ends here, not on the network."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

# Told of each request that reached the backstop: (method, target).
OnEscape = Callable[[str, str], None]


async def start_backstop(on_escape: OnEscape) -> tuple[asyncio.Server, str]:
    """A backstop proxy listening on a free port of 127.0.0.1; and its URL."""
    server = await asyncio.start_server(
        lambda reader, writer: _refuse(on_escape, reader, writer), host="127.0.0.1", port=0
    )
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def _refuse(
    on_escape: OnEscape, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        line = await asyncio.wait_for(reader.readline(), 2)
        parts = line.decode("latin-1").split()
        on_escape(parts[0] if parts else "?", parts[1] if len(parts) > 1 else "?")
        writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()
