"""Chart snapshots and page reports: `/export/chart/<page>/<chart_id>.{png|svg|pdf}` and
`/export/report/<page>.pdf`, scoped, masked and audited like the page and the CSV export.

The `Exporter` (the app's `services().exporter`) does the work for these routes and for the pages' export menus
(pages/chart_page.py): for a selection authorized once (auth/selection.py) it takes the page's masked totals from
the analytics service, builds the page's own figures (components/registry.py), stamps them, renders them in the
warm browser (dashboard/renderer.py) and writes the audit row. Nothing is audited when nothing was exported (a
refusal, or 503 without a browser).

Chart and report exports run within the limits of dashboard/export_limits.py: a slot of the user's (429 beyond
EXPORT_CONCURRENCY_PER_USER), a data-point budget before rendering, plain placeholders in vector output, a time
budget while rendering and a size budget after.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, jsonify

from auth import audit
from auth.context import AppServices, client_ip, services
from auth.selection import Intent, Selection
from components.export_render import (
    CHART_SCALE,
    CHART_SIZE,
    MIME,
    REPORT_CHART_SCALE,
    KpiTile,
    RendererUnavailable,
    Report,
    ReportChart,
    ReportTable,
    Stamp,
    figure_note,
    report_figure,
    report_pdf,
    stamp_figure,
)
from components.formatting import HIDDEN_TEXT, hidden_note, privacy_sentence
from components.overview import TILES, change_vs_previous, tile_text
from components.registry import PAGES, PageSpec
from components.tables import COMPLETE, NUMERIC_DISPLAYS, STATE_SUFFIX, TEXT_SUFFIX, row_labels, totals_rows
from dashboard.api import NotFound, filters_json, request_selection, rows_as_csv
from dashboard.export_limits import (
    Budget,
    ExportRefused,
    ExportSlots,
    check_points,
    check_size,
    count_points,
    pattern_backgrounds,
    placeholders_for,
)
from dashboard.renderer import ChartRenderer, default_browser_path
from data.cache import database_namespace
from data.filters import DataFilter, previous_period
from data.queries import DATASET_NAMES

exports = Blueprint("exports", __name__, url_prefix="/export")
# The CSV export lives under the API's prefix (/api/v1/export/) but is served by the same exporter as the menus.
csv_exports = Blueprint("csv_exports", __name__, url_prefix="/api/v1/export")
KPI_DATASET = "kpis"
REPORT_PARTIAL_MARK = "*"  # the PDF fonts have no "◐" (the grid's mark)


@dataclass(frozen=True)
class ExportFile:
    content: bytes
    filename: str
    mimetype: str
    suppressed_cells: int


class Exporter:
    """Builds one export for an authorized selection, and audits it."""

    def __init__(self, bound: AppServices, renderer: ChartRenderer, budget: Budget | None = None,
                 slots: ExportSlots | None = None) -> None:
        self.services = bound
        self.renderer = renderer
        self.budget = budget or budget_of(bound.settings)
        self.slots = slots or ExportSlots(self.budget.per_user, None, "local")

    @property
    def analytics(self):
        return self.services.analytics

    def export(self, selection: Selection, page_id: str, chart_id: str, fmt: str) -> ExportFile:
        """`chart_id` "report" with "pdf" is the page report; "csv" is the page dataset's rows."""
        page = page_spec(page_id)
        if chart_id == "report" and fmt == "pdf":
            return self.report(selection, page_id)
        if fmt == "csv" and page.dataset is not None and page.chart(chart_id) is not None:
            return self.csv(selection, page.dataset)
        return self.chart(selection, page_id, chart_id, fmt)

    def chart(self, selection: Selection, page_id: str, chart_id: str, fmt: str) -> ExportFile:
        page = page_spec(page_id)
        chart = page.chart(chart_id)
        if chart is None or fmt not in ("png", "svg", "pdf"):
            raise NotFound(f"unknown chart {chart_id!r} of page {page_id!r}; choose from "
                           f"{', '.join(c.chart_id for c in page.charts) or 'none'} (png, svg or pdf)")
        filt, unmasked, k = selection.filt, selection.unmasked, self.analytics.policy.threshold
        with self.slots.hold(selection.scope.user.id):
            frames = self.analytics.aggregates(page.dataset, filt, page.groupings, unmasked=unmasked)
            figure = chart.figure(frames, k)
            hidden = self._suppressed_cells(page, filt, unmasked)
            stamp = self._stamp(selection, page, hidden)
            spec = stamp_figure(figure, chart.title, stamp).to_plotly_json()
            check_points(count_points(spec), self.budget)
            placeholders_for(fmt, spec)  # plain in SVG/PDF (patterns explode there), backed patterns in PNG
            width, height = CHART_SIZE
            content = self.renderer.render(spec, fmt, width=width, height=height,
                                           scale=CHART_SCALE if fmt == "png" else 1, timeout=self.budget.timeout_s,
                                           user=selection.scope.user.id)
            check_size(content, self.budget)
        self._audit(selection, f"chart/{page_id}/{chart_id}.{fmt}", hidden)
        return ExportFile(content, f"{page_id}_{chart_id}_{_months(filt)}.{fmt}", MIME[fmt], hidden)

    def report(self, selection: Selection, page_id: str) -> ExportFile:
        page = page_spec(page_id)
        filt, unmasked, k = selection.filt, selection.unmasked, self.analytics.policy.threshold
        with self.slots.hold(selection.scope.user.id):
            frames = (self.analytics.aggregates(page.dataset, filt, page.groupings, unmasked=unmasked)
                      if page.dataset else [])
            hidden = self._suppressed_cells(page, filt, unmasked)
            stamp = self._stamp(selection, page, hidden)
            built = [c.figure(frames, k) for c in page.charts]
            figures = [pattern_backgrounds(report_figure(f).to_plotly_json()) for f in built]
            check_points(sum(count_points(f) for f in figures), self.budget)
            images = self._render_report_charts(figures, selection.scope.user.id)
            kpis = self.analytics.kpis(filt, unmasked=unmasked)
            previous = self.analytics.kpis(previous_period(filt), unmasked=unmasked)
            tables = [self._table(page, frames, k)] if page.table is not None else []
            charts = [ReportChart(c.title, png, _size(f), page.definition(c.chart_id), figure_note(b))
                      for c, b, f, png in zip(page.charts, built, figures, images, strict=True)]
            content = report_pdf(Report(
                title=f"{page.title} report",
                stamp=stamp,
                kpis=report_tiles(kpis, previous),
                charts=charts,
                tables=tables,
                footnotes=footnotes(k, masked=not unmasked, hidden=hidden),
                with_channel=page.with_channel,
            ))
            check_size(content, self.budget)
        self._audit(selection, f"report/{page_id}.pdf", hidden)
        return ExportFile(content, f"{page_id}_report_{_months(filt)}.pdf", MIME["pdf"], hidden)

    def _render_report_charts(self, figures: list[dict[str, Any]], user: int) -> list[bytes]:
        """Each figure as PNG at its own size (grouped by size, one browser call per size), within one budget."""
        deadline = time.monotonic() + self.budget.timeout_s
        images: dict[int, bytes] = {}
        by_size: dict[tuple[int, int], list[int]] = {}
        for i, figure in enumerate(figures):
            by_size.setdefault(_size(figure), []).append(i)
        for (width, height), indexes in by_size.items():
            left = max(0.1, deadline - time.monotonic())
            rendered = self.renderer.render_many([figures[i] for i in indexes], "png", width=width, height=height,
                                                 scale=REPORT_CHART_SCALE, timeout=left, user=user)
            images.update(zip(indexes, rendered, strict=True))
        return [images[i] for i in range(len(figures))]

    def csv(self, selection: Selection, dataset: str) -> ExportFile:
        """The dataset's masked rows, as `GET /api/v1/export/<dataset>.csv` answers them."""
        chosen = self.analytics.select(dataset, selection.filt, unmasked=selection.unmasked)
        self._audit(selection, f"{dataset}.csv", chosen.suppressed_cells)
        return ExportFile(rows_as_csv(dataset, chosen.frame).encode(), f"{dataset}_{_months(selection.filt)}.csv",
                          MIME["csv"], chosen.suppressed_cells)

    def _suppressed_cells(self, page: PageSpec, filt: DataFilter, unmasked: bool) -> int:
        datasets = (page.dataset,) if page.dataset else DATASET_NAMES
        return sum(self.analytics.select(d, filt, unmasked=unmasked).suppressed_cells for d in datasets)

    def _stamp(self, selection: Selection, page: PageSpec, hidden: int) -> Stamp:
        names = self.analytics.facilities().set_index("id")["name"]
        filt = selection.filt
        ids = filt.facility_ids or ()
        unmasked = selection.unmasked
        as_of = (self.analytics.oldest_as_of(unmasked=unmasked) if page.dataset is None
                 else self.analytics.as_of(unmasked=unmasked).get(page.dataset))
        datasets = (page.dataset,) if page.dataset else DATASET_NAMES
        version = ", ".join(f"{d} {v}" for d, v in zip(datasets, self.analytics.versions(datasets, unmasked=unmasked),
                                                         strict=True))
        return Stamp(
            as_of=as_of,
            start=filt.start,
            end=filt.end,
            channel=filt.channel,
            facility_names=tuple(str(names.get(fid, f"Facility {fid}")) for fid in ids),
            all_in_scope=selection.all_facilities,
            threshold=self.analytics.policy.threshold,
            suppressed_cells=hidden,
            user=selection.scope.user.email,
            at=datetime.now(UTC),
            masked=self.analytics.policy.enabled and not selection.unmasked,
            version=version,
        )

    @staticmethod
    def _table(page: PageSpec, frames: Any, threshold: int) -> ReportTable:
        """The page's table as printed: values as on screen; a row whose totals left hidden numbers out (the grid's
        "partial" rows) and a partial value marked with an asterisk; notes saying what "hidden", the asterisk and a
        range mean (only those the table uses)."""
        assert page.table is not None
        frame = frames[page.table.grouping]
        columns = page.table.columns
        records = totals_rows(frame, columns, labels=row_labels(frame))

        def cell(record: dict[str, Any], name: str) -> str:
            text = record[f"{name}{TEXT_SUFFIX}"] or "—"
            return f"{text} {REPORT_PARTIAL_MARK}" if record[f"{name}{STATE_SUFFIX}"] == "partial" else text

        def label(record: dict[str, Any]) -> str:
            return record["label"] if record[COMPLETE] == "yes" else f"{record['label']} {REPORT_PARTIAL_MARK}"

        rows = [[label(record), *(cell(record, c.name) for c in columns)] for record in records]
        states = {record[f"{c.name}{STATE_SUFFIX}"] for record in records for c in columns}
        notes = []
        if "suppressed" in states:
            notes.append(f'"{HIDDEN_TEXT}": {hidden_note(threshold)}')
        if any(record[COMPLETE] != "yes" for record in records):
            notes.append(f"{REPORT_PARTIAL_MARK} Partial: the row's totals (or the value marked) leave out "
                         f"{page.table.unit[1]} with hidden numbers; where too much is left out for one value, the "
                         "cell gives the range the published numbers allow (\"A to B\").")
        if notes:
            notes.append(privacy_sentence(threshold))
        return ReportTable("By facility", ("Facility", *(c.label for c in columns)), rows,
                           (False, *(c.display in NUMERIC_DISPLAYS for c in columns)), tuple(notes))

    def _audit(self, selection: Selection, target: str, hidden: int) -> None:
        audit.record(self.services.engine, "export", user_id=selection.scope.user.id, target=target,
                     details={**filters_json(selection.filt), "suppressed_cells": hidden,
                              "unmasked": selection.unmasked}, ip=client_ip())


def report_tiles(row: dict[str, Any], previous: dict[str, Any] | None = None) -> list[KpiTile]:
    """The overview's headline tiles as text, written as on the page; with `previous`, each value that can be
    compared notes its change against the previous period of equal length."""
    tiles = []
    for tile in TILES:
        shown, _ = tile_text(tile, row)
        note = None
        if previous is not None:
            arrow, change, _ = change_vs_previous(row, previous, tile)
            note = f"{arrow} {change} vs previous period".strip()
        tiles.append(KpiTile(tile.label, shown, note))
    return tiles


def footnotes(threshold: int, *, masked: bool, hidden: int | None = None) -> list[str]:
    """The report's privacy note, in the figures' own words (components/formatting.py)."""
    if not masked:
        return ["These figures are unprotected (an admin asked for them; the request is in the audit log)."]
    count = "" if not hidden else (f" In this selection {hidden:,} number{'' if hidden == 1 else 's'} "
                                       f"{'is' if hidden == 1 else 'are'} hidden.")
    return [f"{privacy_sentence(threshold)}{count} A partial total (dotted in charts, marked {REPORT_PARTIAL_MARK} "
            "in tables) leaves hidden numbers out; where too much is left out for one value, the range the published "
            "numbers allow is given instead."]


def page_spec(page_id: str) -> PageSpec:
    page = PAGES.get(page_id)
    if page is None:
        raise NotFound(f"unknown page {page_id!r}; choose from {', '.join(PAGES)}")
    return page


def budget_of(settings: Any) -> Budget:
    return Budget(max_bytes=settings.export_max_mb * 1_000_000, max_points=settings.export_max_points,
                  per_user=settings.export_concurrency_per_user, timeout_s=float(settings.export_timeout_seconds))


def init_exports(server: Flask, bound: AppServices) -> Exporter:
    """Bind the exporter (the browser starts on the first image export, not here) and the routes."""
    settings = bound.settings
    budget = budget_of(settings)
    slots = ExportSlots(budget.per_user, settings.redis_url, database_namespace(settings.database_url))
    renderer = ChartRenderer(default_browser_path(), render_timeout=budget.timeout_s)
    bound.exporter = Exporter(bound, renderer, budget, slots)
    server.register_blueprint(exports)
    server.register_blueprint(csv_exports)
    return bound.exporter


@exports.get("/chart/<page>/<chart_id>.<any(png, svg, pdf):fmt>")
def chart_export(page: str, chart_id: str, fmt: str) -> Response:
    spec = page_spec(page)
    if spec.chart(chart_id) is None:
        raise NotFound(f"unknown chart {chart_id!r} of page {page!r}; choose from "
                       f"{', '.join(c.chart_id for c in spec.charts) or 'none'}")
    selection = request_selection(spec.dataset or KPI_DATASET, intent=Intent.EXPORT)
    return _send(services().exporter.chart(selection, page, chart_id, fmt))


@exports.get("/report/<page>.pdf")
def report_export(page: str) -> Response:
    spec = page_spec(page)
    selection = request_selection(spec.dataset or KPI_DATASET, intent=Intent.EXPORT)
    return _send(services().exporter.report(selection, page))


@csv_exports.get("/<dataset>.csv")
def csv_export(dataset: str) -> Response:
    if dataset not in DATASET_NAMES:
        raise NotFound(f"unknown dataset {dataset!r}; choose from {', '.join(DATASET_NAMES)}")
    selection = request_selection(dataset, intent=Intent.EXPORT)
    return _send(services().exporter.csv(selection, dataset))


@exports.get("/<path:rest>")
def unknown_export(rest: str) -> Response:
    """Any other /export/ URL is a JSON 404 (Dash's page router would otherwise answer it with the app shell)."""
    raise NotFound(f"no export at /export/{rest}; see GET /export/chart/<page>/<chart_id>.png|svg|pdf "
                   "and /export/report/<page>.pdf")


@exports.errorhandler(ExportRefused)
@csv_exports.errorhandler(ExportRefused)
def _export_refused(exc: ExportRefused) -> tuple[Response, int]:
    response = jsonify(error=str(exc))
    if exc.retry_after is not None:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response, exc.status


@exports.errorhandler(RendererUnavailable)
def _renderer_unavailable(exc: RendererUnavailable) -> tuple[Response, int]:
    return jsonify(error=str(exc)), 503


def _send(file: ExportFile) -> Response:
    return Response(file.content, mimetype=file.mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{file.filename}"',
                             "Cache-Control": "no-store"})


def _size(figure: dict[str, Any]) -> tuple[int, int]:
    layout = figure.get("layout", {})
    return int(layout["width"]), int(layout["height"])


def _months(filt: DataFilter) -> str:
    return f"{filt.start:%Y-%m}_{filt.end:%Y-%m}"
