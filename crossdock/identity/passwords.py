"""Password hashing for web logins: scrypt from the standard library, salted per user."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import cache

# scrypt cost: ~50 ms and 16 MiB per check on this kind of machine (OWASP's minimum).
N, R, P = 2**14, 8, 1
SCHEME = "scrypt"


def hash_password(password: str) -> str:
    """A self-describing hash: `scrypt$n$r$p$salt$digest` (base64)."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, N, R, P)
    return "$".join([SCHEME, str(N), str(R), str(P), _b64(salt), _b64(digest)])


def password_matches(password: str, stored: str) -> bool:
    """Whether `password` hashes to `stored` (constant time)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != SCHEME:
        return False
    actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    return hmac.compare_digest(actual, base64.b64decode(digest))


@cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def dummy_check(password: str) -> None:
    """Spend what a real check costs, for an account that has no password to check."""
    password_matches(password, _dummy_hash())


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()
