"""Pipeline figures: hiring funnel, applications and hires by month, time to fill by month.

Input: pipeline frames (one row per facility x month cell, or already totalled by month) with columns
month, applications, screened, interviewed, offered, hired, conversion_rate, time_to_fill_days, suppressed
and optionally partial / excluded_cells.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from components import theme
from components.cells import Mean, Ratio, as_float, hidden, row_excluded, totals
from components.figures import (
    add_notes,
    add_placeholders,
    ceiling,
    empty_figure,
    month_axis,
    month_categories,
    new_figure,
    partial_hover,
    plain,
    suppressed_at,
    value_text,
)
from components.formatting import D3_HOVER, D3_TICK, fmt_int, fmt_month, fmt_percent, partial_note

STAGES = (
    ("applications", "Applied"),
    ("screened", "Screened"),
    ("interviewed", "Interviewed"),
    ("offered", "Offered"),
    ("hired", "Hired"),
)


def funnel(df: pd.DataFrame, *, threshold: int, title: str = "Hiring funnel") -> go.Figure:
    """Applied → screened → interviewed → offered → hired over published cells, with stage conversion."""
    if df.empty:
        return empty_figure(title)
    fields = [field for field, _ in STAGES]
    values, hidden_counts = [], []
    for field in fields:
        published = as_float(df, field).dropna()
        values.append(float(published.sum()) if len(published) else np.nan)
        hidden_counts.append(int(hidden(df, field).sum()))
    conversions = [None, *(_stage_conversion(df, a, b) for a, b in itertools.pairwise(fields))]

    labels = [label for _, label in STAGES]
    visible = [not np.isnan(v) for v in values]
    text, hover = [], []
    for i, (value, conversion) in enumerate(zip(values, conversions, strict=True)):
        step = "" if conversion is None else f" · {fmt_percent(conversion)} of {labels[i - 1].lower()}"
        text.append(f"{fmt_int(value)}{step}" if visible[i] else "")
        note = f"<br>{partial_note(hidden_counts[i])}" if hidden_counts[i] and visible[i] else ""
        hover.append(f"{step.removeprefix(' · ')}{note}" if step or note else "")

    fig = new_figure(title)
    fig.add_trace(
        go.Bar(
            x=plain(values),
            y=labels,
            orientation="h",
            name="Applications",
            marker={"color": theme.SERIES_COLORS["applications"]},
            text=text,
            textposition="auto",
            customdata=hover,
            hovertemplate=f"<b>%{{y}}</b><br>%{{x:{D3_HOVER['int']}}}<br>%{{customdata}}<extra></extra>",
            showlegend=False,
        )
    )
    gone = [label for label, ok, n in zip(labels, visible, hidden_counts, strict=True) if not ok and n]
    add_placeholders(
        fig,
        gone,
        height=ceiling(values, default=threshold),
        threshold=threshold,
        what="count",
        orientation="h",
    )
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=labels, autorange="reversed")
    fig.update_xaxes(tickformat=D3_TICK["int"], title={"text": "Applications"}, rangemode="tozero")
    excluded = int(row_excluded(df, fields).sum())
    add_notes(fig, threshold=threshold, suppressed=bool(gone), excluded_cells=excluded)
    return fig


def _stage_conversion(df: pd.DataFrame, previous: str, current: str) -> float | None:
    """sum(current) / sum(previous) over rows where both stages are published (as the kpis ratios)."""
    if previous not in df.columns or current not in df.columns:
        return None
    prev, cur = as_float(df, previous), as_float(df, current)
    both = prev.notna() & cur.notna()
    denominator = float(prev[both].sum())
    return float(cur[both].sum()) / denominator if denominator > 0 else None


def applications_hires_by_month(
    df: pd.DataFrame, *, threshold: int, title: str = "Applications and hires by month"
) -> go.Figure:
    """Grouped bars of applications and hires per month; hire rate in the hover."""
    if df.empty:
        return empty_figure(title)
    data = totals(
        df,
        ["month"],
        sums=["applications", "hired"],
        derived={"conversion_rate": Ratio("hired", "applications")},
    )
    data["label"] = data["month"].map(fmt_month)
    categories = month_categories(data["month"])
    suffix = partial_hover(data["partial"], data["excluded_cells"])
    rate = value_text(data, "conversion_rate", fmt_percent)
    fig = new_figure(title)
    top = ceiling(data[["applications", "hired"]].to_numpy().ravel(), default=threshold)
    any_gone = False
    for field, name in (("applications", "Applications"), ("hired", "Hires")):
        fig.add_trace(
            go.Bar(
                x=list(data["label"]),
                y=plain(data[field]),
                name=name,
                offsetgroup=field,
                marker={"color": theme.SERIES_COLORS[field]},
                customdata=np.column_stack([rate, suffix]),
                hovertemplate=(
                    f"<b>%{{x}}</b><br>{name}: %{{y:{D3_HOVER['int']}}}"
                    "<br>Hire rate: %{customdata[0]}%{customdata[1]}<extra></extra>"
                ),
            )
        )
    for field, name in (("applications", "Applications"), ("hired", "Hires")):
        gone = suppressed_at(data, field)
        add_placeholders(
            fig, gone, height=top, threshold=threshold, what=name, offsetgroup=field, showlegend=not any_gone
        )
        any_gone = any_gone or bool(gone)
    fig.update_layout(barmode="group")
    month_axis(fig, categories)
    fig.update_yaxes(tickformat=D3_TICK["int"], title={"text": "Count"}, rangemode="tozero")
    add_notes(fig, threshold=threshold, suppressed=any_gone, excluded_cells=int(data["excluded_cells"].sum()))
    return fig


def time_to_fill_by_month(df: pd.DataFrame, *, threshold: int, title: str = "Time to fill by month") -> go.Figure:
    """Average days from application to hire per month (weighted by hires); gaps where undefined."""
    if df.empty:
        return empty_figure(title)
    data = totals(df, ["month"], sums=["hired"], derived={"time_to_fill_days": Mean("time_to_fill_days", "hired")})
    data["label"] = data["month"].map(fmt_month)
    categories = month_categories(data["month"])
    suffix = partial_hover(data["partial"], data["excluded_cells"])
    fig = new_figure(title)
    fig.add_trace(
        go.Scatter(
            x=list(data["label"]),
            y=plain(data["time_to_fill_days"]),
            mode="lines+markers",
            name="Time to fill",
            connectgaps=False,
            line={"color": theme.SERIES_COLORS["time_to_fill_days"], "width": 2},
            customdata=suffix,
            hovertemplate=(
                f"<b>%{{x}}</b><br>Time to fill: %{{y:{D3_HOVER['days']}}} days%{{customdata}}<extra></extra>"
            ),
        )
    )
    gone = suppressed_at(data, "time_to_fill_days")
    add_placeholders(
        fig,
        gone,
        height=ceiling(data["time_to_fill_days"], default=30.0),
        threshold=threshold,
        what="Time to fill",
    )
    month_axis(fig, categories)
    fig.update_yaxes(tickformat=D3_TICK["days"], ticksuffix=" d", title={"text": "Days"}, rangemode="tozero")
    add_notes(fig, threshold=threshold, suppressed=bool(gone), excluded_cells=int(data["excluded_cells"].sum()))
    return fig
