"""Compliance figures: rate by facility, violations by month and severity, average score trend.

Input: compliance frames (facility x month cells, or totals) with columns facility_id, facility_name, month,
checks, passed, failed, violations_low|medium|high|critical, avg_score, compliance_rate, suppressed and
optionally partial / excluded_cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from components import theme
from components.cells import Mean, Ratio, totals
from components.figures import (
    add_notes,
    add_placeholders,
    add_suppressed_markers,
    bar_chart_height,
    ceiling,
    empty_figure,
    facility_labels,
    month_axis,
    month_categories,
    new_figure,
    partial_hover,
    plain,
    suppressed_at,
    value_text,
)
from components.formatting import D3_HOVER, D3_TICK, fmt_int, fmt_month, fmt_percent

SEVERITY_FIELDS = tuple(f"violations_{severity}" for severity in theme.SEVERITIES)


def compliance_rate_by_facility(
    df: pd.DataFrame, *, threshold: int, title: str = "Compliance rate by facility"
) -> go.Figure:
    """Horizontal bars, lowest rate first; suppressed facilities listed last with a placeholder."""
    if df.empty:
        return empty_figure(title)
    data = totals(
        df,
        ["facility_id", "facility_name"] if "facility_name" in df.columns else ["facility_id"],
        sums=["checks", "passed"],
        derived={"compliance_rate": Ratio("passed", "checks")},
    )
    data["label"] = facility_labels(data)
    data["__gone"] = ["compliance_rate" in s for s in data["suppressed"]]
    data = data.sort_values(["__gone", "compliance_rate", "label"], kind="stable", na_position="last")
    customdata = np.column_stack(
        [
            value_text(data, "passed", fmt_int),
            value_text(data, "checks", fmt_int),
            partial_hover(data["partial"], data["excluded_cells"]),
        ]
    )
    fig = new_figure(title, height=bar_chart_height(len(data)))
    fig.add_trace(
        go.Bar(
            x=plain(data["compliance_rate"]),
            y=list(data["label"]),
            orientation="h",
            name="Compliance rate",
            marker={"color": theme.SERIES_COLORS["compliance_rate"]},
            text=[fmt_percent(v) if not np.isnan(v) else "" for v in data["compliance_rate"]],
            textposition="auto",
            customdata=customdata,
            hovertemplate=(
                f"<b>%{{y}}</b><br>Compliance rate: %{{x:{D3_HOVER['percent']}}}"
                "<br>Passed %{customdata[0]} of %{customdata[1]} checks%{customdata[2]}<extra></extra>"
            ),
            showlegend=False,
        )
    )
    gone = suppressed_at(data, "compliance_rate")
    add_placeholders(fig, gone, height=1.0, threshold=threshold, what="Compliance rate", orientation="h")
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=list(data["label"]), autorange="reversed")
    fig.update_xaxes(tickformat=D3_TICK["percent"], range=[0, 1.02], title={"text": "Checks passed"})
    add_notes(fig, threshold=threshold, suppressed=bool(gone), excluded_cells=int(data["excluded_cells"].sum()))
    return fig


def violations_by_month(
    df: pd.DataFrame, *, threshold: int, title: str = "Violations by month and severity"
) -> go.Figure:
    """Failed checks per month stacked by severity (low at the bottom, critical on top)."""
    if df.empty:
        return empty_figure(title)
    data = totals(df, ["month"], sums=list(SEVERITY_FIELDS))
    data["label"] = data["month"].map(fmt_month)
    suffix = partial_hover(data["partial"], data["excluded_cells"])
    fig = new_figure(title)
    for severity, field in zip(theme.SEVERITIES, SEVERITY_FIELDS, strict=True):
        name = theme.SEVERITY_LABELS[severity]
        fig.add_trace(
            go.Bar(
                x=list(data["label"]),
                y=plain(data[field]),
                name=name,
                marker={"color": theme.SEVERITY_COLORS[severity]},
                customdata=suffix,
                hovertemplate=(
                    f"<b>%{{x}}</b><br>{name} violations: %{{y:{D3_HOVER['int']}}}%{{customdata}}<extra></extra>"
                ),
            )
        )
    stack = data[list(SEVERITY_FIELDS)].fillna(0).sum(axis=1).to_numpy()
    pad = 0.04 * ceiling(stack, default=float(threshold))
    positions, tops, labels = [], [], []
    for label, top, hidden_fields in zip(data["label"], stack, data["suppressed"], strict=True):
        severities = [theme.SEVERITY_LABELS[f.removeprefix("violations_")] for f in hidden_fields]
        if severities:
            positions.append(label)
            tops.append(top + pad)
            labels.append(", ".join(severities))
    add_suppressed_markers(fig, positions, tops, labels, threshold=threshold)
    fig.update_layout(barmode="stack")
    month_axis(fig, month_categories(data["month"]))
    fig.update_yaxes(tickformat=D3_TICK["int"], title={"text": "Failed checks"}, rangemode="tozero")
    add_notes(
        fig,
        threshold=threshold,
        suppressed=bool(positions),
        excluded_cells=int(data["excluded_cells"].sum()),
        marks="x marks",
    )
    return fig


def avg_score_trend(df: pd.DataFrame, *, threshold: int, title: str = "Average compliance score") -> go.Figure:
    """Average check score (0-100) per month, weighted by checks."""
    if df.empty:
        return empty_figure(title)
    data = totals(df, ["month"], sums=["checks"], derived={"avg_score": Mean("avg_score", "checks")})
    data["label"] = data["month"].map(fmt_month)
    fig = new_figure(title)
    fig.add_trace(
        go.Scatter(
            x=list(data["label"]),
            y=plain(data["avg_score"]),
            mode="lines+markers",
            name="Average score",
            connectgaps=False,
            line={"color": theme.SERIES_COLORS["avg_score"], "width": 2},
            customdata=np.column_stack(
                [value_text(data, "checks", fmt_int), partial_hover(data["partial"], data["excluded_cells"])]
            ),
            hovertemplate=(
                f"<b>%{{x}}</b><br>Average score: %{{y:{D3_HOVER['score']}}}"
                "<br>Checks: %{customdata[0]}%{customdata[1]}<extra></extra>"
            ),
        )
    )
    gone = suppressed_at(data, "avg_score")
    add_placeholders(fig, gone, height=100.0, threshold=threshold, what="Average score")
    month_axis(fig, month_categories(data["month"]))
    fig.update_yaxes(tickformat=D3_TICK["score"], range=[0, 102], title={"text": "Score (0-100)"})
    add_notes(fig, threshold=threshold, suppressed=bool(gone), excluded_cells=int(data["excluded_cells"].sum()))
    return fig
