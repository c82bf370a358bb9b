"""Sessions that end (issue 12, item 1): sign-out, account changes and the absolute lifetime end every copy."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from auth.context import services_of
from auth.sessions import STARTED_KEY
from auth.users import deactivate_user, set_facilities, set_password
from data.engine import psycopg_connection


def engine_of(app):
    return services_of(app.server).engine


def signed_in(app, auth, make_user, role: str = "viewer", facilities: tuple[int, ...] = ()):
    user, password = make_user(role, facilities=facilities)
    assert auth.login(user.email, password).status_code == 302
    return user, password


def assert_cookie_deleted(response) -> None:
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("session=;") and "Expires=Thu, 01 Jan 1970" in c for c in cookies), cookies


def test_replayed_cookie_after_sign_out_is_refused(app, client, auth, make_user) -> None:
    signed_in(app, auth, make_user)
    copied = client.get_cookie("session").value
    assert client.get("/_dash-layout").status_code == 200
    assert auth.logout().status_code == 302
    client.set_cookie("session", copied)
    replayed = client.get("/_dash-layout")
    assert replayed.status_code == 401
    assert_cookie_deleted(replayed)
    client.set_cookie("session", copied)
    assert client.get("/pipeline").headers["Location"].startswith("/login")


def test_sign_out_ends_every_other_session_of_the_user(app, client, auth, make_user) -> None:
    from tests.conftest import AuthActions

    user, password = signed_in(app, auth, make_user)
    other = app.server.test_client()
    other.environ_base["REMOTE_ADDR"] = client.environ_base["REMOTE_ADDR"]
    assert AuthActions(other).login(user.email, password).status_code == 302
    assert other.get("/_dash-layout").status_code == 200
    auth.logout()
    assert other.get("/_dash-layout").status_code == 401


def _sql(statement: str) -> Callable:
    def change(engine, user) -> None:
        with psycopg_connection(engine) as conn:
            conn.execute(statement, (user.id,))

    return change


ACCOUNT_CHANGES: dict[str, Callable] = {
    "password": lambda engine, user: set_password(engine, user.email, "a brand new passphrase"),
    "deactivation": lambda engine, user: deactivate_user(engine, user.email),
    "facilities": lambda engine, user: set_facilities(engine, user.email, (1, 2)),
    "sql role": _sql("update app.users set role = 'viewer' where id = %s"),
    "sql password": _sql("update app.users set password_hash = password_hash || 'x' where id = %s"),
    "sql active": _sql("update app.users set active = false where id = %s"),
    "sql facility added": _sql("insert into app.user_facilities (user_id, facility_id) values (%s, 3)"),
    "sql facility removed": _sql("delete from app.user_facilities where user_id = %s and facility_id = 1"),
}


@pytest.mark.parametrize("change", list(ACCOUNT_CHANGES))
def test_each_account_change_ends_the_session(app, client, auth, make_user, change: str) -> None:
    user, _ = signed_in(app, auth, make_user, "recruiter", (1,))
    assert client.get("/_dash-layout").status_code == 200
    ACCOUNT_CHANGES[change](engine_of(app), user)
    assert client.get("/_dash-layout").status_code == 401


def test_unrelated_changes_keep_the_session(app, client, auth, make_user) -> None:
    from tests.conftest import AuthActions

    user, password = signed_in(app, auth, make_user)
    other = app.server.test_client()
    other.environ_base["REMOTE_ADDR"] = client.environ_base["REMOTE_ADDR"]
    AuthActions(other).login(user.email, password)  # a second sign-in only records last_login_at
    with psycopg_connection(engine_of(app)) as conn:
        conn.execute("update app.users set email = email where id = %s", (user.id,))
    assert client.get("/_dash-layout").status_code == 200
    assert other.get("/_dash-layout").status_code == 200


def _aged(app, client, hours: float) -> str:
    serializer = app.server.session_interface.get_signing_serializer(app.server)
    data = serializer.loads(client.get_cookie("session").value)
    data[STARTED_KEY] = int(time.time() - hours * 3600)
    return serializer.dumps(data)


@pytest.mark.parametrize(("hours", "status"), [(11.9, 200), (12.1, 401)])
def test_sessions_end_after_session_max_hours(app, client, auth, make_user, hours: float, status: int) -> None:
    assert services_of(app.server).settings.session_max_hours == 12
    signed_in(app, auth, make_user)
    client.set_cookie("session", _aged(app, client, hours))
    assert client.get("/_dash-layout").status_code == status


@pytest.mark.parametrize(("hours", "status"), [(11.9, 200), (12.1, 401)])
def test_live_polling_also_ends_after_session_max_hours(app, client, auth, make_user, hours: float,
                                                         status: int) -> None:
    signed_in(app, auth, make_user)
    client.set_cookie("session", _aged(app, client, hours))
    assert client.get("/api/v1/live").status_code == status


def test_a_cookie_without_the_session_fields_is_refused(app, client, auth, make_user) -> None:
    signed_in(app, auth, make_user)
    serializer = app.server.session_interface.get_signing_serializer(app.server)
    data = serializer.loads(client.get_cookie("session").value)
    client.set_cookie("session", serializer.dumps({"_user_id": data["_user_id"], "_fresh": True}))
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/api/v1/live").status_code == 401
