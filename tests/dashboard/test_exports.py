"""Chart snapshots and page reports through the real app: real Chromium (kaleido), real PostgreSQL, real sign-in.

One warm renderer serves the whole session (it is the app's own, pointed at /usr/bin/chromium).
"""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET

import pytest
from PIL import Image
from pypdf import PdfReader

from auth.context import services_of
from components.registry import PAGES
from dashboard.renderer import ChartRenderer
from data.engine import psycopg_connection

pytestmark = pytest.mark.browser
RANGE = "start=2025-05&end=2026-06"
SMALL = "facility_id=9"  # a tiny clinic: suppressed months in the test data
NOTE = "Numbers below 5 hidden to protect privacy"
PRIVACY = "Numbers below 5 are hidden to protect privacy; totals leave them out."


@pytest.fixture(scope="session")
def renderer(app, chromium_available: None) -> ChartRenderer:
    """The app's renderer, on Debian's Chromium, kept warm for every test of the session."""
    current = services_of(app.server).exporter.renderer
    if current.browser_path != "/usr/bin/chromium":
        current = ChartRenderer("/usr/bin/chromium")
        services_of(app.server).exporter.renderer = current
    return current


@pytest.fixture
def viewer(client, auth, make_user, renderer):
    user, password = make_user("viewer")
    auth.login(user.email, password)
    client.email = user.email
    return client


def fetch(client, path: str, status: int = 200, mimetype: str | None = None):
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    if mimetype:
        assert response.mimetype == mimetype
        assert "attachment; filename=" in response.headers["Content-Disposition"]
    return response


def last_exports(app, n: int = 1) -> list[tuple]:
    with psycopg_connection(services_of(app.server).engine) as conn:
        return conn.execute("select user_id, target, details from app.audit_log where action = 'export'"
                            " order by id desc limit %s", (n,)).fetchall()


def facility_name(app, fid: int) -> str:
    return services_of(app.server).analytics.facilities().set_index("id")["name"][fid]


def test_png_is_a_print_size_image_with_a_footer(app, viewer):
    response = fetch(viewer, f"/export/chart/pipeline/by-month.png?{SMALL}&{RANGE}", mimetype="image/png")
    image = Image.open(io.BytesIO(response.data))
    image.verify()
    image = Image.open(io.BytesIO(response.data)).convert("L")
    assert image.size == (3200, 1800)
    footer = image.crop((0, 1800 - 120, 3200, 1800 - 10))
    assert footer.getextrema()[0] < 128, "the stamp is drawn in the bottom strip"
    _, target, details = last_exports(app)[0]
    assert target == "chart/pipeline/by-month.png"
    assert details["facility_ids"] == [9] and details["suppressed_cells"] > 0


def test_svg_stamp_shows_filters_scope_suppression_who(app, viewer):
    response = fetch(viewer, f"/export/chart/pipeline/by-month.svg?{SMALL}&{RANGE}", mimetype="image/svg+xml")
    root = ET.fromstring(response.data)
    text = " ".join("".join(node.itertext()) for node in root.iter() if node.tag.endswith("text"))
    assert "Applications and hires by month" in text
    assert "Months 2025-05 to 2026-06" in text and "Channel: all channels" in text
    assert f"Facilities: {facility_name(app, 9)}" in text
    assert NOTE in text and viewer.email in text and "Data as of" in text


def test_chart_pdf_carries_the_stamp(viewer):
    response = fetch(viewer, f"/export/chart/outreach/rates.pdf?channel=sms&{RANGE}", mimetype="application/pdf")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Response and conversion by channel" in text
    assert "Channel: SMS" in text and "all 9 facilities in scope" in text and NOTE in text


@pytest.mark.parametrize("page", ["overview", "pipeline", "compliance", "revenue", "outreach"])
def test_report_pdf_has_everything_and_paginates(app, viewer, page):
    response = fetch(viewer, f"/export/report/{page}.pdf?{RANGE}", mimetype="application/pdf")
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages]
    first = pages[0]
    assert f"{page.title()} report" in first and "Prepared" in first and viewer.email in first
    assert "Data as of" in first and "2025-05 to 2026-06" in first and "May 2025 to June 2026" in first
    assert "All facilities in scope (9)" in first and PRIVACY in first
    assert "Applications" in first and "Compliance rate" in first  # KPI tiles
    for number, body in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in body
    if page != "overview":
        assert 4 <= len(pages) <= 8  # cover, three charts two to a page, the table
        assert any("By facility" in p for p in pages[3:])
    _, target, details = last_exports(app)[0]
    assert target == f"report/{page}.pdf" and details["suppressed_cells"] > 0


@pytest.mark.parametrize("page", ["pipeline", "compliance", "revenue", "outreach"])
def test_report_pdf_is_laid_out_for_a_board(app, viewer, page):
    """Each chart title once (the image carries none), two charts to a page after a cover that names the
    facilities, months and data as-of; the figures' privacy note under each chart that hid numbers."""
    response = fetch(viewer, f"/export/report/{page}.pdf?facility_id=8&facility_id=9&{RANGE}")
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages]
    text = "\n".join(pages)
    cover = pages[0]
    assert "Facilities" in cover and facility_name(app, 8) in cover and facility_name(app, 9) in cover
    assert "Months" in cover and "Data as of" in cover and "Privacy" in cover and "Key figures" in cover
    spec = PAGES[page]
    for chart in spec.charts:
        assert text.count(chart.title) == 1, chart.title
    assert chart_page(pages, spec.charts[0].title) == chart_page(pages, spec.charts[1].title) == 1
    assert chart_page(pages, spec.charts[2].title) == 2
    assert PRIVACY in pages[1]  # the figures' own note, under the charts
    assert len(pages) <= 6


def test_compliance_report_table_marks_partial_values_and_shows_ranges(app, viewer):
    response = fetch(viewer, f"/export/report/compliance.pdf?{RANGE}")
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages]
    start = next(i for i, body in enumerate(pages) if "By facility" in body)
    table = " ".join(" ".join(body.split()) for body in pages[start:])
    names = services_of(app.server).analytics.facilities()["name"]
    assert any(f"{name} *" in table for name in names), "a row that left numbers out carries the partial mark"
    assert "* Partial: the row's totals (or the value marked) leave out months with hidden numbers" in table
    assert re.search(r"\d+(\.\d+)?% to \d+(\.\d+)?%", table), "a rate known only as a range shows the range"
    assert '"hidden": Hidden to protect privacy: fewer than 5.' in table


def test_csv_names_each_column_once_and_rounds_rates(viewer):
    body = fetch(viewer, f"/api/v1/export/pipeline.csv?{RANGE}", mimetype="text/csv").get_data(as_text=True)
    header = body.splitlines()[0].split(",")
    assert header.count("facility_id") == 1 and len(header) == len(set(header))
    rows = list(csv.DictReader(io.StringIO(body)))
    rates = [row["conversion_rate"] for row in rows if row["conversion_rate"] not in ("", "suppressed")]
    assert rates and all(len(rate.split(".")[1]) <= 4 for rate in rates if "." in rate)


def chart_page(pages: list[str], title: str) -> int:
    return next(i for i, body in enumerate(pages) if title in body)


def test_report_tiles_show_the_change_against_the_previous_period(viewer):
    # Six months against the six before them (the test data starts in 2025-05).
    response = fetch(viewer, "/export/report/overview.pdf?start=2026-01&end=2026-06", mimetype="application/pdf")
    first = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert first.count("vs previous period") == 7
    # A change is compared only between values shown as one value each; the small test data leaves several
    # figures as ranges, and those say n/a.
    assert first.count("n/a vs previous period") < 7
    assert "pp vs previous period" in first or "%" in first


def test_long_tables_repeat_their_header_on_every_page(viewer):
    response = fetch(viewer, f"/export/report/outreach.pdf?{RANGE}")  # 9 facilities x 5 channels
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages]
    table_pages = [p for p in pages if "Response rate" in p and "Conversions" in p]
    assert len(table_pages) >= 2, "45 rows do not fit one landscape page"
    for body in table_pages:
        words = " ".join(body.split())  # a header may wrap between words
        assert "Facility" in words and "Messages sent" in words


def test_the_ui_csv_equals_the_api_csv_and_never_shows_a_small_count(app, viewer):
    api = fetch(viewer, f"/api/v1/export/outreach.csv?{RANGE}", mimetype="text/csv").get_data(as_text=True)
    from auth.context import services_of

    with app.server.test_request_context():
        # the exporter the menus call, with the viewer's own selection
        from flask_login import login_user

        from auth.selection import Intent, RawFilters, authorize
        from auth.users import get_user_by_email
        login_user(get_user_by_email(services_of(app.server).engine, viewer.email))
        selection = authorize(RawFilters((), "2025-05", "2026-06"), intent=Intent.EXPORT, target="outreach")
        file = services_of(app.server).exporter.export(selection, "outreach", "rates", "csv")
    assert file.content.decode() == api
    counts = {"sent", "responded", "converted"}
    for row in csv.DictReader(io.StringIO(api)):
        for field in counts:
            assert row[field] == "suppressed" or row[field] == "" or not 0 < int(row[field]) < 5


def test_a_recruiter_cannot_export_another_facility(app, client, auth, make_user, renderer):
    user, password = make_user("recruiter", (1, 2))
    auth.login(user.email, password)
    before = last_exports(app, 1)
    for path in (f"/export/chart/pipeline/funnel.png?facility_id=5&{RANGE}",
                 f"/export/report/pipeline.pdf?facility_id=5&{RANGE}",
                 f"/api/v1/export/pipeline.csv?facility_id=5&{RANGE}"):
        fetch(client, path, 403)
    assert last_exports(app, 1) == before
    fetch(client, f"/export/chart/pipeline/funnel.svg?{RANGE}", mimetype="image/svg+xml")
    user_id, _, details = last_exports(app)[0]
    assert user_id == user.id and details["facility_ids"] == [1, 2]


@pytest.mark.parametrize(("path", "status"), [
    ("/export/chart/nowhere/funnel.png", 404),
    ("/export/chart/pipeline/nothing.png", 404),
    ("/export/chart/pipeline/funnel.gif", 404),
    ("/export/report/admin.pdf", 404),
    ("/export/chart/pipeline/funnel.png?start=2026-13", 400),
    ("/export/chart/pipeline/funnel.png?channel=sms", 400),
    ("/export/report/pipeline.pdf?bogus=1", 400),
    ("/export/report/pipeline.pdf?facility_id=999", 404),
])
def test_bad_requests_are_refused_like_the_api(viewer, path, status):
    body = fetch(viewer, path, status).get_json()
    assert body and body["error"]


def test_anonymous_callers_get_401(client):
    assert client.get(f"/export/report/pipeline.pdf?{RANGE}").status_code == 401


def test_without_a_browser_images_answer_503_and_csv_still_works(app, viewer, monkeypatch):
    monkeypatch.setattr(services_of(app.server).exporter, "renderer", ChartRenderer("/nonexistent/chromium"))
    before = last_exports(app, 1)
    for path in ("/export/chart/revenue/by-month.png", "/export/report/revenue.pdf"):
        body = fetch(viewer, f"{path}?{RANGE}", 503).get_json()
        assert "browser" in body["error"] and "CSV exports still work" in body["error"]
    assert last_exports(app, 1) == before
    fetch(viewer, f"/api/v1/export/revenue.csv?{RANGE}", mimetype="text/csv")
