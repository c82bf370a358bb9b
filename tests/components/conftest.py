"""Three-row masked frames shaped like the data layer's output, and helpers to look inside figures."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pandas as pd
import plotly.graph_objects as go
import pytest

from components.figures import suppressed_traces

K = 5
NAN = float("nan")
MONTHS = pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"])


def _counts(df: pd.DataFrame, *fields: str) -> pd.DataFrame:
    for field in fields:
        df[field] = pd.array(df[field], dtype="Int64")
    return df


@pytest.fixture
def threshold() -> int:
    return K


@pytest.fixture
def pipeline_df() -> pd.DataFrame:
    """North, three months; February's hires are hidden (and pending, complementary)."""
    hidden = ["hired", "pending", "conversion_rate", "time_to_fill_days"]
    df = pd.DataFrame(
        {
            "facility_id": [1, 1, 1],
            "facility_name": ["North"] * 3,
            "month": MONTHS,
            "applications": [120, 40, 60],
            "screened": [90, 30, 45],
            "interviewed": [50, 12, 20],
            "offered": [20, 8, 10],
            "hired": [15, None, 6],
            "rejected": [60, 20, 30],
            "pending": [45, None, 24],
            "conversion_rate": [0.125, NAN, 0.1],
            "time_to_fill_days": [21.5, NAN, 30.0],
            "suppressed": [[], hidden, []],
        }
    )
    return _counts(df, "applications", "screened", "interviewed", "offered", "hired", "rejected", "pending")


@pytest.fixture
def compliance_df() -> pd.DataFrame:
    """Three facilities in one month; South's medium and high violations and East's rate are hidden."""
    df = pd.DataFrame(
        {
            "facility_id": [1, 2, 3],
            "facility_name": ["North", "South", "East"],
            "month": [MONTHS[0], MONTHS[1], MONTHS[2]],
            "checks": [50, 40, 30],
            "passed": [45, 30, None],
            "failed": [5, 10, None],
            "violations_low": [5, 6, 0],
            "violations_medium": [0, None, 0],
            "violations_high": [0, None, 0],
            "violations_critical": [0, 0, 0],
            "avg_score": [88.0, 75.5, NAN],
            "compliance_rate": [0.9, 0.75, NAN],
            "suppressed": [
                [],
                ["violations_medium", "violations_high"],
                ["passed", "failed", "avg_score", "compliance_rate"],
            ],
        }
    )
    return _counts(
        df,
        "checks",
        "passed",
        "failed",
        "violations_low",
        "violations_medium",
        "violations_high",
        "violations_critical",
    )


@pytest.fixture
def revenue_df() -> pd.DataFrame:
    """North, three months; February's money follows its hidden placements."""
    hidden = ["invoices", "placements", "revenue", "avg_invoice", "revenue_per_placement", "mom_growth"]
    df = pd.DataFrame(
        {
            "facility_id": [1, 1, 1],
            "facility_name": ["North"] * 3,
            "month": MONTHS,
            "invoices": [20, None, 25],
            "placements": [10, None, 12],
            "revenue": [Decimal("120000.50"), None, Decimal("150000.00")],
            "avg_invoice": [Decimal("6000.03"), None, Decimal("6000.00")],
            "revenue_per_placement": [Decimal("12000.05"), None, Decimal("12500.00")],
            "mom_growth": [NAN, NAN, NAN],
            "suppressed": [[], hidden, ["mom_growth"]],
        }
    )
    return _counts(df, "invoices", "placements")


@pytest.fixture
def outreach_df() -> pd.DataFrame:
    """North in January over three channels; phone responses are hidden."""
    hidden = ["responded", "converted", "response_rate", "conversion_rate"]
    df = pd.DataFrame(
        {
            "facility_id": [1, 1, 1],
            "facility_name": ["North"] * 3,
            "month": [MONTHS[0]] * 3,
            "channel": ["email", "sms", "phone"],
            "sent": [100, 40, 20],
            "responded": [30, 10, None],
            "converted": [10, 0, None],
            "response_rate": [0.3, 0.25, NAN],
            "conversion_rate": [0.1, 0.0, NAN],
            "suppressed": [[], [], hidden],
        }
    )
    return _counts(df, "sent", "responded", "converted")


@pytest.fixture
def trace() -> Callable[[go.Figure, str], go.Bar | go.Scatter | go.Heatmap]:
    """Find a data trace by name."""

    def find(fig: go.Figure, name: str):
        matches = [t for t in fig.data if t.name == name]
        assert matches, f"no trace {name!r} in {[t.name for t in fig.data]}"
        return matches[0]

    return find


@pytest.fixture
def placeholders() -> Callable[[go.Figure], list[str]]:
    """The category positions marked as suppressed, across all suppressed-mark traces."""

    def positions(fig: go.Figure) -> list[str]:
        found: list[str] = []
        for t in suppressed_traces(fig):
            horizontal = getattr(t, "orientation", None) == "h"
            found.extend(str(v) for v in (t.y if horizontal else t.x))
        return found

    return positions


@pytest.fixture
def subtitle() -> Callable[[go.Figure], str]:
    def text(fig: go.Figure) -> str:
        return fig.layout.title.subtitle.text or ""

    return text
