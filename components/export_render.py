"""Exported charts and page reports: the stamp every export carries, print-size figures and the report PDF.

Pure functions of figures, rows and a Stamp (no data access, no browser): `dashboard/renderer.py` turns the
stamped figures into PNG/SVG/PDF bytes and `dashboard/exports.py` gathers the masked data and audits.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import plotly.graph_objects as go
from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as pdf_canvas
from reportlab.platypus import Image, KeepTogether, LongTable, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table
from reportlab.platypus import TableStyle as PdfTableStyle

from components import theme
from components.formatting import fmt_datetime, fmt_month

# Print size of a single-chart export (pixels before `scale`) and of the charts embedded in a report.
CHART_SIZE = (1600, 900)
CHART_SCALE = 2
# Report charts: drawn 800 px wide and printed 7.1 in wide, so 12 px chart text prints at about 7.7 pt; half a page
# high (2:1), or taller for many facilities as horizontal bars (up to a page).
REPORT_CHART_WIDTH = 800
REPORT_CHART_HEIGHT = 360
TALL_CHART = 440  # a figure drawn taller than this on screen (many facilities) keeps its height in a report
REPORT_CHART_MAX_HEIGHT = 1000
REPORT_CHART_SCALE = 2.5
MARGIN = 0.7 * inch
MIN_NAME_WIDTH = 1.4 * inch
CELL_PAD = 3
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


def report_figure(fig: go.Figure) -> go.Figure:
    """A copy of `fig` for a report page: no title (the report prints it once, above the chart), no stamp (the cover
    and the page footers carry it), print size from REPORT_CHART_WIDTH. A chart taller than half a page (many
    facilities as horizontal bars) keeps its own height, up to a full page."""
    out = go.Figure(fig)
    own = out.layout.height or REPORT_CHART_HEIGHT
    height = REPORT_CHART_HEIGHT if own <= TALL_CHART else int(min(own + 40, REPORT_CHART_MAX_HEIGHT))
    margin = out.layout.margin
    out.update_layout(
        width=REPORT_CHART_WIDTH,
        height=height,
        title={"text": "", "subtitle": {"text": ""}},
        margin={"t": 16, "b": (margin.b if margin.b is not None else 56) + 40, "l": max(margin.l or 56,
                _left_margin(out) - 30), "r": max(margin.r or 24, 24)},
    )
    return out


def figure_note(fig: go.Figure | dict) -> str:
    """The plain-language privacy note a figure carries under its title (without the link), '' when none."""
    layout = fig.get("layout", {}) if isinstance(fig, dict) else fig.to_plotly_json().get("layout", {})
    text = ((layout.get("title") or {}).get("subtitle") or {}).get("text") or ""
    return re.sub(r"<[^>]+>", "", text).replace("Why?", "").strip()


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
    notes: tuple[str, ...] = ()  # under the table: what "hidden", the partial mark and ranges mean


@dataclass(frozen=True)
class ReportChart:
    title: str
    png: bytes
    size: tuple[int, int]  # pixels before scale: the image keeps this aspect
    definition: str = ""
    note: str = ""  # the figure's privacy note, when it hid or left out numbers


@dataclass(frozen=True)
class Report:
    title: str
    stamp: Stamp
    kpis: Sequence[KpiTile]
    charts: Sequence[ReportChart]
    tables: Sequence[ReportTable] = ()
    footnotes: Sequence[str] = field(default_factory=tuple)
    with_channel: bool = False


def report_pdf(report: Report) -> bytes:
    """A portrait Letter report to hand to a board: a cover (title, filters, data as-of, privacy, key figures), the
    charts two to a page (a tall one takes the full width and more height), tables that fit the page width with
    their header repeated on every page, and a footer with the page number on every page after the cover."""
    buffer = io.BytesIO()
    styles = _styles()
    stamp = report.stamp
    doc = SimpleDocTemplate(
        buffer,
        pagesize=letter,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 0.15 * inch,
        title=report.title,
        author=stamp.user,
        subject=f"{stamp.months}; {stamp.scope}",
    )
    width = doc.width - 12  # the frame's own padding
    story: list = _cover(report, width, styles)
    if report.charts:
        story.append(PageBreak())
        for chart in report.charts:
            story.append(_chart_block(chart, width, doc.height, styles))
    for table in report.tables:
        story += [PageBreak(), Paragraph(_esc(table.title), styles["H2"]), _long_table(table, width, styles)]
        story += [Spacer(1, 6), *[Paragraph(_esc(note), styles["Note"]) for note in table.notes]]
    footer = f"{report.title} · {stamp.months} · {stamp.scope}"
    doc.build(story, canvasmaker=lambda *a, **k: _NumberedCanvas(*a, footer=footer, **k))
    return buffer.getvalue()


def _cover(report: Report, width: float, styles: dict[str, ParagraphStyle]) -> list:
    stamp = report.stamp
    facilities = ("All facilities in scope" if stamp.all_in_scope else ", ".join(stamp.facility_names)) \
        + f" ({len(stamp.facility_names)})"
    rows = [
        ("Facilities", facilities),
        ("Months", stamp.months),
        *([("Channel", stamp.channel_text)] if report.with_channel or stamp.channel else []),
        ("Data as of", fmt_datetime(stamp.as_of) + (f" (data version: {stamp.version})" if stamp.version else "")),
        ("Prepared", f"{fmt_datetime(stamp.at)} by {stamp.user}"),
    ]
    filters = Table([[Paragraph(f"<b>{_esc(k)}</b>", styles["Meta"]), Paragraph(_esc(v), styles["Meta"])]
                     for k, v in rows], colWidths=[1.3 * inch, width - 1.3 * inch])
    filters.setStyle(PdfTableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -2), 0.25, colors.lightgrey),
        ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
    ]))
    story: list = [
        Spacer(1, 0.5 * inch),
        Paragraph("Recruitment analytics", styles["Kicker"]),
        Paragraph(_esc(report.title), styles["Title"]),
        Paragraph(_esc(f"{_long_month(stamp.start)} to {_long_month(stamp.end)}"), styles["Subtitle"]),
        Spacer(1, 14),
        filters,
        Spacer(1, 14),
    ]
    if report.footnotes:
        heading = "Privacy" if stamp.masked else "Unprotected figures"
        box = Table([[[Paragraph(f"<b>{heading}</b>", styles["Meta"]),
                       *[Paragraph(_esc(n), styles["Meta"]) for n in report.footnotes]]]], colWidths=[width])
        box.setStyle(PdfTableStyle([
            ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#F5F7FA")),
            ("BOX", (0, 0), (-1, -1), 0.5, colors.HexColor("#CBD2D9")),
            ("TOPPADDING", (0, 0), (-1, -1), 8), ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ("LEFTPADDING", (0, 0), (-1, -1), 10), ("RIGHTPADDING", (0, 0), (-1, -1), 10),
        ]))
        story += [box, Spacer(1, 16)]
    if report.kpis:
        story += [Paragraph("Key figures", styles["H2"]), _kpi_grid(report.kpis, width, styles)]
    return story


def _chart_block(chart: ReportChart, width: float, frame_height: float, styles: dict[str, ParagraphStyle]
                 ) -> KeepTogether:
    """The chart's title (once), its definition, the image at full width and its privacy note, kept together.

    The image is scaled to the page width; a tall chart is limited to what is left of a page under its heading."""
    px_w, px_h = chart.size
    img_w, img_h = width, width * px_h / px_w
    limit = frame_height - 1.1 * inch
    if img_h > limit:
        img_w, img_h = img_w * limit / img_h, limit
    parts: list = [Paragraph(_esc(chart.title), styles["H2"])]
    if chart.definition:
        parts.append(Paragraph(_esc(chart.definition), styles["Definition"]))
    parts.append(Image(io.BytesIO(chart.png), width=img_w, height=img_h))
    if chart.note:
        parts.append(Paragraph(_esc(chart.note), styles["Note"]))
    parts.append(Spacer(1, 10))
    return KeepTogether(parts)


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    grey = colors.HexColor(theme.MUTED_COLOR)
    return {
        "Kicker": ParagraphStyle("RKicker", parent=base["Normal"], fontSize=10, leading=13, textColor=grey),
        "Title": ParagraphStyle("RTitle", parent=base["Title"], alignment=0, fontSize=26, leading=31, spaceAfter=4),
        "Subtitle": ParagraphStyle("RSubtitle", parent=base["Normal"], fontSize=14, leading=18, textColor=grey),
        "H2": ParagraphStyle("RH2", parent=base["Heading2"], fontSize=13, leading=16, spaceBefore=2, spaceAfter=3),
        "Definition": ParagraphStyle("RDef", parent=base["Normal"], fontSize=8.5, leading=11, textColor=grey,
                                     spaceAfter=4),
        "Meta": ParagraphStyle("RMeta", parent=base["Normal"], fontSize=9.5, leading=13),
        "Cell": ParagraphStyle("RCell", parent=base["Normal"], fontSize=7.5, leading=9),
        "Tile": ParagraphStyle("RTile", parent=base["Normal"], fontSize=8.5, leading=11, textColor=grey),
        "Value": ParagraphStyle("RValue", parent=base["Normal"], fontSize=15, leading=19),
        "Note": ParagraphStyle("RNote", parent=base["Normal"], fontSize=8.5, leading=11, textColor=grey),
    }


def _kpi_grid(tiles: Sequence[KpiTile], width: float, styles: dict[str, ParagraphStyle]) -> Table:
    per_row = 3
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
    """A table as wide as the page, continued over pages with its header row repeated.

    Each value column is as wide as its widest value (and its header's longest word), so numbers never wrap; the
    first (names) column takes the rest, at least MIN_NAME_WIDTH; when that does not fit, the font gets smaller, and
    at the smallest the value columns share what is left."""
    for size in (8.0, 7.5, 7.0, 6.5):
        cell = ParagraphStyle(f"RCell{size}", parent=styles["Cell"], fontSize=size, leading=size + 2)
        widths = _value_widths(table, size)
        if width - sum(widths) >= MIN_NAME_WIDTH:
            break
    name_width = max(MIN_NAME_WIDTH, width - sum(widths))
    if name_width + sum(widths) > width:
        shrink = (width - name_width) / sum(widths)
        widths = [w * shrink for w in widths]
    right = ParagraphStyle(f"{cell.name}R", parent=cell, alignment=2)
    styles_of = [right if numeric else cell for numeric in table.numeric]
    data = [[Paragraph(f"<b>{_esc(h)}</b>", styles_of[i]) for i, h in enumerate(table.headers)]]
    data += [[Paragraph(_esc(v), styles_of[i]) for i, v in enumerate(row)] for row in table.rows]
    long_table = LongTable(data, colWidths=[name_width, *widths], repeatRows=1, hAlign="LEFT")
    commands = [
        ("GRID", (0, 0), (-1, -1), 0.25, colors.lightgrey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#EEF2F6")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F8FAFC")]),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PAD),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PAD),
    ]
    commands += [("ALIGN", (i, 0), (i, -1), "RIGHT") for i, numeric in enumerate(table.numeric) if numeric]
    long_table.setStyle(PdfTableStyle(commands))
    return long_table


def _value_widths(table: ReportTable, size: float) -> list[float]:
    """The width each value column needs at font `size`: its widest value, or its header's longest word."""
    out = []
    for i in range(1, len(table.headers)):
        values = max((stringWidth(row[i], "Helvetica", size) for row in table.rows), default=0.0)
        header = max(stringWidth(word, "Helvetica-Bold", size) for word in table.headers[i].split())
        out.append(max(values, header) + 2 * CELL_PAD + 1)
    return out


class _NumberedCanvas(pdf_canvas.Canvas):
    """Draws 'Page n of N' and a one-line stamp (shortened to fit) on every page once the page count is known."""

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
            number = f"Page {self._pageNumber} of {total}"
            room = width - 2 * MARGIN - stringWidth(number, "Helvetica", 8) - 24
            footer = self._footer
            while footer and stringWidth(footer, "Helvetica", 8) > room:
                footer = footer[:-2].rstrip() + "…"
            self.drawString(MARGIN, 0.45 * inch, footer)
            self.drawRightString(width - MARGIN, 0.45 * inch, number)
            super().showPage()
        super().save()


def _long_month(month: date) -> str:
    return f"{month:%B %Y}"


def _esc(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
