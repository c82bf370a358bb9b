"""auth/views.py through the real app: the sign-in form, one answer for every failure, rate limits, sign-out."""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import pytest
import redis

from auth import audit
from auth.context import services_of
from auth.views import safe_next
from dashboard.security import LIMITER_KEY_PREFIX
from tests.conftest import csrf_headers


def engine_of(app):
    return services_of(app.server).engine


def normalized(body: str, email: str) -> str:
    """The page without what legitimately differs: the CSRF token and the echoed email."""
    body = re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "CSRF", body)
    return body.replace(email, "EMAIL")


def test_login_page_is_a_form_with_csrf(client) -> None:
    response = client.get("/login")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    for field in ('name="email"', 'name="password"', 'name="csrf_token"'):
        assert field in body


def test_success_redirects_to_next_and_sets_a_safe_session_cookie(app, client, auth, make_user) -> None:
    user, password = make_user("viewer")
    response = auth.login(user.email.upper(), password, next_url="/pipeline%3Ffacility_id%3D1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/pipeline?facility_id=1"
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    idle = timedelta(minutes=services_of(app.server).settings.session_idle_minutes)
    assert abs(expires - (datetime.now(UTC) + idle)) < timedelta(minutes=1)
    assert client.get("/_dash-layout").status_code == 200


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (None, "/"),
        ("/revenue?start=2026-01", "/revenue?start=2026-01"),
        ("//evil.example/x", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
    ],
)
def test_next_must_be_a_local_path(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_open_redirect_is_refused_end_to_end(client, auth, make_user) -> None:
    user, password = make_user("viewer")
    assert auth.login(user.email, password, next_url="//evil.example").headers["Location"] == "/"


def test_wrong_password_and_unknown_email_get_the_same_answer(app, client, auth, make_user) -> None:
    user, _ = make_user("viewer")
    unknown = f"nobody-{uuid.uuid4().hex[:8]}@test.example"
    wrong = auth.login(user.email, "wrong password!")
    missing = auth.login(unknown, "wrong password!")
    assert wrong.status_code == missing.status_code == 401
    assert normalized(wrong.get_data(as_text=True), user.email) == normalized(missing.get_data(as_text=True), unknown)
    assert "Email or password is incorrect." in wrong.get_data(as_text=True)
    failures = [e for e in audit.list_recent(engine_of(app), 50, action="login_failed") if e.ip == client.environ_base[
        "REMOTE_ADDR"]]
    assert sorted(e.details["email"] for e in failures) == sorted([user.email, unknown])


def test_missing_csrf_token_is_refused(client, make_user) -> None:
    user, password = make_user("viewer")
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 400
    assert client.get("/_dash-layout").status_code == 401


def test_login_and_logout_are_audited_without_the_password(app, client, auth, make_user, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    user, password = make_user("recruiter", facilities=(1,))
    auth.login(user.email, "Wrong-but-secret-guess")
    auth.login(user.email, password)
    response = auth.logout()
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    entries = [e for e in audit.list_recent(engine_of(app), 200) if user.email in (e.target, e.details.get("email"))]
    assert [e.action for e in entries][:3] == ["logout", "login", "login_failed"]
    assert all(e.ip == client.environ_base["REMOTE_ADDR"] for e in entries[:3])
    assert entries[1].user_id == user.id and entries[2].user_id is None
    for secret in (password, "Wrong-but-secret-guess"):
        assert secret not in caplog.text
        assert all(secret not in str(e.details) for e in entries)


def test_logout_ends_the_session(client, auth, make_user) -> None:
    user, password = make_user("viewer")
    auth.login(user.email, password)
    assert client.get("/_dash-layout").status_code == 200
    assert client.post("/logout", headers=csrf_headers(client)).status_code == 302
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/").headers["Location"] == "/login?next=%2F"


def test_signed_in_user_visiting_login_goes_to_next(client, auth, make_user) -> None:
    user, password = make_user("viewer")
    auth.login(user.email, password)
    assert client.get("/login?next=/outreach").headers["Location"] == "/outreach"


@pytest.mark.redis
def test_sixth_rapid_failed_attempt_is_rate_limited(app, client, auth, make_user, redis_url: str) -> None:
    assert services_of(app.server).settings.redis_url == redis_url, "the session app must use Redis"
    user, password = make_user("viewer")
    statuses = [auth.login(user.email, "wrong password!").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    blocked = auth.login(user.email, password)
    assert blocked.status_code == 429 and "Too many sign-in attempts" in blocked.get_data(as_text=True)
    store = redis.Redis.from_url(redis_url)
    keys = store.keys(f"*{LIMITER_KEY_PREFIX}*{user.email}*")
    assert keys, "the per-email limit lives in Redis"
    store.delete(*keys)
    assert auth.login(user.email, password).status_code == 302


def test_failures_from_one_address_are_limited_across_emails(client, auth) -> None:
    statuses = [auth.login(f"guess-{i}-{uuid.uuid4().hex[:6]}@test.example", "nope-nope").status_code
                for i in range(21)]
    assert statuses == [401] * 20 + [429]


def test_successful_sign_ins_do_not_count(client, auth, make_user) -> None:
    user, password = make_user("viewer")
    for _ in range(7):
        assert auth.login(user.email, password).status_code == 302
        auth.logout()


def test_nobody_can_lock_a_colleague_out(app, client, auth, make_user) -> None:
    """Failures count per (email, client) and per client: a colleague's wrong guesses lock only their own tries."""
    from tests.conftest import AuthActions

    user, password = make_user("viewer")
    statuses = [auth.login(user.email, "wrong password!").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    assert auth.login(user.email, password).status_code == 429  # the guessing client stays locked
    colleague = app.server.test_client()
    colleague.environ_base["REMOTE_ADDR"] = "10.250." + ".".join(str(b) for b in uuid.uuid4().bytes[:2])
    assert AuthActions(colleague).login(user.email, password).status_code == 302
