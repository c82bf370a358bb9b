"""The app's services, built in the factory and bound once (auth.context.services() reaches them in a request)."""

from __future__ import annotations

import atexit
import logging

from flask import Flask, g, has_request_context
from flask_caching import Cache

from auth.context import AppServices, bind_services
from dashboard.scheduler import Schedule, build_scheduler, start_live_refresh
from dashboard.settings import Settings, check_dbt
from data.cache import DatasetCache, data_versions, database_namespace
from data.engine import get_engine
from data.jobs import RefreshJobs
from data.masking import MaskPolicy
from data.service import AnalyticsService

log = logging.getLogger(__name__)


def request_memo() -> dict | None:
    """A dict living as long as the current request (flask.g), or None outside a request."""
    if not has_request_context():
        return None
    memo = g.get("recruit_memo")
    if memo is None:
        memo = g.recruit_memo = {}
    return memo


def init_services(server: Flask, settings: Settings) -> AppServices:
    """Flask-Caching (Redis when REDIS_URL is set, else in-process), the analytics service, refresh jobs and, when
    SCHEDULER_ENABLED, the in-process scheduler and live refresh; bound to `server`. With DBT_ENABLED refreshes
    build the stores with dbt (data/dbt.py), and live refresh must be off (SettingsError otherwise)."""
    check_dbt(settings.dbt_enabled, settings.live_refresh)
    if settings.redis_url:
        # Our keys carry their own "recruit:<schema version>:<database>" prefix; Flask-Caching's would hide it.
        config = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": settings.redis_url, "CACHE_KEY_PREFIX": ""}
    else:
        if not settings.demo:  # the demo is one process: an in-process cache is exactly right there
            log.warning("REDIS_URL is not set: using an in-process cache; processes will not share cached data "
                        "or see each other's refreshes before the cache TTL (%s s)", settings.analytics_cache_ttl)
        config = {"CACHE_TYPE": "SimpleCache"}
    cache = Cache(config={**config, "CACHE_DEFAULT_TIMEOUT": settings.analytics_cache_ttl})
    cache.init_app(server)
    namespace = database_namespace(settings.database_url)
    engine = get_engine(settings.database_url)
    analytics = AnalyticsService(
        engine,
        DatasetCache(cache.cache, data_versions(settings.redis_url, namespace), settings.analytics_cache_ttl,
                     namespace=namespace, release_seconds=settings.masked_release_interval),
        MaskPolicy(enabled=settings.hipaa_mode, threshold=settings.hipaa_min_threshold),
        request_memo=request_memo,
    )
    jobs = RefreshJobs(engine, on_success=lambda views: analytics.data_changed(dict.fromkeys(views), warm=True),
                       build=settings.refresh_build)
    schedule = live = None
    if settings.scheduler_enabled:
        scheduler = build_scheduler(jobs, settings)
        scheduler.start()
        schedule = Schedule(scheduler)
        atexit.register(schedule.shutdown)
        live = start_live_refresh(engine, settings, lambda batch: analytics.data_changed(batch.changed_facilities))
        if live is not None:
            atexit.register(live.stop)
    return bind_services(server, AppServices(settings=settings, engine=engine, analytics=analytics, jobs=jobs,
                                             scheduler=schedule, live=live))
