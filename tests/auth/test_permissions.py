"""auth/permissions.py: one decision per (role, permission) and per (role, requested facilities)."""

from __future__ import annotations

import pytest

from auth.errors import AuthenticationRequired, Forbidden, ForbiddenFacility, UnknownFacility
from auth.permissions import (
    PERMISSIONS,
    has_permission,
    normalize_path,
    permissions_for,
    raise_for_access,
    required_permission,
    resolve_facilities,
)
from auth.users import User

ALL = (1, 2, 3, 4, 5)
ADMIN = User(1, "a@x.org", "admin", True)
VIEWER = User(2, "v@x.org", "viewer", True)
RECRUITER = User(3, "r@x.org", "recruiter", True, (2, 4))
INACTIVE = User(4, "i@x.org", "admin", False)


class Anonymous:
    is_authenticated = False


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (ADMIN, set(PERMISSIONS)),
        (RECRUITER, {"view", "export", "view_pii"}),
        (VIEWER, {"view", "export"}),
        (INACTIVE, set()),
        (Anonymous(), set()),
        (None, set()),
    ],
)
def test_permissions_per_role(user: object, expected: set[str]) -> None:
    assert permissions_for(user) == expected


def test_unknown_permission_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown permission"):
        has_permission(ADMIN, "fly")


@pytest.mark.parametrize("permission", ["refresh", "manage_users", "view_unmasked", "view_pii"])
def test_viewer_is_refused_everything_beyond_view_and_export(permission: str) -> None:
    with pytest.raises(Forbidden, match="not allowed"):
        raise_for_access(VIEWER, permission)


def test_anonymous_access_needs_authentication() -> None:
    with pytest.raises(AuthenticationRequired):
        raise_for_access(Anonymous(), "view")


def test_recruiter_pii_only_for_own_facilities() -> None:
    raise_for_access(RECRUITER, "view_pii", (2, 4))
    with pytest.raises(ForbiddenFacility):
        raise_for_access(RECRUITER, "view_pii", (2, 3))
    raise_for_access(ADMIN, "view_pii", (1, 2, 3))


@pytest.mark.parametrize("requested", [None, ()])
def test_no_facility_requested_means_all_in_scope(requested: tuple[int, ...] | None) -> None:
    assert resolve_facilities(RECRUITER, requested, ALL) == (2, 4)
    assert resolve_facilities(VIEWER, requested, ALL) == ALL
    assert resolve_facilities(ADMIN, requested, ALL) == ALL


def test_requested_facilities_inside_scope_are_kept() -> None:
    assert resolve_facilities(RECRUITER, (4,), ALL) == (4,)
    assert resolve_facilities(VIEWER, (5, 1, 5), ALL) == (1, 5)


def test_recruiter_asking_outside_scope_is_forbidden_even_for_unknown_ids() -> None:
    with pytest.raises(ForbiddenFacility) as outside:
        resolve_facilities(RECRUITER, (2, 3), ALL)
    with pytest.raises(ForbiddenFacility) as unknown:
        resolve_facilities(RECRUITER, (99,), ALL)
    assert outside.value.status == unknown.value.status == 403


@pytest.mark.parametrize("user", [ADMIN, VIEWER])
def test_unknown_facility_for_admins_and_viewers_is_not_found(user: User) -> None:
    with pytest.raises(UnknownFacility, match="99") as caught:
        resolve_facilities(user, (1, 99), ALL)
    assert caught.value.status == 404


def test_resolving_without_a_user_needs_authentication() -> None:
    with pytest.raises(AuthenticationRequired):
        resolve_facilities(None, None, ALL)


def test_admin_page_needs_manage_users() -> None:
    assert required_permission("/admin") == required_permission("/admin/") == "manage_users"
    assert required_permission("/pipeline") is None


@pytest.mark.parametrize(
    "raw",
    ["/admin", "//admin", "/ADMIN", "/admin/", "/%2561dmin", "/%61dmin", "/x/../admin", "/./admin", "\\admin",
     "/Admin//", "///x/./../admin/"],
)
def test_normalize_path_gives_one_spelling(raw: str) -> None:
    assert normalize_path(raw) == "/admin"
    assert required_permission(raw) == "manage_users"


@pytest.mark.parametrize(("raw", "expected"), [("", "/"), ("/", "/"), ("/../..", "/"), ("/pipeline/", "/pipeline"),
                                               ("/a%2Fb", "/a/b")])
def test_normalize_path_edges(raw: str, expected: str) -> None:
    assert normalize_path(raw) == expected
