"""Browser fixtures: the session app on a live local server, one headless Chromium per module, sign-in."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

WAIT = 20


@pytest.fixture(scope="module")
def live_url(app: Any) -> Iterator[str]:
    """The session app served by a threaded werkzeug server on a free local port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = make_server("127.0.0.1", port, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def download_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the module's browser saves downloads."""
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def driver(chromium_available: None, download_dir: Path) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option("prefs", {
        "download.default_directory": str(download_dir),
        "download.prompt_for_download": False,
        "download.directory_upgrade": True,
        "safebrowsing.enabled": False,
    })
    browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    yield browser
    browser.quit()


@pytest.fixture
def sign_in_as(driver: webdriver.Chrome, live_url: str) -> Callable[[str, str], None]:
    """Sign in with an existing account through the form (clearing any earlier session first)."""

    def login(email: str, password: str) -> None:
        driver.delete_all_cookies()
        driver.get(f"{live_url}/login")
        driver.find_element(By.ID, "email").send_keys(email)
        driver.find_element(By.ID, "password").send_keys(password)
        driver.find_element(By.ID, "login-submit").click()
        WebDriverWait(driver, WAIT).until(EC.url_matches(rf"^{live_url}/(\?.*)?$"))
        driver.get_log("browser")  # start each test with an empty console

    return login


@pytest.fixture
def sign_in(sign_in_as: Callable[[str, str], None], make_user: Callable) -> Callable[..., None]:
    """Sign in as a fresh user of `role` through the form."""

    def login(role: str, facilities: tuple[int, ...] = ()) -> None:
        user, password = make_user(role, facilities)
        sign_in_as(user.email, password)

    return login
