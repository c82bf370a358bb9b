"""One authorize step for every way data leaves the server: pages, the JSON API and exports.

Raw filter values (as a query string or a page's controls sent them) + the caller's scope + what they want to do
-> a `Selection`: validated filters with an explicit facility list, whether suppression is off, and (for a page)
what was changed to make the request showable. An admin's unsuppressed request is audited here, once.

The API and exports are strict: a bad value is a 400, a facility outside a recruiter's scope a 403, an unknown one
a 404. Pages are lenient: a bad value is replaced by its default and a facility the caller may not see is left out,
and each change is a notice the page shows in one banner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from auth import audit
from auth.context import Scope, client_ip, current_user_scope, services
from data.filters import (
    CHANNELS,
    DataFilter,
    FilterError,
    add_months,
    build_filter,
    parse_facility_ids,
    parse_month,
)


class Intent(StrEnum):
    """What the caller wants to do with the selection; each needs its permission."""

    VIEW = "view"
    EXPORT = "export"
    PII = "view_pii"  # record-level rows with candidates' contact details


@dataclass(frozen=True)
class RawFilters:
    """Filter values as sent, unvalidated: facility ids, start and end months, channel."""

    facility_ids: Sequence[Any] = ()
    start: Any = None
    end: Any = None
    channel: Any = None


@dataclass(frozen=True)
class Selection:
    scope: Scope
    filt: DataFilter  # facility_ids is always an explicit list within the caller's scope
    unmasked: bool = False
    notices: tuple[str, ...] = ()
    asked_for_facilities: bool = False

    @property
    def all_facilities(self) -> bool:
        return not self.asked_for_facilities


def authorize(
    raw: RawFilters,
    *,
    intent: Intent,
    target: str,
    unmasked: bool = False,
    channel_allowed: bool = True,
    lenient: bool = False,
    default_end: date | None = None,
) -> Selection:
    """Validate `raw`, check `intent` (and `unmasked`) against the signed-in caller and resolve the facilities.

    `target` names what is being looked at, for the audit log (a dataset, a page). `default_end` is the last month
    when none is given (the API's default is the current month; pages end at the last complete month). Raises
    AuthError (401/403/404) or FilterError (400); with `lenient`, only AuthError for the caller's own rights.
    """
    scope = current_user_scope()
    scope.require("view" if intent is Intent.PII else intent.value)
    notices: list[str] = []
    if lenient:
        filt = _lenient_filter(raw, channel_allowed, default_end, notices)
    else:
        if raw.channel is not None and not channel_allowed:
            raise FilterError("channel applies to the outreach dataset only")
        filt = build_filter(list(raw.facility_ids) or None, raw.start, raw.end, raw.channel,
                            today=default_end)
    asked = bool(filt.facility_ids)
    resolve = _lenient_facilities if lenient else _strict_facilities
    facilities = resolve(scope, filt.facility_ids, notices)
    filt = DataFilter(facilities, filt.start, filt.end, filt.channel)
    if intent is Intent.PII:
        scope.require("view_pii", facilities)
    if unmasked and not scope.can("view_unmasked"):
        if not lenient:
            scope.require("view_unmasked")
        notices.append("Only admins can turn small-number protection off; the figures stay protected.")
        unmasked = False
    if unmasked:
        audit.record(services().engine, "unmasked_view", user_id=scope.user.id, target=target,
                     details={"facility_ids": list(facilities), "start": f"{filt.start:%Y-%m}",
                              "end": f"{filt.end:%Y-%m}"}, ip=client_ip())
    return Selection(scope, filt, unmasked, tuple(notices), asked)


def _lenient_filter(raw: RawFilters, channel_allowed: bool, default_end: date | None, notices: list[str]
                    ) -> DataFilter:
    """Each bad value replaced by its default, with a notice naming it and what was used instead."""
    defaults = build_filter(today=default_end)
    end = _month_or(raw.end, "end", defaults.end, notices)
    start_default = add_months(end, -(len(defaults.months()) - 1))
    start = _month_or(raw.start, "start", start_default, notices)
    if start > end:
        notices.append(f"The start ({start:%Y-%m}) was after the end ({end:%Y-%m}); showing "
                       f"{start_default:%Y-%m} to {end:%Y-%m} instead.")
        start = start_default
    channel = raw.channel or None
    if channel is not None and (not channel_allowed or channel not in CHANNELS):
        notices.append(f"{channel!r} is not a channel; showing all channels.")
        channel = None
    ids = []
    for value in raw.facility_ids or ():
        try:
            ids.extend(parse_facility_ids([value]) or ())
        except FilterError:
            notices.append(f"{value!r} is not a facility id and was left out.")
    return DataFilter(tuple(sorted(set(ids))) or None, start, end, channel)


def _month_or(value: Any, name: str, default: date, notices: list[str]) -> date:
    if value in (None, ""):
        return default
    try:
        return parse_month(value, name)
    except FilterError:
        notices.append(f"The {name} month {value!r} is not a month written YYYY-MM; showing {default:%Y-%m}.")
        return default


def _strict_facilities(scope: Scope, requested: tuple[int, ...] | None, _notices: list[str]) -> tuple[int, ...]:
    return scope.resolve(requested)


def _lenient_facilities(scope: Scope, requested: tuple[int, ...] | None, notices: list[str]) -> tuple[int, ...]:
    """The requested facilities the caller may see (every one in scope when none are left), with a notice for
    each one left out."""
    if not requested:
        return scope.facility_ids
    allowed = [f for f in requested if f in scope.facility_ids]
    left_out = [f for f in requested if f not in scope.facility_ids]
    if left_out:
        names = ", ".join(map(str, left_out))
        notices.append(f"Facility {names} {'is' if len(left_out) == 1 else 'are'} not in your scope and "
                       f"{'was' if len(left_out) == 1 else 'were'} left out.")
    if not allowed:
        notices.append("Showing every facility in your scope instead.")
        return scope.facility_ids
    return tuple(allowed)

