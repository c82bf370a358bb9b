"""Overview KPI tiles: headline value, change vs the previous period of equal length, and a sparkline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from dash import dcc, html

from components import theme
from components.cells import Derived, Mean, Ratio, totals
from components.figures import add_placeholders, ceiling, month_categories, new_figure, plain, suppressed_at
from components.formatting import (
    MISSING,
    Kind,
    fmt_currency,
    fmt_month,
    fmt_points,
    fmt_signed_percent,
    fmt_value,
    is_missing,
    partial_note,
    suppression_note,
)

KpiRow = Mapping[str, Any] | pd.Series | pd.DataFrame | None


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    kind: Kind
    counts: tuple[str, ...]
    derived: Derived | None = None
    lower_is_better: bool = False


TILES = (
    Tile("applications", "Applications", "int", ("applications",)),
    Tile("hired", "Hires", "int", ("hired",)),
    Tile("hire_rate", "Hire rate", "percent", ("applications", "hired"), Ratio("hired", "applications")),
    Tile(
        "time_to_fill_days",
        "Time to fill",
        "days",
        ("hired", "time_to_fill_days"),
        Mean("time_to_fill_days", "hired"),
        lower_is_better=True,
    ),
    Tile("compliance_rate", "Compliance rate", "percent", ("checks", "passed"), Ratio("passed", "checks")),
    Tile("revenue", "Revenue", "currency", ("revenue", "placements")),
    Tile(
        "response_rate",
        "Outreach response rate",
        "percent",
        ("sent", "responded"),
        Ratio("responded", "sent"),
    ),
)

ARROWS = {"up": "▲", "down": "▼", "flat": "→", "na": ""}


def kpi_tiles(
    current: KpiRow,
    previous: KpiRow,
    trends: pd.DataFrame | None,
    *,
    threshold: int,
    page_id: str = "overview",
) -> html.Div:
    """The overview's headline tiles.

    `current`/`previous`: one kpis row (mapping, Series or one-row frame) with the kpis fields (docs/KPIS.md) plus
    `partial` and `excluded_cells`; a value of None is suppressed or undefined. An optional
    `excluded_by_field` mapping (field -> hidden cells) puts the partial note on the tiles it concerns.
    `trends`: one row per month with `month` and any of the tile fields (or their counts), for sparklines.
    """
    now, before = _row(current), _row(previous)
    by_field = now.get("excluded_by_field") if isinstance(now.get("excluded_by_field"), Mapping) else None
    tiles = [_tile(tile, now, before, trends, threshold, page_id, by_field) for tile in TILES]
    children: list[Any] = [html.Div(tiles, className="kpi-grid", id=f"{page_id}-kpi-grid")]
    excluded = _int(now.get("excluded_cells"))
    if by_field is None and (bool(now.get("partial")) or excluded):
        children.append(
            html.P(
                f"{partial_note(excluded)}: these totals add only published cells "
                f"({suppression_note(threshold)} are left out).",
                className="kpi-footnote",
                id=f"{page_id}-kpi-note",
            )
        )
    return html.Div(children, className="kpi-section", id=f"{page_id}-kpis")


def _tile(
    tile: Tile,
    now: dict[str, Any],
    before: dict[str, Any],
    trends: pd.DataFrame | None,
    threshold: int,
    page_id: str,
    by_field: Mapping[str, Any] | None,
) -> html.Div:
    value = now.get(tile.key)
    missing = is_missing(value)
    shown = MISSING if missing else _display(value, tile.kind)
    arrow, change, direction = change_vs_previous(value, before.get(tile.key), tile.kind)
    tone = _tone(direction, tile.lower_is_better)
    tips = [f"{tile.label}: {fmt_currency(value) if tile.kind == 'currency' else shown}"]
    if missing:
        tips = [f"{tile.label}: no published value ({suppression_note(threshold)}, or no activity)"]
    tips.append(f"Previous period: {_display(before.get(tile.key), tile.kind)}")
    hidden_cells = sum(_int(by_field.get(f)) for f in tile.counts) if by_field is not None else 0
    note = partial_note(hidden_cells) if hidden_cells else None
    if note:
        tips.append(note)
    elif by_field is None and now.get("partial"):
        tips.append(f"Selection is {partial_note(_int(now.get('excluded_cells')))}")
    key = tile.key.replace("_", "-")
    children: list[Any] = [
        html.Div(tile.label, className="kpi-label"),
        html.Div(shown, className="kpi-value" + (" kpi-value--missing" if missing else "")),
        html.Div(
            [
                html.Span(arrow, className="kpi-arrow", **{"aria-hidden": "true"}),
                f" {change}",
                " vs previous period",
            ],
            className=f"kpi-change kpi-change--{tone}",
        ),
    ]
    if note:
        children.append(html.Div(note, className="kpi-partial"))
    children.append(_spark(tile, trends, threshold))
    classes = "kpi-tile" + (" kpi-tile--suppressed" if missing else "") + (" kpi-tile--partial" if note else "")
    return html.Div(children, className=classes, id=f"{page_id}-kpi-{key}", title="\n".join(tips))


def change_vs_previous(current: Any, previous: Any, kind: Kind) -> tuple[str, str, str]:
    """(arrow, text, direction) comparing two periods: percentage points for rates, % change otherwise."""
    if is_missing(current) or is_missing(previous):
        return ARROWS["na"], "n/a", "na"
    cur, prev = float(current), float(previous)
    if kind == "percent":
        delta, text = cur - prev, fmt_points(cur - prev)
        flat = abs(delta) < 0.0005
    else:
        if prev == 0:
            return ARROWS["na"], "n/a", "na"
        delta = (cur - prev) / abs(prev)
        text, flat = fmt_signed_percent(delta), abs(delta) < 0.0005
    direction = "flat" if flat else ("up" if delta > 0 else "down")
    return ARROWS[direction], text, direction


def sparkline(trends: pd.DataFrame, field: str, *, threshold: int, derived: Derived | None = None) -> go.Figure:
    """A tiny axis-free line of one monthly series; suppressed months are grey hatched columns.

    With `derived`, the series is recomputed from its counts when `field` is absent or months repeat.
    """
    if derived is not None and (field not in trends.columns or trends.duplicated(subset=["month"]).any()):
        data = totals(trends, ["month"], derived={field: derived})
    else:
        data = totals(trends, ["month"], sums=[field])
    data["label"] = data["month"].map(fmt_month)
    fig = new_figure("", height=48)
    fig.update_layout(
        title=None,
        margin={"l": 2, "r": 2, "t": 2, "b": 2},
        showlegend=False,
        xaxis={"visible": False, "type": "category", "categoryarray": month_categories(data["month"])},
        yaxis={"visible": False, "rangemode": "tozero"},
        hovermode=False,
    )
    fig.add_trace(
        go.Scatter(
            x=list(data["label"]),
            y=plain(data[field]),
            mode="lines+markers",
            connectgaps=False,
            line={"color": theme.OKABE_ITO["blue"], "width": 2},
            marker={"size": 4},
        )
    )
    add_placeholders(
        fig,
        suppressed_at(data, field),
        height=ceiling(data[field], default=1.0),
        threshold=threshold,
        what=field,
        showlegend=False,
    )
    fig.update_traces(selector={"type": "bar"}, text=None, width=0.6)
    return fig


def _spark(tile: Tile, trends: pd.DataFrame | None, threshold: int) -> Any:
    if trends is None or trends.empty or "month" not in trends.columns:
        return html.Div(className="kpi-spark kpi-spark--empty")
    computable = tile.derived is not None and all(c in trends.columns for c in _inputs(tile.derived))
    if tile.key not in trends.columns and not computable:
        return html.Div(className="kpi-spark kpi-spark--empty")
    figure = sparkline(trends, tile.key, threshold=threshold, derived=tile.derived if computable else None)
    return dcc.Graph(
        figure=figure,
        config={"staticPlot": True, "displayModeBar": False},
        className="kpi-spark",
        style={"height": "48px"},
    )


def _inputs(spec: Derived) -> tuple[str, str]:
    return (spec.numerator, spec.denominator) if isinstance(spec, Ratio) else (spec.value, spec.weight)


def _display(value: Any, kind: Kind) -> str:
    if kind == "currency":
        return fmt_currency(value, cents=False)
    return fmt_value(value, kind)


def _tone(direction: str, lower_is_better: bool) -> str:
    if direction in ("na", "flat"):
        return direction
    good = (direction == "up") != lower_is_better
    return "good" if good else "bad"


def _int(value: Any) -> int:
    return 0 if is_missing(value) else int(value)


def _row(value: KpiRow) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, pd.DataFrame):
        return {} if value.empty else value.iloc[0].to_dict()
    if isinstance(value, pd.Series):
        return value.to_dict()
    return dict(value)
