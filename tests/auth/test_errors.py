"""dashboard/errors.py: each refusal maps to one status with an `{"error": message}` body, in one place."""

from __future__ import annotations

import pytest
from flask import Flask, abort

from auth.errors import AuthenticationRequired, Forbidden, ForbiddenFacility, UnknownFacility, UserNotFound
from dashboard.errors import register_error_handlers
from data.filters import FilterError

RAISES = {
    "filter": FilterError("start (2026-05) is after end (2026-01)"),
    "anonymous": AuthenticationRequired(),
    "forbidden": Forbidden(),
    "outside": ForbiddenFacility("facility id(s) 7 are outside your scope"),
    "unknown": UnknownFacility("unknown facility id(s): 42"),
    "no-user": UserNotFound("no user with email 'x@y.z'"),
}


@pytest.fixture
def client():
    server = Flask(__name__)
    register_error_handlers(server)

    @server.get("/api/raise/<name>")
    def raise_(name: str):
        raise RAISES[name]

    @server.get("/api/abort/<int:code>")
    def abort_(code: int):
        abort(code)

    @server.get("/api/abort-with-message")
    def abort_with_message():
        abort(400, description="unknown parameter 'colour'")

    @server.get("/admin")
    def admin_page():
        raise Forbidden()

    return server.test_client()


@pytest.mark.parametrize(
    ("name", "status"),
    [("filter", 400), ("anonymous", 401), ("forbidden", 403), ("outside", 403), ("unknown", 404), ("no-user", 404)],
)
def test_exception_classes_map_to_statuses(client, name: str, status: int) -> None:
    response = client.get(f"/api/raise/{name}")
    assert response.status_code == status
    assert response.get_json() == {"error": str(RAISES[name])}


@pytest.mark.parametrize("code", [400, 401, 403, 404, 405, 429])
def test_http_errors_are_json(client, code: int) -> None:
    response = client.get(f"/api/abort/{code}")
    assert response.status_code == code
    assert set(response.get_json()) == {"error"}


def test_a_custom_description_is_kept(client) -> None:
    assert client.get("/api/abort-with-message").get_json() == {"error": "unknown parameter 'colour'"}


def test_a_person_opening_a_forbidden_page_gets_a_readable_page(client) -> None:
    response = client.get("/admin", headers={"Accept": "text/html"})
    assert response.status_code == 403 and response.mimetype == "text/html"
    assert "not allowed" in response.get_data(as_text=True)
