"""Outreach page: response and conversion rate by channel, volume by channel and month, channel x facility heatmap."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, callback, html, no_update

from auth.context import Scope
from components.charts import PAGE_CHARTS
from pages._common import (
    PageError,
    blank_figures,
    chart_grid,
    chart_outputs,
    chart_titles,
    freshness,
    no_data,
    page_context,
    page_frame,
    problem,
    register_url_sync,
)

PAGE, PATH, DATASET = "outreach", "/outreach", "outreach"
CHARTS = PAGE_CHARTS[PAGE]  # the figures, shared with the exports
TITLES = chart_titles(CHARTS)


def body(_scope: Scope) -> list[Any]:
    return chart_grid(CHARTS)


def layout(**query: Any) -> html.Div:
    return page_frame(PAGE, PATH, "Outreach", query, body, dataset=DATASET, with_channel=True)


@callback(
    *chart_outputs(CHARTS),
    Output("outreach-status", "children"),
    Output("outreach-freshness", "children"),
    Input("outreach-facility", "value"),
    Input("outreach-start", "value"),
    Input("outreach-end", "value"),
    Input("outreach-channel", "value"),
    Input("outreach-unmasked", "value"),
)
def update(facility_ids: Any, start: Any, end: Any, channel: Any, unmasked: Any = None) -> tuple[Any, ...]:
    try:
        ctx = page_context(facility_ids, start, end, channel, unmasked=unmasked, page=PAGE)
    except PageError as exc:
        return *blank_figures(TITLES, str(exc)), problem(str(exc)), no_update
    svc = ctx.service
    frames, figures = ctx.charts(CHARTS)
    by_channel = frames[0]
    return (
        *figures,
        None if len(by_channel) else no_data(),
        freshness(svc.as_of().get(DATASET)),
    )


register_url_sync(PAGE, PATH, with_channel=True)
dash.register_page(__name__, path=PATH, name="Outreach", title="Outreach · Recruitment analytics", layout=layout)
