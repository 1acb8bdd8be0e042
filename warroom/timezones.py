"""Time zones: validation against the IANA database, a zone or UTC, and the machine's own."""

from __future__ import annotations

from functools import lru_cache
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


@lru_cache(maxsize=256)
def zone_or_utc(name: str) -> ZoneInfo:
    """The zone called `name`, or UTC when it is not one: people's zones come from their
    clients, and a view shows an unknown one's times in UTC rather than failing."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_tz() -> str:
    """This machine's zone name, or UTC when it cannot be told."""
    try:
        import tzlocal

        return check_tz(tzlocal.get_localzone_name() or "UTC")
    except Exception:  # tzlocal raises its own types on odd setups; UTC is a safe answer
        return "UTC"
