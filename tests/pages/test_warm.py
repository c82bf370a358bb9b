"""pages/warm.py: the default selections are in the cache before anyone asks, once per data version."""

from __future__ import annotations

import threading
import time
from typing import Any

from auth.context import services_of
from data.queries import DATASET_NAMES
from pages.warm import start_warmer, warm_defaults


def test_warm_defaults_fills_every_page_and_api_default(app: Any) -> None:
    analytics = services_of(app.server).analytics
    analytics.data_changed(dict.fromkeys(DATASET_NAMES))  # a new version: nothing of it is cached yet
    warm_defaults(app.server)
    misses = analytics.cache.misses
    assert warm_defaults(app.server) >= 0  # the second run finds everything it builds in the cache
    assert analytics.cache.misses == misses


def test_warmer_warms_once_per_new_version(app: Any) -> None:
    analytics = services_of(app.server).analytics
    claimed: list[str] = []

    def claim(version: str) -> bool:
        claimed.append(version)
        return len(claimed) == 1  # only the first claim of this test's process wins

    stop = threading.Event()
    thread = start_warmer(app.server, poll_seconds=0.05, claim=claim, stop=stop)
    deadline = time.monotonic() + 30
    while not claimed and time.monotonic() < deadline:
        time.sleep(0.05)
    analytics.data_changed({"pipeline": None})
    while len(claimed) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    assert thread is not None
    thread.join(timeout=30)
    assert len(claimed) >= 2 and claimed[0] != claimed[1]


def test_a_default_page_load_after_warming_is_all_cache_hits(app: Any, make_user: Any, auth: Any,
                                                              client: Any) -> None:
    from data.filters import add_months, last_complete_month
    from tests.pages.conftest import DashCaller

    user, password = make_user("viewer")
    assert auth.login(user.email, password).status_code == 302
    analytics = services_of(app.server).analytics
    analytics.data_changed(dict.fromkeys(DATASET_NAMES))
    warm_defaults(app.server)
    end = last_complete_month()
    window = {"start": f"{add_months(end, -11):%Y-%m}", "end": f"{end:%Y-%m}"}
    misses = analytics.cache.misses
    call = DashCaller(app, client)
    assert call("pipeline-funnel", {"pipeline-facility": [], "pipeline-start": window["start"],
                                    "pipeline-end": window["end"]}) is not None
    assert call("overview-kpis", {"overview-facility": [], "overview-start": window["start"],
                                  "overview-end": window["end"]}) is not None
    assert client.get("/api/v1/analytics/outreach").status_code == 200
    assert analytics.cache.misses == misses
