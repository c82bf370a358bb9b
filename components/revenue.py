"""Revenue figures: revenue by month with month-over-month growth, by facility, and per placement.

Input: revenue frames (facility x month cells, or totals) with columns facility_id, facility_name, month,
invoices, placements, revenue (Decimal or None), avg_invoice, revenue_per_placement, mom_growth, suppressed
and optionally partial / excluded_cells.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from components import theme
from components.cells import Ratio, totals
from components.figures import (
    SUPPRESSED_LABEL,
    add_notes,
    add_placeholders,
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
from components.formatting import (
    D3_HOVER,
    D3_TICK,
    MISSING,
    fmt_currency,
    fmt_int,
    fmt_month,
    fmt_signed_percent,
)

MONEY_SUMS = ["revenue", "placements", "invoices"]


def revenue_by_month(df: pd.DataFrame, *, threshold: int, title: str = "Revenue by month") -> go.Figure:
    """Monthly revenue bars, labelled with month-over-month growth."""
    if df.empty:
        return empty_figure(title)
    by_month = not df.duplicated(subset=["month"]).any()
    growth_given = by_month and "mom_growth" in df.columns
    data = totals(df, ["month"], sums=[*MONEY_SUMS, *(["mom_growth"] if growth_given else [])])
    if not growth_given:
        _add_growth(data)
    data["label"] = data["month"].map(fmt_month)
    growth = value_text(data, "mom_growth", fmt_signed_percent)
    labels = [
        "" if np.isnan(rev) else ("growth suppressed" if g == SUPPRESSED_LABEL else ("" if g == MISSING else g))
        for rev, g in zip(data["revenue"], growth, strict=True)
    ]
    fig = new_figure(title)
    fig.add_trace(
        go.Bar(
            x=list(data["label"]),
            y=plain(data["revenue"]),
            name="Revenue",
            marker={"color": theme.SERIES_COLORS["revenue"]},
            text=labels,
            textposition="outside",
            cliponaxis=False,
            customdata=np.column_stack(
                [
                    [g if g != MISSING else "n/a" for g in growth],
                    value_text(data, "placements", fmt_int),
                    partial_hover(data["partial"], data["excluded_cells"]),
                ]
            ),
            hovertemplate=(
                f"<b>%{{x}}</b><br>Revenue: %{{y:{D3_HOVER['currency']}}}"
                "<br>Change vs previous month: %{customdata[0]}"
                "<br>Placements invoiced: %{customdata[1]}%{customdata[2]}<extra></extra>"
            ),
        )
    )
    gone = suppressed_at(data, "revenue")
    add_placeholders(fig, gone, height=ceiling(data["revenue"], default=1.0), threshold=threshold, what="Revenue")
    month_axis(fig, month_categories(data["month"]))
    fig.update_yaxes(tickformat=D3_TICK["currency"], title={"text": "Revenue (USD)"}, rangemode="tozero")
    any_gone = bool(gone) or any("mom_growth" in s for s in data["suppressed"])
    add_notes(fig, threshold=threshold, suppressed=any_gone, excluded_cells=int(data["excluded_cells"].sum()))
    return fig


def _add_growth(data: pd.DataFrame) -> None:
    """Growth between consecutive calendar months of complete totals; suppressed if either revenue is."""
    months = pd.PeriodIndex(data["month"].map(fmt_month), freq="M")
    revenue = data["revenue"].to_numpy(dtype="float64")
    partial = data["partial"].to_numpy(dtype=bool)
    position = {month: i for i, month in enumerate(months)}
    suppressed = [list(fields) for fields in data["suppressed"]]
    growth = np.full(len(data), np.nan)
    for i, month in enumerate(months):
        j = position.get(month - 1)
        if j is None:
            continue
        if "revenue" in suppressed[i] or "revenue" in suppressed[j]:
            suppressed[i].append("mom_growth")
        elif not (partial[i] or partial[j]) and revenue[j] > 0:
            growth[i] = (revenue[i] - revenue[j]) / revenue[j]
    data["suppressed"] = suppressed
    data["mom_growth"] = growth


def revenue_by_facility(df: pd.DataFrame, *, threshold: int, title: str = "Revenue by facility") -> go.Figure:
    """Horizontal bars, highest revenue first; suppressed facilities listed last with a placeholder."""
    if df.empty:
        return empty_figure(title)
    keys = ["facility_id", "facility_name"] if "facility_name" in df.columns else ["facility_id"]
    data = totals(df, keys, sums=MONEY_SUMS, derived={"revenue_per_placement": Ratio("revenue", "placements")})
    data["label"] = facility_labels(data)
    data["__gone"] = ["revenue" in s for s in data["suppressed"]]
    data = data.sort_values(["__gone", "revenue", "label"], ascending=[True, False, True], na_position="last")
    fig = new_figure(title, height=bar_chart_height(len(data)))
    fig.add_trace(
        go.Bar(
            x=plain(data["revenue"]),
            y=list(data["label"]),
            orientation="h",
            name="Revenue",
            marker={"color": theme.SERIES_COLORS["revenue"]},
            text=[fmt_currency(v, cents=False) if not np.isnan(v) else "" for v in data["revenue"]],
            textposition="auto",
            customdata=np.column_stack(
                [
                    value_text(data, "placements", fmt_int),
                    value_text(data, "revenue_per_placement", fmt_currency),
                    partial_hover(data["partial"], data["excluded_cells"]),
                ]
            ),
            hovertemplate=(
                f"<b>%{{y}}</b><br>Revenue: %{{x:{D3_HOVER['currency']}}}<br>Placements: %{{customdata[0]}}"
                "<br>Revenue per placement: %{customdata[1]}%{customdata[2]}<extra></extra>"
            ),
            showlegend=False,
        )
    )
    gone = suppressed_at(data, "revenue")
    add_placeholders(
        fig,
        gone,
        height=ceiling(data["revenue"], default=1.0),
        threshold=threshold,
        what="Revenue",
        orientation="h",
    )
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=list(data["label"]), autorange="reversed")
    fig.update_xaxes(tickformat=D3_TICK["currency"], title={"text": "Revenue (USD)"}, rangemode="tozero")
    add_notes(fig, threshold=threshold, suppressed=bool(gone), excluded_cells=int(data["excluded_cells"].sum()))
    return fig


def revenue_per_placement(
    df: pd.DataFrame, *, threshold: int, title: str = "Revenue per placement by month"
) -> go.Figure:
    """Revenue divided by placements invoiced, per month (over rows where both are published)."""
    if df.empty:
        return empty_figure(title)
    data = totals(
        df,
        ["month"],
        sums=["revenue", "placements"],
        derived={"revenue_per_placement": Ratio("revenue", "placements")},
    )
    data["label"] = data["month"].map(fmt_month)
    fig = new_figure(title)
    fig.add_trace(
        go.Scatter(
            x=list(data["label"]),
            y=plain(data["revenue_per_placement"]),
            mode="lines+markers",
            name="Revenue per placement",
            connectgaps=False,
            line={"color": theme.SERIES_COLORS["revenue_per_placement"], "width": 2},
            customdata=np.column_stack(
                [
                    value_text(data, "placements", fmt_int),
                    partial_hover(data["partial"], data["excluded_cells"]),
                ]
            ),
            hovertemplate=(
                f"<b>%{{x}}</b><br>Revenue per placement: %{{y:{D3_HOVER['currency']}}}"
                "<br>Placements: %{customdata[0]}%{customdata[1]}<extra></extra>"
            ),
        )
    )
    gone = suppressed_at(data, "revenue_per_placement")
    add_placeholders(
        fig,
        gone,
        height=ceiling(data["revenue_per_placement"], default=1.0),
        threshold=threshold,
        what="Revenue per placement",
    )
    month_axis(fig, month_categories(data["month"]))
    fig.update_yaxes(tickformat=D3_TICK["currency"], title={"text": "USD per placement"}, rangemode="tozero")
    add_notes(fig, threshold=threshold, suppressed=bool(gone), excluded_cells=int(data["excluded_cells"].sum()))
    return fig
