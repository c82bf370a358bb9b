"""Overview page: headline KPI tiles across the selection, each with its change and a monthly trend."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, callback, html, no_update

from auth.context import services
from auth.errors import AuthError
from components.export_menu import report_button
from components.jsonable import as_json
from components.layout import chart_card, empty_state, freshness_banner, notices_banner
from components.overview import kpi_tiles
from components.registry import PAGES
from data.filters import DataFilter, FilterError, previous_period
from data.queries import DATASET_NAMES
from pages.chart_page import register_exports
from pages.frame import (
    data_as_of,
    filter_inputs,
    iso,
    page_frame,
    raw_filters,
    register_url_sync,
    select,
    signed_out_page,
)

PAGE = PAGES["overview"]
PAGE_ID, PATH = PAGE.page_id, PAGE.path


def layout(**query: Any) -> html.Div:
    raw = raw_filters(query.get("facility_id"), query.get("start"), query.get("end"))
    try:
        selection = select(raw, page_id=PAGE_ID, with_channel=False)
    except AuthError:
        return signed_out_page(PAGE.title)
    body = [report_button(PAGE_ID),
            chart_card(f"{PAGE_ID}-kpis-card", "Key figures", html.Div(id=f"{PAGE_ID}-kpis", className="kpi-section"),
                       definition=PAGE.definition("kpis"))]
    return page_frame(PAGE_ID, PATH, PAGE.title, query, body, selection=selection, with_channel=False, dataset=None)


def tiles_json(filt: DataFilter, *, unmasked: bool = False) -> tuple[dict[str, Any], bool]:
    """The tiles as component JSON (plain data: what is cached), and whether the selection has any data."""
    analytics = services().analytics

    def build() -> tuple[dict[str, Any], bool]:
        analytics.masked_views(DATASET_NAMES, unmasked=unmasked)  # all four views read side by side when cold
        trends = {name: analytics.aggregate(name, filt, ["month"], unmasked=unmasked) for name in DATASET_NAMES}
        now = analytics.kpis(filt, unmasked=unmasked)
        before = analytics.kpis(previous_period(filt), unmasked=unmasked)
        tiles = kpi_tiles(now, before, trends, threshold=analytics.policy.threshold, page_id=PAGE_ID)
        return as_json(tiles), any(len(t) for t in trends.values())

    # The tiles depend only on the selection's published totals: cached like them, never per user.
    return analytics.remember(("overview-tiles",), filt, build, unmasked=unmasked)


@callback(
    Output(f"{PAGE_ID}-kpis", "children"),
    Output(f"{PAGE_ID}-status", "children"),
    Output(f"{PAGE_ID}-freshness", "children"),
    Output(f"{PAGE_ID}-notices", "children", allow_duplicate=True),
    Output(f"{PAGE_ID}-as-of", "data"),
    *filter_inputs(PAGE_ID),
    Input(f"{PAGE_ID}-unmasked", "value"),
    Input(f"{PAGE_ID}-versions", "data"),
    prevent_initial_call="initial_duplicate",
)
def update(facility_ids: Any, start: Any, end: Any, unmasked: Any = None, _versions: Any = None) -> tuple[Any, ...]:
    try:
        selection = select(raw_filters(facility_ids, start, end), page_id=PAGE_ID, with_channel=False,
                           unmasked=unmasked)
    except (AuthError, FilterError) as exc:
        return None, empty_state(str(exc), hint=None), no_update, no_update, no_update
    tiles, has_data = tiles_json(selection.filt, unmasked=selection.unmasked)
    notices = as_json(notices_banner(selection.notices)) if selection.notices else no_update
    stamp = data_as_of(None, unmasked=selection.unmasked)
    return tiles, None if has_data else as_json(empty_state()), as_json(freshness_banner(stamp)), notices, iso(stamp)


register_url_sync(PAGE_ID, PATH)
register_exports(PAGE_ID, with_channel=False)
dash.register_page(__name__, path=PATH, name=PAGE.title, title="Overview · Recruitment analytics", layout=layout)
