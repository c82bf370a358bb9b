"""A chart as the page shows it: the figure without its title (the card's HTML heading and subtitle carry it, and
wrap at any width), and its text alternatives: a one-paragraph description for screen readers and a data table
with every value as the chart's hover writes it ("hidden", ranges and partial values included).

Pure: plotly figure JSON (what the page callbacks hold, cached) in, figure JSON and Dash components out. Exports
keep the figure's own title and subtitle (components/export_render.py).
"""

from __future__ import annotations

import html as html_text
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dash import dcc, html

from components.formatting import HIDDEN_TEXT
from components.jsonable import html_json

ON_SCREEN_TOP_MARGIN = 36  # room for the mode bar once the title has moved into the card heading
# Traces that carry values; the others are keys, labels and marks drawn over them.
_VALUE_ROLES = ("value", "partial", "range")
_LINK = re.compile(r'<a\s+href="([^"]+)"[^>]*>(.*?)</a>', re.I | re.S)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class ChartText:
    figure: dict[str, Any]  # the figure to draw on the page: no title, a small top margin
    subtitle: list[Any]  # the figure's subtitle as text and links (empty when it has none)
    summary: str  # what the chart shows, in one paragraph, for assistive technology
    table: html.Div | None  # every value the chart draws, as a table (None for an empty chart)


def chart_text(figure: Mapping[str, Any]) -> ChartText:
    """Split a figure (plotly JSON) into the on-screen figure and its text: see the module docstring."""
    layout = dict(figure.get("layout") or {})
    title = layout.get("title") or {}
    title_text = plain_text(title.get("text") if isinstance(title, Mapping) else title)
    subtitle = title.get("subtitle", {}) if isinstance(title, Mapping) else {}
    subtitle_markup = subtitle.get("text", "") if isinstance(subtitle, Mapping) else ""
    margin = dict(layout.get("margin") or {})
    margin["t"] = ON_SCREEN_TOP_MARGIN
    layout.update(title={"text": ""}, margin=margin)
    screen = {**figure, "layout": layout}
    columns, rows, category = data_rows(figure)
    empty = isinstance(layout.get("meta"), Mapping) and bool(layout["meta"].get("empty"))
    summary = describe(title_text, figure, columns, rows, category, empty=empty,
                       annotations=[plain_text(a.get("text")) for a in layout.get("annotations") or []
                                    if isinstance(a, Mapping)])
    table = None if empty or not rows else data_table(title_text, category, columns, rows)
    return ChartText(screen, rich_text(subtitle_markup), summary, table)


def plain_text(markup: Any) -> str:
    """Plotly's text markup (<b>, <br>, <a>) as plain text."""
    if not isinstance(markup, str):
        return ""
    text = _TAG.sub("", markup.replace("<br>", " "))
    return html_text.unescape(" ".join(text.split()))


def rich_text(markup: str) -> list[Any]:
    """Plotly's text markup as Dash children: links stay links (in-app ones as dcc.Link), other tags go."""
    children: list[Any] = []
    position = 0
    for match in _LINK.finditer(markup or ""):
        before = plain_text(markup[position:match.start()])
        if before:
            children.append(before + " ")
        href, label = match.group(1), plain_text(match.group(2))
        children.append(dcc.Link(label, href=href) if href.startswith("/") else html.A(label, href=href))
        position = match.end()
    rest = plain_text((markup or "")[position:])
    if rest:
        children.append((" " if children else "") + rest)
    return children


def _values(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _meta(trace: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = trace.get("meta")
    return meta if isinstance(meta, Mapping) else {}


def data_rows(figure: Mapping[str, Any]) -> tuple[list[str], list[tuple[str, list[str]]], str]:
    """(series names, rows of (category, one text per series), what the categories are) of a figure.

    Bar and line charts: one column per series; each cell is the text the hover shows (the value trace's
    customdata carries it for every category, hidden ones included). A heatmap: one column per x category.
    """
    traces = [t for t in figure.get("data") or [] if isinstance(t, Mapping)]
    heatmaps = [t for t in traces if t.get("type") == "heatmap"]
    if heatmaps:
        return _heatmap_rows(heatmaps[0], figure)
    columns: list[str] = []
    cells: dict[str, dict[str, str]] = {}
    order: list[str] = []
    horizontal = any(t.get("orientation") == "h" for t in traces if _meta(t).get("role") in _VALUE_ROLES)
    category_axis = "y" if horizontal else "x"
    for trace in traces:
        meta = _meta(trace)
        role = meta.get("role")
        if role not in _VALUE_ROLES and role != "suppressed":
            continue
        categories = [str(c) for c in _values(trace.get(category_axis))]
        name = str(meta.get("series") or trace.get("name") or "Value")
        if role == "suppressed":
            if not meta.get("series"):
                continue  # a mark over a stack: the layers' own cells say "hidden"
            for category in categories:
                cells.setdefault(name, {}).setdefault(category, HIDDEN_TEXT)
                if category not in order:
                    order.append(category)
            continue
        if role == "range":
            name = name.removesuffix(" (range)")
        if name not in columns:
            columns.append(name)
        customdata = _values(trace.get("customdata"))
        values = _values(trace.get("x" if horizontal else "y"))
        for i, category in enumerate(categories):
            if category not in order:
                order.append(category)
            text = _cell_text(customdata[i] if i < len(customdata) else None)
            drawn = i < len(values) and values[i] is not None
            column = cells.setdefault(name, {})
            if text and (drawn or category not in column):
                column[category] = text
    for name in cells:
        if name not in columns:
            columns.append(name)
    rows = [(category, [cells.get(name, {}).get(category, "—") for name in columns]) for category in order]
    return columns, rows, _axis_title(figure, category_axis)


def _cell_text(data: Any) -> str:
    """The value as the hover writes it, marked "(partial)" where its hover says it left hidden numbers out (the
    chart says so with a dotted bar or an open marker: the table must not rely on that)."""
    if isinstance(data, list | tuple) and data:
        partial = len(data) > 1 and "Partial:" in str(data[1])
        return plain_text(str(data[0])) + (" (partial)" if partial else "")
    return plain_text(data) if isinstance(data, str) else ""


def _heatmap_rows(trace: Mapping[str, Any], figure: Mapping[str, Any]
                  ) -> tuple[list[str], list[tuple[str, list[str]]], str]:
    columns = [str(c) for c in _values(trace.get("x"))]
    rows = []
    hover = _values(trace.get("customdata"))
    for r, category in enumerate(_values(trace.get("y"))):
        line = _values(hover[r]) if r < len(hover) else []
        rows.append((str(category), [plain_text(str(line[c]).split("<br>")[0]) if c < len(line) else "—"
                                     for c in range(len(columns))]))
    return columns, rows, _axis_title(figure, "y")


def _axis_title(figure: Mapping[str, Any], axis: str) -> str:
    """What the categories are: the axis title, else what the figure says its rows are (figures.facility_axis)."""
    layout = figure.get("layout") or {}
    spec = layout.get(f"{axis}axis") or {}
    title = spec.get("title") if isinstance(spec, Mapping) else None
    text = title.get("text") if isinstance(title, Mapping) else title
    meta = layout.get("meta") if isinstance(layout.get("meta"), Mapping) else {}
    return plain_text(text) or str(meta.get("categories") or "")


def describe(title: str, figure: Mapping[str, Any], columns: Sequence[str], rows: Sequence[tuple[str, list[str]]],
             category: str, *, empty: bool, annotations: Sequence[str] = ()) -> str:
    """One paragraph saying what the chart draws, for a screen reader."""
    if empty:
        return f"{title}: " + " ".join(a for a in annotations if a)
    kinds = {str(t.get("type") or "scatter") for t in figure.get("data") or [] if isinstance(t, Mapping)
             and _meta(t).get("role") in _VALUE_ROLES}
    kind = ("Heat map" if any(t.get("type") == "heatmap" for t in figure.get("data") or [])
            else "Bar chart" if kinds == {"bar"} else "Line chart" if kinds == {"scatter"} else "Chart")
    what = category.lower() if category else "category"
    sentence = [f"{title}. {kind} of {', '.join(columns)} by {what}: {len(rows)} rows"]
    if rows:
        sentence[0] += f", from {rows[0][0]} to {rows[-1][0]}" if len(rows) > 1 else f" ({rows[0][0]})"
    sentence[0] += "."
    if any(HIDDEN_TEXT in cell for _, cells in rows for cell in cells):
        sentence.append("Some values are hidden to protect privacy.")
    sentence.append("The data table under the chart lists every value.")
    return " ".join(sentence)


def data_table(title: str, category: str, columns: Sequence[str], rows: Sequence[tuple[str, list[str]]]
               ) -> html.Div:
    """The chart's values as an HTML table (scrolls sideways inside its own box on a narrow screen).

    Its rows and cells are written as the JSON Dash sends for html components (`html_json`): the outreach
    heatmap's table has a thousand cells."""
    head = html.Thead(html_json("Tr", [html_json("Th", category or "", scope="col")] +
                                [html_json("Th", name, scope="col") for name in columns]))
    body = html.Tbody([html_json("Tr", [html_json("Th", label, scope="row")] +
                                 [html_json("Td", text) for text in cells])
                       for label, cells in rows])
    table = html.Table([html.Caption(f"{title}: the values drawn"), head, body], className="data-table")
    return html.Div(table, className="data-table-scroll", tabIndex="0", role="region",
                    **{"aria-label": f"{title}: data table"})

