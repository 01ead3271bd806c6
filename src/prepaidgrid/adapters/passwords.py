"""Passwords hashed with argon2id (argon2-cffi; its defaults follow RFC 9106's second
recommendation: 64 MiB, 3 passes). The hash string carries its parameters and salt."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Hasher:
    """The services' PasswordHasher port. Lower costs are for tests only."""

    def __init__(self, *, time_cost: int = 3, memory_cost_kib: int = 65_536) -> None:
        self._argon2 = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost_kib, type=Type.ID
        )

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
