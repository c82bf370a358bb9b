"""Pre-warming: the default selections are built once per data version, before anyone asks for them.

Every cached total, figure, table and API answer is keyed by the data versions it was built from, so each new
version (a refresh, a live batch, the next masked release slot) makes every page cold again, and the first reader
of each page paid the whole cold path (0.3-1 s at 1M applications on 2 cores, docs/PERFORMANCE.md). The defaults
(every facility, the 12 months to the last complete month; the API's 12 months to this month) are what most people
look at, so a thread in each web process watches the masked data versions (one Redis MGET every few seconds) and,
when they change, one process (a Redis SET NX claim per version) builds the default selection of every page and
dataset into the shared cache. Recruiters' defaults (their own facilities) and other selections are built on first
use as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from flask import Flask

from auth.context import services_of
from data.filters import build_filter, last_complete_month
from data.queries import DATASET_NAMES

log = logging.getLogger(__name__)
WARM_POLL_SECONDS = 2.0


def warm_defaults(server: Flask) -> float:
    """Build the masked default selection of every page and API dataset into the cache; returns the seconds taken."""
    from dashboard.api import KPI_DATASET, answer
    from pages.chart_page import page_screen, page_table, page_totals
    from pages.overview import tiles_json

    started = time.perf_counter()
    bound = services_of(server)
    if bound is None:
        return 0.0
    analytics = bound.analytics
    with server.test_request_context("/"):  # the app's services and a request memo (one MGET of the versions)
        every = tuple(sorted(int(i) for i in analytics.facilities()["id"]))
        page_filt = build_filter(every, end=last_complete_month())  # the pages' default window
        tiles_json(page_filt)
        from components.registry import PAGES

        for page in PAGES.values():
            if page.dataset is None:
                continue
            frames, figures = page_totals(page, page_filt)
            page_screen(page, page_filt, figures)
            if page.table:
                page_table(page, page_filt, frames)
        api_filt = build_filter(every)  # the API's default window
        for dataset in (*DATASET_NAMES, KPI_DATASET):
            analytics.remember(("api", dataset), api_filt, lambda d=dataset: answer(d, api_filt),
                               datasets=DATASET_NAMES if dataset == KPI_DATASET else (dataset,))
    return time.perf_counter() - started


def start_warmer(server: Flask, *, poll_seconds: float = WARM_POLL_SECONDS,
                 claim: Callable[[str], bool] | None = None, stop: threading.Event | None = None
                 ) -> threading.Thread | None:
    """Start the daemon thread that warms the defaults whenever the masked data versions change (until `stop`)."""
    bound = services_of(server)
    if bound is None:
        return None
    analytics = bound.analytics
    claim = claim or _redis_claim(bound.settings.redis_url, analytics.cache.key("warmed"))

    def run() -> None:
        last: tuple[int, ...] | None = None
        while not (stop is not None and stop.is_set()):
            try:
                versions = analytics.versions(DATASET_NAMES)
                if versions != last:
                    if claim(".".join(map(str, versions))):
                        seconds = warm_defaults(server)
                        log.info("warmed the default selections at data versions %s in %.2f s", versions, seconds)
                    last = versions
            except Exception:  # a failed warm costs a cold first request, never the process
                log.exception("warming the default selections failed")
            time.sleep(poll_seconds)

    thread = threading.Thread(target=run, name="warm-defaults", daemon=True)
    thread.start()
    return thread


def _redis_claim(redis_url: str | None, prefix: str) -> Callable[[str], bool]:
    """True for the first process to claim a version (with Redis); without Redis every process warms its own."""
    if not redis_url:
        return lambda _version: True
    import redis

    client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    return lambda version: bool(client.set(f"{prefix}:{version}", 1, nx=True, ex=3600))
