"""Overview page: headline KPI tiles across the selection, each with its change and a monthly trend."""

from __future__ import annotations

from typing import Any

import dash
import pandas as pd
from dash import Input, Output, callback, html, no_update

from auth.context import Scope
from components.export_menu import report_button
from components.overview import kpi_tiles
from data.filters import DataFilter, previous_period
from data.service import AnalyticsService
from pages._common import (
    PageError,
    as_of,
    freshness,
    no_data,
    page_context,
    page_frame,
    problem,
    register_url_sync,
)

PAGE, PATH = "overview", "/"
# Per dataset, the monthly total columns the tiles trend, renamed to the tile's key.
TREND_FIELDS: dict[str, dict[str, str]] = {
    "pipeline": {
        "applications": "applications",
        "hired": "hired",
        "conversion_rate": "hire_rate",
        "time_to_fill_days": "time_to_fill_days",
    },
    "compliance": {"compliance_rate": "compliance_rate"},
    "revenue": {"revenue": "revenue"},
    "outreach": {"response_rate": "response_rate"},
}


def body(_scope: Scope) -> list[Any]:
    return [report_button(PAGE), html.Div(id="overview-kpis", className="kpi-section")]


def layout(**query: Any) -> html.Div:
    return page_frame(PAGE, PATH, "Overview", query, body, dataset=None)


def monthly_trends(service: AnalyticsService, filt: DataFilter, *, unmasked: bool = False) -> pd.DataFrame:
    """One row per month with each tile's total from service.aggregate; `suppressed` lists the hidden ones."""
    trends = pd.DataFrame({"month": pd.to_datetime(pd.Series([], dtype="datetime64[ns]"))})
    hidden: dict[pd.Timestamp, list[str]] = {}
    for dataset, fields in TREND_FIELDS.items():
        totals = service.aggregate(dataset, filt, ["month"], unmasked=unmasked).rename(columns=fields)
        for month, partial, *values in totals[["month", "partial", *fields.values()]].itertuples(index=False):
            gone = [f for f, v in zip(fields.values(), values, strict=True) if partial and pd.isna(v)]
            hidden.setdefault(month, []).extend(gone)
        trends = trends.merge(totals[["month", *fields.values()]], on="month", how="outer")
    trends["suppressed"] = [hidden.get(month, []) for month in trends["month"]]
    return trends.sort_values("month").reset_index(drop=True)


@callback(
    Output("overview-kpis", "children"),
    Output("overview-status", "children"),
    Output("overview-freshness", "children"),
    Input("overview-facility", "value"),
    Input("overview-start", "value"),
    Input("overview-end", "value"),
    Input("overview-unmasked", "value"),
)
def update(facility_ids: Any, start: Any, end: Any, unmasked: Any = None) -> tuple[Any, ...]:
    try:
        ctx = page_context(facility_ids, start, end, unmasked=unmasked, page=PAGE)
    except PageError as exc:
        return None, problem(str(exc)), no_update
    svc, filt = ctx.service, ctx.filt

    def build() -> tuple[Any, bool]:
        trends = monthly_trends(svc, filt, unmasked=ctx.unmasked)
        now, before = svc.kpis(filt, unmasked=ctx.unmasked), svc.kpis(previous_period(filt), unmasked=ctx.unmasked)
        return kpi_tiles(now, before, trends, threshold=ctx.threshold), bool(len(trends))

    # The tiles depend only on the selection's published totals: cached like them, never per user.
    tiles, has_data = svc.remember(("overview-tiles",), filt, build, unmasked=ctx.unmasked)
    return tiles, None if has_data else no_data(), freshness(as_of(svc, None))


register_url_sync(PAGE, PATH)
dash.register_page(__name__, path=PATH, name="Overview", title="Overview · Recruitment analytics", layout=layout)
