"""Outreach page: response and conversion rate by channel, volume by channel and month, channel x facility heatmap."""

from __future__ import annotations

from typing import Any

import dash
import plotly.graph_objects as go
from dash import Input, Output, callback, html, no_update

from auth.context import Scope
from components.layout import chart_card
from components.outreach import rates_by_channel, response_heatmap, volume_by_channel_month
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

PAGE, PATH, DATASET = "outreach", "/outreach", "outreach"
TITLES = (
    "Response and conversion by channel",
    "Messages sent by channel and month",
    "Response rate by channel and facility",
)


def body(_scope: Scope) -> list[Any]:
    return [
        html.Div(
            [
                chart_card("outreach-rates", TITLES[0], go.Figure()),
                chart_card("outreach-volume", TITLES[1], go.Figure()),
                chart_card("outreach-heatmap", TITLES[2], go.Figure()),
            ],
            className="chart-grid",
        )
    ]


def layout(**query: Any) -> html.Div:
    return page_frame(PAGE, PATH, "Outreach", query, body, dataset=DATASET, with_channel=True)


@callback(
    Output("outreach-rates", "figure"),
    Output("outreach-volume", "figure"),
    Output("outreach-heatmap", "figure"),
    Output("outreach-status", "children"),
    Output("outreach-freshness", "children"),
    Input("outreach-facility", "value"),
    Input("outreach-start", "value"),
    Input("outreach-end", "value"),
    Input("outreach-channel", "value"),
)
def update(facility_ids: Any, start: Any, end: Any, channel: Any) -> tuple[Any, ...]:
    try:
        ctx = page_context(facility_ids, start, end, channel)
    except PageError as exc:
        return *blank_figures(TITLES, str(exc)), problem(str(exc)), no_update
    svc, filt, k = ctx.service, ctx.filt, ctx.threshold
    by_channel, by_month_channel, by_facility_channel = svc.aggregates(
        DATASET, filt, [["channel"], ["month", "channel"], ["facility_id", "facility_name", "channel"]]
    )
    return (
        rates_by_channel(by_channel, threshold=k),
        volume_by_channel_month(by_month_channel, threshold=k),
        response_heatmap(by_facility_channel, threshold=k),
        None if len(by_channel) else no_data(),
        freshness(svc.as_of().get(DATASET)),
    )


register_url_sync(PAGE, PATH, with_channel=True)
dash.register_page(__name__, path=PATH, name="Outreach", title="Outreach · Recruitment analytics", layout=layout)
