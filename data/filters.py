"""The typed filter every dataset query takes, and the one error type for a bad one."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

CHANNELS: tuple[str, ...] = ("email", "sms", "phone", "job_board", "referral")
DEFAULT_MONTHS = 12
# The months any input may name (a wider range only invites overflow in date arithmetic).
MIN_MONTH, MAX_MONTH = date(2000, 1, 1), date(2099, 12, 1)
_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


class FilterError(ValueError):
    """A filter value is malformed or inconsistent; the message is safe to show to the user."""


@dataclass(frozen=True)
class DataFilter:
    """Facilities (None: no narrowing), an inclusive month range (first days of months) and an optional channel."""

    facility_ids: tuple[int, ...] | None
    start: date
    end: date
    channel: str | None = None

    def months(self) -> list[date]:
        out, current = [], self.start
        while current <= self.end:
            out.append(current)
            current = add_months(current, 1)
        return out


def previous_period(filt: DataFilter) -> DataFilter:
    """The period of equal length that ends the month before `filt` starts (for "change vs previous period")."""
    length = len(filt.months())
    return replace(filt, start=add_months(filt.start, -length), end=add_months(filt.start, -1))


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def current_month(now: datetime | None = None) -> date:
    now = now or datetime.now(UTC)
    return date(now.year, now.month, 1)


def last_complete_month(now: datetime | None = None) -> date:
    """The month before this one: pages end their default range there, so no chart ends on a few days' data."""
    return add_months(current_month(now), -1)


def parse_month(value: str, name: str = "month") -> date:
    """Parse 'YYYY-MM' into the first day of that month."""
    match = _MONTH_RE.match(value.strip()) if isinstance(value, str) else None
    if not match:
        raise FilterError(f"{name} must be a month written YYYY-MM, got {value!r}")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise FilterError(f"{name} must be a month written YYYY-MM, got {value!r}")
    if not MIN_MONTH.year <= year <= MAX_MONTH.year:  # before date(): year 0 (or 10000) cannot be built at all
        raise FilterError(f"{name} must lie between {MIN_MONTH:%Y-%m} and {MAX_MONTH:%Y-%m}, got {value!r}")
    parsed = date(year, month, 1)
    if not MIN_MONTH <= parsed <= MAX_MONTH:
        raise FilterError(f"{name} must lie between {MIN_MONTH:%Y-%m} and {MAX_MONTH:%Y-%m}, got {value!r}")
    return parsed


def parse_facility_ids(values: Iterable[object] | None) -> tuple[int, ...] | None:
    """Parse facility ids (ints or decimal strings); an empty or missing list means 'no narrowing'."""
    if values is None:
        return None
    ids = []
    for value in values:
        if isinstance(value, bool):
            raise FilterError(f"facility_id must be a positive integer, got {value!r}")
        if isinstance(value, int):
            number = value
        elif isinstance(value, str) and value.strip().isdigit() and value.strip().isascii():
            number = int(value.strip())
        else:
            raise FilterError(f"facility_id must be a positive integer, got {value!r}")
        if number <= 0 or number > 2_147_483_647:
            raise FilterError(f"facility_id must be a positive integer, got {value!r}")
        ids.append(number)
    return tuple(sorted(set(ids))) or None


def build_filter(
    facility_ids: Iterable[object] | None = None,
    start: str | date | None = None,
    end: str | date | None = None,
    channel: str | None = None,
    *,
    today: date | None = None,
) -> DataFilter:
    """Validate raw filter values; defaults are the API's: end = this month, start = 11 months before end."""
    end_month = _as_month(end, "end") if end is not None else current_month() if today is None else today.replace(day=1)
    start_month = _as_month(start, "start") if start is not None else add_months(end_month, -(DEFAULT_MONTHS - 1))
    if start_month > end_month:
        raise FilterError(f"start ({start_month:%Y-%m}) is after end ({end_month:%Y-%m})")
    if channel is not None and channel not in CHANNELS:
        raise FilterError(f"channel must be one of {', '.join(CHANNELS)}, got {channel!r}")
    return DataFilter(parse_facility_ids(facility_ids), start_month, end_month, channel)


def _as_month(value: str | date, name: str) -> date:
    if isinstance(value, date):
        return value.replace(day=1)
    return parse_month(value, name)
