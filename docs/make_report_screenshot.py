"""Render page 1 of a page report (PDF) as docs/screenshots/report-page1.png, from demo data.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python docs/make_report_screenshot.py

Like docs/make_screenshots.py: seeds a scratch database (anchored at the current month), builds the real app,
signs in as a viewer and downloads `/export/report/<page>.pdf` for the last 12 complete months; then Debian's
Chromium opens the PDF in its own viewer (headless) and the page is cut out of the screenshot. The scratch database
is dropped at the end.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

from make_screenshots import OUT, PASSWORD, demo_app  # the sibling script: same scratch demo data and user
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from auth.context import services_of
from data.filters import add_months, last_complete_month


def report_pdf(app, email: str, page: str) -> bytes:
    client = app.server.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    end = last_complete_month()
    answer = client.get(f"/export/report/{page}.pdf?start={add_months(end, -11):%Y-%m}&end={end:%Y-%m}")
    if answer.status_code != 200:
        raise SystemExit(f"report: HTTP {answer.status_code}: {answer.get_data(as_text=True)[:300]}")
    return answer.data


def pdf_page_png(pdf: Path, target: Path, *, page: int = 1, width: int = 1100) -> None:
    """Page `page` of `pdf` as Chromium's PDF viewer draws it, cut out of the viewer's grey background."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 f"--window-size={width},{width * 13 // 10}", "--hide-scrollbars", "--force-device-scale-factor=1"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(f"file://{pdf}#toolbar=0&view=FitH&page={page}")
        for _ in range(20):  # the viewer draws the page a moment after the document loads
            time.sleep(0.5)
            driver.save_screenshot(str(target))
            if _page_box(target) is not None:
                break
    finally:
        driver.quit()
    box = _page_box(target)
    if box is None:
        raise SystemExit("the PDF viewer drew nothing")
    Image.open(target).convert("RGB").crop(box).save(target, optimize=True)


def _page_box(path: Path) -> tuple[int, int, int, int] | None:
    """The bounding box of the white page on the viewer's dark background, None while nothing is drawn."""
    grey = Image.open(path).convert("L")
    box = grey.point(lambda v: 255 if v > 200 else 0).getbbox()
    if box is None or (box[2] - box[0]) < grey.width // 2:
        return None
    return box


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--facilities", type=int, default=12)
    parser.add_argument("--page", default="pipeline")
    args = parser.parse_args()

    with demo_app(args.applications, args.facilities) as (app, email):
        try:
            content = report_pdf(app, email, args.page)
        finally:
            services_of(app.server).exporter.renderer.close()
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / "report-page1.png"
    with tempfile.TemporaryDirectory() as folder:
        pdf = Path(folder) / f"{args.page}-report.pdf"
        pdf.write_bytes(content)
        pdf_page_png(pdf, target)
    print(f"wrote {target}")

if __name__ == "__main__":
    main()
