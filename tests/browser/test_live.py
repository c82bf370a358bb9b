"""Pages that update themselves, in real Chromium: a row inserted into the operational tables reaches the open page
without a click (capture trigger -> live refresh batch -> data version -> the page's poll -> its callback); with
live updates paused it does not.

Runs against a database of the test's own (`own_db`, masked data released at every change) with a live-refresh
listener of the test's own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from data.engine import psycopg_connection
from data.filters import last_complete_month
from data.listener import LiveRefresher
from data.refresh import refresh_views

from .conftest import WAIT

pytestmark = [pytest.mark.browser]
# The page polls every 5 s, the listener batches after 200 ms: a change shows well within this.
ARRIVES_WITHIN = 20


@pytest.fixture
def live(own_db: Any) -> Iterator[LiveRefresher]:
    refresher = LiveRefresher(own_db.engine, lambda batch: own_db.service.data_changed(batch.changed_facilities),
                              debounce_ms=200, sweep_ms=60_000)
    refresher.start()
    assert refresher.ready.wait(30)
    yield refresher
    refresher.stop()


def add_applications(own_db: Any, n: int) -> None:
    applied = last_complete_month().replace(day=10)
    with psycopg_connection(own_db.engine) as conn:
        conn.execute("insert into recruiting.applications (facility_id, channel, applied_at)"
                     " select 1, 'email', %s::date + interval '12 hours' from generate_series(1, %s)", (applied, n))


def applications(driver: webdriver.Chrome) -> float | None:
    """The newest month's applications as drawn (full or partial bar)."""
    values = driver.execute_script(
        "const g = document.querySelector('#pipeline-by-month .js-plotly-plot');"
        "const ts = (g && g.data || []).filter(t => t.meta && t.meta.field === 'applications'"
        " && (t.meta.role === 'value' || t.meta.role === 'partial'));"
        "if (!ts.length) return null; const n = ts[0].y.length;"
        "return ts.map(t => t.y[n - 1]).find(v => v !== null && v !== undefined) ?? null;")
    return None if values is None else float(values)


def test_an_insert_reaches_the_open_page_and_pausing_holds_the_figures(
    own_db: Any, live: LiveRefresher, driver: webdriver.Chrome, live_url: str, sign_in_as: Callable
) -> None:
    add_applications(own_db, 30)
    refresh_views(own_db.engine, ["all"], trigger="cli")
    own_db.service.data_changed({"pipeline": None})
    viewer = own_db.user("viewer")
    sign_in_as(viewer.email, own_db.password)
    driver.get(f"{live_url}/pipeline")
    wait = WebDriverWait(driver, WAIT)
    wait.until(lambda d: applications(d) == 30.0)
    assert "Live" in driver.find_element(By.ID, "pipeline-live-status").text

    add_applications(own_db, 12)
    WebDriverWait(driver, ARRIVES_WITHIN).until(lambda d: applications(d) == 42.0)
    wait.until(lambda d: "data last changed" in d.find_element(By.ID, "pipeline-live-status").text)

    driver.find_element(By.CSS_SELECTOR, "#pipeline-live-pause input").click()
    wait.until(lambda d: "paused" in d.find_element(By.ID, "pipeline-live-status").text)
    add_applications(own_db, 8)
    deadline = time.monotonic() + 12  # more than two polls
    while time.monotonic() < deadline:
        assert applications(driver) == 42.0, "a paused page keeps its figures"
        time.sleep(1)
    driver.find_element(By.CSS_SELECTOR, "#pipeline-live-pause input").click()
    WebDriverWait(driver, ARRIVES_WITHIN).until(lambda d: applications(d) == 50.0)
