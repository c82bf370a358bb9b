"""auth/demo.py: one demo user per role, printed with their passwords, idempotent."""

from __future__ import annotations

from sqlalchemy import Engine

from auth.demo import DEMO_USERS, ensure_demo_users
from auth.users import authenticate, list_users
from data.engine import psycopg_connection


def test_demo_users_are_created_once_and_can_sign_in(empty_engine: Engine) -> None:
    with psycopg_connection(empty_engine) as conn:
        conn.execute("insert into recruiting.facilities (id, name) values (1, 'North'), (2, 'South'), (3, 'East')")
    first = ensure_demo_users(empty_engine)
    assert ensure_demo_users(empty_engine) == first
    assert len(first) == 3 and all(password in line for line, (_, _, password) in zip(first, DEMO_USERS, strict=True))
    users = {u.email: u for u in list_users(empty_engine)}
    assert {email: users[email].role for email, _, _ in DEMO_USERS} == {
        "admin@demo.local": "admin", "recruiter@demo.local": "recruiter", "viewer@demo.local": "viewer",
    }
    assert users["recruiter@demo.local"].facility_ids == (1, 2)
    for email, _, password in DEMO_USERS:
        assert authenticate(empty_engine, email, password) is not None
