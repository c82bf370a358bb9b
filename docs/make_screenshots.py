"""Render each dashboard page as a PNG with headless Chromium from demo data, into docs/screenshots/.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python docs/make_screenshots.py

Seeds a scratch database on the DATABASE_URL server with demo data (anchored at the current month), serves the
real app on a local port with an in-process cache, signs in as a viewer (aggregates only, no PII in the
pictures) and saves one full-page PNG per page, plus the overview on a phone (`--phone-width`, 360 px, as a
phone's browser lays it out). The scratch database is dropped at the end.
"""

from __future__ import annotations

import argparse
import base64
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from dash import Dash
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from auth.users import create_user
from dashboard.app import create_app
from dashboard.settings import Settings, parse_database_url
from data.engine import dispose_all, get_engine
from data.migrations import migrate
from data.refresh import refresh_views
from data.seed import SeedConfig, seed

OUT = Path(__file__).resolve().parent / "screenshots"
PASSWORD = "screenshot horse battery"
PAGES = {
    "overview": ("/", "overview-kpi-grid"),
    "pipeline": ("/pipeline", "pipeline-by-month"),
    "compliance": ("/compliance", "compliance-by-facility"),
    "revenue": ("/revenue", "revenue-by-month"),
    "outreach": ("/outreach", "outreach-rates"),
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def browser(width: int) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},1000",
                 "--hide-scrollbars", "--force-device-scale-factor=1"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def phone(driver: webdriver.Chrome, width: int | None) -> None:
    """Lay pages out as a phone `width` CSS pixels wide would (None: back to the window)."""
    if width is None:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    else:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": True})


def shoot(driver: webdriver.Chrome, base: str, path: str, marker: str, target: Path, width: int) -> None:
    wait = WebDriverWait(driver, 30)
    driver.get(f"{base}{path}")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#{marker} .main-svg, #{marker} .kpi-tile")))
    wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-dash-is-loading='true']"))
    time.sleep(0.5)  # plotly's transitions finish after the DOM is in place
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": width, "height": size["height"], "scale": 1}
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"captureBeyondViewport": True, "clip": clip})
    target.write_bytes(base64.b64decode(shot["data"]))


@contextmanager
def demo_app(applications: int, facilities: int) -> Iterator[tuple[Dash, str]]:
    """The real app on a scratch database of demo data (24 months to this one) and a viewer's email to sign in
    with (password PASSWORD); the database is dropped at the end. DATABASE_URL names the server."""
    server_url = parse_database_url(os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
    name = f"screenshots_{uuid.uuid4().hex[:6]}"
    libpq = server_url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(libpq, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        engine = get_engine(url)
        migrate(engine)
        seed(engine, SeedConfig(applications=applications, facilities=facilities, months=24))
        refresh_views(engine, ["all"], trigger="cli")
        email = f"viewer-{uuid.uuid4().hex[:6]}@demo.example"
        create_user(engine, email, PASSWORD, "viewer")
        yield create_app(Settings(database_url=url, secret_key=uuid.uuid4().hex, session_cookie_secure=False,
                                  scheduler_enabled=False)), email
    finally:
        dispose_all()
        with psycopg.connect(libpq, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--facilities", type=int, default=12)
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--phone-width", type=int, default=360)
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    with demo_app(args.applications, args.facilities) as (app, email):
        port = free_port()
        http = make_server("127.0.0.1", port, app.server, threaded=True)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{port}"
        OUT.mkdir(parents=True, exist_ok=True)
        driver = browser(args.width)
        try:
            driver.get(f"{base}/login")
            driver.find_element(By.ID, "email").send_keys(email)
            driver.find_element(By.ID, "password").send_keys(PASSWORD)
            driver.find_element(By.ID, "login-submit").click()
            WebDriverWait(driver, 30).until(EC.presence_of_element_located((By.ID, "app-signout")))
            for page, (path, marker) in PAGES.items():
                target = OUT / f"{page}.png"
                shoot(driver, base, path, marker, target, args.width)
                print(f"wrote {target}")
            phone(driver, args.phone_width)
            target = OUT / "overview-phone.png"
            shoot(driver, base, *PAGES["overview"], target, args.phone_width)
            phone(driver, None)
            print(f"wrote {target}")
        finally:
            driver.quit()
            http.shutdown()


if __name__ == "__main__":
    main()
