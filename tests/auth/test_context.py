"""auth/context.py inside real requests, and the scoped facility dropdown the overview page serves.

The crafted-callback test below covers the page router (the only server callback so far). When the pages engineer
adds data callbacks, their tests should post `overview-facility.value = [<other facility>]` and expect 403 / no rows.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask_login import login_user

from auth.context import current_user_scope, optional_user_scope, services_of
from auth.errors import AuthenticationRequired, ForbiddenFacility, UnknownFacility
from auth.permissions import facility_scope
from tests.conftest import csrf_headers

SEEDED_FACILITIES = tuple(range(1, 10))


def engine_of(app):
    return services_of(app.server).engine


def find(node: Any, component_id: str) -> dict | None:
    """The component with `component_id` in a serialized Dash layout."""
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == component_id:
            return node
        children = node.get("props", {}).get("children")
        return find(children, component_id) if children is not None else None
    if isinstance(node, list):
        return next((hit for child in node if (hit := find(child, component_id)) is not None), None)
    return None


def route(client, pathname: str, search: str = ""):
    """Ask the pages router for a page exactly as the browser does (POST /_dash-update-component)."""
    deps = client.get("/_dash-dependencies").get_json()
    router = next(d for d in deps if "_pages_content" in d["output"])
    return client.post(
        "/_dash-update-component",
        headers=csrf_headers(client),
        json={
            "output": router["output"],
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [
                {"id": "_pages_location", "property": "pathname", "value": pathname},
                {"id": "_pages_location", "property": "search", "value": search},
            ],
            "changedPropIds": ["_pages_location.pathname"],
            "state": [],
        },
    )


def page_layout(client, pathname: str, search: str = "") -> dict:
    response = route(client, pathname, search)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["response"]["_pages_content"]["children"]


def dropdown_values(client) -> list[int]:
    dropdown = find(page_layout(client, "/", "?facility_id=7"), "overview-facility")
    assert dropdown is not None, "the overview page renders its facility dropdown"
    return sorted(option["value"] for option in dropdown["props"]["options"])


def test_recruiters_dropdown_offers_exactly_their_facilities(client, auth, make_user) -> None:
    user, password = make_user("recruiter", facilities=(2, 5))
    auth.login(user.email, password)
    assert dropdown_values(client) == [2, 5]


@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_viewers_and_admins_see_every_facility(client, auth, make_user, role: str) -> None:
    user, password = make_user(role)
    auth.login(user.email, password)
    assert dropdown_values(client) == list(SEEDED_FACILITIES)


def test_anonymous_callback_request_is_refused_before_any_layout(client) -> None:
    response = client.post("/_dash-update-component", json={"output": "_pages_content.children"})
    assert response.status_code == 401


def test_scope_functions(app, make_user) -> None:
    recruiter, _ = make_user("recruiter", facilities=(3, 4))
    viewer, _ = make_user("viewer")
    known = tuple(sorted(int(i) for i in services_of(app.server).analytics.facilities()["id"]))
    assert known == SEEDED_FACILITIES
    assert facility_scope(recruiter, known) == (3, 4)
    assert facility_scope(viewer, known) == SEEDED_FACILITIES
    assert facility_scope(None, known) == ()


def test_current_user_scope_inside_a_request(app, make_user) -> None:
    recruiter, _ = make_user("recruiter", facilities=(3, 4))
    with app.server.test_request_context("/_dash-update-component", method="POST"):
        assert optional_user_scope() is None
        with pytest.raises(AuthenticationRequired):
            current_user_scope()
        login_user(recruiter)
        scope = current_user_scope()
        assert (scope.user, scope.facility_ids) == (recruiter, (3, 4))
        assert scope.permissions == {"view", "export", "view_pii"}
        assert scope.can("export") and not scope.can("refresh")
        assert scope.resolve(None) == (3, 4)
        assert scope.resolve((4,)) == (4,)
        with pytest.raises(ForbiddenFacility):
            scope.resolve((1,))
        with pytest.raises(ForbiddenFacility):
            scope.require("view_pii", (3, 9))
        assert current_user_scope() is scope  # computed once per request


def test_admin_scope_reports_unknown_facilities(app, make_user) -> None:
    admin, _ = make_user("admin")
    with app.server.test_request_context("/"):
        login_user(admin)
        scope = current_user_scope()
        assert scope.resolve(None) == SEEDED_FACILITIES
        with pytest.raises(UnknownFacility):
            scope.resolve((42,))


@pytest.mark.parametrize(("role", "allowed"), [("viewer", False), ("recruiter", False), ("admin", True)])
def test_in_app_navigation_to_admin_needs_manage_users(client, auth, make_user, role: str, allowed: bool) -> None:
    """The guard answers the router itself with a "not allowed" page; the admin layout never runs for others."""
    user, password = make_user(role, facilities=(1,) if role == "recruiter" else ())
    auth.login(user.email, password)
    content = page_layout(client, "/admin")
    assert (find(content, "admin-page") is not None) is allowed
    assert (find(content, "not-allowed") is None) is allowed
    if not allowed:
        assert "not allowed" in str(find(content, "not-allowed")).lower()


ADMIN_SPELLINGS = ["//admin", "/ADMIN", "/admin/", "/%2561dmin", "/x/../admin"]


@pytest.mark.parametrize("pathname", ADMIN_SPELLINGS)
def test_the_guard_normalises_the_router_pathname(client, auth, make_user, pathname: str) -> None:
    """The guard itself (not only the admin layout's own check) refuses every spelling of /admin."""
    user, password = make_user("viewer")
    auth.login(user.email, password)
    response = route(client, pathname)
    assert response.status_code == 200
    assert "your role (viewer) cannot open /admin" in str(response.get_json())
