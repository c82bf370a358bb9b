"""API tokens: random bearer secrets shown once; only their SHA-256 is stored (app.api_tokens). Each expires
(TOKEN_DEFAULT_LIFETIME unless asked otherwise, at most TOKEN_MAX_LIFETIME)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from auth import audit
from auth.errors import TokenExpired, UserError
from auth.users import User, get_user
from data.engine import psycopg_connection
from data.sqlfiles import read_sql

PREFIX = "rdt_"  # makes a leaked token easy to recognise in logs and secret scanners
TOKEN_DEFAULT_LIFETIME = timedelta(days=90)
TOKEN_MIN_LIFETIME = timedelta(days=1)
TOKEN_MAX_LIFETIME = timedelta(days=365)


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown about a token: never its secret or hash."""

    id: int
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    revoked_at: datetime | None


def utc_minute(moment: datetime) -> str:
    """`2026-12-03T08:10Z`: how token times are shown."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(engine: Engine, user: User, *, expires_in: timedelta = TOKEN_DEFAULT_LIFETIME,
                 actor_id: int | None = None, ip: str | None = None) -> str:
    """A new token for `user`, valid for `expires_in` (1 to 365 days); the clear value is returned once and never
    stored."""
    if not TOKEN_MIN_LIFETIME <= expires_in <= TOKEN_MAX_LIFETIME:
        raise UserError(f"a token expires between {TOKEN_MIN_LIFETIME.days} and {TOKEN_MAX_LIFETIME.days} days "
                        f"after it is created, not {expires_in.days} days")
    token = PREFIX + secrets.token_urlsafe(32)
    params = {"user_id": user.id, "token_hash": hash_token(token), "seconds": expires_in.total_seconds()}
    with psycopg_connection(engine) as conn:
        token_id, expires_at = conn.execute(read_sql("queries/token_create.sql"), params).fetchone()
    details = {"change": "create", "token_id": token_id, "expires_at": utc_minute(expires_at)}
    audit.record(engine, "token_change", user_id=actor_id, target=user.email, details=details, ip=ip)
    return token


def list_tokens(engine: Engine, user: User) -> list[TokenInfo]:
    """Every token of `user` (live, expired and revoked), oldest first."""
    with psycopg_connection(engine) as conn:
        rows = conn.execute(read_sql("queries/token_list.sql"), {"user_id": user.id}).fetchall()
    return [TokenInfo(*row) for row in rows]


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
    """The active owner of a live token, or None; TokenExpired (401, saying when) for an expired one. Records when
    the token was last used (at most once a minute)."""
    if not token.startswith(PREFIX):
        return None
    with psycopg_connection(engine) as conn:
        row = conn.execute(read_sql("queries/token_lookup.sql"), {"token_hash": hash_token(token)}).fetchone()
        if row is None:
            return None
        token_id, user_id, expires_at, expired = row
        if expired:
            raise TokenExpired(f"this API token expired at {utc_minute(expires_at)}; ask an admin for a new one")
        conn.execute(
            """
            update app.api_tokens set last_used_at = now()
            where id = %s and (last_used_at is null or last_used_at < now() - interval '1 minute')
            """,
            (token_id,),
        )
    return get_user(engine, user_id)
