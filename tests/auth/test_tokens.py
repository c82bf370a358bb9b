"""auth/tokens.py: bearer tokens stored as SHA-256 only, revocable, dead with their user."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import Engine

from auth.tokens import PREFIX, create_token, revoke_tokens, user_for_token
from auth.users import User, create_user, deactivate_user
from data.engine import psycopg_connection


@pytest.fixture
def user(empty_engine: Engine) -> User:
    return create_user(empty_engine, "api@x.org", "correct horse battery", "viewer")


def token_rows(engine: Engine) -> list[tuple]:
    with psycopg_connection(engine) as conn:
        return conn.execute("select token_hash, last_used_at, revoked_at from app.api_tokens order by id").fetchall()


def test_only_the_hash_is_stored(empty_engine: Engine, user: User) -> None:
    token = create_token(empty_engine, user)
    assert token.startswith(PREFIX) and len(token) > 40
    [(stored, last_used, revoked)] = token_rows(empty_engine)
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    assert last_used is None and revoked is None


def test_token_authenticates_and_records_use(empty_engine: Engine, user: User) -> None:
    token = create_token(empty_engine, user)
    assert user_for_token(empty_engine, token) == user
    assert token_rows(empty_engine)[0][1] is not None
    assert user_for_token(empty_engine, token + "x") is None
    assert user_for_token(empty_engine, "not-a-token") is None


def test_revoke_kills_every_token_of_the_user(empty_engine: Engine, user: User) -> None:
    first, second = create_token(empty_engine, user), create_token(empty_engine, user)
    assert revoke_tokens(empty_engine, user) == 2
    assert user_for_token(empty_engine, first) is None
    assert user_for_token(empty_engine, second) is None
    assert revoke_tokens(empty_engine, user) == 0


def test_deactivation_kills_tokens(empty_engine: Engine, user: User) -> None:
    token = create_token(empty_engine, user)
    deactivate_user(empty_engine, user.email)
    assert user_for_token(empty_engine, token) is None
    assert token_rows(empty_engine)[0][2] is not None


def test_token_changes_are_audited(empty_engine: Engine, user: User) -> None:
    create_token(empty_engine, user, actor_id=user.id, ip="10.1.2.3")
    revoke_tokens(empty_engine, user)
    with psycopg_connection(empty_engine) as conn:
        rows = conn.execute(
            "select action, target, details->>'change', ip from app.audit_log where action = 'token_change' order by id"
        ).fetchall()
    assert rows == [("token_change", "api@x.org", "create", "10.1.2.3"), ("token_change", "api@x.org", "revoke", None)]
