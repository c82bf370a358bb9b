"""CSRF (issue 12, item 3): with a cookie session every state-changing request carries the token, JSON bodies are
JSON; bearer-token calls are exempt; sign-out is a POST with the token."""

from __future__ import annotations

import re

import pytest

from auth.context import services_of
from auth.tokens import create_token
from tests.conftest import csrf_headers

REFRESH = "/api/v1/analytics/refresh"


def signed_in_admin(own_db, auth) -> object:
    admin = own_db.user("admin")
    assert auth.login(admin.email, own_db.password).status_code == 302
    return admin


def refresh_runs(own_db) -> int:
    from data.engine import psycopg_connection

    with psycopg_connection(own_db.engine) as conn:
        return conn.execute("select count(*) from app.refresh_runs").fetchone()[0]


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {"data": {"views": "all"}},  # a cross-site form post
        {},  # an empty body
        {"data": '{"views": ["all"]}', "content_type": "text/plain"},  # a "simple" cross-site request
        {"json": {"views": ["all"]}},  # right body, no token
        {"json": {"views": ["all"]}, "headers": {"X-CSRFToken": "forged"}},
    ],
)
def test_a_cookie_session_without_the_token_cannot_refresh(own_db, client, auth, request_kwargs: dict) -> None:
    signed_in_admin(own_db, auth)
    response = client.post(REFRESH, **request_kwargs)
    assert response.status_code == 400
    assert "CSRF" in response.get_json()["error"]
    assert refresh_runs(own_db) == 0


def test_the_token_from_the_cookie_lets_the_session_refresh(own_db, client, auth) -> None:
    signed_in_admin(own_db, auth)
    response = client.post(REFRESH, json={"views": ["outreach"]}, headers=csrf_headers(client))
    assert response.status_code == 202


@pytest.mark.parametrize(("body", "content_type"), [("views=all", "application/x-www-form-urlencoded"),
                                                     ('{"views": ["all"]}', "text/plain")])
def test_json_endpoints_refuse_other_bodies_with_415(own_db, client, auth, body: str, content_type: str) -> None:
    signed_in_admin(own_db, auth)
    response = client.post(REFRESH, data=body, content_type=content_type, headers=csrf_headers(client))
    assert response.status_code == 415
    assert "application/json" in response.get_json()["error"]
    assert refresh_runs(own_db) == 0


def test_bearer_token_calls_are_exempt(own_db, app) -> None:
    admin = own_db.user("admin")
    token = create_token(own_db.engine, admin)
    client = app.server.test_client()
    response = client.post(REFRESH, json={"views": ["outreach"]}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 202
    assert "_csrf_token" not in str(response.headers.getlist("Set-Cookie"))


def test_dash_callbacks_need_the_token(client, auth, make_user) -> None:
    user, password = make_user("viewer")
    auth.login(user.email, password)
    router = next(d for d in client.get("/_dash-dependencies").get_json() if "_pages_content" in d["output"])
    body = {
        "output": router["output"],
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/privacy"},
                   {"id": "_pages_location", "property": "search", "value": ""}],
        "changedPropIds": ["_pages_location.pathname"],
    }
    refused = client.post("/_dash-update-component", json=body)
    assert refused.status_code == 400 and "CSRF" in refused.get_json()["error"]
    assert client.post("/_dash-update-component", json=body, headers=csrf_headers(client)).status_code == 200


def test_the_token_cookie_is_readable_by_the_page_script(app, client, auth, make_user) -> None:
    user, password = make_user("viewer")
    response = auth.login(user.email, password)
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("_csrf_token=")]
    assert "HttpOnly" not in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert services_of(app.server).settings.session_cookie_secure is False and "Secure" not in cookie


def test_dash_renderer_sends_the_cookie_as_the_header() -> None:
    """Dash's renderer copies the `_csrf_token` cookie into an X-CSRFToken header on every callback request."""
    from importlib.resources import files

    renderer = files("dash").joinpath("dash-renderer/build/dash_renderer.min.js").read_text(encoding="utf-8")
    assert re.search(r'csrf_token_name\|\|"_csrf_token",\w+=\w+&&\w+\.csrf_header_name\|\|"X-CSRFToken"', renderer)


def test_get_logout_shows_a_sign_out_button_and_keeps_the_session(client, auth, make_user) -> None:
    user, password = make_user("viewer")
    auth.login(user.email, password)
    page = client.get("/logout")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert 'method="post"' in body and 'name="csrf_token"' in body and "Sign out" in body
    assert client.get("/_dash-layout").status_code == 200


def test_post_logout_needs_the_token(client, auth, make_user) -> None:
    user, password = make_user("viewer")
    auth.login(user.email, password)
    assert client.post("/logout").status_code == 400
    assert client.get("/_dash-layout").status_code == 200
    response = client.post("/logout", headers=csrf_headers(client))
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert any(c.startswith("_csrf_token=;") for c in response.headers.getlist("Set-Cookie"))
    assert client.get("/_dash-layout").status_code == 401


def test_the_sign_out_form_posts_its_token(client, auth, make_user) -> None:
    user, password = make_user("viewer")
    auth.login(user.email, password)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/logout").get_data(
        as_text=True)).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/_dash-layout").status_code == 401


def test_signed_out_visitors_of_logout_go_to_login(client) -> None:
    assert client.get("/logout").headers["Location"] == "/login"
    assert client.post("/logout").headers["Location"] == "/login"
