"""Sessions that end: every signed session cookie carries the user's session version and when it started.

A cookie is honoured only while its version equals the user's `app.users.session_version` (sign-out bumps it;
triggers bump it on any password, role, active-flag or facility change, see sql/009_session_versions.sql) and it is
younger than SESSION_MAX_HOURS. The idle timeout (SESSION_IDLE_MINUTES) is the cookie signature's own age limit.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from flask import session
from sqlalchemy import Engine

from auth.users import User
from data.engine import psycopg_connection
from data.sqlfiles import read_sql

VERSION_KEY = "_session_version"
STARTED_KEY = "_session_started"


def start_session(user: User) -> None:
    """Stamp the (fresh, signed-in) session with `user`'s session version and the time it started."""
    session[VERSION_KEY] = user.session_version
    session[STARTED_KEY] = int(time.time())


def within_lifetime(data: Mapping[str, Any], max_hours: int, now: float | None = None) -> bool:
    """Whether the session `data` started less than `max_hours` ago (no database: the live poll uses this alone)."""
    started = data.get(STARTED_KEY)
    if not isinstance(started, int) or isinstance(started, bool):
        return False
    age = (time.time() if now is None else now) - started
    return -60 <= age < max_hours * 3600


def is_current(data: Mapping[str, Any], user: User, max_hours: int) -> bool:
    """Whether the session `data` still speaks for `user`: same session version, within the absolute lifetime."""
    version = data.get(VERSION_KEY)
    return (isinstance(version, int) and version == user.session_version and user.active
            and within_lifetime(data, max_hours))


def end_sessions(engine: Engine, user_id: int) -> None:
    """End every session of this user, wherever its cookies are."""
    with psycopg_connection(engine) as conn:
        conn.execute(read_sql("queries/end_sessions.sql"), {"user_id": user_id})
