"""Chart snapshots and page reports: `/export/chart/<page>/<chart_id>.{png|svg|pdf}` and
`/export/report/<page>.pdf`, scoped, masked and audited like the page and the CSV export.

The `Exporter` bound to the app (`server.extensions["recruit.exports"]`) does the work for these routes and for the
pages' export menus (pages/_exports.py reaches it through the app, since nothing imports pages and pages do not
import dashboard): it takes the page's masked totals from the analytics service, builds the page's own figures
(components/charts.py), stamps them, renders them in the warm browser (dashboard/renderer.py) and writes the audit
row. Nothing is audited when nothing was exported (a refusal, or 503 without a browser).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request

from auth import audit
from auth.context import Scope, client_ip, current_user_scope
from components.charts import PAGE_CHARTS, PageCharts
from components.export_render import (
    CHART_SCALE,
    CHART_SIZE,
    MIME,
    REPORT_CHART_SCALE,
    REPORT_CHART_SIZE,
    KpiTile,
    RendererUnavailable,
    Report,
    ReportTable,
    Stamp,
    report_pdf,
    stamp_figure,
)
from components.formatting import SUPPRESSED_TEXT, fmt_currency, fmt_value, partial_note, suppression_note
from components.overview import TILES, change_vs_previous
from components.tables import NUMERIC_KINDS, TEXT_SUFFIX, table_rows
from components.theme import channel_label
from dashboard.api import NotFound, filters_json, parse_request_filter, rows_as_csv
from dashboard.renderer import ChartRenderer, default_browser_path
from data.filters import DataFilter, previous_period
from data.queries import DATASET_NAMES
from data.service import AnalyticsService

exports = Blueprint("exports", __name__, url_prefix="/export")
# The CSV export lives under the API's prefix (/api/v1/export/) but is served by the same exporter as the menus.
csv_exports = Blueprint("csv_exports", __name__, url_prefix="/api/v1/export")
EXPORTS_KEY = "recruit.exports"
RENDERER_KEY = "recruit.renderer"
KPI_DATASET = "kpis"


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    filename: str
    mimetype: str
    suppressed_cells: int


class Exporter:
    """Builds one export for a caller whose scope and filter are already resolved, and audits it."""

    def __init__(self, service: AnalyticsService) -> None:
        self.service = service

    @property
    def renderer(self) -> ChartRenderer:
        """The app's renderer, looked up per export so replacing it (tests, a restart) takes effect everywhere."""
        return current_app.extensions[RENDERER_KEY]

    def export(self, scope: Scope, filt: DataFilter, page: str, chart_id: str, fmt: str, *,
               all_facilities: bool, unmasked: bool = False) -> ExportFile:
        """`chart_id` "report" with "pdf" is the page report; "csv" is the chart's dataset rows."""
        spec = page_spec(page)
        if chart_id == "report" and fmt == "pdf":
            return self.report(scope, filt, page, all_facilities=all_facilities, unmasked=unmasked)
        if fmt == "csv" and spec.dataset is not None and spec.chart(chart_id) is not None:
            return self.csv(scope, filt, spec.dataset, unmasked=unmasked)
        return self.chart(scope, filt, page, chart_id, fmt, all_facilities=all_facilities, unmasked=unmasked)

    def chart(self, scope: Scope, filt: DataFilter, page: str, chart_id: str, fmt: str, *,
              all_facilities: bool, unmasked: bool = False) -> ExportFile:
        spec = page_spec(page)
        chart = spec.chart(chart_id)
        if chart is None or fmt not in ("png", "svg", "pdf"):
            raise NotFound(f"unknown chart {chart_id!r} of page {page!r}; choose from "
                           f"{', '.join(c.chart_id for c in spec.charts) or 'none'} (png, svg or pdf)")
        scope.require("export")
        svc, k = self.service, self.service.policy.threshold
        frames = svc.aggregates(spec.dataset, filt, spec.groupings, unmasked=unmasked)
        figure = chart.build(frames, k)
        hidden = self._suppressed_cells(spec, filt, unmasked)
        stamp = self._stamp(scope, filt, spec, hidden, all_facilities=all_facilities, unmasked=unmasked)
        width, height = CHART_SIZE
        content = self.renderer.render(stamp_figure(figure, chart.title, stamp), fmt, width=width, height=height,
                                       scale=CHART_SCALE if fmt == "png" else 1)
        name = f"{page}_{chart_id}_{_months(filt)}.{fmt}"
        self._audit(scope, f"chart/{page}/{chart_id}.{fmt}", filt, hidden, unmasked)
        return ExportFile(content, name, MIME[fmt], hidden)

    def report(self, scope: Scope, filt: DataFilter, page: str, *, all_facilities: bool,
               unmasked: bool = False) -> ExportFile:
        spec = page_spec(page)
        scope.require("export")
        svc, k = self.service, self.service.policy.threshold
        frames = svc.aggregates(spec.dataset, filt, spec.groupings, unmasked=unmasked) if spec.dataset else []
        hidden = self._suppressed_cells(spec, filt, unmasked)
        stamp = self._stamp(scope, filt, spec, hidden, all_facilities=all_facilities, unmasked=unmasked)
        figures = [stamp_figure(c.build(frames, k), c.title, stamp, size=REPORT_CHART_SIZE) for c in spec.charts]
        width, height = REPORT_CHART_SIZE
        images = (self.renderer.render_many(figures, "png", width=width, height=height, scale=REPORT_CHART_SCALE)
                  if figures else [])
        kpis = svc.kpis(filt, unmasked=unmasked)
        previous = svc.kpis(previous_period(filt), unmasked=unmasked)
        tables = [self._table(spec, frames)] if spec.table_grouping is not None else []
        content = report_pdf(Report(
            title=f"{spec.title} report",
            stamp=stamp,
            kpis=kpi_tiles(kpis, k, previous=previous),
            charts=[(c.title, png) for c, png in zip(spec.charts, images, strict=True)],
            tables=tables,
            footnotes=footnotes(k, int(kpis.get("excluded_cells") or 0), masked=not unmasked),
        ))
        self._audit(scope, f"report/{page}.pdf", filt, hidden, unmasked)
        return ExportFile(content, f"{page}_report_{_months(filt)}.pdf", MIME["pdf"], hidden)

    def csv(self, scope: Scope, filt: DataFilter, dataset: str, *, unmasked: bool = False) -> ExportFile:
        """The dataset's masked rows, as `GET /api/v1/export/<dataset>.csv` answers them."""
        scope.require("export")
        selection = self.service.select(dataset, filt, unmasked=unmasked)
        self._audit(scope, f"{dataset}.csv", filt, selection.suppressed_cells, unmasked)
        return ExportFile(rows_as_csv(dataset, selection.frame).encode(), f"{dataset}_{_months(filt)}.csv",
                          MIME["csv"], selection.suppressed_cells)

    def _suppressed_cells(self, spec: PageCharts, filt: DataFilter, unmasked: bool) -> int:
        datasets = (spec.dataset,) if spec.dataset else DATASET_NAMES
        return sum(self.service.select(d, filt, unmasked=unmasked).suppressed_cells for d in datasets)

    def _stamp(self, scope: Scope, filt: DataFilter, spec: PageCharts, hidden: int, *, all_facilities: bool,
               unmasked: bool) -> Stamp:
        names = self.service.facilities().set_index("id")["name"]
        ids = filt.facility_ids or ()
        as_of = self.service.oldest_as_of() if spec.dataset is None else self.service.as_of().get(spec.dataset)
        return Stamp(
            as_of=as_of,
            start=filt.start,
            end=filt.end,
            channel=filt.channel,
            facility_names=tuple(str(names.get(fid, f"Facility {fid}")) for fid in ids),
            all_in_scope=all_facilities,
            threshold=self.service.policy.threshold,
            suppressed_cells=hidden,
            user=scope.user.email,
            at=datetime.now(UTC),
            masked=self.service.policy.enabled and not unmasked,
        )

    @staticmethod
    def _table(spec: PageCharts, frames: Any) -> ReportTable:
        columns = spec.table_columns
        records = table_rows(frames[spec.table_grouping], columns)
        rows = [[_cell(c.field, record[f"{c.field}{TEXT_SUFFIX}"]) for c in columns] for record in records]
        return ReportTable("By facility", tuple(c.header for c in columns), rows,
                           tuple(c.kind in NUMERIC_KINDS for c in columns))

    def _audit(self, scope: Scope, target: str, filt: DataFilter, hidden: int, unmasked: bool) -> None:
        audit.record(self.service.engine, "export", user_id=scope.user.id, target=target,
                     details={**filters_json(filt), "suppressed_cells": hidden, "unmasked": unmasked},
                     ip=client_ip())


def kpi_tiles(row: dict[str, Any], threshold: int, *, previous: dict[str, Any] | None = None) -> list[KpiTile]:
    """The overview's headline tiles as text: a hidden or undefined value reads '—' with the reason; with
    `previous`, each published value notes its change against the previous period of equal length."""
    tiles = []
    for tile in TILES:
        value = row.get(tile.key)
        if value is None:
            tiles.append(KpiTile(tile.label, "—", f"no published value ({suppression_note(threshold)}, "
                                                  "or no activity)"))
            continue
        text = fmt_currency(value, cents=False) if tile.kind == "currency" else fmt_value(value, tile.kind)
        note = None
        if previous is not None:
            arrow, change, _ = change_vs_previous(value, previous.get(tile.key), tile.kind)
            note = f"{arrow} {change} vs previous period"
        tiles.append(KpiTile(tile.label, text, note))
    return tiles


def footnotes(threshold: int, excluded_cells: int, *, masked: bool) -> list[str]:
    if not masked:
        return ["These figures are unsuppressed (an admin asked for them; the request is in the audit log)."]
    notes = [f"Small-cell suppression: {suppression_note(threshold)}. A count from 1 to {threshold - 1} is never "
             f'shown; it reads "{SUPPRESSED_TEXT}" in tables and is drawn as a hatched grey mark in charts. A rate '
             "or average computed from a hidden count is hidden too."]
    if excluded_cells:
        notes.append(f"Totals add published cells only ({partial_note(excluded_cells)} left out of the key figures).")
    return notes


def page_spec(page: str) -> PageCharts:
    spec = PAGE_CHARTS.get(page)
    if spec is None:
        raise NotFound(f"unknown page {page!r}; choose from {', '.join(PAGE_CHARTS)}")
    return spec


def init_exports(server: Flask, service: AnalyticsService) -> Exporter:
    """Bind the exporter (the browser starts on the first image export, not here) and the routes."""
    renderer = server.extensions.get(RENDERER_KEY) or ChartRenderer(default_browser_path())
    server.extensions[RENDERER_KEY] = renderer
    exporter = Exporter(service)
    server.extensions[EXPORTS_KEY] = exporter
    server.register_blueprint(exports)
    server.register_blueprint(csv_exports)
    return exporter


def exporter() -> Exporter:
    return current_app.extensions[EXPORTS_KEY]


@exports.get("/chart/<page>/<chart_id>.<any(png, svg, pdf):fmt>")
def chart_export(page: str, chart_id: str, fmt: str) -> Response:
    spec = page_spec(page)
    if spec.chart(chart_id) is None:
        raise NotFound(f"unknown chart {chart_id!r} of page {page!r}; choose from "
                       f"{', '.join(c.chart_id for c in spec.charts) or 'none'}")
    filt, unmasked = parse_request_filter(spec.dataset or KPI_DATASET)
    file = exporter().chart(current_user_scope(), filt, page, chart_id, fmt,
                            all_facilities=not request.args.getlist("facility_id"), unmasked=unmasked)
    return _send(file)


@exports.get("/report/<page>.pdf")
def report_export(page: str) -> Response:
    spec = page_spec(page)
    filt, unmasked = parse_request_filter(spec.dataset or KPI_DATASET)
    file = exporter().report(current_user_scope(), filt, page,
                             all_facilities=not request.args.getlist("facility_id"), unmasked=unmasked)
    return _send(file)


@csv_exports.get("/<dataset>.csv")
def csv_export(dataset: str) -> Response:
    if dataset not in DATASET_NAMES:
        raise NotFound(f"unknown dataset {dataset!r}; choose from {', '.join(DATASET_NAMES)}")
    filt, unmasked = parse_request_filter(dataset)
    return _send(exporter().csv(current_user_scope(), filt, dataset, unmasked=unmasked))


@exports.get("/<path:rest>")
def unknown_export(rest: str) -> Response:
    """Any other /export/ URL is a JSON 404 (Dash's page router would otherwise answer it with the app shell)."""
    raise NotFound(f"no export at /export/{rest}; see GET /export/chart/<page>/<chart_id>.png|svg|pdf "
                   "and /export/report/<page>.pdf")


@exports.errorhandler(RendererUnavailable)
def _renderer_unavailable(exc: RendererUnavailable) -> tuple[Response, int]:
    return jsonify(error=str(exc)), 503


def _send(file: ExportFile) -> Response:
    return Response(file.content, mimetype=file.mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{file.filename}"',
                             "Cache-Control": "no-store"})


def _cell(field: str, text: str) -> str:
    if not text:
        return "—"
    return channel_label(text) if field == "channel" and text != SUPPRESSED_TEXT else text


def _months(filt: DataFilter) -> str:
    return f"{filt.start:%Y-%m}_{filt.end:%Y-%m}"
