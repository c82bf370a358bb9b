"""Argon2id password hashing. Clear passwords are only ever held in local variables, never logged or stored.

Parameters: argon2id with m = 19 MiB (19,456 KiB), t = 2 passes, p = 1 lane: the minimum configuration the OWASP
Password Storage Cheat Sheet recommends for argon2id. argon2-cffi's defaults (64 MiB, t = 3, p = 4 lanes run on
four threads) cost about 240 ms of CPU per verification on the 2-core machines this runs on, against 27 ms here
(docs/PERFORMANCE.md): a burst of 100 sign-ins took both cores for about 20 s and starved every page request.

Hashes made with other parameters (the old defaults) still verify, since a hash carries its own parameters, and
`needs_rehash` tells auth.users.authenticate to store a new hash on the next successful sign-in.

Each process hashes at most HASH_SLOTS passwords at a time: argon2 runs outside the GIL, so without a bound a
sign-in burst would put as many hashing threads on the cores as there are request threads, and the page requests
of the same process would wait for the cores behind them. A sign-in waits for a slot instead.
"""

from __future__ import annotations

import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
# OWASP's minimum for argon2id: 19 MiB, 2 iterations, 1 degree of parallelism.
TIME_COST = 2
MEMORY_COST_KIB = 19_456
PARALLELISM = 1
HASH_SLOTS = 1  # concurrent hashes per process

_hasher = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM)
_slots = threading.BoundedSemaphore(HASH_SLOTS)
# Verified against when the email is unknown, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    with _slots:
        return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; a missing hash still spends one verification (no timing oracle)."""
    try:
        with _slots:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other parameters than the current ones (e.g. argon2-cffi's defaults)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def check_strength(password: str) -> str | None:
    """The reason a new password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"password must be at least {MIN_LENGTH} characters"
    return None
