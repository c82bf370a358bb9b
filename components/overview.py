"""Overview KPI tiles: headline value, change against the previous period of equal length, and a sparkline.

Input: the kpis rows of the selection and of the previous period (data.totals.kpi_totals: values plus `details`
per field, the contract of data/contract.py) and the by-month totals of each dataset for the sparklines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from components import theme
from components.figures import field_view, new_figure, plain
from components.formatting import (
    HIDDEN_TEXT,
    MISSING,
    fmt_compact_currency,
    fmt_compact_int,
    fmt_currency,
    fmt_points,
    fmt_signed_percent,
    fmt_value,
    hidden_note,
    is_missing,
)
from data.contract import Shown
from data.specs import DATASETS

KpiRow = Mapping[str, Any]


@dataclass(frozen=True)
class Tile:
    key: str  # the kpis field
    label: str
    display: str  # how values are written (data/specs.py DISPLAYS)
    dataset: str  # whose by-month totals give the sparkline
    column: str  # the column of that dataset the sparkline draws
    lower_is_better: bool = False


TILES = (
    Tile("applications", "Applications", "int", "pipeline", "applications"),
    Tile("hired", "Hires", "int", "pipeline", "hired"),
    Tile("hire_rate", "Hire rate", "percent", "pipeline", "conversion_rate"),
    Tile("time_to_fill_days", "Time to fill", "days", "pipeline", "time_to_fill_days", lower_is_better=True),
    Tile("compliance_rate", "Compliance rate", "percent", "compliance", "compliance_rate"),
    Tile("revenue", "Revenue", "currency", "revenue", "revenue"),
    Tile("response_rate", "Outreach response rate", "percent", "outreach", "response_rate"),
)

ARROWS = {"up": "▲", "down": "▼", "flat": "→", "na": ""}


def kpi_tiles(
    current: KpiRow,
    previous: KpiRow | None,
    trends: Mapping[str, pd.DataFrame],
    *,
    threshold: int,
    page_id: str = "overview",
) -> html.Div:
    """The overview's headline tiles (see the module docstring for the inputs)."""
    tiles = [_tile(tile, current, previous or {}, trends.get(tile.dataset), threshold, page_id) for tile in TILES]
    return html.Div(html.Div(tiles, className="kpi-grid", id=f"{page_id}-kpi-grid"), className="kpi-section",
                    id=f"{page_id}-kpis")


def tile_text(tile: Tile, row: KpiRow) -> tuple[str, str]:
    """(what the tile shows, the exact value in words for its tooltip) of one kpis row."""
    detail = _detail(row, tile.key)
    value = row.get(tile.key)
    shown = detail.get("shown", Shown.UNDEFINED.value)
    if shown == Shown.SUPPRESSED:
        return HIDDEN_TEXT, "hidden to protect privacy"
    if shown == Shown.UNDEFINED or is_missing(value):
        return MISSING, "no activity in these months"
    if shown == Shown.RANGE:
        low, high = detail.get("low"), detail.get("high")
        if high is None:
            return f"≥ {_compact(low, tile.display)}", f"at least {_exact(low, tile.display)}"
        return (f"{_compact(low, tile.display)} to {_compact(high, tile.display)}",
                f"between {_exact(low, tile.display)} and {_exact(high, tile.display)}")
    return _compact(value, tile.display), _exact(value, tile.display)


def change_vs_previous(current: KpiRow, previous: KpiRow, tile: Tile) -> tuple[str, str, str]:
    """(arrow, text, direction) comparing two periods: percentage points for rates, % change otherwise; only
    when both are shown as complete single values."""
    now, before = current.get(tile.key), previous.get(tile.key)
    comparable = all(_detail(row, tile.key).get("shown") == Shown.POINT for row in (current, previous))
    if not comparable or is_missing(now) or is_missing(before):
        return ARROWS["na"], "n/a", "na"
    cur, prev = float(now), float(before)
    if tile.display == "percent":
        delta, text = cur - prev, fmt_points(cur - prev)
    else:
        if prev == 0:
            return ARROWS["na"], "n/a", "na"
        delta = (cur - prev) / abs(prev)
        text = fmt_signed_percent(delta)
    direction = "flat" if abs(delta) < 0.0005 else ("up" if delta > 0 else "down")
    return ARROWS[direction], text, direction


def _tile(tile: Tile, current: KpiRow, previous: KpiRow, trend: pd.DataFrame | None, threshold: int,
          page_id: str) -> html.Div:
    shown, exact = tile_text(tile, current)
    detail = _detail(current, tile.key)
    state = detail.get("shown", Shown.UNDEFINED.value)
    partial = state == Shown.POINT and int(detail.get("excluded_cells") or 0) > 0
    arrow, change, direction = change_vs_previous(current, previous, tile)
    before, _ = tile_text(tile, previous) if previous else (MISSING, "")
    tips = [f"{tile.label}: {exact}", f"Previous period: {before}"]
    note = None
    if state == Shown.SUPPRESSED:
        note = f"Hidden: fewer than {threshold}"
        tips.append(hidden_note(threshold))
    elif state == Shown.RANGE:
        note = "Range: too many hidden numbers for one value"
        tips.append(note)
    elif partial:
        note = "Partial: leaves out hidden numbers"
        tips.append(f"{note} ({detail.get('excluded_cells')} left out).")
    key = tile.key.replace("_", "-")
    missing = state in (Shown.SUPPRESSED, Shown.UNDEFINED)
    children: list[Any] = [
        html.Div(tile.label, className="kpi-label"),
        html.Div(shown, className="kpi-value" + (" kpi-value--missing" if missing else ""), title=exact),
        html.Div([html.Span(arrow, className="kpi-arrow", **{"aria-hidden": "true"}), f" {change}",
                  " vs previous period"], className=f"kpi-change kpi-change--{_tone(direction, tile)}"),
    ]
    if note:
        children.append(html.Div(note, className="kpi-partial"))
    children.append(_spark(tile, trend, threshold))
    classes = "kpi-tile" + (" kpi-tile--suppressed" if missing else "") + (" kpi-tile--partial" if note else "")
    return html.Div(children, className=classes, id=f"{page_id}-kpi-{key}", title="\n".join(tips),
                    role="group", **{"aria-label": f"{tile.label}: {exact}"})


def sparkline(trend: pd.DataFrame, tile: Tile) -> go.Figure:
    """A tiny axis-free line of one monthly series: complete months joined, partial months hollow, others gaps."""
    view = field_view(trend, DATASETS[tile.dataset].column(tile.column))
    point = view.only(Shown.POINT)
    fig = _spark_figure()
    fig.add_trace(go.Scatter(_validate=False,
        x=list(range(len(view.values))), y=plain(np.where(point, view.values, np.nan)), mode="lines+markers",
        connectgaps=False, line={"color": theme.OKABE_ITO["blue"], "width": 2},
        marker={"size": 4, "symbol": ["circle-open" if p else "circle" for p in view.partial]},
    ))
    return fig


def _spark_figure() -> go.Figure:
    """A sparkline's figure without its line: the shared template, no title, axes or legend, 48 px high."""
    fig = new_figure("", height=48)
    fig.update_layout(title=None, margin={"l": 2, "r": 2, "t": 2, "b": 2}, showlegend=False, hovermode=False,
                      xaxis={"visible": False}, yaxis={"visible": False, "rangemode": "tozero"})
    return fig


_SPARK_LAYOUT: dict[str, Any] = {}


def sparkline_json(trend: pd.DataFrame, tile: Tile) -> dict[str, Any]:
    """sparkline() as plotly JSON, built without a figure object: its layout (the shared template) is the same for
    every sparkline and made once; building seven figures with the template cost a third of a cold overview."""
    if not _SPARK_LAYOUT:
        _SPARK_LAYOUT.update(_spark_figure().to_plotly_json()["layout"])
    view = field_view(trend, DATASETS[tile.dataset].column(tile.column))
    point = view.only(Shown.POINT)
    trace = {"type": "scatter", "x": list(range(len(view.values))), "y": plain(np.where(point, view.values, np.nan)),
             "mode": "lines+markers", "connectgaps": False, "line": {"color": theme.OKABE_ITO["blue"], "width": 2},
             "marker": {"size": 4, "symbol": ["circle-open" if p else "circle" for p in view.partial]}}
    return {"data": [trace], "layout": _SPARK_LAYOUT}


def _spark(tile: Tile, trend: pd.DataFrame | None, threshold: int) -> Any:
    if trend is None or trend.empty or tile.column not in trend.columns:
        return html.Div(className="kpi-spark kpi-spark--empty")
    graph = dcc.Graph(figure=sparkline_json(trend, tile), config={"staticPlot": True, "displayModeBar": False},
                      className="kpi-spark", style={"height": "48px"})
    return html.Div(graph, role="img", **{"aria-label": f"{tile.label} by month"})


def _detail(row: KpiRow, key: str) -> Mapping[str, Any]:
    details = row.get("details") if isinstance(row, Mapping) else None
    return details.get(key, {}) if isinstance(details, Mapping) else {}


def _compact(value: Any, display: str) -> str:
    if display == "currency":
        return fmt_compact_currency(value)
    if display == "int":
        return fmt_compact_int(value)
    return fmt_value(value, display)


def _exact(value: Any, display: str) -> str:
    return fmt_currency(value) if display == "currency" else fmt_value(value, display)


def _tone(direction: str, tile: Tile) -> str:
    if direction in ("na", "flat"):
        return direction
    return "good" if (direction == "up") != tile.lower_is_better else "bad"
