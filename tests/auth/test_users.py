"""auth/users.py and auth/audit.py against a real database: the user store's rules and its audit trail."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import Engine

from auth import audit
from auth.errors import UserError, UserNotFound
from auth.users import (
    authenticate,
    create_user,
    deactivate_user,
    get_user,
    get_user_by_email,
    list_users,
    set_facilities,
    set_password,
)
from data.engine import psycopg_connection

PASSWORD = "s3cret-Passphrase!"


@pytest.fixture
def engine(empty_engine: Engine) -> Engine:
    with psycopg_connection(empty_engine) as conn:
        conn.execute("insert into recruiting.facilities (id, name) values (1, 'North'), (2, 'South'), (3, 'East')")
    return empty_engine


def stored_hash(engine: Engine, user_id: int) -> str:
    with psycopg_connection(engine) as conn:
        return conn.execute("select password_hash from app.users where id = %s", (user_id,)).fetchone()[0]


def test_create_and_get_is_case_insensitive(engine: Engine) -> None:
    user = create_user(engine, "  Ann.Lee@Example.ORG ", PASSWORD, "recruiter", [2, 1])
    assert (user.email, user.role, user.active, user.facility_ids) == ("ann.lee@example.org", "recruiter", True, (1, 2))
    assert get_user_by_email(engine, "ANN.LEE@example.org") == user
    assert get_user(engine, user.id) == user
    with pytest.raises(UserError, match="already exists"):
        create_user(engine, "ann.lee@EXAMPLE.org", PASSWORD, "viewer")


@pytest.mark.parametrize(
    ("email", "role", "facilities", "message"),
    [
        ("r@x.org", "recruiter", [], "recruiter needs at least one facility"),
        ("r@x.org", "recruiter", [1, 99], "unknown facility id\\(s\\): 99"),
        ("v@x.org", "viewer", [1], "only recruiters are assigned facilities"),
        ("v@x.org", "owner", [], "role must be one of"),
        ("not-an-email", "viewer", [], "not a valid email"),
    ],
)
def test_refused_creations(engine: Engine, email: str, role: str, facilities: list[int], message: str) -> None:
    with pytest.raises(UserError, match=message):
        create_user(engine, email, PASSWORD, role, facilities)
    assert list_users(engine) == []


def test_short_password_is_refused(engine: Engine) -> None:
    with pytest.raises(UserError, match="at least 8"):
        create_user(engine, "v@x.org", "short", "viewer")


def test_password_is_stored_as_argon2_and_never_logged(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    user = create_user(engine, "v@x.org", PASSWORD, "viewer")
    assert authenticate(engine, "V@X.org", PASSWORD) == get_user(engine, user.id)
    assert authenticate(engine, "v@x.org", PASSWORD + "x") is None
    hashed = stored_hash(engine, user.id)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    assert PASSWORD not in caplog.text
    with psycopg_connection(engine) as conn:
        audit_text = str(conn.execute("select details, target from app.audit_log").fetchall())
    assert PASSWORD not in audit_text


def test_authenticate_records_last_login_and_refuses_unknown_and_inactive(engine: Engine) -> None:
    create_user(engine, "v@x.org", PASSWORD, "viewer")
    user = authenticate(engine, "v@x.org", PASSWORD)
    assert user is not None and user.last_login_at is not None
    assert authenticate(engine, "nobody@x.org", PASSWORD) is None
    deactivate_user(engine, "v@x.org")
    assert authenticate(engine, "v@x.org", PASSWORD) is None


def test_hash_with_old_parameters_is_replaced_on_next_sign_in(engine: Engine) -> None:
    from argon2 import PasswordHasher

    from auth.passwords import needs_rehash

    user = create_user(engine, "old@x.org", PASSWORD, "viewer")
    old = PasswordHasher().hash(PASSWORD)  # argon2-cffi's defaults, as hashes were made before
    with psycopg_connection(engine) as conn:
        conn.execute("update app.users set password_hash = %s where id = %s", (old, user.id))
    assert authenticate(engine, "old@x.org", PASSWORD) is not None
    fresh = stored_hash(engine, user.id)
    assert fresh != old and not needs_rehash(fresh)
    assert authenticate(engine, "old@x.org", PASSWORD) is not None
    assert stored_hash(engine, user.id) == fresh


def test_set_facilities_replaces_assignments(engine: Engine) -> None:
    create_user(engine, "r@x.org", PASSWORD, "recruiter", [1])
    assert set_facilities(engine, "R@x.org", [3, 2]).facility_ids == (2, 3)
    with pytest.raises(UserError, match="at least one facility"):
        set_facilities(engine, "r@x.org", [])
    with pytest.raises(UserError, match="unknown facility"):
        set_facilities(engine, "r@x.org", [4])
    assert get_user_by_email(engine, "r@x.org").facility_ids == (2, 3)
    with pytest.raises(UserNotFound):
        set_facilities(engine, "ghost@x.org", [1])


def test_list_and_deactivate(engine: Engine) -> None:
    create_user(engine, "b@x.org", PASSWORD, "viewer")
    create_user(engine, "a@x.org", PASSWORD, "admin")
    assert deactivate_user(engine, "b@x.org").active is False
    assert [(u.email, u.active) for u in list_users(engine)] == [("a@x.org", True), ("b@x.org", False)]
    with pytest.raises(UserNotFound):
        deactivate_user(engine, "ghost@x.org")


def test_password_change_takes_effect(engine: Engine) -> None:
    create_user(engine, "v@x.org", PASSWORD, "viewer")
    set_password(engine, "v@x.org", "another passphrase")
    assert authenticate(engine, "v@x.org", PASSWORD) is None
    assert authenticate(engine, "v@x.org", "another passphrase") is not None


def test_every_change_is_audited_newest_first(engine: Engine) -> None:
    admin = create_user(engine, "a@x.org", PASSWORD, "admin")
    create_user(engine, "r@x.org", PASSWORD, "recruiter", [1], actor_id=admin.id, ip="10.0.0.9")
    set_facilities(engine, "r@x.org", [2], actor_id=admin.id)
    deactivate_user(engine, "r@x.org", actor_id=admin.id)
    entries = audit.list_recent(engine, 10, action="user_change")
    assert [e.details["change"] for e in entries] == ["deactivate", "set_facilities", "create", "create"]
    assert entries[0].user_email == "a@x.org" and entries[0].target == "r@x.org"
    assert entries[2].ip == "10.0.0.9" and entries[2].details["facility_ids"] == [1]
    assert len(audit.list_recent(engine, 2)) == 2


def test_audit_refuses_unknown_actions(engine: Engine) -> None:
    with pytest.raises(ValueError, match="unknown audit action"):
        audit.record(engine, "coffee_break")
