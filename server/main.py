"""Running the hub as a process: listen, report the address, stop cleanly on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import resource
import signal
import ssl
import sys
import time
from pathlib import Path

from server.hub import Hub, HubConfig

log = logging.getLogger("warroom.hub")
QUIET_FOR = 10.0  # seconds between two log records of the same kind


class Throttle(logging.Filter):
    """Lets at most `burst` records of one kind (logger and message template) through per
    `interval`, the first with its traceback, and then says how many were held back.

    Out of file descriptors, every accept and every failed handshake would log a traceback;
    a few lines per interval say as much and keep the log (and the disk) readable.
    """

    def __init__(self, interval: float = QUIET_FOR, burst: int = 20) -> None:
        super().__init__()
        self.interval = interval
        self.burst = burst
        self._kinds: dict[tuple[str, str], list[float]] = {}  # start, passed, held

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        now = time.monotonic()
        kind = self._kinds.setdefault((record.name, str(record.msg)), [now, 0, 0])
        if now - kind[0] >= self.interval:
            held = int(kind[2])
            kind[:] = [now, 0, 0]
            if held:
                record.msg = f"{record.msg} [{held} more like it in {self.interval:g}s]"
        if kind[1] >= self.burst:
            kind[2] += 1
            return False
        if kind[1] and record.exc_info:
            record.exc_info = None  # the first of the interval carries the traceback
            record.exc_text = None
        kind[1] += 1
        return True


def raise_file_limit() -> tuple[int, int]:
    """Raise the soft limit on open files to the hard limit; (before, after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if want > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError):
            return soft, soft
    return soft, resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def install_logging() -> None:
    """Hub warnings and errors to stderr, each kind at most once per interval."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(Throttle())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server TLS context from a PEM certificate and key."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


async def run_hub(config: HubConfig, host: str, port: int, tls: ssl.SSLContext | None) -> None:
    """Serve until SIGINT or SIGTERM, then close every room's journal."""
    before, after = raise_file_limit()
    if after > before:
        log.info("open-file limit raised from %d to %d", before, after)
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
    loop.set_exception_handler(_quiet_exceptions)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
        await hub.close()
        print("warroom hub stopped", file=sys.stderr, flush=True)


def _quiet_exceptions(loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
    # asyncio reports each failed accept (out of file descriptors) through here; the
    # throttled log takes it like any other record.
    exc = context.get("exception")
    message = str(context.get("message", "event loop error"))
    log.error("%s", message, exc_info=exc if isinstance(exc, BaseException) else None)
