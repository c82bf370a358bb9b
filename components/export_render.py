"""Exported charts and page reports: the stamp every export carries, print-size figures and the report PDF.

Pure functions of figures, rows and a Stamp (no data access, no browser): `dashboard/renderer.py` turns the
stamped figures into PNG/SVG/PDF bytes and `dashboard/exports.py` gathers the masked data and audits.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import plotly.graph_objects as go
from reportlab.lib import colors
from reportlab.lib.pagesizes import landscape, letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfgen import canvas as pdf_canvas
from reportlab.platypus import Image, KeepTogether, LongTable, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table
from reportlab.platypus import TableStyle as PdfTableStyle

from components import theme
from components.formatting import fmt_datetime, fmt_month

# Print size of a single-chart export (pixels before `scale`) and of the charts embedded in a report.
CHART_SIZE = (1600, 900)
CHART_SCALE = 2
REPORT_CHART_SIZE = (1400, 700)
REPORT_CHART_SCALE = 1.5
FOOTER_PX = 64  # room under the legend for the two stamp lines
MAX_NAMES = 4
MIME = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf", "csv": "text/csv"}


class RendererUnavailable(RuntimeError):
    """The headless browser behind static chart export cannot be started; the message is safe to show."""


@dataclass(frozen=True)
class Stamp:
    """What an exported chart or report says about itself: data, filters, scope, suppression, who and when."""

    as_of: datetime | None
    start: date
    end: date
    channel: str | None
    facility_names: tuple[str, ...]
    all_in_scope: bool
    threshold: int
    suppressed_cells: int
    user: str
    at: datetime
    masked: bool = True
    version: str = ""  # the data version of each dataset shown ("pipeline 12"), so two exports can be compared

    @property
    def months(self) -> str:
        return f"{fmt_month(self.start)} to {fmt_month(self.end)}"

    @property
    def channel_text(self) -> str:
        return theme.channel_label(self.channel) if self.channel else "all channels"

    @property
    def scope(self) -> str:
        count = len(self.facility_names)
        if self.all_in_scope:
            return f"all {count} facilit{'y' if count == 1 else 'ies'} in scope"
        names = list(self.facility_names[:MAX_NAMES])
        if count > MAX_NAMES:
            names.append(f"and {count - MAX_NAMES} more")
        return ", ".join(names)

    @property
    def suppression(self) -> str:
        if not self.masked:
            return "UNSUPPRESSED figures (admin request, audited)"
        hidden = f"{self.suppressed_cells} number{'' if self.suppressed_cells == 1 else 's'}"
        return f"Numbers below {self.threshold} hidden to protect privacy ({hidden} in this selection)"

    def lines(self) -> list[str]:
        """The two footer lines."""
        return [
            f"Data as of {fmt_datetime(self.as_of)}{f' (version {self.version})' if self.version else ''} · "
            f"Months {self.months} · Channel: {self.channel_text} · Facilities: {self.scope}",
            f"{self.suppression} · Exported by {self.user} on {fmt_datetime(self.at)}",
        ]


def stamp_figure(fig: go.Figure, title: str, stamp: Stamp, *, size: tuple[int, int] = CHART_SIZE) -> go.Figure:
    """A copy of `fig` at print size with its title and the stamp in a footer under the legend.

    The x axes may not grow the bottom margin (automargin), so the footer sits at a fixed distance from the bottom.
    """
    width, height = size
    out = go.Figure(fig)
    margin = out.layout.margin
    bottom = (margin.b if margin.b is not None else 56) + 70 + FOOTER_PX
    left = max(margin.l or 56, _left_margin(out))
    out.update_layout(
        width=width,
        height=height,
        title={"text": out.layout.title.text or title},
        margin={"b": bottom, "t": max(margin.t or 72, 84), "l": left, "r": max(margin.r or 24, 32)},
        legend={"yref": "container", "y": FOOTER_PX / height, "yanchor": "bottom"},
    )
    out.update_xaxes(automargin="left+right")
    out.add_annotation(
        text="<br>".join(stamp.lines()),
        xref="paper",
        yref="paper",
        x=0,
        y=0,
        xanchor="left",
        yanchor="bottom",
        xshift=-left + 12,
        yshift=-bottom + 8,
        showarrow=False,
        align="left",
        font={"size": 12, "color": theme.MUTED_COLOR},
    )
    return out


def _left_margin(fig: go.Figure) -> int:
    """A left margin wide enough for the y tick labels, so automargin never moves the footer's left edge."""
    labels = [str(v) for trace in fig.data if getattr(trace, "orientation", None) == "h" or trace.type == "heatmap"
              for v in (trace.y if trace.y is not None else ())]
    return max(110, 7 * max((len(v) for v in labels), default=0) + 40)


@dataclass(frozen=True)
class KpiTile:
    label: str
    value: str
    note: str | None = None


@dataclass(frozen=True)
class ReportTable:
    title: str
    headers: tuple[str, ...]
    rows: list[list[str]]
    numeric: tuple[bool, ...]


@dataclass(frozen=True)
class Report:
    title: str
    stamp: Stamp
    kpis: Sequence[KpiTile]
    charts: Sequence[tuple[str, bytes]]  # (title, PNG)
    tables: Sequence[ReportTable] = ()
    footnotes: Sequence[str] = field(default_factory=tuple)


def report_pdf(report: Report) -> bytes:
    """A landscape Letter PDF: header, KPI tiles, one chart per page, paginated tables, footnotes, page numbers."""
    buffer = io.BytesIO()
    styles = _styles()
    stamp = report.stamp
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(letter),
        leftMargin=0.6 * inch,
        rightMargin=0.6 * inch,
        topMargin=0.6 * inch,
        bottomMargin=0.7 * inch,
        title=report.title,
        author=stamp.user,
        subject=f"{stamp.months}; {stamp.scope}",
    )
    width = doc.width
    story: list = [
        Paragraph(report.title, styles["Title"]),
        Paragraph(f"Generated {fmt_datetime(stamp.at)} by {_esc(stamp.user)}", styles["Meta"]),
        Paragraph(f"Data as of {fmt_datetime(stamp.as_of)}", styles["Meta"]),
        Paragraph(f"Filters: months {stamp.months}; channel: {_esc(stamp.channel_text)}", styles["Meta"]),
        Paragraph(f"Facility scope: {_esc(stamp.scope)}", styles["Meta"]),
        Paragraph(f"Suppression: {_esc(stamp.suppression)}", styles["Meta"]),
        Spacer(1, 10),
    ]
    if report.kpis:
        story += [Paragraph("Key figures", styles["H2"]), _kpi_grid(report.kpis, width, styles), Spacer(1, 8)]
    for title, png in report.charts:
        image = Image(io.BytesIO(png), width=width, height=width * REPORT_CHART_SIZE[1] / REPORT_CHART_SIZE[0])
        story += [PageBreak(), KeepTogether([Paragraph(_esc(title), styles["H2"]), image])]
    for table in report.tables:
        story += [PageBreak(), Paragraph(_esc(table.title), styles["H2"]), _long_table(table, width, styles)]
    story += [Spacer(1, 12), *[Paragraph(_esc(note), styles["Note"]) for note in report.footnotes]]
    footer = f"{report.title} · {stamp.months} · {stamp.suppression}"
    doc.build(story, canvasmaker=lambda *a, **k: _NumberedCanvas(*a, footer=footer, **k))
    return buffer.getvalue()


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "Title": ParagraphStyle("RTitle", parent=base["Title"], alignment=0, fontSize=20, spaceAfter=6),
        "H2": ParagraphStyle("RH2", parent=base["Heading2"], fontSize=13, spaceBefore=4, spaceAfter=6),
        "Meta": ParagraphStyle("RMeta", parent=base["Normal"], fontSize=9.5, leading=13),
        "Cell": ParagraphStyle("RCell", parent=base["Normal"], fontSize=7.5, leading=9),
        "Tile": ParagraphStyle("RTile", parent=base["Normal"], fontSize=9, leading=11, textColor=colors.grey),
        "Value": ParagraphStyle("RValue", parent=base["Normal"], fontSize=15, leading=18),
        "Note": ParagraphStyle("RNote", parent=base["Normal"], fontSize=8.5, leading=11, textColor=colors.grey),
    }


def _kpi_grid(tiles: Sequence[KpiTile], width: float, styles: dict[str, ParagraphStyle]) -> Table:
    per_row = 4
    cells = [
        [Paragraph(_esc(t.label), styles["Tile"]), Paragraph(_esc(t.value), styles["Value"])]
        + ([Paragraph(_esc(t.note), styles["Tile"])] if t.note else [])
        for t in tiles
    ]
    rows = [cells[i : i + per_row] for i in range(0, len(cells), per_row)]
    rows[-1] += [""] * (per_row - len(rows[-1]))
    table = Table(rows, colWidths=[width / per_row] * per_row)
    table.setStyle(PdfTableStyle([
        ("BOX", (0, 0), (-1, -1), 0.5, colors.lightgrey),
        ("INNERGRID", (0, 0), (-1, -1), 0.5, colors.lightgrey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 6),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
    ]))
    return table


def _long_table(table: ReportTable, width: float, styles: dict[str, ParagraphStyle]) -> LongTable:
    """A table that continues over pages with its header row repeated."""
    first = min(width * 0.24, 170.0)
    rest = (width - first) / max(1, len(table.headers) - 1)
    data = [[Paragraph(f"<b>{_esc(h)}</b>", styles["Cell"]) for h in table.headers]]
    data += [[Paragraph(_esc(v), styles["Cell"]) for v in row] for row in table.rows]
    long_table = LongTable(data, colWidths=[first] + [rest] * (len(table.headers) - 1), repeatRows=1)
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.25, colors.lightgrey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEF2F6")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F8FAFC")]),
    ]
    commands += [("ALIGN", (i, 0), (i, -1), "RIGHT") for i, numeric in enumerate(table.numeric) if numeric]
    long_table.setStyle(PdfTableStyle(commands))
    return long_table


class _NumberedCanvas(pdf_canvas.Canvas):
    """Draws 'Page n of N' and a one-line stamp on every page once the page count is known."""

    def __init__(self, *args, footer: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict] = []

    def showPage(self) -> None:  # reportlab calls it by this name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            width, _ = self._pagesize
            self.setFont("Helvetica", 8)
            self.setFillColor(colors.grey)
            self.drawString(0.6 * inch, 0.4 * inch, self._footer[:160])
            self.drawRightString(width - 0.6 * inch, 0.4 * inch, f"Page {self._pageNumber} of {total}")
            super().showPage()
        super().save()


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
