"""Revenue figures from the revenue totals (data.totals): revenue by month with the change on the month before,
revenue by facility, revenue per placement by month."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from components import theme
from components.figures import (
    FieldView,
    Unit,
    add_privacy_note,
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
    value_headroom,
    value_labels,
)
from components.formatting import D3_TICK, fmt_compact_currency, fmt_month
from data.contract import Shown
from data.specs import REVENUE

COMPACT_CURRENCY_TICK = "$~s"  # axis ticks as $2M, $500k: a phone-wide axis has room for them
FACILITIES: Unit = ("facility", "facilities")
MONTHS: Unit = ("month", "months")


def revenue_by_month(by_month: pd.DataFrame, *, threshold: int, title: str = "Revenue by month") -> go.Figure:
    """Monthly revenue bars, each labelled with its change on the month before (where that can be shown)."""
    if by_month.empty:
        return empty_figure(title)
    labels = list(by_month["month"].map(fmt_month))
    growth = field_view(by_month, REVENUE.column("mom_growth"))
    placements = field_view(by_month, REVENUE.column("placements"))
    revenue = field_view(by_month, REVENUE.column("revenue"))
    fig = new_figure(title)
    add_value_bars(fig, labels, revenue, name="Revenue", color=theme.SERIES_COLORS["revenue"], unit=FACILITIES,
                   threshold=threshold,
                   hover_lines=lambda i: (f"Change vs previous month: {growth.text(i)}"
                                          f"<br>Placements invoiced: {placements.text(i)}"))
    for trace in fig.data:  # a range's label in compact money, so twelve of them fit side by side
        if isinstance(trace.meta, dict) and trace.meta.get("role") == "range":
            trace.text = [_compact_range(revenue, i) if t else "" for i, t in enumerate(trace.text)]
    shown = revenue.only(Shown.POINT)
    change = [growth.text(i) if growth.shown[i] == Shown.POINT else
              ("change hidden" if growth.shown[i] == Shown.SUPPRESSED else "") for i in range(len(labels))]
    fig.add_trace(go.Scatter(_validate=False,
        x=labels, y=[float(v) if s else None for v, s in zip(revenue.values, shown, strict=True)],
        mode="text", text=[c if s else "" for c, s in zip(change, shown, strict=True)], textposition="top center",
        textfont={"size": 12, "color": theme.MUTED_COLOR}, showlegend=False, hoverinfo="skip", cliponaxis=False,
        meta={"role": "label"},
    ))
    month_axis(fig, month_categories(by_month["month"]))
    fig.update_yaxes(tickformat=COMPACT_CURRENCY_TICK, title={"text": "Revenue (USD)"}, rangemode="tozero")
    add_privacy_note(fig, threshold)
    return fig


def revenue_by_facility(by_facility: pd.DataFrame, *, threshold: int, title: str = "Revenue by facility"
                        ) -> go.Figure:
    """Horizontal bars, highest revenue first (labels outside the bars, readable at any size); hidden last."""
    if by_facility.empty:
        return empty_figure(title)
    column = REVENUE.column("revenue")
    key = sort_key(field_view(by_facility, column))
    order = np.lexsort((facility_labels(by_facility), np.nan_to_num(-key, nan=np.inf)))
    data = by_facility.iloc[order].reset_index(drop=True)
    view = field_view(data, column)
    per = field_view(data, REVENUE.column("revenue_per_placement"))
    placements = field_view(data, REVENUE.column("placements"))
    labels = facility_labels(data)
    fig = new_figure(title, height=bar_chart_height(len(data)))
    add_value_bars(fig, labels, view, name="Revenue", color=theme.SERIES_COLORS["revenue"], unit=MONTHS,
                   threshold=threshold, orientation="h",
                   hover_lines=lambda i: (f"Placements invoiced: {placements.text(i)}"
                                          f"<br>Revenue per placement: {per.text(i)}"))
    for trace in fig.data:
        role = trace.meta.get("role") if isinstance(trace.meta, dict) else None
        if role in ("value", "partial"):
            trace.text = [fmt_compact_currency(x) if x is not None else "" for x in trace.x]
        elif role == "range":
            trace.text = [f"≥ {fmt_compact_currency(b)}" if b is not None else "" for b in _range_lows(trace)]
        else:
            continue
        trace.update(value_labels(inside_if_room=role == "value"))
    fig.update_layout(showlegend=False, uniformtext={"minsize": 12, "mode": "show"})
    facility_axis(fig, labels)
    tops = [length + (base or 0.0) for t in fig.data
            if isinstance(t.meta, dict) and t.meta.get("role") in ("value", "partial", "range")
            for length, base in zip(t.x, t.base if t.base is not None else [None] * len(t.x), strict=True)
            if length is not None]
    fig.update_xaxes(tickformat=COMPACT_CURRENCY_TICK, title={"text": "Revenue (USD)"}, rangemode="tozero",
                     range=value_headroom(tops, 0.2))
    add_privacy_note(fig, threshold)
    return fig


def _compact_range(view: FieldView, i: int) -> str:
    low, high = view.low[i], view.high[i]
    if not np.isfinite(high):
        return f"≥ {fmt_compact_currency(low)}"
    return f"{fmt_compact_currency(low)} to {fmt_compact_currency(high)}"


def _range_lows(trace: go.Bar) -> list[float | None]:
    """The least value of each range bar: its base when bounded above, else its length (drawn from zero)."""
    return [None if x is None else (x if b in (None, 0) else b) for x, b in zip(trace.x, trace.base, strict=True)]


def revenue_per_placement(by_month: pd.DataFrame, *, threshold: int, title: str = "Revenue per placement by month"
                          ) -> go.Figure:
    """Revenue divided by placements invoiced, per month (over rows where both are published)."""
    if by_month.empty:
        return empty_figure(title)
    labels = list(by_month["month"].map(fmt_month))
    placements = field_view(by_month, REVENUE.column("placements"))
    fig = new_figure(title)
    add_value_line(fig, labels, field_view(by_month, REVENUE.column("revenue_per_placement")),
                   name="Revenue per placement", color=theme.SERIES_COLORS["revenue_per_placement"], unit=FACILITIES,
                   threshold=threshold, hover_lines=lambda i: f"Placements invoiced: {placements.text(i)}")
    month_axis(fig, month_categories(by_month["month"]))
    fig.update_yaxes(tickformat=D3_TICK["currency"], title={"text": "USD per placement"}, rangemode="tozero")
    add_privacy_note(fig, threshold)
    return fig
