"""auth/tokens.py: bearer tokens stored as SHA-256 only, revocable, dead with their user."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from auth.errors import TokenExpired, UserError
from auth.tokens import PREFIX, create_token, hash_token, list_tokens, revoke_tokens, user_for_token
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


def expire(engine: Engine, minutes_ago: int = 1) -> None:
    with psycopg_connection(engine) as conn:
        conn.execute("update app.api_tokens set expires_at = now() - make_interval(mins => %s)", (minutes_ago,))


def test_tokens_expire_after_90_days_by_default(empty_engine: Engine, user: User) -> None:
    create_token(empty_engine, user)
    [listed] = list_tokens(empty_engine, user)
    assert abs(listed.expires_at - listed.created_at - timedelta(days=90)) < timedelta(seconds=5)


def test_an_expired_token_is_refused_with_when_it_expired(empty_engine: Engine, user: User) -> None:
    token = create_token(empty_engine, user, expires_in=timedelta(days=1))
    assert user_for_token(empty_engine, token) == user
    expire(empty_engine)
    with pytest.raises(TokenExpired, match=r"this API token expired at \d{4}-\d\d-\d\dT\d\d:\d\dZ"):
        user_for_token(empty_engine, token)


@pytest.mark.parametrize("days", [0, 366, -1])
def test_expiry_is_between_a_day_and_a_year(empty_engine: Engine, user: User, days: int) -> None:
    with pytest.raises(UserError, match="between 1 and 365 days"):
        create_token(empty_engine, user, expires_in=timedelta(days=days))


def test_list_tokens_never_shows_the_secret(empty_engine: Engine, user: User) -> None:
    first = create_token(empty_engine, user)
    create_token(empty_engine, user, expires_in=timedelta(days=7))
    user_for_token(empty_engine, first)
    revoke_tokens(empty_engine, user)
    listed = list_tokens(empty_engine, user)
    assert [t.id for t in listed] == sorted(t.id for t in listed)
    assert listed[0].last_used_at is not None and listed[1].last_used_at is None
    assert all(t.revoked_at is not None for t in listed)
    assert first not in repr(listed) and hash_token(first) not in repr(listed)
