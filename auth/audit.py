"""The audit log (app.audit_log): who did what, from where. Details never hold secrets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Engine

from data.engine import psycopg_connection

ACTIONS: tuple[str, ...] = (
    "login", "login_failed", "logout", "export", "refresh", "unmasked_view", "user_change", "token_change",
)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    user_id: int | None
    user_email: str | None
    action: str
    target: str | None
    details: dict[str, Any]
    ip: str | None


def record(
    engine: Engine,
    action: str,
    *,
    user_id: int | None = None,
    target: str | None = None,
    details: dict[str, Any] | None = None,
    ip: str | None = None,
) -> None:
    """Append one entry; `action` is one of ACTIONS."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    with psycopg_connection(engine) as conn:
        conn.execute(
            "insert into app.audit_log (user_id, action, target, details, ip) values (%s, %s, %s, %s, %s)",
            (user_id, action, target, Jsonb(details or {}), ip),
        )


def list_recent(engine: Engine, limit: int = 100, *, action: str | None = None) -> list[AuditEntry]:
    """The newest entries first, with the acting user's email."""
    with psycopg_connection(engine) as conn:
        rows = conn.execute(
            """
            select a.id, a.at, a.user_id, u.email, a.action, a.target, a.details, a.ip
            from app.audit_log a left join app.users u on u.id = a.user_id
            where %(action)s::text is null or a.action = %(action)s
            order by a.at desc, a.id desc
            limit %(limit)s
            """,
            {"action": action, "limit": limit},
        ).fetchall()
    return [AuditEntry(*row) for row in rows]
