"""Password hashing (Argon2id, argon2-cffi's defaults: RFC 9106's low-memory profile, 64 MiB,
3 passes) and the password rule.

``INSPECT_PASSWORD_HASH=cheapest`` selects argon2-cffi's CHEAPEST profile: for test suites only
(tests/conftest.py sets it), where hundreds of accounts are made; a hash made either way verifies
either way (the parameters are stored in the hash). argon2 is imported inside the functions:
`inspect --help` does not pay for it.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

PROFILE_ENV = "INSPECT_PASSWORD_HASH"

MIN_LENGTH = 10


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if password.strip() != password:
        return "a password cannot start or end with a space"
    if len(set(password)) < 4:
        return "a password needs at least 4 different characters"
    return None


@cache
def _hasher() -> Any:
    from argon2 import PasswordHasher, profiles

    if os.environ.get(PROFILE_ENV) == "cheapest":
        return PasswordHasher.from_parameters(profiles.CHEAPEST)
    return PasswordHasher()


def hash_password(password: str) -> str:
    return str(_hasher().hash(password))


def verify_password(stored_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(stored_hash, password))
    except (VerificationError, InvalidHashError):
        return False


# A hash to verify against when the account does not exist, so that a wrong name and a wrong
# password take the same time (no account enumeration by timing).
@cache
def dummy_hash() -> str:
    return hash_password("inspect-kit: no such account")
