"""Compliance page: rate by facility, violations by month and severity, score trend, PII drill-down (view_pii)."""

from __future__ import annotations

from typing import Any

import dash
import plotly.graph_objects as go
from dash import Input, Output, callback, html, no_update
from dash.exceptions import PreventUpdate

from auth.context import Scope
from auth.errors import AuthError
from components.charts import PAGE_CHARTS
from components.export_menu import export_menu, report_button
from components.layout import chart_card
from components.tables import VIOLATION_COLUMNS, data_table
from data.queries import violations
from pages._common import (
    PageError,
    blank_figures,
    freshness,
    no_data,
    page_context,
    page_frame,
    problem,
    register_url_sync,
)

PAGE, PATH, DATASET = "compliance", "/compliance", "compliance"
# Record-level rows sent to the browser at most: 5,000 rows of PII made a 3.4 MB answer and took half a second.
UI_VIOLATION_ROWS = 500
TITLES = ("Compliance rate by facility", "Violations by month and severity", "Average compliance score")
FACILITY = ["facility_id", "facility_name"]
CHARTS = PAGE_CHARTS[PAGE]  # the figures, shared with the exports


def body(scope: Scope) -> list[Any]:
    cards: list[Any] = [
        report_button(PAGE),
        html.Div(
            [
                chart_card("compliance-by-facility", TITLES[0], go.Figure(), actions=export_menu(PAGE, "by-facility")),
                chart_card("compliance-violations-by-month", TITLES[1], go.Figure(),
                           actions=export_menu(PAGE, "violations-by-month")),
                chart_card("compliance-score", TITLES[2], go.Figure(), actions=export_menu(PAGE, "score")),
            ],
            className="chart-grid",
        )
    ]
    if scope.can("view_pii"):
        cards.append(
            chart_card(
                "compliance-violations",
                "Failed checks",
                html.Div(id="compliance-violations"),
                subtitle="One row per failed check, with the candidate's contact details",
            )
        )
    return cards


def layout(**query: Any) -> html.Div:
    return page_frame(PAGE, PATH, "Compliance", query, body, dataset=DATASET)


@callback(
    Output("compliance-by-facility", "figure"),
    Output("compliance-violations-by-month", "figure"),
    Output("compliance-score", "figure"),
    Output("compliance-status", "children"),
    Output("compliance-freshness", "children"),
    Input("compliance-facility", "value"),
    Input("compliance-start", "value"),
    Input("compliance-end", "value"),
    Input("compliance-unmasked", "value"),
)
def update(facility_ids: Any, start: Any, end: Any, unmasked: Any = None) -> tuple[Any, ...]:
    try:
        ctx = page_context(facility_ids, start, end, unmasked=unmasked, page=PAGE)
    except PageError as exc:
        return *blank_figures(TITLES, str(exc)), problem(str(exc)), no_update
    svc = ctx.service
    frames, figures = ctx.charts(CHARTS)
    by_month = frames[0]
    return (
        *figures,
        None if len(by_month) else no_data(),
        freshness(svc.as_of().get(DATASET)),
    )


@callback(
    Output("compliance-violations", "children"),
    Input("compliance-facility", "value"),
    Input("compliance-start", "value"),
    Input("compliance-end", "value"),
)
def update_violations(facility_ids: Any, start: Any, end: Any) -> Any:
    """Record-level failed checks, only for callers with view_pii on every facility asked for."""
    try:
        ctx = page_context(facility_ids, start, end)
        ctx.scope.require("view_pii", ctx.filt.facility_ids)
    except (PageError, AuthError):
        raise PreventUpdate from None
    rows = violations(ctx.service.engine, ctx.filt, limit=UI_VIOLATION_ROWS)
    table = data_table(rows, columns=VIOLATION_COLUMNS, table_id="compliance-violations-grid")
    if len(rows) < UI_VIOLATION_ROWS:
        return table
    note = html.P(f"Showing the newest {UI_VIOLATION_ROWS} failed checks; narrow the facilities or months to see "
                  "older ones, or use the API.", className="table-note")
    return html.Div([note, table])


register_url_sync(PAGE, PATH)
dash.register_page(__name__, path=PATH, name="Compliance", title="Compliance · Recruitment analytics", layout=layout)
