"""Figure plumbing shared by the page builders: themed figure, empty state, suppressed marks and notes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from components import theme
from components.formatting import (
    NO_DATA_HINT,
    NO_DATA_MESSAGE,
    fmt_month,
    partial_note,
    suppression_note,
)

SUPPRESSED_TRACE = "suppressed"
SUPPRESSED_LABEL = "suppressed"


def new_figure(title: str, *, height: int = 380) -> go.Figure:
    """An empty figure with the shared template and a title.

    Built without plotly's property validation (`_validate=False`, what plotly express does): validating the
    template on every figure was most of a figure's cost. The builders' output is pinned by their unit tests.
    """
    return go.Figure(layout={"template": theme.TEMPLATE, "title": {"text": title}, "height": height}, _validate=False)


def empty_figure(title: str, message: str = NO_DATA_MESSAGE, *, hint: str = NO_DATA_HINT) -> go.Figure:
    """An explanatory empty state instead of blank axes."""
    fig = new_figure(title)
    fig.update_layout(
        xaxis={"visible": False},
        yaxis={"visible": False},
        meta={"empty": True},
        annotations=[
            {
                "text": f"<b>{message}</b>",
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.56,
                "showarrow": False,
                "font": {"size": 15, "color": theme.TEXT_COLOR},
            },
            {
                "text": hint,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.42,
                "showarrow": False,
                "font": {"size": 12, "color": theme.MUTED_COLOR},
            },
        ],
    )
    return fig


def is_empty(fig: go.Figure) -> bool:
    meta = fig.layout.meta
    return isinstance(meta, dict) and bool(meta.get("empty"))


def add_notes(
    fig: go.Figure,
    *,
    threshold: int,
    suppressed: bool,
    excluded_cells: int = 0,
    marks: str = "hatched grey bars",
) -> None:
    """Say under the title that something is suppressed, and how many hidden cells the totals left out."""
    parts = []
    if suppressed:
        parts.append(f"{suppression_note(threshold)} (shown as {marks}, not zero)")
    if excluded_cells > 0:
        parts.append(f"{partial_note(excluded_cells)} left out of the totals")
    if parts:
        fig.update_layout(title={"subtitle": {"text": " · ".join(parts)}})


def month_categories(months: pd.Series) -> list[str]:
    """Every month from the first to the last as 'YYYY-MM', so a month without rows shows as a gap."""
    if months.empty:
        return []
    stamps = pd.to_datetime(months.map(fmt_month) + "-01")
    span = pd.period_range(stamps.min(), stamps.max(), freq="M")
    return [str(period) for period in span]


def month_axis(fig: go.Figure, categories: Sequence[str], *, title: str = "Month") -> None:
    fig.update_xaxes(
        type="category",
        categoryorder="array",
        categoryarray=list(categories),
        title={"text": title},
        tickangle=0 if len(categories) <= 8 else -45,
    )


def ceiling(values: Sequence[float] | np.ndarray | pd.Series, *, default: float) -> float:
    """The height of a placeholder: the largest visible value, or `default` when nothing is visible."""
    array = np.asarray(values, dtype="float64")
    finite = array[np.isfinite(array)]
    top = float(finite.max()) if finite.size else 0.0
    return top if top > 0 else default


def add_placeholders(
    fig: go.Figure,
    positions: Sequence[str],
    *,
    height: float,
    threshold: int,
    what: str,
    orientation: Literal["v", "h"] = "v",
    offsetgroup: str | None = None,
    showlegend: bool = True,
) -> None:
    """Hatched grey bars where values were suppressed; their height is a placeholder, never the value."""
    if not positions:
        return
    positions = list(positions)
    heights = [height] * len(positions)
    x, y = (positions, heights) if orientation == "v" else (heights, positions)
    place = "%{x}" if orientation == "v" else "%{y}"
    fig.add_trace(
        go.Bar(
            x=x,
            y=y,
            orientation=orientation,
            name=f"Suppressed (fewer than {threshold})",
            legendgroup=SUPPRESSED_TRACE,
            showlegend=showlegend,
            offsetgroup=offsetgroup,
            marker={
                "color": theme.SUPPRESSED_FILL,
                "line": {"color": theme.SUPPRESSED_LINE, "width": 1},
                "pattern": {
                    "shape": theme.SUPPRESSED_PATTERN,
                    "fgcolor": theme.SUPPRESSED_HATCH,
                    "size": 8,
                    "solidity": 0.2,
                },
            },
            text=[SUPPRESSED_LABEL] * len(positions),
            textposition="inside",
            insidetextanchor="middle",
            textangle=-90 if orientation == "v" else 0,
            textfont={"color": theme.MUTED_COLOR, "size": 11},
            hovertemplate=f"<b>{place}</b><br>{what}: {suppression_note(threshold)}<extra></extra>",
            meta={"role": SUPPRESSED_TRACE},
        )
    )


def add_suppressed_markers(
    fig: go.Figure,
    positions: Sequence[str],
    tops: Sequence[float],
    labels: Sequence[str],
    *,
    threshold: int,
    showlegend: bool = True,
) -> None:
    """'x' marks above stacked bars for the stack parts that were suppressed (not drawn at zero)."""
    if not positions:
        return
    fig.add_trace(
        go.Scatter(
            x=list(positions),
            y=list(tops),
            mode="markers+text",
            name=f"Suppressed (fewer than {threshold})",
            legendgroup=SUPPRESSED_TRACE,
            showlegend=showlegend,
            marker={"symbol": "x-thin-open", "size": 11, "color": theme.MUTED_COLOR, "line": {"width": 2}},
            text=["suppressed"] * len(positions),
            textposition="top center",
            textfont={"size": 10, "color": theme.MUTED_COLOR},
            customdata=list(labels),
            hovertemplate=f"<b>%{{x}}</b><br>%{{customdata}}: {suppression_note(threshold)}<extra></extra>",
            cliponaxis=False,
            meta={"role": SUPPRESSED_TRACE},
        )
    )


def suppressed_traces(fig: go.Figure) -> list[go.Bar | go.Scatter]:
    """The traces that mark suppressed values (useful in tests and exports)."""
    return [t for t in fig.data if isinstance(t.meta, dict) and t.meta.get("role") == SUPPRESSED_TRACE]


def partial_hover(partial: pd.Series, excluded: pd.Series) -> list[str]:
    """Hover suffix per row: '<br>partial: N hidden cells' where a total left cells out."""
    return [
        f"<br>{partial_note(int(n))}" if bool(p) and int(n) > 0 else ("<br>partial" if bool(p) else "")
        for p, n in zip(partial, excluded, strict=True)
    ]


def suppressed_at(data: pd.DataFrame, field: str, *, key: str = "label") -> list[str]:
    """The `key` values of the rows of a `totals()` frame where `field` is suppressed."""
    return [str(k) for k, s in zip(data[key], data["suppressed"], strict=True) if field in s]


def value_text(data: pd.DataFrame, field: str, formatter: Callable[[Any], str]) -> list[str]:
    """Per row: the formatted value, 'suppressed', or '—' when undefined (for hover text)."""
    return [
        SUPPRESSED_LABEL if field in s else formatter(v) for v, s in zip(data[field], data["suppressed"], strict=True)
    ]


def facility_labels(data: pd.DataFrame) -> list[str]:
    """Facility names, falling back to 'Facility <id>' where a name is missing."""
    names = data["facility_name"] if "facility_name" in data.columns else pd.Series(None, index=data.index)
    ids = data["facility_id"] if "facility_id" in data.columns else pd.Series(None, index=data.index)
    return [
        str(name) if isinstance(name, str) and name else f"Facility {fid}" for name, fid in zip(names, ids, strict=True)
    ]


def bar_chart_height(rows: int) -> int:
    """Height of a horizontal bar chart with one bar per row."""
    return max(320, 150 + 30 * rows)


def plain(values: Sequence[Any] | np.ndarray | pd.Series) -> list[float | None]:
    """Floats as a plain list with None for gaps.

    plotly ships numpy arrays as typed arrays, and plotly.js mis-stacks bars whose typed array holds NaN
    (later traces restart at zero), so every trace gets plain lists.
    """
    return [
        None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)
        for v in np.asarray(values, dtype=object)
    ]
