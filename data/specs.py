"""Declarative dataset specs (docs/KPIS.md, docs/PRIVACY.md): what each column is and what it is computed from.

The masker (`data.masking`) and the totals (`data.totals`) know nothing about column names: every rule they
apply (which counts a rate uses, which count money follows, which groups add up) is read from these specs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import cached_property


class Kind(StrEnum):
    """What a column holds, which decides how the masker treats it."""

    GRAIN = "grain"  # part of the row key; never hidden
    COUNT = "count"  # a count of people or events; primary and complementary suppression apply
    DERIVED = "derived"  # a rate or an average, float; hidden when what it is computed from is
    MONEY = "money"  # exact Decimal amounts; hidden when the count(s) it follows are
    GROWTH = "growth"  # change against the previous period's row of the same series
    PII = "pii"  # personal data; redacted unless the caller holds `view_pii`
    ATTRIBUTE = "attribute"  # anything else carried along untouched (labels, timestamps)


# How values are written: counts, fractions as percentages, US dollars, fractional days, a 0-100 score, a signed
# change, a month, plain text.
DISPLAYS = ("int", "percent", "currency", "days", "score", "change", "month", "datetime", "text")
_DEFAULT_DISPLAY = {
    Kind.GRAIN: "text", Kind.COUNT: "int", Kind.DERIVED: "percent", Kind.MONEY: "currency", Kind.GROWTH: "change",
    Kind.PII: "text", Kind.ATTRIBUTE: "text",
}


class Aggregation(StrEnum):
    """How a column is rebuilt when published cells are grouped (`data.totals.aggregate_published`)."""

    SUM = "sum"  # add the published cells
    RATIO = "ratio"  # sum(numerator) / sum(denominator) over rows where both are published
    MEAN = "mean"  # weighted by `denominator`, over rows where the value and its weight are published
    GROWTH = "growth"  # (sum(this) - sum(previous)) / sum(previous) over series with both published
    NONE = "none"  # not aggregated


@dataclass(frozen=True)
class Column:
    """One column of a dataset.

    `inputs` are the columns it is computed from: it is hidden when any of them is hidden (for GROWTH, when
    any of them is hidden in this row or in the previous period's row of the same series). `denominator` is
    the count it is divided by: it is also hidden when that count is below the threshold, and undefined (so
    not a suppression) when that count is a published zero. `numerator` makes it a ratio; a DERIVED column
    with a denominator and no numerator is an average weighted by the denominator. `quantum` rounds money
    ratios. `limits` are the least and greatest values the column can take (a rate lies in [0, 1]): totals use
    them for the range a partial figure may have. `label` is what people read (tables, hovers, exports) and
    `display` how its values are written (one of DISPLAYS).
    """

    name: str
    kind: Kind
    inputs: tuple[str, ...] = ()
    denominator: str | None = None
    numerator: str | None = None
    quantum: Decimal | None = None
    limits: tuple[float, float] = (0.0, math.inf)
    label: str = ""
    display: str = ""

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.name.replace("_", " ").capitalize())
        if not self.display:
            object.__setattr__(self, "display", _DEFAULT_DISPLAY[self.kind])
        if self.display not in DISPLAYS:
            raise ValueError(f"{self.name}: display {self.display!r} is not one of {DISPLAYS}")

    @property
    def aggregation(self) -> Aggregation:
        if self.kind is Kind.COUNT:
            return Aggregation.SUM
        if self.kind is Kind.GROWTH:
            return Aggregation.GROWTH
        if self.kind in (Kind.DERIVED, Kind.MONEY):
            if self.numerator is not None:
                return Aggregation.RATIO
            if self.denominator is not None:
                return Aggregation.MEAN
            if self.kind is Kind.MONEY:
                return Aggregation.SUM
        return Aggregation.NONE


@dataclass(frozen=True)
class Group:
    """A part/whole group: `whole` = sum of `parts` in every row."""

    whole: str
    parts: tuple[str, ...]

    @property
    def members(self) -> tuple[str, ...]:
        """Whole first, then the parts."""
        return (self.whole, *self.parts)


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset: its grain, its columns in output order, its part/whole groups (in checking order).

    `period` is the grain column that steps by calendar month; GROWTH columns compare a row with the row one
    period earlier that has the same values in the other grain columns (`series_keys`).

    `orders` are (larger, smaller) pairs of counts that hold in every row (the hiring funnel, responses never
    exceeding messages sent). The masker does not need them; the privacy audit gives them to its attacker, who
    may know them.
    """

    name: str
    grain: tuple[str, ...]
    fields: tuple[Column, ...]
    groups: tuple[Group, ...] = ()
    period: str | None = None
    orders: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        by_name: dict[str, Column] = {}
        for col in self.fields:
            if col.name in by_name:
                raise ValueError(f"{self.name}: duplicate column {col.name!r}")
            for ref in (*col.inputs, col.denominator, col.numerator):
                if ref is not None and ref not in by_name:
                    raise ValueError(f"{self.name}.{col.name}: {ref!r} must be declared before it")
            if col.denominator is not None and by_name[col.denominator].kind is not Kind.COUNT:
                raise ValueError(f"{self.name}.{col.name}: denominator {col.denominator!r} is not a count")
            if col.kind is Kind.GROWTH and (self.period is None or len(col.inputs) != 1):
                raise ValueError(f"{self.name}.{col.name}: growth needs a period and exactly one input")
            by_name[col.name] = col
        if tuple(c.name for c in self.fields if c.kind is Kind.GRAIN) != self.grain:
            raise ValueError(f"{self.name}: the GRAIN columns must be the grain, in order")
        if self.period is not None and self.period not in self.grain:
            raise ValueError(f"{self.name}: period {self.period!r} is not a grain column")
        for group in self.groups:
            for member in group.members:
                if member not in by_name or by_name[member].kind is not Kind.COUNT:
                    raise ValueError(f"{self.name}: group member {member!r} is not a count column")
        for pair in self.orders:
            for name in pair:
                if name not in by_name or by_name[name].kind is not Kind.COUNT:
                    raise ValueError(f"{self.name}: order relation member {name!r} is not a count column")

    @cached_property
    def _by_name(self) -> dict[str, Column]:
        return {c.name: c for c in self.fields}

    def column(self, name: str) -> Column:
        return self._by_name[name]

    @cached_property
    def columns(self) -> tuple[str, ...]:
        """Every column name, grain first, in output order."""
        return tuple(c.name for c in self.fields)

    @cached_property
    def value_columns(self) -> tuple[str, ...]:
        """The columns the masker may hide (counts, derived figures, money, growth), in output order."""
        maskable = (Kind.COUNT, Kind.DERIVED, Kind.MONEY, Kind.GROWTH)
        return tuple(c.name for c in self.fields if c.kind in maskable)

    @cached_property
    def count_columns(self) -> tuple[str, ...]:
        return self._of_kind(Kind.COUNT)

    @cached_property
    def derived_columns(self) -> tuple[str, ...]:
        return self._of_kind(Kind.DERIVED)

    @cached_property
    def money_columns(self) -> tuple[str, ...]:
        return self._of_kind(Kind.MONEY)

    @cached_property
    def growth_columns(self) -> tuple[str, ...]:
        return self._of_kind(Kind.GROWTH)

    @cached_property
    def series_keys(self) -> tuple[str, ...]:
        """Grain columns other than the period: the rows of one series over time share them."""
        return tuple(g for g in self.grain if g != self.period)

    def _of_kind(self, kind: Kind) -> tuple[str, ...]:
        return tuple(c.name for c in self.fields if c.kind is kind)


CENTS = Decimal("0.01")


GRAIN_LABELS = {"facility_id": "Facility id", "month": "Month", "channel": "Channel"}


def _grain(*names: str) -> tuple[Column, ...]:
    return tuple(Column(n, Kind.GRAIN, label=GRAIN_LABELS[n], display="month" if n == "month" else "text")
                 for n in names)


def _count(name: str, label: str) -> Column:
    return Column(name, Kind.COUNT, label=label)


def _ratio(
    name: str, numerator: str, denominator: str, label: str, kind: Kind = Kind.DERIVED,
    quantum: Decimal | None = None,
) -> Column:
    """numerator / denominator; a rate of counts (kind DERIVED) lies in [0, 1]."""
    inputs = (numerator, denominator)
    limits = (0.0, 1.0) if kind is Kind.DERIVED else (0.0, math.inf)
    return Column(name, kind, inputs, denominator=denominator, numerator=numerator, quantum=quantum, limits=limits,
                  label=label)


PIPELINE = DatasetSpec(
    name="pipeline",
    grain=("facility_id", "month"),
    period="month",
    fields=(
        *_grain("facility_id", "month"),
        _count("applications", "Applications"),
        _count("screened", "Screened"),
        _count("interviewed", "Interviewed"),
        _count("offered", "Offered"),
        _count("hired", "Hires"),
        _count("rejected", "Rejected"),
        _count("pending", "Pending"),
        _ratio("conversion_rate", "hired", "applications", "Hire rate"),
        Column("time_to_fill_days", Kind.DERIVED, inputs=("hired",), denominator="hired", label="Time to fill",
               display="days"),
    ),
    groups=(Group("applications", ("hired", "rejected", "pending")),),
    orders=(("applications", "screened"), ("screened", "interviewed"), ("interviewed", "offered"),
            ("offered", "hired")),
)

VIOLATION_LEVELS = ("violations_low", "violations_medium", "violations_high", "violations_critical")

COMPLIANCE = DatasetSpec(
    name="compliance",
    grain=("facility_id", "month"),
    period="month",
    fields=(
        *_grain("facility_id", "month"),
        _count("checks", "Checks"),
        _count("passed", "Passed"),
        _count("failed", "Failed"),
        _count("violations_low", "Low severity"),
        _count("violations_medium", "Medium severity"),
        _count("violations_high", "High severity"),
        _count("violations_critical", "Critical severity"),
        Column("avg_score", Kind.DERIVED, inputs=("checks",), denominator="checks", limits=(0.0, 100.0),
               label="Average score", display="score"),
        _ratio("compliance_rate", "passed", "checks", "Compliance rate"),
    ),
    groups=(Group("checks", ("passed", "failed")), Group("failed", VIOLATION_LEVELS)),
)

REVENUE = DatasetSpec(
    name="revenue",
    grain=("facility_id", "month"),
    period="month",
    fields=(
        *_grain("facility_id", "month"),
        _count("invoices", "Invoices"),
        _count("placements", "Placements invoiced"),
        # Money follows placements: revenue of fewer than k placements describes them. It also
        # follows invoices: invoices.placement_id may be null, and then a few invoices would show their amounts.
        Column("revenue", Kind.MONEY, inputs=("placements", "invoices"), label="Revenue"),
        _ratio("avg_invoice", "revenue", "invoices", "Average invoice", Kind.MONEY, quantum=CENTS),
        _ratio("revenue_per_placement", "revenue", "placements", "Revenue per placement", Kind.MONEY, quantum=CENTS),
        Column("mom_growth", Kind.GROWTH, inputs=("revenue",), limits=(-1.0, math.inf),
               label="Change vs previous month"),
    ),
    orders=(("invoices", "placements"),),  # a placement counts once it has an invoice that month
)

OUTREACH = DatasetSpec(
    name="outreach",
    grain=("facility_id", "month", "channel"),
    period="month",
    fields=(
        *_grain("facility_id", "month", "channel"),
        _count("sent", "Messages sent"),
        _count("responded", "Responses"),
        _count("converted", "Conversions"),
        _ratio("response_rate", "responded", "sent", "Response rate"),
        _ratio("conversion_rate", "converted", "sent", "Conversion rate"),
    ),
    orders=(("sent", "responded"), ("sent", "converted")),
)

# The violations drill-down: record level (one row per failed check), for callers with view_pii only. Its
# columns in query order; the query (sql/queries/violations.sql), the API and the table all read this list.
DRILLDOWN: tuple[Column, ...] = (
    Column("facility_id", Kind.ATTRIBUTE, label="Facility id"),
    Column("facility_name", Kind.ATTRIBUTE, label="Facility"),
    Column("month", Kind.ATTRIBUTE, label="Month", display="month"),
    Column("check_type", Kind.ATTRIBUTE, label="Check"),
    Column("severity", Kind.ATTRIBUTE, label="Severity"),
    Column("checked_at", Kind.ATTRIBUTE, label="Checked at", display="datetime"),
    Column("expires_at", Kind.ATTRIBUTE, label="Expires at", display="datetime"),
    Column("first_name", Kind.PII, label="First name"),
    Column("last_name", Kind.PII, label="Last name"),
    Column("email", Kind.PII, label="Email"),
    Column("phone", Kind.PII, label="Phone"),
)

DATASETS: dict[str, DatasetSpec] = {s.name: s for s in (PIPELINE, COMPLIANCE, REVENUE, OUTREACH)}
