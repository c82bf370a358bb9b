"""Request-time helpers for pages, callbacks and routes: the app's services, who is calling, what they may do,
which facilities.

Inside a Flask request (a Dash callback is one):

    services().analytics                     # the app's services, bound once by the factory
    scope = current_user_scope()             # 401 when nobody is signed in
    scope.require("export")                  # 403 unless allowed
    ids = scope.resolve(filt.facility_ids)   # explicit ids; 403 outside a recruiter's scope, 404 unknown
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from flask_login import current_user
from sqlalchemy import Engine

from auth.errors import AuthenticationRequired
from auth.permissions import (
    facility_scope,
    is_signed_in,
    permissions_for,
    raise_for_access,
    resolve_facilities,
)
from auth.users import User
from data.jobs import RefreshJobs
from data.service import AnalyticsService

_SERVICES_KEY = "recruit"


@dataclass
class AppServices:
    """What a request may need from the running app, bound once by the factory (dashboard/app.py).

    `exporter` builds chart, report and CSV exports (dashboard/exports.py), `scheduler` is the in-process refresh
    schedule (dashboard.scheduler.Schedule) or None, `live` the live-refresh listener or None, `settings` the
    parsed configuration. `jobs` builds the stores as `settings.refresh_build` says: the SQL refresh functions, or
    the dbt models with DBT_ENABLED (`jobs.build == "dbt"`). Tests swap parts with monkeypatch.
    """

    settings: Any
    engine: Engine
    analytics: AnalyticsService
    jobs: RefreshJobs
    exporter: Any = None
    scheduler: Any = None
    live: Any = None


def bind_services(server: Flask, bound: AppServices) -> AppServices:
    server.extensions[_SERVICES_KEY] = bound
    return bound


def services() -> AppServices:
    """The services of the app handling this request."""
    return current_app.extensions[_SERVICES_KEY]


def services_of(server: Flask) -> AppServices | None:
    """The services bound to `server` (outside a request: scripts, benchmarks, tests), None before binding."""
    return server.extensions.get(_SERVICES_KEY)


@dataclass(frozen=True)
class Scope:
    """The signed-in user, their permissions and the facility ids they may see (sorted)."""

    user: User
    permissions: frozenset[str]
    facility_ids: tuple[int, ...]
    known_facility_ids: tuple[int, ...]

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str, facility_ids: Iterable[int] | None = None) -> None:
        raise_for_access(self.user, permission, facility_ids)

    def resolve(self, requested_ids: tuple[int, ...] | None) -> tuple[int, ...]:
        """The explicit facility ids to query: all in scope when none were asked for."""
        return resolve_facilities(self.user, requested_ids, self.known_facility_ids)


def current_engine() -> Engine:
    return services().engine


def client_ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def signed_in_user() -> User | None:
    """The signed-in user of this request, or None."""
    if not has_request_context():
        return None
    user = current_user._get_current_object()
    return user if is_signed_in(user) else None


def optional_user_scope() -> Scope | None:
    """The scope of this request's user, or None when nobody is signed in (cached for the request)."""
    user = signed_in_user()
    if user is None:
        return None
    cached = g.get("recruit_scope")
    if cached is not None and cached.user.id == user.id:
        return cached
    known = tuple(sorted(int(i) for i in services().analytics.facilities()["id"]))
    scope = Scope(user, permissions_for(user), facility_scope(user, known), known)
    g.recruit_scope = scope
    return scope


def current_user_scope() -> Scope:
    """The scope of this request's user; AuthenticationRequired (401) when nobody is signed in."""
    scope = optional_user_scope()
    if scope is None:
        raise AuthenticationRequired()
    return scope
