"""The one place that decides what a user may do and which facilities they see.

Everything else asks here: routes and callbacks call `raise_for_access` and `resolve_facilities` (usually through
`auth.context.current_user_scope()`), never compare roles themselves.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from auth.errors import AuthenticationRequired, Forbidden, ForbiddenFacility, UnknownFacility

PERMISSIONS: tuple[str, ...] = ("view", "export", "refresh", "manage_users", "view_unmasked", "view_pii")
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(PERMISSIONS),
    # view_pii only for their own facilities: raise_for_access checks the facilities asked for.
    "recruiter": frozenset({"view", "export", "view_pii"}),
    "viewer": frozenset({"view", "export"}),
}
# Pages that need more than `view`; the request guard checks direct loads, the page layout checks in-app navigation.
PAGE_PERMISSIONS: dict[str, str] = {"/admin": "manage_users"}


def is_signed_in(user: Any) -> bool:
    return user is not None and bool(getattr(user, "is_authenticated", False))


def permissions_for(user: Any) -> frozenset[str]:
    """What `user` may do; nothing for an anonymous or inactive user."""
    if not is_signed_in(user):
        return frozenset()
    return ROLE_PERMISSIONS.get(user.role, frozenset())


def has_permission(user: Any, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    return permission in permissions_for(user)


def raise_for_access(user: Any, permission: str, facility_ids: Iterable[int] | None = None) -> None:
    """Raise AuthenticationRequired, Forbidden or ForbiddenFacility unless `user` may do this (for these facilities)."""
    if not is_signed_in(user):
        raise AuthenticationRequired()
    if not has_permission(user, permission):
        raise Forbidden(f"not allowed: your role ({user.role}) does not have the {permission} permission")
    if facility_ids is not None and limited_to_assignments(user):
        outside = sorted(set(facility_ids) - set(user.facility_ids))
        if outside:
            raise ForbiddenFacility(_outside_message(outside))


def limited_to_assignments(user: Any) -> bool:
    """Whether `user` sees only the facilities assigned to them (recruiters); others see every facility."""
    return user.role == "recruiter"


def normalize_path(path: str) -> str:
    """One spelling of a page path, for decisions: percent-decoded until stable, backslashes as slashes, repeated
    slashes and dot segments resolved, lower-case, no trailing slash (`//ADMIN/`, `/%2561dmin`, `/x/../admin` are
    all `/admin`)."""
    value = path or "/"
    for _ in range(5):  # %2561 -> %61 -> a; a few rounds cover any nesting a client would send
        decoded = unquote(value)
        if decoded == value:
            break
        value = decoded
    value = posixpath.normpath("/" + value.replace("\\", "/").lstrip("/"))
    return value.lower().rstrip("/") or "/"


def required_permission(path: str) -> str | None:
    """The permission a page path needs beyond `view`, if any (decided on the normalised path)."""
    return PAGE_PERMISSIONS.get(normalize_path(path))


def facility_scope(user: Any, known_ids: Iterable[int]) -> tuple[int, ...]:
    """Facility ids `user` may see, of `known_ids`: a recruiter's assignments; every facility for the others."""
    if not is_signed_in(user):
        return ()
    known = tuple(sorted(known_ids))
    if limited_to_assignments(user):
        assigned = set(user.facility_ids)
        return tuple(f for f in known if f in assigned)
    return known


def resolve_facilities(
    user: Any, requested_ids: tuple[int, ...] | None, all_facility_ids: Iterable[int]
) -> tuple[int, ...]:
    """The explicit facility list a query should use.

    None or () means every facility in scope. A recruiter asking for any id outside their assignments (existing or
    not) gets ForbiddenFacility (403); a viewer or admin asking for an id that does not exist gets UnknownFacility
    (404).
    """
    if not is_signed_in(user):
        raise AuthenticationRequired()
    known = set(all_facility_ids)
    if limited_to_assignments(user):
        scope = sorted(known & set(user.facility_ids))
        if not requested_ids:
            return tuple(scope)
        outside = sorted(set(requested_ids) - set(scope))
        if outside:
            raise ForbiddenFacility(_outside_message(outside))
        return tuple(sorted(set(requested_ids)))
    if not requested_ids:
        return tuple(sorted(known))
    unknown = sorted(set(requested_ids) - known)
    if unknown:
        raise UnknownFacility(f"unknown facility id(s): {', '.join(map(str, unknown))}")
    return tuple(sorted(set(requested_ids)))


def _outside_message(ids: list[int]) -> str:
    return f"facility id(s) {', '.join(map(str, ids))} are outside your scope"
