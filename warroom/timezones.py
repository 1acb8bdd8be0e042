"""Time zones: validation against the IANA database, and the machine's own zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def check_tz(name: str) -> str:
    """Return `name` if it is an IANA zone such as Europe/Berlin; raise ValueError otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin"
        ) from None
    return name


def local_tz() -> str:
    """This machine's zone name, or UTC when it cannot be told."""
    try:
        import tzlocal

        return check_tz(tzlocal.get_localzone_name() or "UTC")
    except Exception:  # tzlocal raises its own types on odd setups; UTC is a safe answer
        return "UTC"


def local_time(ts: float, tz: str) -> str:
    """`ts` as HH:MM in zone `tz` (UTC when the zone is unknown)."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.fromtimestamp(ts, zone).strftime("%H:%M")
