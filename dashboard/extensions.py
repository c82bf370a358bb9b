"""Extensions created unbound and attached to the server in the factory (no app object at import time)."""

from __future__ import annotations

import atexit
import logging

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask, current_app
from flask_caching import Cache

from dashboard.scheduler import build_scheduler, start_live_refresh
from dashboard.settings import Settings
from data.cache import DatasetCache, database_namespace, generation_counter
from data.engine import get_engine
from data.jobs import RefreshJobs
from data.masking import MaskPolicy
from data.service import AnalyticsService

log = logging.getLogger(__name__)
ANALYTICS_KEY = "recruit.analytics"
JOBS_KEY = "recruit.jobs"
SCHEDULER_KEY = "recruit.scheduler"
LIVE_KEY = "recruit.live"


def init_analytics(server: Flask, settings: Settings) -> AnalyticsService:
    """Bind Flask-Caching (Redis when REDIS_URL is set, else in-process) and the analytics service to `server`."""
    if settings.redis_url:
        config = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": settings.redis_url}
    else:
        log.warning("REDIS_URL is not set: using an in-process cache; processes will not share cached data "
                    "or see each other's refreshes before the cache TTL (%s s)", settings.analytics_cache_ttl)
        config = {"CACHE_TYPE": "SimpleCache"}
    cache = Cache(config={**config, "CACHE_DEFAULT_TIMEOUT": settings.analytics_cache_ttl})
    cache.init_app(server)
    namespace = database_namespace(settings.database_url)
    service = AnalyticsService(
        get_engine(settings.database_url),
        DatasetCache(cache.cache, generation_counter(settings.redis_url, namespace), settings.analytics_cache_ttl,
                     namespace=namespace),
        MaskPolicy(enabled=settings.hipaa_mode, threshold=settings.hipaa_min_threshold),
    )
    server.extensions[ANALYTICS_KEY] = service
    return service


def analytics() -> AnalyticsService:
    """The analytics service of the running app (inside a request or app context)."""
    return current_app.extensions[ANALYTICS_KEY]


def init_refresh(server: Flask, settings: Settings, service: AnalyticsService) -> RefreshJobs:
    """Refresh jobs for the button and the API, and the in-process scheduler (and live refresh) when
    SCHEDULER_ENABLED."""
    jobs = RefreshJobs(service.engine, on_success=service.refreshed)
    server.extensions[JOBS_KEY] = jobs
    server.extensions[SCHEDULER_KEY] = None
    server.extensions[LIVE_KEY] = None
    if settings.scheduler_enabled:
        scheduler = build_scheduler(jobs, settings)
        scheduler.start()
        server.extensions[SCHEDULER_KEY] = scheduler
        atexit.register(lambda: scheduler.shutdown(wait=False))
        live = start_live_refresh(service.engine, settings, lambda _batch: service.refreshed())
        server.extensions[LIVE_KEY] = live
        if live is not None:
            atexit.register(live.stop)
    return jobs


def refresh_jobs() -> RefreshJobs:
    return current_app.extensions[JOBS_KEY]


def scheduler() -> BaseScheduler | None:
    return current_app.extensions.get(SCHEDULER_KEY)
