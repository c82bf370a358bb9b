"""Revenue page: monthly revenue with month-over-month growth, revenue by facility, revenue per placement."""

from __future__ import annotations

from typing import Any

import dash
import plotly.graph_objects as go
from dash import Input, Output, callback, html, no_update

from auth.context import Scope
from components.layout import chart_card
from components.revenue import revenue_by_facility, revenue_by_month, revenue_per_placement
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

PAGE, PATH, DATASET = "revenue", "/revenue", "revenue"
TITLES = ("Revenue by month", "Revenue by facility", "Revenue per placement by month")
FACILITY = ["facility_id", "facility_name"]


def body(_scope: Scope) -> list[Any]:
    return [
        html.Div(
            [
                chart_card("revenue-by-month", TITLES[0], go.Figure()),
                chart_card("revenue-by-facility", TITLES[1], go.Figure()),
                chart_card("revenue-per-placement", TITLES[2], go.Figure()),
            ],
            className="chart-grid",
        )
    ]


def layout(**query: Any) -> html.Div:
    return page_frame(PAGE, PATH, "Revenue", query, body, dataset=DATASET)


@callback(
    Output("revenue-by-month", "figure"),
    Output("revenue-by-facility", "figure"),
    Output("revenue-per-placement", "figure"),
    Output("revenue-status", "children"),
    Output("revenue-freshness", "children"),
    Input("revenue-facility", "value"),
    Input("revenue-start", "value"),
    Input("revenue-end", "value"),
)
def update(facility_ids: Any, start: Any, end: Any) -> tuple[Any, ...]:
    try:
        ctx = page_context(facility_ids, start, end)
    except PageError as exc:
        return *blank_figures(TITLES, str(exc)), problem(str(exc)), no_update
    svc, filt, k = ctx.service, ctx.filt, ctx.threshold
    by_month, by_facility = svc.aggregates(DATASET, filt, [["month"], FACILITY])
    return (
        revenue_by_month(by_month, threshold=k),
        revenue_by_facility(by_facility, threshold=k),
        revenue_per_placement(by_month, threshold=k),
        None if len(by_month) else no_data(),
        freshness(svc.as_of().get(DATASET)),
    )


register_url_sync(PAGE, PATH)
dash.register_page(__name__, path=PATH, name="Revenue", title="Revenue · Recruitment analytics", layout=layout)
