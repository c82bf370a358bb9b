"""The chart pages as declarations: path, title, dataset, the groupings its charts read, its charts, its table and
drill-down. One module builds every chart page from these (pages/chart_page.py), and exports build the same
figures from the same totals (dashboard/exports.py), so an exported chart is the chart on the page.

Adding a chart is one `ChartSpec` line; adding a page is one `PageSpec` (plus a module in pages/ that registers
it). A chart's `build` gets the page's totals frames, in the order of `groupings`, and the threshold k.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from components.compliance import avg_score_trend, compliance_rate_by_facility, violations_by_month
from components.definitions import DEFINITIONS
from components.figures import Unit
from components.outreach import rates_by_channel, response_heatmap, volume_by_channel_month
from components.pipeline import applications_hires_by_month, funnel, time_to_fill_by_month
from components.revenue import revenue_by_facility, revenue_by_month, revenue_per_placement
from data.specs import COMPLIANCE, OUTREACH, PIPELINE, REVENUE, Column, DatasetSpec

Frames = Sequence[pd.DataFrame]
BY_MONTH: tuple[str, ...] = ("month",)
OVERALL: tuple[str, ...] = ()
BY_FACILITY: tuple[str, ...] = ("facility_id", "facility_name")


@dataclass(frozen=True)
class ChartSpec:
    chart_id: str
    title: str
    grouping: int  # which of the page's groupings the chart draws
    build: Callable[..., go.Figure]  # (frame, *, threshold, title) -> figure
    wide: bool = False  # one bar or row per facility: the chart takes the page's whole width

    def figure(self, frames: Frames, threshold: int) -> go.Figure:
        return self.build(frames[self.grouping], threshold=threshold, title=self.title)


@dataclass(frozen=True)
class TableSpec:
    """The page's by-facility table (on the page and in the report): a grouping and the columns it shows."""

    grouping: int
    columns: tuple[Column, ...]
    unit: Unit = ("month", "months")


@dataclass(frozen=True)
class PageSpec:
    page_id: str
    path: str
    title: str
    spec: DatasetSpec | None
    groupings: tuple[tuple[str, ...], ...] = ()
    charts: tuple[ChartSpec, ...] = ()
    table: TableSpec | None = None
    with_channel: bool = False
    drilldown: bool = False  # the violations drill-down (view_pii)

    @property
    def dataset(self) -> str | None:
        return self.spec.name if self.spec is not None else None

    def chart(self, chart_id: str) -> ChartSpec | None:
        return next((c for c in self.charts if c.chart_id == chart_id), None)

    def figures(self, frames: Frames, threshold: int) -> dict[str, go.Figure]:
        """Every chart of the page, by chart id, in page order."""
        return {c.chart_id: c.figure(frames, threshold) for c in self.charts}

    def component_id(self, chart_id: str) -> str:
        return f"{self.page_id}-{chart_id}"

    def definition(self, chart_id: str) -> str:
        return DEFINITIONS.get((self.page_id, chart_id), "")


def _values(spec: DatasetSpec, *names: str) -> tuple[Column, ...]:
    return tuple(spec.column(n) for n in names)


PAGES: dict[str, PageSpec] = {
    page.page_id: page
    for page in (
        PageSpec("overview", "/", "Overview", None),
        PageSpec(
            "pipeline", "/pipeline", "Pipeline", PIPELINE, (BY_MONTH, OVERALL, BY_FACILITY),
            (
                ChartSpec("funnel", "Hiring funnel", 1, funnel),
                ChartSpec("by-month", "Applications and hires by month", 0, applications_hires_by_month),
                ChartSpec("time-to-fill", "Time to fill by month", 0, time_to_fill_by_month),
            ),
            TableSpec(2, _values(PIPELINE, "applications", "screened", "interviewed", "offered", "hired", "rejected",
                                 "pending", "conversion_rate", "time_to_fill_days")),
        ),
        PageSpec(
            "compliance", "/compliance", "Compliance", COMPLIANCE, (BY_MONTH, BY_FACILITY),
            (
                ChartSpec("by-facility", "Compliance rate by facility", 1, compliance_rate_by_facility, wide=True),
                ChartSpec("violations-by-month", "Violations by month and severity", 0, violations_by_month),
                ChartSpec("score", "Average compliance score", 0, avg_score_trend),
            ),
            TableSpec(1, _values(COMPLIANCE, "checks", "passed", "failed", "violations_low", "violations_medium",
                                 "violations_high", "violations_critical", "avg_score", "compliance_rate")),
            drilldown=True,
        ),
        PageSpec(
            "revenue", "/revenue", "Revenue", REVENUE, (BY_MONTH, BY_FACILITY),
            (
                ChartSpec("by-month", "Revenue by month", 0, revenue_by_month),
                ChartSpec("by-facility", "Revenue by facility", 1, revenue_by_facility, wide=True),
                ChartSpec("per-placement", "Revenue per placement by month", 0, revenue_per_placement),
            ),
            TableSpec(1, _values(REVENUE, "invoices", "placements", "revenue", "avg_invoice",
                                 "revenue_per_placement")),
        ),
        PageSpec(
            "outreach", "/outreach", "Outreach", OUTREACH, (("channel",), ("month", "channel"),
                                                            (*BY_FACILITY, "channel")),
            (
                ChartSpec("rates", "Response and conversion by channel", 0, rates_by_channel),
                ChartSpec("volume", "Messages sent by channel and month", 1, volume_by_channel_month),
                ChartSpec("heatmap", "Response rate by channel and facility", 2, response_heatmap, wide=True),
            ),
            TableSpec(2, _values(OUTREACH, "sent", "responded", "converted", "response_rate", "conversion_rate")),
            with_channel=True,
        ),
    )
}
