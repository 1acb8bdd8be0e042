"""Running the hub as a process: listen, report the address, stop cleanly on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import ssl
import sys
from pathlib import Path

from server.hub import Hub, HubConfig


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server TLS context from a PEM certificate and key."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


async def run_hub(config: HubConfig, host: str, port: int, tls: ssl.SSLContext | None) -> None:
    """Serve until SIGINT or SIGTERM, then close every room's journal."""
    hub = Hub(config)
    server = await hub.serve(host, port, tls)
    bound = server.sockets[0].getsockname()[1] if server.sockets else port
    scheme = "wss" if tls else "ws"
    # The first stdout line is read by `warroom demo` and the tests to learn the port.
    print(
        f"warroom hub listening on {scheme}://{host}:{bound} (data in {config.data_dir})",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
        await hub.close()
        print("warroom hub stopped", file=sys.stderr, flush=True)
