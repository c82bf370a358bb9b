"""Figure plumbing shared by the chart builders: the themed figure, the empty state, and the marks that say what a
figure built from published cells left out.

Every builder reads a totals frame (data.totals.aggregate_published) through `FieldView`, which asks the contract
(data/contract.py) how each value may be shown, and draws it with the helpers here:
- a value shown as a point is an ordinary bar or marker; a *partial* one (it left hidden numbers out) carries a
  dotted pattern or an open marker, a legend entry and hover text saying what it left out;
- a value shown as a range is a translucent floating bar (or an error bar on a line) from the least to the most
  the published numbers allow, labelled with both; a sum whose hidden parts are unbounded reads "at least ...";
- a hidden value is a small fixed-size mark at the axis, never a bar as long as real ones;
- an undefined value (no hires, so no time to fill) is not drawn at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from components import theme
from components.formatting import (
    HIDDEN_TEXT,
    NO_DATA_HINT,
    NO_DATA_MESSAGE,
    PRIVACY_PATH,
    fmt_month,
    fmt_value,
    hidden_note,
    partial_note,
    privacy_sentence,
    range_note,
)
from data import contract
from data.contract import Shown
from data.specs import Column, Kind

SUPPRESSED_TRACE = "suppressed"
PARTIAL_TRACE = "partial"
RANGE_TRACE = "range"
# Value labels beside bars: outside the bar, never shrunk to the bar's thickness, never clipped by the axis.
VALUE_LABELS: dict[str, Any] = {"textposition": "outside", "constraintext": "none", "cliponaxis": False,
                                "textfont": {"size": 12}}


def value_labels(*, inside_if_room: bool) -> dict[str, Any]:
    """Labels of a bar trace: inside the end of a bar long enough to hold its label (so the longest bar's label never
    runs off a narrow chart) and outside otherwise; always outside on patterned bars, where text would be hard to
    read."""
    return {**VALUE_LABELS, "textposition": "auto"} if inside_if_room else dict(VALUE_LABELS)


LABEL_WRAP = 24  # facility names longer than this break onto two lines on a category axis
PARTIAL_PATTERN = {"shape": ".", "fgcolor": "#FFFFFF", "size": 6, "solidity": 0.35}
RANGE_PATTERN = {"shape": "/", "fgcolor": "#FFFFFF", "size": 7, "solidity": 0.3}


def patterned(pattern: dict[str, Any], color: str) -> dict[str, Any]:
    """A pattern on a bar of `color`: plotly.js draws only the pattern's marks unless it is given the background,
    so without it a dotted or striped bar is white dots on white, invisible."""
    return {**pattern, "bgcolor": color}

Unit = tuple[str, str]  # what a group's rows are, singular and plural ("month", "months")
# Legend order, the same on every chart and for every role whatever marks a figure happens to need: the data series
# first (plotly's default rank 1000, in the order the builder adds them: theme.CHANNEL_ORDER, severities low to
# critical), then the hidden and incomplete marks, then the keys of the dotted and striped patterns.
LEGEND_RANKS = {SUPPRESSED_TRACE: 1100, f"key-{PARTIAL_TRACE}": 1200, f"key-{RANGE_TRACE}": 1210}


def new_figure(title: str, *, height: int = 380) -> go.Figure:
    """An empty figure with the shared template and a title.

    Built without plotly's property validation (`_validate=False`, what plotly express does), for its layout and
    for the traces added to it: validating the template on every figure was most of a figure's cost. The builders'
    output is pinned by their unit tests.
    """
    fig = go.Figure(layout={"template": theme.TEMPLATE, "title": {"text": title}, "height": height}, _validate=False)
    fig._data_validator = _TrustedTraces(fig._data_validator)
    return fig


class _TrustedTraces:
    """A figure's trace importer that builds added traces without validating them again.

    `Figure.add_trace` re-creates every trace from its properties through plotly's validators, even a trace built
    with `_validate=False` on a figure built with it: checking every value of every array was a tenth of a cold
    page callback (outreach: 1,000 heatmap cells, 36 x 5 stacked bars).
    """

    def __init__(self, validator: Any) -> None:
        self._validator = validator

    def validate_coerce(self, v: Any, skip_invalid: bool = False, _validate: bool = True) -> Any:
        return self._validator.validate_coerce(v, skip_invalid=skip_invalid, _validate=False)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._validator, name)


def empty_figure(title: str, message: str = NO_DATA_MESSAGE, *, hint: str | None = NO_DATA_HINT) -> go.Figure:
    """An explanatory empty state instead of blank axes."""
    fig = new_figure(title)
    annotations = [_annotation(f"<b>{message}</b>", 0.56, 15, theme.TEXT_COLOR)]
    if hint:
        annotations.append(_annotation(hint, 0.42, 12, theme.MUTED_COLOR))
    fig.update_layout(xaxis={"visible": False}, yaxis={"visible": False}, meta={"empty": True},
                      annotations=annotations)
    return fig


def _annotation(text: str, y: float, size: int, color: str) -> dict[str, Any]:
    return {"text": text, "xref": "paper", "yref": "paper", "x": 0.5, "y": y, "showarrow": False,
            "font": {"size": size, "color": color}}


def is_empty(fig: go.Figure) -> bool:
    meta = fig.layout.meta
    return isinstance(meta, dict) and bool(meta.get("empty"))


@dataclass(frozen=True)
class FieldView:
    """One figure of a totals frame, row by row, with how each value may be shown (data/contract.py)."""

    column: Column
    values: np.ndarray
    shown: np.ndarray
    low: np.ndarray
    high: np.ndarray
    used: np.ndarray
    rows: np.ndarray

    @property
    def name(self) -> str:
        return self.column.name

    @cached_property
    def partial(self) -> np.ndarray:
        """Shown as a point, but built without some hidden numbers (worked out once: callers index it per row)."""
        return (self.shown == Shown.POINT) & (self.low != self.high) & ~np.isnan(self.low)

    @cached_property
    def shown_cells(self) -> list[str]:
        """`shown` as a plain list, for reading row by row (a numpy array read one cell at a time is slow)."""
        return self.shown.tolist()

    @cached_property
    def partial_cells(self) -> list[bool]:
        """`partial` as a plain list, for reading row by row."""
        return self.partial.tolist()

    def only(self, *kinds: Shown) -> np.ndarray:
        return np.isin(self.shown, [k.value for k in kinds])

    @cached_property
    def texts(self) -> list[str]:
        """Every row's text (see `text`), worked out once from plain lists: a row's text is asked for several times
        (its bar, label, hover and table cell), and reading numpy arrays one cell at a time cost more than the
        formatting itself (1,000 facility-channel rows on the outreach page)."""
        out = []
        for shown, value, low, high in zip(self.shown_cells, _cells(self.values), _cells(self.low),
                                           _cells(self.high), strict=True):
            if shown == Shown.SUPPRESSED:
                out.append(HIDDEN_TEXT)
            elif shown == Shown.UNDEFINED:
                out.append("—")
            elif shown == Shown.RANGE:
                low_text, high_text = self._bound_texts(low, high)
                out.append(f"at least {low_text}" if not high_text else f"{low_text} to {high_text}")
            else:
                out.append(fmt_value(value, self.column.display))
        return out

    def take(self, positions: np.ndarray) -> FieldView:
        """The rows at `positions`, in that order; a position of -1 gives a row without data (undefined, built from
        no rows), as a month missing from a series is."""
        present = positions >= 0
        at = np.where(present, positions, 0)

        def pick(values: np.ndarray, missing: Any) -> np.ndarray:
            return np.where(present, values[at], missing) if len(values) else np.full(len(positions), missing)

        return FieldView(column=self.column, values=pick(self.values, np.nan),
                         shown=pick(self.shown, Shown.UNDEFINED.value).astype(object),
                         low=pick(self.low, np.nan), high=pick(self.high, np.nan), used=pick(self.used, 0),
                         rows=pick(self.rows, 0))

    def text(self, i: int) -> str:
        """The value as a person reads it: '12.5%', '21.0% to 70.3%', 'at least 1,401', 'hidden', '—'."""
        return self.texts[i]

    def bound_texts(self, i: int) -> tuple[str, str]:
        """The range's ends as text; the upper end is '' when nothing bounds it."""
        return self._bound_texts(self.low[i], self.high[i])

    def _bound_texts(self, low: Any, high: Any) -> tuple[str, str]:
        display = self.column.display
        return fmt_value(low, display), fmt_value(high, display) if math.isfinite(high) else ""

    def note(self, i: int, unit: Unit, threshold: int) -> str:
        """The hover sentence for row i: what was hidden or left out, in plain words (empty when nothing was)."""
        shown = self.shown_cells[i]
        if shown == Shown.SUPPRESSED:
            return hidden_note(threshold)
        if shown == Shown.RANGE:
            return range_note(*self.bound_texts(i))
        if self.partial_cells[i]:
            return partial_note(int(self.used[i]), int(self.rows[i]), unit)
        return ""


def _cells(values: np.ndarray) -> list[Any]:
    """An array's cells as Python objects (numbers as int and float; dates stay dates)."""
    return list(values) if values.dtype.kind == "M" else values.tolist()


def field_view(frame: pd.DataFrame, column: Column) -> FieldView:
    """Read `column` of a totals frame with its contract columns."""
    low, high = contract.bounds(frame, column.name)
    return FieldView(
        column=column,
        values=contract.values(frame, column.name),
        shown=contract.shown(frame, column.name, rate=column.display == "percent", money=column.kind is Kind.MONEY),
        low=low,
        high=high,
        used=contract.used(frame, column.name),
        rows=contract.rows(frame),
    )


def plain(values: Sequence[Any] | np.ndarray | pd.Series) -> list[float | None]:
    """Floats as a plain list with None for gaps.

    plotly ships numpy arrays as typed arrays, and plotly.js mis-stacks bars whose typed array holds NaN
    (later traces restart at zero), so every trace gets plain lists.
    """
    return [
        None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)
        for v in np.asarray(values, dtype=object)
    ]


def _where(mask: np.ndarray, values: np.ndarray) -> list[float | None]:
    return plain(np.where(mask, values, np.nan))


def add_value_bars(
    fig: go.Figure,
    categories: Sequence[str],
    view: FieldView,
    *,
    name: str,
    color: str,
    unit: Unit,
    threshold: int,
    orientation: Literal["v", "h"] = "v",
    offsetgroup: str | None = None,
    legendgroup: str | None = None,
    hover_lines: Callable[[int], str] | None = None,
    label_values: bool = False,
) -> None:
    """Bars of `view` over `categories`: points (partial ones dotted), ranges as floating bars, hidden values as
    small marks. `hover_lines(i)` adds context lines (e.g. the hire rate) to each bar's hover."""
    categories = list(categories)
    extra = [hover_lines(i) if hover_lines else "" for i in range(len(categories))]
    notes = [view.note(i, unit, threshold) for i in range(len(categories))]
    hover = [f"{line}<br>{note}" if note else line for line, note in zip(extra, notes, strict=True)]
    texts = [view.text(i) for i in range(len(categories))]
    point = view.only(Shown.POINT)
    full, partial = point & ~view.partial, view.partial
    group = legendgroup or offsetgroup or name
    # A series' value, partial and range bars share one slot (one bar per category), never a third of it each.
    offsetgroup = offsetgroup or name
    value_axis, category_axis = ("y", "x") if orientation == "v" else ("x", "y")
    template = f"<b>%{{{category_axis}}}</b><br>{name}: %{{customdata[0]}}%{{customdata[1]}}<extra></extra>"
    customdata = [[t, f"<br>{h}" if h else ""] for t, h in zip(texts, hover, strict=True)]
    for mask, role in ((full, "value"), (partial, PARTIAL_TRACE)):
        if not mask.any() and role == PARTIAL_TRACE:
            continue
        marker: dict[str, Any] = {"color": color}
        if role == PARTIAL_TRACE:
            marker["pattern"] = patterned(PARTIAL_PATTERN, color)
        labels: dict[str, Any] = {}
        if label_values:
            labels = {"text": [t if m else "" for t, m in zip(texts, mask, strict=True)],
                      **value_labels(inside_if_room=role == "value")}
        fig.add_trace(go.Bar(_validate=False,
            **{value_axis: _where(mask, view.values), category_axis: categories}, orientation=orientation,
            name=name, offsetgroup=offsetgroup, legendgroup=group, showlegend=role == "value", marker=marker,
            customdata=customdata, hovertemplate=template, meta={"role": role, "field": view.name}, **labels,
        ))
    ranges = view.only(Shown.RANGE)
    if ranges.any():
        bounded = np.isfinite(view.high)
        base = np.where(bounded, view.low, 0.0)
        length = np.where(bounded, view.high - view.low, view.low)
        range_texts = [t if r else "" for t, r in zip(texts, ranges, strict=True)]
        bar = {value_axis: _where(ranges, length), category_axis: categories}
        fig.add_trace(go.Bar(_validate=False,
            **bar, base=_where(ranges, base), orientation=orientation, name=f"{name} (range)",
            offsetgroup=offsetgroup, legendgroup=group, showlegend=False,
            # The bar is faint, its label is not (a trace's opacity would fade the label too).
            marker={"color": color, "opacity": 0.45, "pattern": patterned(RANGE_PATTERN, color),
                    "line": {"color": color, "width": 1.5}},
            text=range_texts, **_range_labels(orientation, len(categories)),
            customdata=customdata, hovertemplate=template, meta={"role": RANGE_TRACE, "field": view.name},
        ))
    add_hidden_marks(fig, [c for c, s in zip(categories, view.shown, strict=True) if s == Shown.SUPPRESSED],
                     threshold=threshold, what=name, orientation=orientation, offsetgroup=offsetgroup)


def _range_labels(orientation: str, count: int) -> dict[str, Any]:
    """Where a range bar's label goes. Across a horizontal bar (its middle, in dark text on the faint bar), so a
    long "21.8% to 89.8%" stays inside a phone-wide chart; above a column, on its side when many columns stand side
    by side and upright labels would run into each other."""
    if orientation == "h":
        return {**VALUE_LABELS, "textposition": "inside", "insidetextanchor": "middle",
                "textfont": {"size": 12, "color": theme.TEXT_COLOR}}
    return {**VALUE_LABELS, "textangle": -90 if count > 4 else 0}


def add_value_line(
    fig: go.Figure,
    categories: Sequence[str],
    view: FieldView,
    *,
    name: str,
    color: str,
    unit: Unit,
    threshold: int,
    hover_lines: Callable[[int], str] | None = None,
) -> None:
    """A line through the values shown as points (open markers where partial), error bars without a point where
    only a range can be shown, small marks where hidden, gaps where undefined."""
    categories = list(categories)
    texts = [view.text(i) for i in range(len(categories))]
    notes = [view.note(i, unit, threshold) for i in range(len(categories))]
    extra = [hover_lines(i) if hover_lines else "" for i in range(len(categories))]
    customdata = [[t, "".join(f"<br>{part}" for part in (e, n) if part)]
                  for t, e, n in zip(texts, extra, notes, strict=True)]
    template = f"<b>%{{x}}</b><br>{name}: %{{customdata[0]}}%{{customdata[1]}}<extra></extra>"
    point = view.only(Shown.POINT)
    symbols = ["circle-open" if p else "circle" for p in view.partial]
    fig.add_trace(go.Scatter(_validate=False,
        x=categories, y=_where(point, view.values), mode="lines+markers", name=name, connectgaps=False,
        line={"color": color, "width": 2}, marker={"size": 8, "symbol": symbols, "line": {"width": 2, "color": color}},
        customdata=customdata, hovertemplate=template, meta={"role": "value", "field": view.name},
    ))
    ranges = view.only(Shown.RANGE)
    if ranges.any():
        mid_low = np.where(ranges, view.low, np.nan)
        top = np.where(np.isfinite(view.high), view.high, view.low)
        fig.add_trace(go.Scatter(_validate=False,
            x=categories, y=plain(mid_low), mode="markers", name=f"{name} (range)",
            marker={"symbol": "line-ew-open", "size": 14, "color": color, "line": {"width": 2}},
            error_y={"type": "data", "symmetric": False, "array": plain(np.where(ranges, top - view.low, np.nan)),
                     "arrayminus": [0.0] * len(categories), "color": color, "thickness": 2, "width": 8},
            customdata=customdata, hovertemplate=template, meta={"role": RANGE_TRACE, "field": view.name},
        ))
    add_hidden_marks(fig, [c for c, s in zip(categories, view.shown, strict=True) if s == Shown.SUPPRESSED],
                     threshold=threshold, what=name)


def add_hidden_marks(
    fig: go.Figure,
    positions: Sequence[str],
    *,
    threshold: int,
    what: str,
    orientation: Literal["v", "h"] = "v",
    offsetgroup: str | None = None,
) -> None:
    """Small fixed-size grey marks at the value axis where a value was hidden (never a bar as long as real ones)."""
    if not positions:
        return
    zeros = [0.0] * len(positions)
    x, y = (list(positions), zeros) if orientation == "v" else (zeros, list(positions))
    shown_before = any(isinstance(t.meta, dict) and t.meta.get("role") == SUPPRESSED_TRACE for t in fig.data)
    fig.add_trace(go.Scatter(_validate=False,
        x=x, y=y, mode="markers+text", name=f"Hidden (fewer than {threshold})", legendgroup=SUPPRESSED_TRACE,
        showlegend=not shown_before, offsetgroup=offsetgroup,
        marker={"symbol": "x-thin-open", "size": 11, "color": theme.MUTED_COLOR, "line": {"width": 2}},
        text=[HIDDEN_TEXT] * len(positions), textposition="top center" if orientation == "v" else "middle right",
        textfont={"size": 11, "color": theme.MUTED_COLOR}, cliponaxis=False,
        hovertemplate=f"<b>%{{{'x' if orientation == 'v' else 'y'}}}</b><br>{what}: {hidden_note(threshold)}"
                      "<extra></extra>",
        meta={"role": SUPPRESSED_TRACE, "series": what}, legendrank=LEGEND_RANKS[SUPPRESSED_TRACE],
    ))


def marked_traces(fig: go.Figure, role: str) -> list[Any]:
    """The traces of one role: 'suppressed' marks, 'partial' bars, 'range' bars or error bars."""
    return [t for t in fig.data if isinstance(t.meta, dict) and t.meta.get("role") == role]


def add_privacy_note(fig: go.Figure, threshold: int, *, left_out: bool = False, key: str = "") -> None:
    """For a figure that hid or left out anything (or says so with `left_out`): the one short sentence with a
    link to the explanation under its title (plus `key`, e.g. what an asterisk means), and legend entries for
    the dotted (partial) and striped (range) marks it uses."""
    if not left_out and not any(marked_traces(fig, r) for r in (SUPPRESSED_TRACE, PARTIAL_TRACE, RANGE_TRACE)):
        return
    fig.update_layout(title={"subtitle": {
        "text": f'{privacy_sentence(threshold)}{key} <a href="{PRIVACY_PATH}" target="_self">Why?</a>'}})
    # Two short lines each, so a key fits the legend of a phone-wide chart.
    for role, label, pattern in ((PARTIAL_TRACE, "Dotted: leaves out<br>hidden numbers", PARTIAL_PATTERN),
                                 (RANGE_TRACE, "Striped: the range the<br>published numbers allow", RANGE_PATTERN)):
        if marked_traces(fig, role):
            fig.add_trace(go.Bar(_validate=False, x=[None], y=[None], name=label, legendgroup=f"key-{role}",
                                 hoverinfo="skip",
                                 marker={"color": theme.NEUTRAL_COLOR,
                                         "pattern": patterned(pattern, theme.NEUTRAL_COLOR)},
                                 meta={"role": f"key-{role}"}, legendrank=LEGEND_RANKS[f"key-{role}"]))


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


def wrap_label(label: str, width: int = LABEL_WRAP) -> str:
    """A long category label on two lines (plotly's '<br>') at the space nearest its middle, so a facility axis
    stays narrow on a phone and the name is never cut."""
    if len(label) <= width or " " not in label:
        return label
    middle = len(label) // 2
    spaces = [i for i, ch in enumerate(label) if ch == " "]
    cut = min(spaces, key=lambda i: abs(i - middle))
    return f"{label[:cut]}<br>{label[cut + 1:]}"


def facility_axis(fig: go.Figure, labels: Sequence[str], *, axis: str = "y") -> None:
    """A category axis of facilities in the given order (top down on a y axis), long names on two lines."""
    labels = list(labels)
    spec = {"type": "category", "categoryorder": "array", "categoryarray": labels, "tickmode": "array",
            "tickvals": labels, "ticktext": [wrap_label(label) for label in labels]}
    if axis == "y":
        fig.update_yaxes(**spec, autorange="reversed")
    else:
        fig.update_xaxes(**spec)
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    fig.update_layout(meta={**meta, "categories": "Facility"})  # what the rows are, for the data table


def value_headroom(values: Sequence[float | None], share: float = 0.18) -> list[float] | None:
    """An axis range from zero with room after the longest bar for its outside label (None without values)."""
    finite = [float(v) for v in values if v is not None and np.isfinite(v)]
    if not finite or max(finite) <= 0:
        return None
    return [0.0, max(finite) * (1 + share)]


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


def sort_key(view: FieldView) -> np.ndarray:
    """What to sort rows by a figure: its value, or the least it can be when only a range is shown; hidden and
    undefined last."""
    key = np.where(view.only(Shown.RANGE), view.low, view.values)
    return np.where(view.only(Shown.POINT, Shown.RANGE), key, np.nan)


def combine(views: Sequence[FieldView]) -> FieldView:
    """Several one-row views (e.g. the funnel's stages of one total) as one view, in order."""
    return FieldView(
        column=views[0].column,
        values=np.concatenate([v.values for v in views]),
        shown=np.concatenate([v.shown for v in views]),
        low=np.concatenate([v.low for v in views]),
        high=np.concatenate([v.high for v in views]),
        used=np.concatenate([v.used for v in views]),
        rows=np.concatenate([v.rows for v in views]),
    )


def add_stacked_bars(
    fig: go.Figure,
    categories: Sequence[str],
    layers: Sequence[tuple[FieldView, str, str]],
    *,
    unit: Unit,
    threshold: int,
    total_label: str,
) -> None:
    """Bars stacked from (view, name, colour) layers of published values; a layer that left numbers out is dotted.
    Above each stack that is incomplete, a mark names what is missing: hidden layers, and layers that are only
    known to be at least some number."""
    categories = list(categories)
    for view, name, color in layers:
        point_or_range = view.only(Shown.POINT, Shown.RANGE)
        values = view.values  # a range's published part: what is certainly there
        dotted = view.partial | view.only(Shown.RANGE)
        for mask, role in ((point_or_range & ~dotted, "value"), (point_or_range & dotted, PARTIAL_TRACE)):
            if role == PARTIAL_TRACE and not mask.any():
                continue
            fig.add_trace(go.Bar(_validate=False,
                x=categories, y=_where(mask, np.nan_to_num(values)), name=name, legendgroup=name,
                showlegend=role == "value", meta={"role": role, "field": view.name},
                marker={"color": color,
                        **({"pattern": patterned(PARTIAL_PATTERN, color)} if role == PARTIAL_TRACE else {})},
                customdata=[[view.text(i), view.note(i, unit, threshold)] for i in range(len(categories))],
                hovertemplate=f"<b>%{{x}}</b><br>{name}: %{{customdata[0]}}<br>%{{customdata[1]}}<extra></extra>",
            ))
    heights = sum(np.where(v.only(Shown.POINT, Shown.RANGE), np.nan_to_num(v.values), 0.0) for v, _, _ in layers)
    pad = 0.05 * (float(np.max(heights)) if len(heights) and np.max(heights) > 0 else float(threshold))
    positions, tops, notes = [], [], []
    for i, category in enumerate(categories):
        missing = []
        for view, name, _ in layers:
            if view.shown[i] == Shown.SUPPRESSED:
                missing.append(f"{name}: hidden")
            elif view.shown[i] == Shown.RANGE or view.partial[i]:
                missing.append(f"{name}: {view.text(i) if view.shown[i] == Shown.RANGE else 'partial'}")
        if missing:
            positions.append(category)
            tops.append(float(heights[i]) + pad)
            notes.append("<br>".join(missing))
    if positions:
        fig.add_trace(go.Scatter(_validate=False,
            x=positions, y=tops, mode="markers", name=f"{total_label} incomplete", legendgroup=SUPPRESSED_TRACE,
            marker={"symbol": "triangle-up-open", "size": 10, "color": theme.MUTED_COLOR, "line": {"width": 2}},
            customdata=notes, cliponaxis=False, meta={"role": SUPPRESSED_TRACE},
            legendrank=LEGEND_RANKS[SUPPRESSED_TRACE],
            hovertemplate=(f"<b>%{{x}}</b><br>{total_label} is incomplete:<br>%{{customdata}}<br>"
                           f"{hidden_note(threshold)}<extra></extra>"),
        ))
    fig.update_layout(barmode="stack")
