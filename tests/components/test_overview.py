import pandas as pd
from dash import dcc, html

from components import overview
from components.figures import suppressed_traces

CURRENT = {
    "applications": 1200,
    "hired": 90,
    "hire_rate": 0.075,
    "time_to_fill_days": 20.0,
    "checks": 400,
    "passed": 380,
    "compliance_rate": 0.95,
    "revenue": None,
    "placements": None,
    "sent": 1000,
    "responded": 300,
    "response_rate": 0.3,
    "outreach_conversion_rate": 0.1,
    "partial": True,
    "excluded_cells": 4,
}
PREVIOUS = {
    "applications": 1000,
    "hired": 90,
    "hire_rate": 0.09,
    "time_to_fill_days": 25.0,
    "compliance_rate": 0.95,
    "revenue": 5000,
    "response_rate": None,
    "partial": False,
    "excluded_cells": 0,
}


def _find(component, predicate):
    found = []
    if predicate(component):
        found.append(component)
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str):
            found.extend(_find(child, predicate))
    return found


def _tile(root, key):
    (tile,) = _find(root, lambda c: getattr(c, "id", None) == f"overview-kpi-{key}")
    return tile


def _text(component) -> str:
    if isinstance(component, str):
        return component
    children = getattr(component, "children", None)
    if children is None:
        return ""
    return "".join(_text(c) for c in (children if isinstance(children, list) else [children]))


def test_tiles_show_values_changes_and_missing_values(pipeline_df):
    root = overview.kpi_tiles(CURRENT, PREVIOUS, pipeline_df, threshold=5)
    assert len(_find(root, lambda c: "kpi-tile" in (getattr(c, "className", "") or "").split())) == 7
    apps = _text(_tile(root, "applications"))
    assert "1,200" in apps and "▲" in apps and "+20.0%" in apps
    rate = _tile(root, "hire-rate")
    assert "7.5%" in _text(rate) and "-1.5 pp" in _text(rate)
    assert "kpi-change--bad" in _find(rate, lambda c: "kpi-change" in (getattr(c, "className", "") or ""))[0].className
    ttf = _tile(root, "time-to-fill-days")
    assert "20.0 days" in _text(ttf)
    assert _find(ttf, lambda c: "kpi-change--good" in (getattr(c, "className", "") or ""))  # lower is better
    revenue = _tile(root, "revenue")
    assert "—" in _text(revenue) and "n/a" in _text(revenue)
    assert "suppressed: fewer than 5" in revenue.title
    assert "kpi-tile--suppressed" in revenue.className
    assert "n/a" in _text(_tile(root, "response-rate"))  # previous period missing
    assert "→" in _text(_tile(root, "hired"))


def test_partial_totals_are_noted(pipeline_df):
    root = overview.kpi_tiles(CURRENT, PREVIOUS, pipeline_df, threshold=5)
    (note,) = _find(root, lambda c: getattr(c, "id", None) == "overview-kpi-note")
    assert "partial: 4 hidden cells" in note.children
    per_field = overview.kpi_tiles({**CURRENT, "excluded_by_field": {"hired": 2}}, PREVIOUS, None, threshold=5)
    assert "partial: 2 hidden cells" in _text(_tile(per_field, "hired"))
    assert "partial" not in _text(_tile(per_field, "applications"))


def test_sparklines_mark_suppressed_months_not_zero(pipeline_df):
    root = overview.kpi_tiles(CURRENT, PREVIOUS, pipeline_df, threshold=5)
    (graph,) = _find(_tile(root, "hired"), lambda c: isinstance(c, dcc.Graph))
    line = graph.figure.data[0]
    assert list(line.y) == [15, None, 6]
    assert list(suppressed_traces(graph.figure)[0].x) == ["2026-02"]
    assert graph.config["staticPlot"] is True
    (rate,) = _find(_tile(root, "hire-rate"), lambda c: isinstance(c, dcc.Graph))
    assert rate.figure.data[0].y[0] == 0.125 and rate.figure.data[0].y[1] is None
    assert list(suppressed_traces(rate.figure)[0].x) == ["2026-02"]


def test_tiles_without_trend_data_get_an_empty_slot():
    root = overview.kpi_tiles(pd.DataFrame([CURRENT]), None, None, threshold=5)
    assert not _find(root, lambda c: isinstance(c, dcc.Graph))
    assert "n/a" in _text(_tile(root, "applications"))
    assert isinstance(root, html.Div)


def test_change_vs_previous():
    assert overview.change_vs_previous(110, 100, "int") == ("▲", "+10.0%", "up")
    assert overview.change_vs_previous(0.30, 0.32, "percent") == ("▼", "-2.0 pp", "down")
    assert overview.change_vs_previous(5, 0, "int")[1] == "n/a"
    assert overview.change_vs_previous(None, 3, "int")[1] == "n/a"
