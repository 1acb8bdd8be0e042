"""Signed tokens (JWT, HS256) naming a room, a person and a role, and the hub's secret.

JWT is a published format, so a client or bot in another language can inspect its own token.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import jwt

from warroom.core import Role
from warroom.protocol import check_room

SECRET_FILE = "secret.key"
_ALGORITHM = "HS256"
# The hub signs its own events as "hub"; nobody else may, in any case.
RESERVED_NAMES = frozenset({"hub"})
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,39}")
_TTL = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class AuthError(Exception):
    """A token or secret that cannot be used; the message says why, for people."""


@dataclass(frozen=True, slots=True)
class Claims:
    """What a valid token grants; `id` and `issued` let it be revoked."""

    room: str
    name: str
    role: Role
    expires: float
    id: str = ""
    issued: float = 0.0
    rerole: bool = False  # the operator let this token give its person a new role


def is_name(name: object) -> bool:
    """Whether `name` can name a person: the whole of it, and not a reserved name."""
    return (
        isinstance(name, str)
        and _NAME.fullmatch(name) is not None
        and name.lower() not in RESERVED_NAMES
    )


def load_or_create_secret(data_dir: Path, secret_file: Path | None = None) -> bytes:
    """Read the signing secret, creating `data_dir/secret.key` (mode 0600) on first use."""
    if secret_file is not None:
        try:
            secret = secret_file.read_bytes().strip()
        except OSError as exc:
            raise AuthError(f"cannot read secret file {secret_file}: {exc.strerror}") from None
        if len(secret) < 16:
            raise AuthError(f"secret file {secret_file} holds fewer than 16 bytes")
        return secret
    path = data_dir / SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_or_create_secret(data_dir, path)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")
    return path.read_bytes().strip()


def parse_ttl(text: str) -> int:
    """Seconds in a duration such as 90s, 30m, 12h or 7d."""
    match = _TTL.fullmatch(text.strip())
    if not match or int(match.group(1)) == 0:
        raise AuthError(f"bad duration {text!r}: use a number and s, m, h or d, for example 12h")
    return int(match.group(1)) * _UNITS[match.group(2)]


def check_name(name: str) -> str:
    """Return `name` if it can name a person: 1-40 of letters, digits, '.', '_', '@', '-'."""
    if not is_name(name):
        raise AuthError(f"bad name {name!r}: use 1-40 letters, digits, '.', '_', '@' or '-'")
    return name


def mint(
    secret: bytes,
    room: str,
    name: str,
    role: Role,
    ttl: int,
    now: float,
    *,
    token_id: str | None = None,
    rerole: bool = False,
) -> str:
    """A token for `name` as `role` in `room`, valid for `ttl` seconds from `now`, with a
    random id (`jti`) to revoke it by; `rerole` lets it change the person's role."""
    check_room(room)
    check_name(name)
    claims: dict[str, object] = {
        "room": room,
        "sub": name,
        "role": role.value,
        # To the millisecond: a token minted just after a revocation of its person (in the
        # same second) must not read as issued before it.
        "iat": round(now, 3),
        "exp": int(now + ttl),
        "jti": token_id or secrets.token_hex(8),
    }
    if rerole:
        claims["rerole"] = True
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def token_id(token: str) -> str:
    """The id (`jti`) a token carries, read without checking it; "" when it has none."""
    claims = peek(token)
    jti = claims.get("jti", "")
    return jti if isinstance(jti, str) else ""


def peek(token: str) -> dict[str, object]:
    """A token's claims, unverified: only for saying whom a refused token named."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}


def verify(secret: bytes, token: str, room: str, now: float) -> Claims:
    """The claims of a token valid now for `room`; raises AuthError saying what is wrong."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "require": ["exp", "sub", "room", "role"],
            },
        )
    except jwt.InvalidSignatureError:
        raise AuthError("token signature is not valid for this hub") from None
    except jwt.PyJWTError as exc:
        raise AuthError(f"token is malformed: {exc}") from None
    # Expiry is checked here, against the caller's clock, so tests need not sleep.
    exp = claims["exp"]
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise AuthError("token is malformed: exp is not a number")
    if exp <= now:
        raise AuthError("token has expired; ask for a new one")
    if claims["room"] != room:
        raise AuthError(f"token is for room {claims['room']!r}, not {room!r}")
    try:
        role = Role(claims["role"])
    except ValueError:
        raise AuthError(f"token names an unknown role {claims['role']!r}") from None
    name = claims["sub"]
    if not is_name(name):
        raise AuthError("token names no valid person")
    jti, iat = claims.get("jti", ""), claims.get("iat", 0)
    if not isinstance(jti, str) or len(jti) > 64:
        raise AuthError("token is malformed: jti is not a short string")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise AuthError("token is malformed: iat is not a number")
    return Claims(room, name, role, float(exp), jti, float(iat), claims.get("rerole") is True)
