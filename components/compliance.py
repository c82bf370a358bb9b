"""Compliance figures from the compliance totals (data.totals): rate by facility, violations by month and
severity, average score by month."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from components import theme
from components.figures import (
    Unit,
    add_privacy_note,
    add_stacked_bars,
    add_value_bars,
    add_value_line,
    bar_chart_height,
    empty_figure,
    facility_axis,
    facility_labels,
    field_view,
    month_axis,
    month_categories,
    new_figure,
    sort_key,
)
from components.formatting import D3_TICK, fmt_month
from data.specs import COMPLIANCE, VIOLATION_LEVELS

FACILITIES: Unit = ("facility", "facilities")
MONTHS: Unit = ("month", "months")


def compliance_rate_by_facility(
    by_facility: pd.DataFrame, *, threshold: int, title: str = "Compliance rate by facility"
) -> go.Figure:
    """Horizontal bars, lowest rate first (a range sorts by the least it can be); hidden facilities last."""
    if by_facility.empty:
        return empty_figure(title)
    rate = COMPLIANCE.column("compliance_rate")
    order = np.lexsort((facility_labels(by_facility), np.nan_to_num(sort_key(field_view(by_facility, rate)),
                                                                     nan=np.inf)))
    data = by_facility.iloc[order].reset_index(drop=True)
    view, checks = field_view(data, rate), field_view(data, COMPLIANCE.column("checks"))
    passed = field_view(data, COMPLIANCE.column("passed"))
    labels = facility_labels(data)
    fig = new_figure(title, height=bar_chart_height(len(data)))
    add_value_bars(fig, labels, view, name=rate.label, color=theme.SERIES_COLORS["compliance_rate"], unit=MONTHS,
                   threshold=threshold, orientation="h", label_values=True,
                   hover_lines=lambda i: f"Passed {passed.text(i)} of {checks.text(i)} checks")
    fig.update_layout(showlegend=False, uniformtext={"minsize": 12, "mode": "show"})
    facility_axis(fig, labels)
    fig.update_xaxes(tickformat=D3_TICK["percent"], range=[0, 1.18], title={"text": "Checks passed"})
    add_privacy_note(fig, threshold)
    return fig


def violations_by_month(
    by_month: pd.DataFrame, *, threshold: int, title: str = "Violations by month and severity"
) -> go.Figure:
    """Failed checks per month stacked by severity (low at the bottom, critical on top), with every month's total
    of failed checks as a line: where small counts hide a severity, the stack falls short of the line."""
    if by_month.empty:
        return empty_figure(title)
    labels = list(by_month["month"].map(fmt_month))
    layers = [(field_view(by_month, COMPLIANCE.column(f)), theme.SEVERITY_LABELS[f.removeprefix("violations_")],
               theme.SEVERITY_COLORS[f.removeprefix("violations_")]) for f in VIOLATION_LEVELS]
    fig = new_figure(title)
    add_stacked_bars(fig, labels, layers, unit=FACILITIES, threshold=threshold, total_label="Severity breakdown")
    add_value_line(fig, labels, field_view(by_month, COMPLIANCE.column("failed")), name="All failed checks",
                   color=theme.TEXT_COLOR, unit=FACILITIES, threshold=threshold)
    month_axis(fig, month_categories(by_month["month"]))
    fig.update_yaxes(tickformat=D3_TICK["int"], title={"text": "Failed checks"}, rangemode="tozero")
    add_privacy_note(fig, threshold)
    return fig


def avg_score_trend(by_month: pd.DataFrame, *, threshold: int, title: str = "Average compliance score"
                    ) -> go.Figure:
    """Average check score (0-100) per month, weighted by checks."""
    if by_month.empty:
        return empty_figure(title)
    labels = list(by_month["month"].map(fmt_month))
    checks = field_view(by_month, COMPLIANCE.column("checks"))
    fig = new_figure(title)
    add_value_line(fig, labels, field_view(by_month, COMPLIANCE.column("avg_score")), name="Average score",
                   color=theme.SERIES_COLORS["avg_score"], unit=FACILITIES, threshold=threshold,
                   hover_lines=lambda i: f"Checks: {checks.text(i)}")
    month_axis(fig, month_categories(by_month["month"]))
    fig.update_yaxes(tickformat=D3_TICK["score"], range=[0, 102], title={"text": "Score (0-100)"})
    add_privacy_note(fig, threshold)
    return fig
