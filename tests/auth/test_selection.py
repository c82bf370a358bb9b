"""auth/selection.py: the one authorize step of pages, the API and exports."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from flask_login import login_user

from auth.context import services_of
from auth.errors import Forbidden, ForbiddenFacility, UnknownFacility
from auth.selection import Intent, RawFilters, authorize
from auth.users import get_user_by_email
from data.filters import FilterError

END = date(2026, 6, 1)


def signed_in(app: Any, make_user: Any, role: str, facilities: tuple[int, ...] = (), query: str = ""):
    user, _ = make_user(role, facilities)
    context = app.server.test_request_context(f"/api/v1/analytics/pipeline{query}")
    context.push()
    login_user(get_user_by_email(services_of(app.server).engine, user.email))
    return user, context


def test_page_api_and_export_resolve_the_same_selection_for_the_same_input(app, make_user) -> None:
    """The same raw filters and user give the same facilities, months and channel on every path."""
    from dashboard.api import request_selection
    from pages.frame import raw_filters, select

    query = "?facility_id=2&facility_id=1&start=2026-01&end=2026-03"
    _, context = signed_in(app, make_user, "recruiter", (1, 2, 3), query)
    try:
        api = request_selection("pipeline")
        export = request_selection("pipeline", intent=Intent.EXPORT)
        page = select(raw_filters(["2", "1"], "2026-01", "2026-03"), page_id="pipeline", with_channel=False)
    finally:
        context.pop()
    assert api.filt == export.filt == page.filt
    assert api.filt.facility_ids == (1, 2)
    assert (api.filt.start, api.filt.end) == (date(2026, 1, 1), date(2026, 3, 1))
    assert not api.unmasked and not page.notices


def test_strict_refuses_what_lenient_replaces_and_names(app, make_user) -> None:
    _, context = signed_in(app, make_user, "recruiter", (1, 2))
    try:
        with pytest.raises(ForbiddenFacility):
            authorize(RawFilters((1, 7)), intent=Intent.VIEW, target="pipeline")
        with pytest.raises(FilterError, match="start"):
            authorize(RawFilters((), "2026-13"), intent=Intent.VIEW, target="pipeline")
        with pytest.raises(FilterError, match="outreach"):
            authorize(RawFilters((), channel="sms"), intent=Intent.VIEW, target="pipeline", channel_allowed=False)
        lenient = authorize(RawFilters((1, 7), "2026-13", "2026-03", "fax"), intent=Intent.VIEW, target="outreach",
                            lenient=True, default_end=END)
    finally:
        context.pop()
    assert lenient.filt.facility_ids == (1,) and lenient.filt.channel is None
    assert lenient.filt.start == date(2025, 4, 1) and lenient.filt.end == date(2026, 3, 1)
    assert lenient.notices == (
        "The start month '2026-13' is not a month written YYYY-MM; showing 2025-04.",
        "'fax' is not a channel; showing all channels.",
        "Facility 7 is not in your scope and was left out.",
    )


def test_intents_need_their_permission_and_unmasked_is_audited_once(app, make_user) -> None:
    from auth.audit import list_recent

    viewer, context = signed_in(app, make_user, "viewer")
    try:
        with pytest.raises(Forbidden):
            authorize(RawFilters(), intent=Intent.PII, target="violations")
        with pytest.raises(Forbidden):
            authorize(RawFilters(), intent=Intent.VIEW, target="pipeline", unmasked=True)
        quiet = authorize(RawFilters(), intent=Intent.VIEW, target="pipeline", unmasked=True, lenient=True)
        assert not quiet.unmasked and "Only admins" in quiet.notices[0]
    finally:
        context.pop()
    admin, context = signed_in(app, make_user, "admin")
    try:
        with pytest.raises(UnknownFacility):
            authorize(RawFilters((999,)), intent=Intent.VIEW, target="pipeline")
        assert authorize(RawFilters(), intent=Intent.VIEW, target="pipeline", unmasked=True).unmasked
    finally:
        context.pop()
    engine = services_of(app.server).engine
    entries = [e for e in list_recent(engine, 20, action="unmasked_view") if e.user_id in (viewer.id, admin.id)]
    assert [(e.user_id, e.target) for e in entries] == [(admin.id, "pipeline")]
