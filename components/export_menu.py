"""Export controls: a per-chart menu (PNG, SVG, PDF, CSV) and the page's "Export report (PDF)" button.

Ids are pattern-matching dicts so one callback per page serves every chart (pages/_exports.py):
`{"type": "export", "page", "chart", "format"}` for the buttons, `{"type": "export-download", "page", "chart"}` for
the dcc.Download and `{"type": "export-status", ...}` for the message; the report is the chart "report".
"""

from __future__ import annotations

from dash import dcc, html

from components import theme

FORMATS = ("png", "svg", "pdf", "csv")
FORMAT_LABELS = {"png": "PNG image", "svg": "SVG image", "pdf": "PDF", "csv": "CSV data"}
REPORT = "report"


def export_id(page: str, chart: str, fmt: str) -> dict[str, str]:
    return {"type": "export", "page": page, "chart": chart, "format": fmt}


def download_slot(page: str, chart: str) -> dcc.Loading:
    """The dcc.Download of one chart (or the report), with a spinner while the file is being rendered."""
    return dcc.Loading(
        html.Div(
            [
                dcc.Download(id={"type": "export-download", "page": page, "chart": chart}),
                html.Span(id={"type": "export-status", "page": page, "chart": chart}, className="export-status",
                          role="status"),
            ],
            className="export-slot",
        ),
        type="dot",
        delay_show=100,
        color=theme.OKABE_ITO["blue"],
        parent_className="export-loading",
    )


def export_menu(page: str, chart: str) -> list:
    """The actions of a chart card: an "Export" disclosure with one button per format, and the download slot."""
    buttons = [
        html.Button(FORMAT_LABELS[fmt], id=export_id(page, chart, fmt), n_clicks=0, className="export-item",
                    title=f"Download this chart as {FORMAT_LABELS[fmt]}")
        for fmt in FORMATS
    ]
    return [
        html.Details(
            [html.Summary("Export", className="export-summary"), html.Div(buttons, className="export-items")],
            className="export-menu",
            id=f"{page}-{chart}-export",
        ),
        download_slot(page, chart),
    ]


def report_button(page: str) -> html.Div:
    """'Export report (PDF)': the whole page as a multi-page PDF with the current filters."""
    return html.Div(
        [
            html.Button("Export report (PDF)", id=export_id(page, REPORT, "pdf"), n_clicks=0,
                        className="export-report"),
            download_slot(page, REPORT),
        ],
        className="page-actions",
        id=f"{page}-report-export",
    )
