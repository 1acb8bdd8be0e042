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
QUIET_FOR = 10.0  # seconds: the interval a kind of log record is counted over
KINDS_KEPT = 10_000


class Throttle(logging.Filter):
    """Lets at most `burst` records of one kind through per `interval`, the first with its
    traceback, and then says how many were held back.

    A kind is the logger, the message template and its first argument (the room, or who was
    refused), so one noisy client cannot hide everyone else's lines; a template as a whole
    passes at most `ceiling` records per interval, so a flood of many names is bounded too.
    Out of file descriptors, every accept would log a traceback; a few lines per interval say
    as much and keep the log (and the disk) readable.
    """

    def __init__(self, interval: float = QUIET_FOR, burst: int = 20, ceiling: int = 200) -> None:
        super().__init__()
        self.interval = interval
        self.burst = burst
        self.ceiling = ceiling
        self._kinds: dict[tuple[str, ...], list[float]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        now = time.monotonic()
        args = record.args
        first = str(args[0])[:64] if isinstance(args, tuple) and args else ""
        template = self._window((record.name, str(record.msg)), now)
        kind = self._window((record.name, str(record.msg), first), now)
        if template[1] >= self.ceiling or kind[1] >= self.burst:
            kind[2] += 1
            return False
        if kind[3]:
            record.msg = f"{record.msg} [{int(kind[3])} more like it before]"
            kind[3] = 0
        if kind[1] and record.exc_info:
            record.exc_info = None  # the first of the interval carries the traceback
            record.exc_text = None
        template[1] += 1
        kind[1] += 1
        return True

    def _window(self, key: tuple[str, ...], now: float) -> list[float]:
        """[start, passed, held, held before] of `key`'s current interval."""
        if key not in self._kinds and len(self._kinds) >= KINDS_KEPT:
            # Many names (a flood of them): forget the kinds whose interval is over and
            # that hold nothing back, so the filter itself stays small.
            self._kinds = {
                k: v for k, v in self._kinds.items() if now - v[0] < self.interval or v[2] or v[3]
            }
        kind = self._kinds.setdefault(key, [now, 0, 0, 0])
        if now - kind[0] >= self.interval:
            kind[:] = [now, 0, 0, kind[3] + kind[2]]
        return kind


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
    logging.getLogger("warroom").setLevel(logging.INFO)


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
