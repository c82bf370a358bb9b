"""Which charts each page draws, from which groupings of its dataset: one registry for the pages and the exports.

A page callback and an export both call `PageCharts.figures(frames, threshold)` with the frames of
`service.aggregates(spec.dataset, filt, spec.groupings)`, so an exported chart is the chart on the page, built from
the same masked totals. Chart ids are the short names in export URLs; the page's component id is
`<page>-<chart_id>`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from components.compliance import avg_score_trend, compliance_rate_by_facility, violations_by_month
from components.outreach import rates_by_channel, response_heatmap, volume_by_channel_month
from components.pipeline import applications_hires_by_month, funnel, time_to_fill_by_month
from components.revenue import revenue_by_facility, revenue_by_month, revenue_per_placement
from components.tables import COMPLIANCE_COLUMNS, OUTREACH_COLUMNS, PIPELINE_COLUMNS, REVENUE_COLUMNS, Column

Frames = Sequence[pd.DataFrame]
FACILITY = ("facility_id", "facility_name")


@dataclass(frozen=True)
class Chart:
    chart_id: str
    title: str
    build: Callable[[Frames, int], go.Figure]


@dataclass(frozen=True)
class PageCharts:
    """A page's dataset, the groupings its charts need, its charts and the by-facility table of its report."""

    page: str
    title: str
    dataset: str | None
    groupings: tuple[tuple[str, ...], ...] = ()
    charts: tuple[Chart, ...] = ()
    table_grouping: int | None = None
    table_columns: tuple[Column, ...] = ()

    def chart(self, chart_id: str) -> Chart | None:
        return next((c for c in self.charts if c.chart_id == chart_id), None)

    def figures(self, frames: Frames, threshold: int) -> dict[str, go.Figure]:
        """Every chart of the page, by chart id, in page order."""
        return {c.chart_id: c.build(frames, threshold) for c in self.charts}

    def component_id(self, chart_id: str) -> str:
        return f"{self.page}-{chart_id}"


def _without_month(columns: Sequence[Column]) -> tuple[Column, ...]:
    return tuple(c for c in columns if c.field != "month")


def _funnel(frames: Frames, k: int) -> go.Figure:
    by_month, overall = frames[0], frames[1]
    return funnel(overall if len(by_month) else by_month, threshold=k)  # no rows: the empty state, not zeros


PAGE_CHARTS: dict[str, PageCharts] = {
    spec.page: spec
    for spec in (
        PageCharts("overview", "Overview", None),
        PageCharts(
            "pipeline",
            "Pipeline",
            "pipeline",
            (("month",), (), FACILITY),
            (
                Chart("funnel", "Hiring funnel", _funnel),
                Chart("by-month", "Applications and hires by month",
                      lambda f, k: applications_hires_by_month(f[0], threshold=k)),
                Chart("time-to-fill", "Time to fill by month", lambda f, k: time_to_fill_by_month(f[0], threshold=k)),
            ),
            table_grouping=2,
            table_columns=_without_month(PIPELINE_COLUMNS),
        ),
        PageCharts(
            "compliance",
            "Compliance",
            "compliance",
            (("month",), FACILITY),
            (
                Chart("by-facility", "Compliance rate by facility",
                      lambda f, k: compliance_rate_by_facility(f[1], threshold=k)),
                Chart("violations-by-month", "Violations by month and severity",
                      lambda f, k: violations_by_month(f[0], threshold=k)),
                Chart("score", "Average compliance score", lambda f, k: avg_score_trend(f[0], threshold=k)),
            ),
            table_grouping=1,
            table_columns=_without_month(COMPLIANCE_COLUMNS),
        ),
        PageCharts(
            "revenue",
            "Revenue",
            "revenue",
            (("month",), FACILITY),
            (
                Chart("by-month", "Revenue by month", lambda f, k: revenue_by_month(f[0], threshold=k)),
                Chart("by-facility", "Revenue by facility", lambda f, k: revenue_by_facility(f[1], threshold=k)),
                Chart("per-placement", "Revenue per placement by month",
                      lambda f, k: revenue_per_placement(f[0], threshold=k)),
            ),
            table_grouping=1,
            table_columns=tuple(c for c in _without_month(REVENUE_COLUMNS) if c.field != "mom_growth"),
        ),
        PageCharts(
            "outreach",
            "Outreach",
            "outreach",
            (("channel",), ("month", "channel"), (*FACILITY, "channel")),
            (
                Chart("rates", "Response and conversion by channel", lambda f, k: rates_by_channel(f[0], threshold=k)),
                Chart("volume", "Messages sent by channel and month",
                      lambda f, k: volume_by_channel_month(f[1], threshold=k)),
                Chart("heatmap", "Response rate by channel and facility",
                      lambda f, k: response_heatmap(f[2], threshold=k)),
            ),
            table_grouping=2,
            table_columns=_without_month(OUTREACH_COLUMNS),
        ),
    )
}
