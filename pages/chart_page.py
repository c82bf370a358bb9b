"""Every chart page, built from its declaration (components/registry.py): layout, the update callback, the URL sync,
the export menus and, for compliance, the violations drill-down.

A page module is then one line: `register_chart_page(PAGES["pipeline"])`.
"""

from __future__ import annotations

from typing import Any

import dash
import plotly.graph_objects as go
from dash import ALL, MATCH, Input, Output, State, callback, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from auth.context import services
from auth.errors import AuthError
from auth.selection import Intent, Selection
from components.describe import chart_text
from components.export_menu import export_menu, report_button
from components.export_render import RendererUnavailable
from components.figures import empty_figure
from components.formatting import NO_DATA_MESSAGE
from components.jsonable import as_json
from components.layout import chart_card, empty_state, freshness_banner, grid_order, grid_widths, notices_banner
from components.registry import PageSpec
from components.tables import record_table, totals_table
from data.filters import DataFilter, FilterError
from data.queries import violations
from data.specs import DRILLDOWN
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

# Record-level rows sent to the browser at most: 5,000 rows of PII made a 3.4 MB answer and took half a second.
UI_VIOLATION_ROWS = 500
CHART_SLOTS = ("subtitle", "data", "summary")  # what each chart card shows besides its figure (components/layout)


def register_chart_page(module: str, page: PageSpec) -> None:
    """Register `page` (declared in the page module `module`) with Dash's router, and its callbacks."""
    page_id = page.page_id

    def layout(**query: Any) -> html.Div:
        raw = raw_filters(query.get("facility_id"), query.get("start"), query.get("end"), query.get("channel"))
        try:
            selection = select(raw, page_id=page_id, with_channel=page.with_channel)
        except AuthError:
            return signed_out_page(page.title)
        return page_frame(page_id, page.path, page.title, query, body(page, selection), selection=selection,
                          with_channel=page.with_channel, dataset=page.dataset)

    channel = Input(f"{page_id}-channel", "value" if page.with_channel else "data")

    chart_ids = [page.component_id(c.chart_id) for c in page.charts]

    @callback(
        *(Output(cid, "figure") for cid in chart_ids),
        *(Output(f"{cid}-{slot}", "children") for cid in chart_ids for slot in CHART_SLOTS),
        *([Output(f"{page_id}-table", "children")] if page.table else []),
        Output(f"{page_id}-status", "children"),
        Output(f"{page_id}-freshness", "children"),
        Output(f"{page_id}-notices", "children", allow_duplicate=True),
        Output(f"{page_id}-as-of", "data"),
        *filter_inputs(page_id),
        channel,
        Input(f"{page_id}-unmasked", "value"),
        Input(f"{page_id}-versions", "data"),
        prevent_initial_call="initial_duplicate",
    )
    def update(facility_ids: Any, start: Any, end: Any, channel_value: Any, unmasked: Any, _versions: Any = None
               ) -> tuple[Any, ...]:
        try:
            selection = select(raw_filters(facility_ids, start, end, channel_value), page_id=page_id,
                               with_channel=page.with_channel, unmasked=unmasked)
        except (AuthError, FilterError) as exc:
            blank = on_screen([as_json(empty_figure(c.title, str(exc), hint=None)) for c in page.charts])
            return (*blank, *([None] if page.table else []), empty_state(str(exc), hint=None), no_update, no_update,
                    no_update)
        frames, figures = page_totals(page, selection.filt, unmasked=selection.unmasked)
        table = [page_table(page, selection.filt, frames, unmasked=selection.unmasked)] if page.table else []
        has_data = any(len(f) and int(f["rows"].sum()) for f in frames)
        status = None if has_data else empty_state(NO_DATA_MESSAGE)
        notices = as_json(notices_banner(selection.notices)) if selection.notices else no_update
        stamp = data_as_of(page.dataset, unmasked=selection.unmasked)
        screen = page_screen(page, selection.filt, figures, unmasked=selection.unmasked)
        # Plain JSON throughout, so that Dash encodes the answer in one pass of orjson (components/jsonable.py).
        return *screen, *table, as_json(status), as_json(freshness_banner(stamp)), notices, iso(stamp)

    if page.drilldown:
        register_drilldown(page)
    register_url_sync(page_id, page.path, with_channel=page.with_channel)
    register_exports(page_id, with_channel=page.with_channel)
    dash.register_page(module, path=page.path, name=page.title,
                       title=f"{page.title} · Recruitment analytics", layout=layout)


def page_screen(page: PageSpec, filt: DataFilter, figures: list[dict[str, Any]], *, unmasked: bool = False
                ) -> list[Any]:
    """on_screen() of the page's figures as plain JSON, cached per selection like the figures: building the data
    tables' components and serialising them was most of a warm callback (30 ms of 48 for outreach)."""
    return services().analytics.remember(("screen", page.page_id), filt,
                                         lambda: as_json(on_screen(figures)),
                                         unmasked=unmasked, datasets=(page.dataset,))


def on_screen(figures: list[dict[str, Any]]) -> list[Any]:
    """The callback's chart outputs: every figure without its title, then each chart's subtitle, data table and
    description (components/describe.py), in the order of the Outputs."""
    texts = [chart_text(f) for f in figures]
    return [t.figure for t in texts] + [part for t in texts for part in (t.subtitle, t.table, t.summary)]


def body(page: PageSpec, selection: Selection) -> list[Any]:
    """The report button, a card per chart (with its definition and export menu; charts listing facilities and a
    lone last chart span the row), the table and drill-down."""
    widths = grid_widths([c.wide for c in page.charts])
    cards = [
        chart_card(page.component_id(c.chart_id), c.title, go.Figure(), actions=export_menu(page.page_id, c.chart_id),
                   definition=page.definition(c.chart_id), wide=widths[i])
        for i, c in ((i, page.charts[i]) for i in grid_order(widths))
    ]
    children: list[Any] = [report_button(page.page_id), html.Div(cards, className="chart-grid")]
    if page.table:
        children.append(chart_card(f"{page.page_id}-table", "By facility", html.Div(id=f"{page.page_id}-table")))
    if page.drilldown and selection.scope.can("view_pii"):
        children.append(chart_card(f"{page.page_id}-violations", "Failed checks",
                                   html.Div(id=f"{page.page_id}-violations"),
                                   subtitle="One row per failed check, with the candidate's contact details"))
    return children


def page_totals(page: PageSpec, filt: DataFilter, *, unmasked: bool = False
                ) -> tuple[list[Any], list[dict[str, Any]]]:
    """The page's totals frames and its figures as plotly JSON, both cached per selection (never per user)."""
    analytics = services().analytics
    frames = analytics.aggregates(page.dataset, filt, page.groupings, unmasked=unmasked)

    def build() -> list[dict[str, Any]]:
        figures = page.figures(frames, analytics.policy.threshold).values()
        return [as_json(figure) for figure in figures]

    figures = analytics.remember(("figures", page.page_id), filt, build, unmasked=unmasked, datasets=(page.dataset,))
    return frames, figures


def page_table(page: PageSpec, filt: DataFilter, frames: list[Any], *, unmasked: bool = False) -> dict[str, Any]:
    """The page's by-facility table as component JSON, cached per selection like the figures (building its rows
    cell by cell was most of a warm callback: 0.4 s for outreach's 1,000 rows under load)."""
    assert page.table is not None
    analytics = services().analytics
    spec = page.table

    def build() -> dict[str, Any]:
        table = totals_table(frames[spec.grouping], spec.columns, table_id=f"{page.page_id}-grid",
                             threshold=analytics.policy.threshold, unit=spec.unit)
        return as_json(table)

    return analytics.remember(("table", page.page_id), filt, build, unmasked=unmasked, datasets=(page.dataset,))


def register_drilldown(page: PageSpec) -> None:
    """Record-level failed checks, only for callers with view_pii on every facility asked for."""
    page_id = page.page_id

    @callback(
        Output(f"{page_id}-violations", "children"),
        *filter_inputs(page_id),
    )
    def update_violations(facility_ids: Any, start: Any, end: Any) -> Any:
        try:
            selection = select(raw_filters(facility_ids, start, end), page_id=page_id, with_channel=False,
                               intent=Intent.PII)
        except (AuthError, FilterError):
            raise PreventUpdate from None
        rows = violations(services().engine, selection.filt, limit=UI_VIOLATION_ROWS)
        table = record_table(rows, DRILLDOWN, table_id=f"{page_id}-violations-grid")
        if len(rows) < UI_VIOLATION_ROWS:
            return as_json(table)
        note = html.P(f"Showing the newest {UI_VIOLATION_ROWS} failed checks; narrow the facilities or months to "
                      "see older ones, or use the API.", className="table-note")
        return as_json(html.Div([note, table]))


def register_exports(page_id: str, *, with_channel: bool) -> None:
    """One pattern-matching callback answering every export button of the page with a dcc.Download, built by the
    app's exporter exactly as `GET /export/...` builds it: same figures, same masking, same audit."""

    @callback(
        Output({"type": "export-download", "page": page_id, "chart": MATCH}, "data"),
        Output({"type": "export-status", "page": page_id, "chart": MATCH}, "children"),
        Input({"type": "export", "page": page_id, "chart": MATCH, "format": ALL}, "n_clicks"),
        State(f"{page_id}-facility", "value"),
        State(f"{page_id}-start", "value"),
        State(f"{page_id}-end", "value"),
        State(f"{page_id}-channel", "value" if with_channel else "data"),
        State(f"{page_id}-unmasked", "value"),
        prevent_initial_call=True,
    )
    def export(clicks: list[Any], facility_ids: Any, start: Any, end: Any, channel: Any, unmasked: Any
               ) -> tuple[Any, str]:
        trigger = ctx.triggered_id
        if not trigger or not any(clicks):
            raise PreventUpdate
        try:
            selection = select(raw_filters(facility_ids, start, end, channel if with_channel else None),
                               page_id=page_id, with_channel=with_channel, unmasked=unmasked, intent=Intent.EXPORT)
            file = services().exporter.export(selection, page_id, trigger["chart"], trigger["format"])
        except (AuthError, FilterError, RendererUnavailable) as exc:
            return no_update, f"Export failed: {exc}"
        return dcc.send_bytes(file.content, file.filename, type=file.mimetype), ""


