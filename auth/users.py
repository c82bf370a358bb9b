"""The user store (app.users, app.user_facilities). Emails are case-insensitive and stored lower-case."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import psycopg
from sqlalchemy import Engine

from auth import audit
from auth.errors import UserError, UserNotFound
from auth.passwords import check_strength, hash_password, needs_rehash, verify_password
from data.engine import psycopg_connection

ROLES: tuple[str, ...] = ("admin", "recruiter", "viewer")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")
_SELECT = """
    select u.id, u.email, u.role, u.active, u.created_at, u.last_login_at, u.session_version,
           coalesce(array_agg(f.facility_id order by f.facility_id)
                    filter (where f.facility_id is not null), '{}') as facility_ids
    from app.users u left join app.user_facilities f on f.user_id = u.id
"""


@dataclass(frozen=True)
class User:
    """A signed-in principal; also the object Flask-Login keeps as `current_user`."""

    id: int
    email: str
    role: str
    active: bool
    facility_ids: tuple[int, ...] = ()
    created_at: datetime | None = None
    last_login_at: datetime | None = None
    session_version: int = 1  # sessions issued under another version are over (auth/sessions.py)

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_authenticated(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


def normalize_email(email: str) -> str:
    """Trim and lower-case; refuse anything that is not one `local@domain`."""
    value = (email or "").strip().lower()
    if len(value) > 254 or not _EMAIL_RE.match(value):
        raise UserError(f"not a valid email address: {email!r}")
    return value


def get_user(engine: Engine, user_id: int) -> User | None:
    return _fetch_one(engine, "where u.id = %s group by u.id", (user_id,))


def get_user_by_email(engine: Engine, email: str) -> User | None:
    return _fetch_one(engine, "where lower(u.email) = lower(%s) group by u.id", ((email or "").strip(),))


def require_user(engine: Engine, email: str) -> User:
    user = get_user_by_email(engine, email)
    if user is None:
        raise UserNotFound(f"no user with email {email.strip()!r}")
    return user


def list_users(engine: Engine) -> list[User]:
    with psycopg_connection(engine) as conn:
        rows = conn.execute(_SELECT + " group by u.id order by lower(u.email)").fetchall()
    return [_user(row) for row in rows]


def create_user(
    engine: Engine,
    email: str,
    password: str,
    role: str,
    facility_ids: Iterable[int] = (),
    *,
    actor_id: int | None = None,
    ip: str | None = None,
) -> User:
    """Create an active user; refused (UserError) on a bad email, role, password or facility list."""
    address = normalize_email(email)
    facilities = _check_facilities(engine, role, facility_ids)
    problem = check_strength(password)
    if problem:
        raise UserError(problem)
    try:
        with psycopg_connection(engine) as conn:
            user_id = conn.execute(
                "insert into app.users (email, password_hash, role) values (%s, %s, %s) returning id",
                (address, hash_password(password), role),
            ).fetchone()[0]
            _write_facilities(conn, user_id, facilities)
    except psycopg.errors.UniqueViolation:
        raise UserError(f"a user with email {address!r} already exists") from None
    details = {"change": "create", "role": role, "facility_ids": list(facilities)}
    audit.record(engine, "user_change", user_id=actor_id, target=address, details=details, ip=ip)
    return get_user(engine, user_id)


def set_facilities(
    engine: Engine, email: str, facility_ids: Iterable[int], *, actor_id: int | None = None, ip: str | None = None
) -> User:
    """Replace a recruiter's facility assignments."""
    user = require_user(engine, email)
    facilities = _check_facilities(engine, user.role, facility_ids)
    with psycopg_connection(engine) as conn:
        conn.execute("delete from app.user_facilities where user_id = %s", (user.id,))
        _write_facilities(conn, user.id, facilities)
    details = {"change": "set_facilities", "facility_ids": list(facilities)}
    audit.record(engine, "user_change", user_id=actor_id, target=user.email, details=details, ip=ip)
    return get_user(engine, user.id)


def deactivate_user(engine: Engine, email: str, *, actor_id: int | None = None, ip: str | None = None) -> User:
    """Deactivate a user and revoke their API tokens; sessions stop working on the next request."""
    user = require_user(engine, email)
    with psycopg_connection(engine) as conn:
        conn.execute("update app.users set active = false where id = %s", (user.id,))
        revoked = conn.execute(
            "update app.api_tokens set revoked_at = now() where user_id = %s and revoked_at is null", (user.id,)
        ).rowcount
    details = {"change": "deactivate", "tokens_revoked": revoked}
    audit.record(engine, "user_change", user_id=actor_id, target=user.email, details=details, ip=ip)
    return get_user(engine, user.id)


def set_password(
    engine: Engine, email: str, password: str, *, actor_id: int | None = None, ip: str | None = None
) -> User:
    user = require_user(engine, email)
    problem = check_strength(password)
    if problem:
        raise UserError(problem)
    with psycopg_connection(engine) as conn:
        conn.execute("update app.users set password_hash = %s where id = %s", (hash_password(password), user.id))
    audit.record(engine, "user_change", user_id=actor_id, target=user.email, details={"change": "password"}, ip=ip)
    return user


def authenticate(engine: Engine, email: str, password: str) -> User | None:
    """The active user with these credentials, or None; an unknown email costs as much as a wrong password.

    No pooled connection is held while the password is verified (tens of ms, maybe waiting for a hashing slot)."""
    with psycopg_connection(engine) as conn:
        row = conn.execute(
            "select id, password_hash, active from app.users where lower(email) = lower(%s)",
            ((email or "").strip(),),
        ).fetchone()
    stored = row[1] if row else None
    if not verify_password(stored, password) or not row[2]:
        return None
    fresh = hash_password(password) if needs_rehash(stored) else None
    with psycopg_connection(engine) as conn:
        if fresh is not None:
            conn.execute("update app.users set password_hash = %s where id = %s and password_hash = %s",
                         (fresh, row[0], stored))
        conn.execute("update app.users set last_login_at = now() where id = %s", (row[0],))
    return get_user(engine, row[0])


def _check_facilities(engine: Engine, role: str, facility_ids: Iterable[int]) -> tuple[int, ...]:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    facilities = tuple(sorted(set(facility_ids)))
    if role == "recruiter" and not facilities:
        raise UserError("a recruiter needs at least one facility")
    if role != "recruiter" and facilities:
        article = "an" if role[0] in "aeiou" else "a"
        raise UserError(f"only recruiters are assigned facilities; {article} {role} sees every facility")
    with psycopg_connection(engine) as conn:
        known = {r[0] for r in conn.execute(
            "select id from recruiting.facilities where id = any(%s)", (list(facilities),)
        ).fetchall()}
    unknown = [f for f in facilities if f not in known]
    if unknown:
        raise UserError(f"unknown facility id(s): {', '.join(map(str, unknown))}")
    return facilities


def _write_facilities(conn: psycopg.Connection, user_id: int, facilities: tuple[int, ...]) -> None:
    if facilities:
        with conn.cursor() as cur:
            cur.executemany(
                "insert into app.user_facilities (user_id, facility_id) values (%s, %s)",
                [(user_id, f) for f in facilities],
            )


def _fetch_one(engine: Engine, where: str, params: tuple) -> User | None:
    with psycopg_connection(engine) as conn:
        row = conn.execute(_SELECT + where, params).fetchone()
    return _user(row) if row else None


def _user(row: tuple) -> User:
    user_id, email, role, active, created_at, last_login_at, session_version, facility_ids = row
    return User(user_id, email, role, active, tuple(facility_ids), created_at, last_login_at, session_version)
