"""The five pages in real headless Chromium, signed in through the real form, for every role.

Few and robust: explicit waits on what the user sees, no sleeps. The seeded data ends 2026-06, so every URL
names its months.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from auth.context import services_of

pytestmark = [pytest.mark.browser]

RANGE = "start=2025-07&end=2026-06"
PAGES = {
    "/": "overview-kpi-grid",
    "/pipeline": "pipeline-by-month",
    "/compliance": "compliance-by-facility",
    "/revenue": "revenue-by-month",
    "/outreach": "outreach-rates",
}
WAIT = 20


def wait_for_page(driver: webdriver.Chrome, marker: str) -> None:
    """Until the page's first chart (or tile grid) has rendered and no callback is pending."""
    wait = WebDriverWait(driver, WAIT)
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#{marker}.js-plotly-plot, #{marker} .main-svg, "
                                                                 f"#{marker} .kpi-tile")))
    wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-dash-is-loading='true']"))


def severe_errors(driver: webdriver.Chrome) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def plotted(driver: webdriver.Chrome, graph_id: str, trace: str) -> Any:
    """The y values of trace `trace` of the plotly graph inside dcc.Graph `graph_id`."""
    return driver.execute_script(
        "const g = document.querySelector(`#${arguments[0]} .js-plotly-plot`) || document.getElementById(arguments[0]);"
        "const t = (g && g.data || []).find(t => t.name === arguments[1]); return t ? t.y : null;",
        graph_id,
        trace,
    )


@pytest.mark.parametrize(("role", "facilities"), [("admin", ()), ("recruiter", (1, 2)), ("viewer", ())])
def test_every_page_loads_cleanly(
    driver: webdriver.Chrome, live_url: str, sign_in: Callable, role: str, facilities: tuple[int, ...]
) -> None:
    sign_in(role, facilities)
    for path, marker in PAGES.items():
        driver.get(f"{live_url}{path}?{RANGE}")
        wait_for_page(driver, marker)
        assert "Data as of" in driver.find_element(By.CLASS_NAME, "freshness").text
        assert driver.find_elements(By.ID, "app-signout"), f"{path}: no navbar"
        assert severe_errors(driver) == [], f"{role} {path}"
    driver.get(f"{live_url}/compliance?{RANGE}")
    wait_for_page(driver, "compliance-by-facility")
    has_table = bool(driver.find_elements(By.ID, "compliance-violations"))
    assert has_table == (role != "viewer")


def test_filter_change_updates_charts_and_url_restores_it(
    driver: webdriver.Chrome, live_url: str, sign_in: Callable, app: Any
) -> None:
    sign_in("viewer")
    driver.get(f"{live_url}/pipeline?{RANGE}")
    wait_for_page(driver, "pipeline-by-month")
    everyone = plotted(driver, "pipeline-by-month", "Applications")
    assert everyone and any(everyone)

    name = services_of(app.server).analytics.facilities().set_index("id")["name"][3]
    dropdown = driver.find_element(By.ID, "pipeline-facility")
    dropdown.click()
    search = WebDriverWait(driver, WAIT).until(
        EC.presence_of_element_located((By.CSS_SELECTOR, "input[type='search'], #pipeline-facility input"))
    )
    search.send_keys(name)
    search.send_keys(Keys.ENTER)
    search.send_keys(Keys.ESCAPE)
    wait = WebDriverWait(driver, WAIT)
    wait.until(lambda d: parse_qs(urlsplit(d.current_url).query).get("facility_id") == ["3"])
    wait.until(lambda d: plotted(d, "pipeline-by-month", "Applications") not in (None, everyone))
    one = plotted(driver, "pipeline-by-month", "Applications")
    assert sum(v or 0 for v in one) < sum(v or 0 for v in everyone)

    copied = driver.current_url
    driver.get(f"{live_url}/?{RANGE}")
    wait_for_page(driver, "overview-kpi-grid")
    driver.get(copied)
    wait_for_page(driver, "pipeline-by-month")
    wait.until(lambda d: plotted(d, "pipeline-by-month", "Applications") == one)
    assert name in driver.find_element(By.ID, "pipeline-facility").text

    driver.find_element(By.LINK_TEXT, "Revenue").click()
    wait_for_page(driver, "revenue-by-month")
    query = parse_qs(urlsplit(driver.current_url).query)
    assert query == {"facility_id": ["3"], "start": ["2025-07"], "end": ["2026-06"]}
    assert name in driver.find_element(By.ID, "revenue-facility").text
    assert severe_errors(driver) == []
