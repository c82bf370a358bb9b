"""Real Chromium: sign in through the form, then the overview's facility dropdown offers only the recruiter's.

dash_duo is not used: its page-load wait expects Dash's React root, which the sign-in page (plain Flask) does not
have. A werkzeug server thread serves the session's one app instead.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from auth.context import services_of
from data.queries import facilities

pytestmark = [
    pytest.mark.browser,
    # selenium 4.2 calls a urllib3 API that urllib3 2 deprecates; not ours to fix.
    pytest.mark.filterwarnings("ignore:HTTPResponse.getheader:DeprecationWarning"),
]


@pytest.fixture(scope="module")
def live_url(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser(chromium_available: None) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()


def sign_in(browser: WebDriver, email: str, password: str) -> None:
    browser.find_element(By.ID, "email").clear()
    browser.find_element(By.ID, "email").send_keys(email)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "login-submit").click()


def test_recruiter_signs_in_and_sees_only_their_facilities(app, live_url: str, browser: WebDriver, make_user) -> None:
    user, password = make_user("recruiter", facilities=(3, 7))
    wait = WebDriverWait(browser, 15)

    browser.get(live_url + "/")
    assert browser.current_url == live_url + "/login?next=%2F"

    sign_in(browser, user.email, "not the password")
    error = wait.until(EC.visibility_of_element_located((By.ID, "login-error")))
    assert error.text == "Email or password is incorrect."

    sign_in(browser, user.email, password)
    dropdown = wait.until(EC.element_to_be_clickable((By.ID, "overview-facility")))
    assert browser.current_url.split("?")[0] == live_url + "/"
    dropdown.click()
    options = wait.until(EC.presence_of_all_elements_located((By.CSS_SELECTOR, ".dash-dropdown-content [role=option]")))
    values = sorted(int(o.find_element(By.CSS_SELECTOR, "input").get_attribute("value")) for o in options)
    names = facilities(services_of(app.server).engine).set_index("id")["name"]
    assert values == [3, 7]
    assert sorted(o.text for o in options) == sorted(names[[3, 7]])

    console = [entry["message"] for entry in browser.get_log("browser")]
    assert not [m for m in console if "Content Security Policy" in m], console

    browser.find_element(By.ID, "app-signout").click()  # the navbar's form POST with the CSRF token
    wait.until(EC.url_contains("/login"))
    assert browser.current_url == live_url + "/login"
    browser.get(live_url + "/")
    assert browser.current_url == live_url + "/login?next=%2F"
