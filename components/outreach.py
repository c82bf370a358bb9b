"""Outreach figures from the outreach totals (data.totals): response and conversion rate by channel, messages by
channel and month, response rate by channel and facility. Every channel keeps its colour and its place in the
legend (`theme.CHANNEL_ORDER`)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from components import theme
from components.figures import (
    LEGEND_RANKS,
    SUPPRESSED_TRACE,
    Unit,
    add_privacy_note,
    add_stacked_bars,
    add_value_bars,
    bar_chart_height,
    empty_figure,
    facility_axis,
    facility_labels,
    field_view,
    month_axis,
    month_categories,
    new_figure,
    value_headroom,
)
from components.formatting import D3_TICK, hidden_note
from data.contract import Shown
from data.specs import OUTREACH

FACILITY_MONTHS: Unit = ("facility-month", "facility-months")
FACILITIES: Unit = ("facility", "facilities")
MONTHS: Unit = ("month", "months")
RATES = ("response_rate", "conversion_rate")


def channel_order(channels: Iterable[str]) -> list[str]:
    """Known channels in their fixed order, then any others alphabetically."""
    present = {str(c) for c in channels if isinstance(c, str)}
    return [c for c in theme.CHANNEL_ORDER if c in present] + sorted(present - set(theme.CHANNEL_ORDER))


def rates_by_channel(by_channel: pd.DataFrame, *, threshold: int,
                     title: str = "Response and conversion by channel") -> go.Figure:
    """Response and conversion rate per channel, channels in their fixed order."""
    if by_channel.empty:
        return empty_figure(title)
    order = {c: i for i, c in enumerate(channel_order(by_channel["channel"]))}
    data = by_channel.iloc[np.argsort([order[c] for c in by_channel["channel"]], kind="stable")].reset_index(
        drop=True)
    labels = [theme.channel_label(c) for c in data["channel"]]
    sent = field_view(data, OUTREACH.column("sent"))
    fig = new_figure(title)
    for field in RATES:
        column = OUTREACH.column(field)
        add_value_bars(fig, labels, field_view(data, column), name=column.label, offsetgroup=field,
                       color=theme.SERIES_COLORS[field], unit=FACILITY_MONTHS, threshold=threshold,
                       label_values=True, hover_lines=lambda i: f"Messages sent: {sent.text(i)}")
    fig.update_layout(barmode="group")
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=labels, title={"text": ""})
    # Room above the highest bar for its label, written on its side when the bars stand close together.
    tops = [high for field in RATES for view in [field_view(data, OUTREACH.column(field))]
            for high in np.where(np.isfinite(view.high), view.high, view.values) if np.isfinite(high)]
    fig.update_yaxes(tickformat=D3_TICK["percent"], title={"text": "Share of messages sent"}, rangemode="tozero",
                     range=value_headroom(tops, 0.9))
    add_privacy_note(fig, threshold)
    return fig


def volume_by_channel_month(by_month_channel: pd.DataFrame, *, threshold: int,
                            title: str = "Messages sent by channel and month") -> go.Figure:
    """Messages sent per month, stacked by channel."""
    if by_month_channel.empty:
        return empty_figure(title)
    months = month_categories(by_month_channel["month"])
    column = OUTREACH.column("sent")
    sent = field_view(by_month_channel.reset_index(drop=True), column)
    # Each row's place among the months (they run without a gap from the first month to the last).
    month = by_month_channel["month"].to_numpy().astype("datetime64[M]").astype(np.int64)
    month -= month.min()
    channels = by_month_channel["channel"].to_numpy(dtype=object)
    layers = []
    for channel in channel_order(channels):
        positions = np.full(len(months), -1)
        rows = np.flatnonzero(channels == channel)
        positions[month[rows]] = rows
        layers.append((sent.take(positions), theme.channel_label(channel), theme.channel_color(channel)))
    fig = new_figure(title)
    add_stacked_bars(fig, months, layers, unit=FACILITIES, threshold=threshold, total_label="Messages sent")
    month_axis(fig, months)
    fig.update_yaxes(tickformat=D3_TICK["int"], title={"text": column.label}, rangemode="tozero")
    add_privacy_note(fig, threshold)
    return fig


def response_heatmap(by_facility_channel: pd.DataFrame, *, threshold: int,
                     title: str = "Response rate by channel and facility") -> go.Figure:
    """Channel x facility grid of the response rate: a colour where it can be shown as one value, the range in
    words where only a range can, an x where it is hidden, and 'no outreach' where nothing was sent."""
    if by_facility_channel.empty:
        return empty_figure(title)
    data = by_facility_channel.reset_index(drop=True)
    view = field_view(data, OUTREACH.column("response_rate"))
    sent = field_view(data, OUTREACH.column("sent"))
    facility = facility_labels(data)
    facilities = sorted(set(facility))
    channels = channel_order(data["channel"])
    columns = [theme.channel_label(c) for c in channels]
    at = {(f, c): i for i, (f, c) in enumerate(zip(facility, data["channel"], strict=True))}
    # Plain lists: reading numpy arrays one cell at a time cost more than the rest of the loop.
    shown, values, partial = view.shown_cells, view.values.tolist(), view.partial_cells
    texts, sent_texts = view.texts, sent.texts
    z, text, hover = [], [], []
    for f in facilities:
        z_row, text_row, hover_row = [], [], []
        for c in channels:
            i = at.get((f, c))
            if i is None:
                z_row.append(None)
                text_row.append("")
                hover_row.append("no outreach")
                continue
            z_row.append(float(values[i]) if shown[i] == Shown.POINT else None)
            text_row.append(texts[i] + ("*" if partial[i] else "") if shown[i] != Shown.SUPPRESSED else "")
            note = view.note(i, MONTHS, threshold)
            hover_row.append(f"{texts[i]}<br>Messages sent: {sent_texts[i]}" + (f"<br>{note}" if note else ""))
        z.append(z_row)
        text.append(text_row)
        hover.append(hover_row)
    values = view.values[view.only(Shown.POINT)]
    fig = new_figure(title, height=bar_chart_height(len(facilities)))
    fig.add_trace(go.Heatmap(_validate=False,
        z=z, x=columns, y=facilities, zmin=0, zmax=float(values.max()) if values.size and values.max() > 0 else 1.0,
        colorscale=theme.SEQUENTIAL_SCALE, colorbar={"tickformat": D3_TICK["percent"], "thickness": 12},
        text=text, texttemplate="%{text}", customdata=hover, xgap=2, ygap=2, name="Response rate",
        hovertemplate="<b>%{y}</b> · %{x}<br>Response rate: %{customdata}<extra></extra>",
    ))
    hidden = [(facility[i], theme.channel_label(c)) for i, c in enumerate(data["channel"])
              if view.shown[i] == Shown.SUPPRESSED]
    if hidden:
        fig.add_trace(go.Scatter(_validate=False,
            x=[c for _, c in hidden], y=[f for f, _ in hidden], mode="markers", name=f"Hidden (fewer than {threshold})",
            marker={"symbol": "x-thin-open", "size": 14, "color": theme.MUTED_COLOR, "line": {"width": 2}},
            hovertemplate=f"<b>%{{y}}</b> · %{{x}}<br>{hidden_note(threshold)}<extra></extra>",
            meta={"role": SUPPRESSED_TRACE}, legendrank=LEGEND_RANKS[SUPPRESSED_TRACE],
        ))
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=columns, showgrid=False)
    facility_axis(fig, facilities)
    fig.update_yaxes(showgrid=False)
    fig.update_layout(plot_bgcolor=theme.EMPTY_CELL_COLOR)
    starred = bool(view.partial.any())
    add_privacy_note(fig, threshold, left_out=starred or bool(view.only(Shown.RANGE).any()),
                     key=" * leaves out hidden numbers." if starred else "")
    return fig
