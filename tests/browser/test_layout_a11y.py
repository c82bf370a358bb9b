"""Every page at phone, laptop and large-screen widths, for every role: nothing scrolls sideways, no tile value,
title or subtitle is cut off, chart text stays inside its chart, and axe-core finds no serious or critical
violation. Then the keyboard: every control of a page is reached with Tab and works without a mouse, and each
chart's data table opens from the keyboard.

One browser and one server for the module (tests/browser/conftest.py); a page is loaded once per role and laid out
at each width by the DevTools protocol rather than reloaded.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from .a11y import axe_violations, layout_problems, set_width, settle

pytestmark = [pytest.mark.browser]

RANGE = "start=2025-07&end=2026-06"
WIDTHS = (360, 1280, 1920)
CHART_PAGES = {
    "/": "overview-kpi-grid",
    "/pipeline": "pipeline-by-month",
    "/compliance": "compliance-by-facility",
    "/revenue": "revenue-by-month",
    "/outreach": "outreach-rates",
}
WAIT = 20


def open_page(driver: webdriver.Chrome, url: str, marker: str | None) -> None:
    driver.get(url)
    wait = WebDriverWait(driver, WAIT)
    if marker:
        wait.until(EC.presence_of_element_located(
            (By.CSS_SELECTOR, f"#{marker} .main-svg, #{marker} .kpi-tile")))
    else:
        wait.until(EC.presence_of_element_located((By.TAG_NAME, "h1")))
    settle(driver)


def chart_text_problems(driver: webdriver.Chrome) -> list[str]:
    """Each chart card: a visible title, a description for screen readers and a data table with rows."""
    return list(driver.execute_script("""
        const out = [];
        for (const card of document.querySelectorAll('.chart-card')) {
          const id = card.id.replace(/-card$/, '');
          const holder = document.getElementById(id);
          const graph = holder && holder.querySelector('.js-plotly-plot');
          if (!graph) continue;
          const title = document.getElementById(id + '-title');
          const summary = document.getElementById(id + '-summary');
          const described = card.getAttribute('aria-describedby') === id + '-summary';
          if (!title || !title.textContent.trim()) out.push(id + ': no title');
          if (!summary || summary.textContent.trim().length < 20 || !described) out.push(id + ': no description');
          const rows = card.querySelectorAll('.data-table tbody tr').length;
          const empty = graph.layout && graph.layout.meta && graph.layout.meta.empty;
          if (!rows && !empty) out.push(id + ': no data table');
        }
        return out;"""))


@pytest.mark.parametrize(("role", "facilities"), [("admin", ()), ("recruiter", (1, 2)), ("viewer", ())])
def test_pages_fit_every_width_and_are_axe_clean(
    driver: webdriver.Chrome, live_url: str, sign_in: Callable, role: str, facilities: tuple[int, ...]
) -> None:
    sign_in(role, facilities)
    pages: dict[str, str | None] = {f"{path}?{RANGE}": marker for path, marker in CHART_PAGES.items()}
    pages["/privacy"] = None
    if role == "admin":
        pages["/admin"] = None
    problems: list[str] = []
    try:
        for path, marker in pages.items():
            set_width(driver, WIDTHS[1])
            open_page(driver, f"{live_url}{path}", marker)
            problems += [f"{path}: {p}" for p in chart_text_problems(driver)]
            for width in WIDTHS:
                set_width(driver, width)
                problems += [f"{path} at {width}px: {p}" for p in layout_problems(driver)]
                # axe at every width for the admin (the most controls); once per page for the other roles.
                if role == "admin" or width == WIDTHS[1]:
                    problems += [f"{path} at {width}px: {v}" for v in axe_violations(driver)]
    finally:
        set_width(driver, None)
    assert problems == []


def focus_order(driver: webdriver.Chrome, steps: int) -> list[str]:
    """What Tab reaches, from the top of the page: each focused element's id, or its tag, text and the id of the
    nearest element around it that has one."""
    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);")
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    seen = []
    for _ in range(steps):
        seen.append(driver.execute_script(
            "const e = document.activeElement; const owner = e.closest('[id]');"
            "return e.id || (e.tagName.toLowerCase() + ':' + (e.textContent || '').trim().slice(0, 30)"
            "  + (owner ? ' in ' + owner.id : ''));"))
        driver.switch_to.active_element.send_keys(Keys.TAB)
    return seen


def test_every_control_works_from_the_keyboard(driver: webdriver.Chrome, live_url: str, sign_in: Callable) -> None:
    sign_in("recruiter", (1, 2))
    set_width(driver, 1280)
    try:
        open_page(driver, f"{live_url}/revenue?{RANGE}", "revenue-by-month")
        order = focus_order(driver, 45)
        for control in ("revenue-facility", "revenue-start", "revenue-end", "app-signout", "revenue-live-pause"):
            assert any(control in item for item in order), f"{control} not reached by Tab: {order}"
        for label in ("summary:About this chart", "summary:Export", "summary:Data table", "a:Pipeline"):
            assert any(item.startswith(label) for item in order), f"{label} not reached by Tab: {order}"

        # A month picker: Tab to it, open with Enter, pick the month below with the arrow key and Enter.
        start = driver.find_element(By.ID, "revenue-start")
        driver.execute_script("arguments[0].focus()", start)
        assert driver.switch_to.active_element == start
        start.send_keys(Keys.ENTER)
        wait = WebDriverWait(driver, WAIT)
        wait.until(lambda d: start.get_attribute("aria-expanded") == "true")
        # The open list takes the focus on the chosen month (a frame later).
        wait.until(lambda d: d.switch_to.active_element.get_attribute("value") == "2025-07")
        driver.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
        wait.until(lambda d: d.switch_to.active_element.get_attribute("value") == "2025-06")
        driver.switch_to.active_element.send_keys(Keys.ENTER)
        wait.until(lambda d: parse_qs(urlsplit(d.current_url).query).get("start") not in (None, ["2025-07"]))
        settle(driver)

        # A chart's data table opens from the keyboard and lists what the chart draws, "hidden" included.
        toggle = driver.find_element(By.CSS_SELECTOR, "#revenue-by-facility-data-toggle > summary")
        driver.execute_script("arguments[0].focus()", toggle)
        driver.switch_to.active_element.send_keys(Keys.ENTER)
        wait.until(lambda d: d.find_element(By.ID, "revenue-by-facility-data-toggle").get_attribute("open"))
        table = driver.find_element(By.CSS_SELECTOR, "#revenue-by-facility-data .data-table")
        assert table.is_displayed() and len(table.find_elements(By.CSS_SELECTOR, "tbody tr")) >= 1
        assert axe_violations(driver) == []  # the open table too

        # The live switch toggles with the space bar.
        pause = driver.find_element(By.CSS_SELECTOR, "#revenue-live-pause input[type='checkbox']")
        driver.execute_script("arguments[0].focus()", pause)
        driver.switch_to.active_element.send_keys(Keys.SPACE)
        wait.until(lambda d: "paused" in d.find_element(By.ID, "revenue-live-status").text)
    finally:
        set_width(driver, None)
