"""The export menu in real Chromium: a click renders on the server and the browser receives the file."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from auth.context import services_of

pytestmark = [pytest.mark.browser]
RANGE = "start=2025-07&end=2026-06"
WAIT = 30


def downloaded(folder: Path, suffix: str, timeout: float = WAIT) -> Path:
    """The first finished download ending in `suffix` (Chrome writes .crdownload until it is done)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if p.name.endswith(suffix)]
        if done and done[0].stat().st_size > 0:
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} download in {sorted(p.name for p in folder.iterdir())}")


def test_a_chart_export_and_the_report_arrive_as_files(
    driver: webdriver.Chrome, live_url: str, sign_in: Callable, download_dir: Path, app
) -> None:
    assert services_of(app.server).exporter.renderer.browser_path == "/usr/bin/chromium"  # Debian's, not a download
    sign_in("viewer")
    driver.get(f"{live_url}/pipeline?{RANGE}")
    wait = WebDriverWait(driver, WAIT)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#pipeline-by-month .main-svg")))

    driver.find_element(By.CSS_SELECTOR, "#pipeline-by-month-export summary").click()
    button = wait.until(EC.element_to_be_clickable(
        (By.XPATH, "//details[@id='pipeline-by-month-export']//button[contains(., 'PNG')]")))
    button.click()
    png = downloaded(download_dir, ".png")
    assert png.name == "pipeline_by-month_2025-07_2026-06.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    driver.find_element(By.XPATH, "//button[contains(., 'Export report (PDF)')]").click()
    pdf = downloaded(download_dir, ".pdf")
    assert pdf.name == "pipeline_report_2025-07_2026-06.pdf" and pdf.read_bytes()[:5] == b"%PDF-"
    assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
