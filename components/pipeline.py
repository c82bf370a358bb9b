"""Pipeline figures from the pipeline totals (data.totals): hiring funnel, applications and hires by month, time
to fill by month."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from components import theme
from components.figures import (
    Unit,
    add_privacy_note,
    add_value_bars,
    add_value_line,
    combine,
    empty_figure,
    field_view,
    month_axis,
    month_categories,
    new_figure,
    value_headroom,
)
from components.formatting import D3_TICK, fmt_month, fmt_percent
from data.contract import Shown
from data.specs import PIPELINE

STAGES = ("applications", "screened", "interviewed", "offered", "hired")
STAGE_LABELS = {"applications": "Applied", "screened": "Screened", "interviewed": "Interviewed",
                "offered": "Offered", "hired": "Hired"}
FACILITIES: Unit = ("facility", "facilities")
MONTHS: Unit = ("facility-month", "facility-months")


def funnel(total: pd.DataFrame, *, threshold: int, title: str = "Hiring funnel") -> go.Figure:
    """Applied → screened → interviewed → offered → hired over the selection, with each stage's share of the one
    before (only where both are complete)."""
    if total.empty or int(total["rows"].iloc[0]) == 0:
        return empty_figure(title)
    view = combine([field_view(total, PIPELINE.column(stage)) for stage in STAGES])
    labels = [STAGE_LABELS[s] for s in STAGES]

    def conversion(i: int) -> str:
        if i == 0:
            return ""
        complete = view.shown[i] == Shown.POINT and view.shown[i - 1] == Shown.POINT
        if not (complete and not view.partial[i] and not view.partial[i - 1] and view.values[i - 1] > 0):
            return ""
        return f"{fmt_percent(view.values[i] / view.values[i - 1])} of {labels[i - 1].lower()}"

    fig = new_figure(title)
    add_value_bars(fig, labels, view, name="Applications", color=theme.SERIES_COLORS["applications"], unit=MONTHS,
                   threshold=threshold, orientation="h", hover_lines=conversion, label_values=True)
    fig.update_layout(showlegend=False)
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=labels, autorange="reversed")
    tops = [high for high in np.where(np.isfinite(view.high), view.high, view.values) if np.isfinite(high)]
    fig.update_xaxes(tickformat=D3_TICK["int"], title={"text": "Applications"}, rangemode="tozero",
                     range=value_headroom(tops, 0.22))
    add_privacy_note(fig, threshold)
    return fig


def applications_hires_by_month(
    by_month: pd.DataFrame, *, threshold: int, title: str = "Applications and hires by month"
) -> go.Figure:
    """Grouped bars of applications and hires per month; the hire rate in the hover."""
    if by_month.empty:
        return empty_figure(title)
    labels = list(by_month["month"].map(fmt_month))
    rate = field_view(by_month, PIPELINE.column("conversion_rate"))
    fig = new_figure(title)
    for field in ("applications", "hired"):
        column = PIPELINE.column(field)
        add_value_bars(fig, labels, field_view(by_month, column), name=column.label, offsetgroup=field,
                       color=theme.SERIES_COLORS[field], unit=FACILITIES, threshold=threshold,
                       hover_lines=lambda i: f"Hire rate: {rate.text(i)}")
    fig.update_layout(barmode="group")
    month_axis(fig, month_categories(by_month["month"]))
    fig.update_yaxes(tickformat=D3_TICK["int"], title={"text": "Count"}, rangemode="tozero")
    add_privacy_note(fig, threshold)
    return fig


def time_to_fill_by_month(by_month: pd.DataFrame, *, threshold: int, title: str = "Time to fill by month"
                          ) -> go.Figure:
    """Average days from application to hire per month (weighted by hires); a gap where nobody was hired."""
    if by_month.empty:
        return empty_figure(title)
    labels = list(by_month["month"].map(fmt_month))
    hires = field_view(by_month, PIPELINE.column("hired"))
    fig = new_figure(title)
    add_value_line(fig, labels, field_view(by_month, PIPELINE.column("time_to_fill_days")), name="Time to fill",
                   color=theme.SERIES_COLORS["time_to_fill_days"], unit=FACILITIES, threshold=threshold,
                   hover_lines=lambda i: f"Hires: {hires.text(i)}")
    month_axis(fig, month_categories(by_month["month"]))
    fig.update_yaxes(tickformat=D3_TICK["days"], ticksuffix=" d", title={"text": "Days"}, rangemode="tozero")
    add_privacy_note(fig, threshold)
    return fig
