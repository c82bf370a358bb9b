"""The export menus of every page: one pattern-matching callback per page, answering with a dcc.Download.

The file is built by the app's exporter (dashboard/exports.py, reached through the app like the analytics service)
from the page's current filters, exactly as `GET /export/...` builds it: same figures, same masking, same audit.
"""

from __future__ import annotations

from typing import Any

from dash import ALL, MATCH, Input, Output, State, callback, ctx, dcc, no_update
from dash.exceptions import PreventUpdate
from flask import current_app

from auth.errors import AuthError
from components.export_render import RendererUnavailable
from pages._common import PageError, page_context

EXPORTS_KEY = "recruit.exports"
# page id -> whether its filter bar has a channel (others keep a hidden store the page's charts ignore)
PAGES = {"overview": False, "pipeline": False, "compliance": False, "revenue": False, "outreach": True}


def register_exports(page: str, *, with_channel: bool) -> None:
    @callback(
        Output({"type": "export-download", "page": page, "chart": MATCH}, "data"),
        Output({"type": "export-status", "page": page, "chart": MATCH}, "children"),
        Input({"type": "export", "page": page, "chart": MATCH, "format": ALL}, "n_clicks"),
        State(f"{page}-facility", "value"),
        State(f"{page}-start", "value"),
        State(f"{page}-end", "value"),
        State(f"{page}-channel", "value" if with_channel else "data"),
        State(f"{page}-unmasked", "value"),
        prevent_initial_call=True,
    )
    def export(
        clicks: list[Any], facility_ids: Any, start: Any, end: Any, channel: Any, unmasked: Any
    ) -> tuple[Any, str]:
        trigger = ctx.triggered_id
        if not trigger or not any(clicks):
            raise PreventUpdate
        try:
            pc = page_context(facility_ids, start, end, channel if with_channel else None, unmasked=unmasked, page=page)
            file = current_app.extensions[EXPORTS_KEY].export(
                pc.scope, pc.filt, page, trigger["chart"], trigger["format"], all_facilities=not facility_ids,
                unmasked=pc.unmasked,
            )
        except (PageError, AuthError, RendererUnavailable) as exc:
            return no_update, f"Export failed: {exc}"
        return dcc.send_bytes(file.content, file.filename, type=file.mimetype), ""


for _page, _channel in PAGES.items():
    register_exports(_page, with_channel=_channel)
