"""Zones: a known name is itself, anything else reads as UTC; check_tz says what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from warroom.timezones import check_tz, local_tz, zone_or_utc


@pytest.mark.parametrize("name", ["Europe/Berlin", "Asia/Kolkata", "UTC"])
def test_a_known_zone_is_itself(name: str) -> None:
    assert zone_or_utc(name) == ZoneInfo(name)


@pytest.mark.parametrize("name", ["Not/AZone", "", "../etc/passwd", "Tokyo!"])
def test_anything_else_is_utc(name: str) -> None:
    zone = zone_or_utc(name)
    assert (
        datetime(2026, 6, 1, 12, tzinfo=zone).utcoffset()
        == datetime(2026, 6, 1, 12, tzinfo=UTC).utcoffset()
    )


def test_check_tz_names_the_bad_zone_and_local_tz_is_always_one() -> None:
    assert check_tz("Europe/Berlin") == "Europe/Berlin"
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Base'"):
        check_tz("Mars/Base")
    assert check_tz(local_tz())
