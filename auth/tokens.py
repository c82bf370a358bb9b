"""API tokens: random bearer secrets shown once; only their SHA-256 is stored (app.api_tokens)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import Engine

from auth import audit
from auth.users import User, get_user
from data.engine import psycopg_connection

PREFIX = "rdt_"  # makes a leaked token easy to recognise in logs and secret scanners


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(engine: Engine, user: User, *, actor_id: int | None = None, ip: str | None = None) -> str:
    """A new token for `user`; the clear value is returned once and never stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    with psycopg_connection(engine) as conn:
        token_id = conn.execute(
            "insert into app.api_tokens (user_id, token_hash) values (%s, %s) returning id",
            (user.id, hash_token(token)),
        ).fetchone()[0]
    details = {"change": "create", "token_id": token_id}
    audit.record(engine, "token_change", user_id=actor_id, target=user.email, details=details, ip=ip)
    return token


def revoke_tokens(engine: Engine, user: User, *, actor_id: int | None = None, ip: str | None = None) -> int:
    """Revoke every live token of `user`; returns how many were revoked."""
    with psycopg_connection(engine) as conn:
        revoked = conn.execute(
            "update app.api_tokens set revoked_at = now() where user_id = %s and revoked_at is null", (user.id,)
        ).rowcount
    details = {"change": "revoke", "revoked": revoked}
    audit.record(engine, "token_change", user_id=actor_id, target=user.email, details=details, ip=ip)
    return revoked


def user_for_token(engine: Engine, token: str) -> User | None:
    """The active owner of a live token, or None; records when the token was last used (at most once a minute)."""
    if not token.startswith(PREFIX):
        return None
    with psycopg_connection(engine) as conn:
        row = conn.execute(
            """
            select t.id, t.user_id from app.api_tokens t join app.users u on u.id = t.user_id
            where t.token_hash = %s and t.revoked_at is null and u.active
            """,
            (hash_token(token),),
        ).fetchone()
        if row is None:
            return None
        conn.execute(
            """
            update app.api_tokens set last_used_at = now()
            where id = %s and (last_used_at is null or last_used_at < now() - interval '1 minute')
            """,
            (row[0],),
        )
    return get_user(engine, row[1])
