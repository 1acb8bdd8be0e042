"""Tokens and the signing secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from server.auth import AuthError, load_or_create_secret, mint, parse_ttl, verify
from warroom.core import Role

NOW = 1_800_000_000.0


def test_secret_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    secret = load_or_create_secret(tmp_path)
    mode = stat.S_IMODE((tmp_path / "secret.key").stat().st_mode)
    assert mode == 0o600
    assert load_or_create_secret(tmp_path) == secret
    assert len(secret) >= 32


def test_secret_file_option(tmp_path: Path) -> None:
    path = tmp_path / "s"
    path.write_text("0123456789abcdef0123\n")
    assert load_or_create_secret(tmp_path / "data", path) == b"0123456789abcdef0123"
    path.write_text("short")
    with pytest.raises(AuthError, match="fewer than 16"):
        load_or_create_secret(tmp_path, path)
    with pytest.raises(AuthError, match="cannot read"):
        load_or_create_secret(tmp_path, tmp_path / "missing")


def test_valid_token_grants_its_claims() -> None:
    token = mint(b"s" * 32, "train-1", "ana", Role.ENGINEER, 3600, NOW)
    claims = verify(b"s" * 32, token, "train-1", NOW + 10)
    assert (claims.room, claims.name, claims.role) == ("train-1", "ana", Role.ENGINEER)
    assert claims.expires == NOW + 3600


@pytest.mark.parametrize(
    ("secret", "room", "at", "message"),
    [
        (b"t" * 32, "train-1", NOW, "signature is not valid"),
        (b"s" * 32, "train-2", NOW, "for room 'train-1', not 'train-2'"),
        (b"s" * 32, "train-1", NOW + 3600, "expired"),
    ],
)
def test_bad_tokens_are_refused_with_a_reason(
    secret: bytes, room: str, at: float, message: str
) -> None:
    token = mint(b"s" * 32, "train-1", "ana", Role.ENGINEER, 3600, NOW)
    with pytest.raises(AuthError, match=message):
        verify(secret, token, room, at)


def test_garbage_token() -> None:
    with pytest.raises(AuthError, match="malformed"):
        verify(b"s" * 32, "not-a-token", "r", NOW)


def test_minting_checks_names_and_rooms() -> None:
    from warroom.protocol import ProtocolError

    with pytest.raises(AuthError, match="bad name"):
        mint(b"s" * 32, "r", "two words", Role.VISITOR, 60, NOW)
    with pytest.raises(AuthError, match="bad name"):
        mint(b"s" * 32, "r", "hub", Role.CONDUCTOR, 60, NOW)  # the hub's own name
    with pytest.raises(ProtocolError):
        mint(b"s" * 32, "no/slashes", "ana", Role.VISITOR, 60, NOW)


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("30m", 1800), ("12h", 43200), ("7d", 604800)]
)
def test_ttl(text: str, seconds: int) -> None:
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["", "12", "0h", "-1h", "1y", "h"])
def test_bad_ttl(text: str) -> None:
    with pytest.raises(AuthError, match="bad duration"):
        parse_ttl(text)
