"""Password hashing with Argon2id (argon2-cffi): memory-hard, salted, and self-describing,
so parameters can be raised later and old hashes still verify (and get rehashed)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 8
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    return str(_HASHER.hash(password))


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return bool(_HASHER.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False
