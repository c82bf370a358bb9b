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
