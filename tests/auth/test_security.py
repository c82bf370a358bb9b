"""dashboard/security.py: the request guard in front of every route, bearer tokens, idle expiry, headers."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner

from auth.context import services_of
from auth.tokens import create_token, revoke_tokens
from auth.users import deactivate_user
from dashboard.security import SECURITY_HEADERS

PAGES = ["/", "/pipeline", "/compliance", "/revenue", "/outreach", "/admin", "/no-such-page"]
MACHINE_GETS = [
    "/_dash-layout",
    "/_dash-dependencies",
    "/_reload-hash",
    "/api/v1/analytics/pipeline",
    "/api/v1/analytics/kpis?facility_id=1",
    "/api/v1/export/pipeline.csv",
    "/export/report/overview.pdf",
    "/export/chart/overview/kpis.png",
]
UPDATE = "/_dash-update-component"


def engine_of(app):
    return services_of(app.server).engine


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_refused(response) -> None:
    assert response.status_code == 401
    assert response.get_json() == {"error": "authentication required"}


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_page_load_redirects_to_login(client, path: str) -> None:
    response = client.get(path + "?start=2026-01")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=" + path.replace("/", "%2F") + "%3Fstart%3D2026-01"


@pytest.mark.parametrize("path", MACHINE_GETS)
def test_anonymous_machine_requests_get_401_json(client, path: str) -> None:
    assert_refused(client.get(path))


@pytest.mark.parametrize(("method", "path"), [("post", UPDATE), ("post", "/api/v1/analytics/refresh"), ("post", "/")])
def test_anonymous_writes_get_401_json(client, method: str, path: str) -> None:
    assert_refused(getattr(client, method)(path, json={"output": "overview-kpis.children", "inputs": []}))


@pytest.mark.parametrize("path", ["/health", "/login", "/assets/style.css", "/_favicon.ico"])
def test_open_paths(client, path: str) -> None:
    with client.get(path) as response:  # closing releases the static file
        assert response.status_code == 200


def test_component_bundles_are_public(app, client, auth, make_user) -> None:
    user, password = make_user("viewer")
    auth.login(user.email, password)
    index = client.get("/").get_data(as_text=True)
    bundle = re.search(r'src="(/_dash-component-suites/[^"]+)"', index).group(1)
    with app.server.test_client().get(bundle) as response:
        assert response.status_code == 200


def test_signed_in_user_reaches_pages_and_dash(client, auth, make_user) -> None:
    user, password = make_user("recruiter", facilities=(1,))
    auth.login(user.email, password)
    assert client.get("/pipeline").status_code == 200
    assert client.get("/_dash-layout").status_code == 200
    assert client.get("/_dash-dependencies").status_code == 200


@pytest.mark.parametrize(("role", "status"), [("viewer", 403), ("recruiter", 403), ("admin", 200)])
def test_admin_page_needs_manage_users(client, auth, make_user, role: str, status: int) -> None:
    user, password = make_user(role, facilities=(1,) if role == "recruiter" else ())
    auth.login(user.email, password)
    response = client.get("/admin", headers={"Accept": "text/html"})
    assert response.status_code == status
    if status == 403:
        assert "not allowed" in response.get_data(as_text=True).lower()


def test_deactivated_users_session_stops_working_at_once(app, client, auth, make_user) -> None:
    user, password = make_user("viewer")
    auth.login(user.email, password)
    assert client.get("/_dash-layout").status_code == 200
    deactivate_user(engine_of(app), user.email)
    assert_refused(client.get("/_dash-layout"))
    assert client.get("/").status_code == 302
    assert auth.login(user.email, password).status_code == 401


def test_bearer_token_authenticates_until_revoked(app, client, make_user) -> None:
    user, _ = make_user("viewer")
    token = create_token(engine_of(app), user)
    assert client.get("/_dash-layout", headers=bearer(token)).status_code == 200
    assert "Set-Cookie" not in client.get("/_dash-layout", headers=bearer(token)).headers
    revoke_tokens(engine_of(app), user)
    assert_refused(client.get("/_dash-layout", headers=bearer(token)))


def test_deactivated_users_tokens_stop_working(app, client, make_user) -> None:
    user, _ = make_user("viewer")
    token = create_token(engine_of(app), user)
    deactivate_user(engine_of(app), user.email)
    assert_refused(client.get("/_dash-layout", headers=bearer(token)))


@pytest.mark.parametrize("header", ["Bearer rdt_unknown-token", "Bearer ", "Basic dXNlcjpwdw==", "rdt_x"])
def test_unknown_or_malformed_credentials_get_401_json_even_for_pages(client, header: str) -> None:
    assert_refused(client.get("/_dash-layout", headers={"Authorization": header}))
    assert_refused(client.get("/pipeline", headers={"Authorization": header}))


def test_a_bad_token_is_refused_even_with_a_valid_session(client, auth, make_user) -> None:
    user, password = make_user("viewer")
    auth.login(user.email, password)
    assert_refused(client.get("/_dash-layout", headers=bearer("rdt_forged")))


def test_session_expires_after_the_idle_time(app, client, auth, make_user, monkeypatch) -> None:
    user, password = make_user("viewer")
    auth.login(user.email, password)
    serializer = app.server.session_interface.get_signing_serializer(app.server)
    cookie = client.get_cookie("session")
    data = serializer.loads(cookie.value)
    idle = app.server.permanent_session_lifetime.total_seconds()
    for seconds_ago, expected in ((idle - 60, 200), (idle + 60, 401)):
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self, ago=seconds_ago: int(time.time() - ago))
        aged = serializer.dumps(data)
        monkeypatch.undo()
        client.set_cookie("session", aged)
        assert client.get("/_dash-layout").status_code == expected


@pytest.mark.parametrize("path", ["/login", "/health", "/", "/_dash-layout"])
def test_security_headers_on_every_response(client, path: str) -> None:
    response = client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_static_assets_stay_cacheable(client) -> None:
    with client.get("/assets/style.css") as response:
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers.get("Cache-Control") != "no-store"


@pytest.mark.parametrize("path", ["//admin", "/ADMIN", "/admin/", "/%2561dmin", "/x/../admin"])
def test_direct_loads_of_any_spelling_of_admin_need_manage_users(client, auth, make_user, path: str) -> None:
    user, password = make_user("viewer")
    auth.login(user.email, password)
    response = client.get("/", environ_overrides={"PATH_INFO": path}, headers={"Accept": "text/html"})
    assert response.status_code == 403


def test_an_expired_token_gets_401_saying_when_it_expired(app, client, make_user) -> None:
    from data.engine import psycopg_connection

    user, _ = make_user("viewer")
    token = create_token(engine_of(app), user)
    with psycopg_connection(engine_of(app)) as conn:
        conn.execute("update app.api_tokens set expires_at = now() - interval '1 hour' where user_id = %s", (user.id,))
    response = client.get("/api/v1/analytics/kpis", headers=bearer(token))
    assert response.status_code == 401
    assert re.fullmatch(r"this API token expired at \d{4}-\d\d-\d\dT\d\d:\d\dZ; ask an admin for a new one",
                        response.get_json()["error"])
