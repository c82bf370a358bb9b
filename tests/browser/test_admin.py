"""The admin page in real Chromium: "Refresh all" moves through running to succeeded and the history grows;
a recruiter cannot reach /admin, neither by loading it nor by in-app navigation.

Runs against a database of the test's own (`own_db`); a lock on a table the pipeline view reads holds the job at
running until the test has seen it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from .conftest import WAIT

pytestmark = [
    pytest.mark.browser,
    # selenium 4.2 calls a urllib3 API that urllib3 2 deprecates; not ours to fix.
    pytest.mark.filterwarnings("ignore:HTTPResponse.getheader:DeprecationWarning"),
]


def status_text(driver: webdriver.Chrome) -> str:
    return driver.find_element(By.ID, "admin-status").text


def click_when_ready(driver: webdriver.Chrome, element_id: str) -> None:
    """Click a button the status poll may re-render between finding and clicking it."""

    def clicked(d: webdriver.Chrome) -> bool:
        element = d.find_element(By.ID, element_id)
        if not element.is_enabled():
            return False
        element.click()
        return True

    WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException,)).until(clicked)


def history_rows(driver: webdriver.Chrome) -> int:
    return len(driver.find_elements(By.CSS_SELECTOR, "#admin-runs-table tbody tr"))


def test_admin_refreshes_all_and_watches_it_finish(
    own_db: Any, driver: webdriver.Chrome, live_url: str, sign_in_as: Callable
) -> None:
    admin = own_db.user("admin")
    sign_in_as(admin.email, own_db.password)
    # The status poll re-renders the panel: an element found a moment ago may be gone, so look again.
    wait = WebDriverWait(driver, WAIT, ignored_exceptions=(StaleElementReferenceException,))
    wait.until(EC.element_to_be_clickable((By.LINK_TEXT, "Admin"))).click()  # in-app, from the navbar
    wait.until(EC.element_to_be_clickable((By.ID, "admin-refresh-all")))
    wait.until(lambda d: "No refresh running." in status_text(d))
    assert "scheduler not running in this process" in driver.find_element(By.ID, "admin-views").text
    before = history_rows(driver)

    with own_db.table_locked("recruiting.applications"):
        click_when_ready(driver, "admin-refresh-all")
        wait.until(lambda d: "running for" in status_text(d))
        assert not driver.find_element(By.ID, "admin-refresh-all").is_enabled()
        assert not driver.find_element(By.ID, "admin-refresh-pipeline").is_enabled()
    wait.until(lambda d: "succeeded in" in status_text(d))
    assert status_text(driver).startswith("Pipeline, Compliance, Revenue, Outreach: succeeded in")
    wait.until(lambda d: history_rows(d) >= before + 4)
    assert admin.email in driver.find_element(By.ID, "admin-runs-table").text
    wait.until(lambda d: d.find_element(By.ID, "admin-refresh-all").is_enabled())
    severe = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []


def test_recruiter_cannot_reach_admin(
    own_db: Any, driver: webdriver.Chrome, live_url: str, sign_in_as: Callable
) -> None:
    recruiter = own_db.user("recruiter")
    sign_in_as(recruiter.email, own_db.password)
    wait = WebDriverWait(driver, WAIT)
    assert not driver.find_elements(By.LINK_TEXT, "Admin")

    driver.get(f"{live_url}/admin")
    assert "not allowed" in driver.find_element(By.TAG_NAME, "body").text.lower()
    assert not driver.find_elements(By.ID, "admin-refresh-all")

    driver.get(f"{live_url}/")
    wait.until(EC.presence_of_element_located((By.ID, "overview-facility")))
    driver.execute_script("window.history.pushState({}, '', '/admin');"
                          "window.dispatchEvent(new PopStateEvent('popstate'));")
    message = wait.until(EC.visibility_of_element_located((By.ID, "not-allowed")))
    assert "not allowed" in message.text.lower()
    assert not driver.find_elements(By.ID, "admin-refresh-all")
