"""auth/passwords.py: argon2id hashes, constant-cost failures, a minimum length."""

from __future__ import annotations

from auth.passwords import check_strength, hash_password, needs_rehash, verify_password


def test_hash_is_argon2id_and_verifies() -> None:
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert "correct horse battery" not in hashed
    assert verify_password(hashed, "correct horse battery")
    assert not verify_password(hashed, "Correct horse battery")
    assert not needs_rehash(hashed)


def test_missing_or_garbage_hash_never_verifies() -> None:
    assert not verify_password(None, "not-a-real-password")
    assert not verify_password("plain text", "plain text")


def test_short_passwords_are_refused() -> None:
    assert check_strength("1234567") is not None
    assert check_strength("12345678") is None


def test_parameters_are_owasp_minimum_for_argon2id() -> None:
    from argon2 import extract_parameters

    params = extract_parameters(hash_password("correct horse battery"))
    assert (params.memory_cost, params.time_cost, params.parallelism) == (19_456, 2, 1)


def test_hash_with_old_parameters_verifies_and_needs_rehash() -> None:
    from argon2 import PasswordHasher

    old = PasswordHasher().hash("correct horse battery")  # argon2-cffi's defaults: 64 MiB, t=3, p=4
    assert verify_password(old, "correct horse battery")
    assert not verify_password(old, "wrong horse battery")
    assert needs_rehash(old)
    assert needs_rehash("not a hash")
