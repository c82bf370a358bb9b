"""Outreach figures: response and conversion rate by channel, volume by channel and month, response heatmap.

Input: outreach frames (facility x month x channel cells, or totals) with columns facility_id, facility_name,
month, channel, sent, responded, converted, response_rate, conversion_rate, suppressed and optionally
partial / excluded_cells. Every channel keeps its colour from `theme.CHANNEL_COLORS`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from components import theme
from components.cells import Ratio, totals
from components.figures import (
    SUPPRESSED_LABEL,
    SUPPRESSED_TRACE,
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
    value_text,
)
from components.formatting import (
    D3_HOVER,
    D3_TICK,
    MISSING,
    fmt_int,
    fmt_month,
    fmt_percent,
    suppression_note,
)

COUNTS = ["sent", "responded", "converted"]
RATES = {"response_rate": Ratio("responded", "sent"), "conversion_rate": Ratio("converted", "sent")}
RATE_LABELS = {"response_rate": "Response rate", "conversion_rate": "Conversion rate"}
VOLUME_LABELS = {"sent": "Messages sent", "responded": "Responses", "converted": "Conversions"}


def channel_order(channels: Iterable[str]) -> list[str]:
    """Known channels in their fixed order, then any others alphabetically."""
    present = {str(c) for c in channels if isinstance(c, str)}
    return [c for c in theme.CHANNELS if c in present] + sorted(present - set(theme.CHANNELS))


def rates_by_channel(
    df: pd.DataFrame, *, threshold: int, title: str = "Response and conversion by channel"
) -> go.Figure:
    """Response and conversion rate, one bar per channel in its fixed colour."""
    if df.empty:
        return empty_figure(title)
    data = totals(df, ["channel"], sums=COUNTS, derived=RATES).set_index("channel")
    metrics = list(RATES)
    x = [RATE_LABELS[m] for m in metrics]
    fig = new_figure(title)
    top = ceiling(data[metrics].to_numpy().ravel(), default=1.0)
    placeholders: list[tuple[str, list[str]]] = []
    for channel in channel_order(data.index):
        row = data.loc[channel]
        name = theme.channel_label(channel)
        note = partial_hover(pd.Series([row["partial"]]), pd.Series([row["excluded_cells"]]))[0]
        fig.add_trace(
            go.Bar(
                x=x,
                y=plain([row[m] for m in metrics]),
                name=name,
                offsetgroup=channel,
                legendgroup=channel,
                marker={"color": theme.channel_color(channel)},
                text=[fmt_percent(row[m]) if not np.isnan(row[m]) else "" for m in metrics],
                textposition="outside",
                cliponaxis=False,
                customdata=[[fmt_int(row["sent"]), note]] * len(metrics),
                hovertemplate=(
                    f"<b>{name}</b><br>%{{x}}: %{{y:{D3_HOVER['percent']}}}"
                    "<br>Sent: %{customdata[0]}%{customdata[1]}<extra></extra>"
                ),
            )
        )
        gone = [RATE_LABELS[m] for m in metrics if m in row["suppressed"]]
        if gone:
            placeholders.append((channel, gone))
    for i, (channel, gone) in enumerate(placeholders):
        add_placeholders(
            fig,
            gone,
            height=top,
            threshold=threshold,
            what=theme.channel_label(channel),
            offsetgroup=channel,
            showlegend=i == 0,
        )
    fig.update_layout(barmode="group")
    fig.update_xaxes(type="category", title={"text": ""})
    fig.update_yaxes(tickformat=D3_TICK["percent"], title={"text": "Share of messages sent"}, rangemode="tozero")
    add_notes(
        fig,
        threshold=threshold,
        suppressed=bool(placeholders),
        excluded_cells=int(data["excluded_cells"].sum()),
    )
    return fig


def volume_by_channel_month(
    df: pd.DataFrame,
    *,
    threshold: int,
    metric: Literal["sent", "responded", "converted"] = "sent",
    title: str | None = None,
) -> go.Figure:
    """Monthly outreach volume stacked by channel."""
    title = title or f"{VOLUME_LABELS[metric]} by channel and month"
    if df.empty:
        return empty_figure(title)
    data = totals(df, ["month", "channel"], sums=[metric])
    data["label"] = data["month"].map(fmt_month)
    categories = month_categories(data["month"])
    fig = new_figure(title)
    for channel in channel_order(data["channel"]):
        part = data[data["channel"] == channel]
        name = theme.channel_label(channel)
        fig.add_trace(
            go.Bar(
                x=list(part["label"]),
                y=plain(part[metric]),
                name=name,
                marker={"color": theme.channel_color(channel)},
                customdata=partial_hover(part["partial"], part["excluded_cells"]),
                hovertemplate=(
                    f"<b>%{{x}}</b><br>{name}: %{{y:{D3_HOVER['int']}}} {VOLUME_LABELS[metric].lower()}"
                    "%{customdata}<extra></extra>"
                ),
            )
        )
    stacks = data.assign(__v=data[metric].fillna(0)).groupby("label")["__v"].sum()
    pad = 0.04 * ceiling(stacks.to_numpy(), default=float(threshold))
    positions, tops, labels = [], [], []
    for label, group in data.groupby("label", sort=True):
        gone = [
            theme.channel_label(c) for c, s in zip(group["channel"], group["suppressed"], strict=True) if metric in s
        ]
        if gone:
            positions.append(str(label))
            tops.append(float(stacks[label]) + pad)
            labels.append(", ".join(gone))
    add_suppressed_markers(fig, positions, tops, labels, threshold=threshold)
    fig.update_layout(barmode="stack")
    month_axis(fig, categories)
    fig.update_yaxes(tickformat=D3_TICK["int"], title={"text": VOLUME_LABELS[metric]}, rangemode="tozero")
    add_notes(
        fig,
        threshold=threshold,
        suppressed=bool(positions),
        excluded_cells=int(data["excluded_cells"].sum()),
        marks="x marks",
    )
    return fig


def response_heatmap(
    df: pd.DataFrame,
    *,
    threshold: int,
    metric: Literal["response_rate", "conversion_rate"] = "response_rate",
    title: str | None = None,
) -> go.Figure:
    """Channel x facility grid of a rate; suppressed cells are marked with an x, not coloured."""
    title = title or f"{RATE_LABELS[metric]} by channel and facility"
    if df.empty:
        return empty_figure(title)
    keys = ["facility_id", "facility_name"] if "facility_name" in df.columns else ["facility_id"]
    data = totals(df, [*keys, "channel"], sums=COUNTS, derived=RATES)
    data["facility"] = facility_labels(data)
    data["text"] = value_text(data, metric, fmt_percent)
    data["sent_text"] = value_text(data, "sent", fmt_int)
    data["note"] = partial_hover(data["partial"], data["excluded_cells"])
    facilities = sorted(set(data["facility"]))
    channels = channel_order(data["channel"])
    columns = [theme.channel_label(c) for c in channels]

    rates = {(f, c): v for f, c, v in zip(data["facility"], data["channel"], data[metric], strict=True)}
    visible = np.array([[rates.get((f, c), np.nan) for c in channels] for f in facilities], dtype="float64")
    text = _pivot_text(data, "text", facilities, channels, empty="no outreach")
    sent = _pivot_text(data, "sent_text", facilities, channels, empty="0")
    notes = _pivot_text(data, "note", facilities, channels, empty="")
    shown = [[t if t not in (SUPPRESSED_LABEL, "no outreach", MISSING) else "" for t in row] for row in text]

    fig = new_figure(title, height=bar_chart_height(len(facilities)))
    fig.add_trace(
        go.Heatmap(
            z=[plain(row) for row in visible],
            x=columns,
            y=facilities,
            zmin=0,
            zmax=ceiling(visible.ravel(), default=1.0),
            colorscale=theme.SEQUENTIAL_SCALE,
            colorbar={
                "tickformat": D3_TICK["percent"],
                "thickness": 12,
            },
            text=shown,
            texttemplate="%{text}",
            customdata=np.dstack(
                [np.array(text, dtype=object), np.array(sent, dtype=object), np.array(notes, dtype=object)]
            ),
            hovertemplate=(
                f"<b>%{{y}}</b> · %{{x}}<br>{RATE_LABELS[metric]}: %{{customdata[0]}}"
                "<br>Sent: %{customdata[1]}%{customdata[2]}<extra></extra>"
            ),
            xgap=2,
            ygap=2,
            name=RATE_LABELS[metric],
        )
    )
    gone = data[[metric in s for s in data["suppressed"]]]
    if not gone.empty:
        fig.add_trace(
            go.Scatter(
                x=[theme.channel_label(c) for c in gone["channel"]],
                y=list(gone["facility"]),
                mode="markers",
                name=f"Suppressed (fewer than {threshold})",
                legendgroup=SUPPRESSED_TRACE,
                marker={
                    "symbol": "x-thin-open",
                    "size": 14,
                    "color": theme.MUTED_COLOR,
                    "line": {"width": 2},
                },
                hovertemplate=f"<b>%{{y}}</b> · %{{x}}<br>{suppression_note(threshold)}<extra></extra>",
                meta={"role": SUPPRESSED_TRACE},
            )
        )
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=columns, showgrid=False)
    fig.update_yaxes(
        type="category", categoryorder="array", categoryarray=facilities, autorange="reversed", showgrid=False
    )
    fig.update_layout(plot_bgcolor=theme.EMPTY_CELL_COLOR)
    add_notes(
        fig,
        threshold=threshold,
        suppressed=not gone.empty,
        excluded_cells=int(data["excluded_cells"].sum()),
        marks="x marks",
    )
    return fig


def _pivot_text(
    data: pd.DataFrame, column: str, facilities: list[str], channels: list[str], *, empty: str
) -> list[list[str]]:
    lookup = {(f, c): t for f, c, t in zip(data["facility"], data["channel"], data[column], strict=True)}
    return [[lookup.get((f, c), empty) for c in channels] for f in facilities]
