"""The app's services, built in the factory and bound once (auth.context.services() reaches them in a request)."""

from __future__ import annotations

import atexit
import logging

from cachelib import RedisCache, SimpleCache
from flask import Flask, g, has_request_context
from sqlalchemy import Engine

from auth.context import AppServices, bind_services
from dashboard.scheduler import Schedule, build_scheduler, start_live_refresh
from dashboard.settings import Settings, check_dbt
from data.cache import CacheBackend, DatasetCache, FallbackBackend, RedisHealth, data_versions, database_namespace
from data.engine import get_engine
from data.jobs import RefreshJobs
from data.masking import MaskPolicy
from data.service import AnalyticsService

log = logging.getLogger(__name__)
REDIS_TIMEOUT_SECONDS = 2
REDIS_HEALTH_KEY = "recruit.redis_health"
LOCAL_CACHE_ENTRIES = 500  # this process's own cache (no Redis, or while Redis is away)


def init_services(server: Flask, settings: Settings) -> AppServices:
    """The analytics service (cache in Redis when REDIS_URL is set, else in-process), refresh jobs and, when
    SCHEDULER_ENABLED, the in-process scheduler and live refresh; bound to `server`. With DBT_ENABLED refreshes
    build the stores with dbt (data/dbt.py), and live refresh must be off (SettingsError otherwise)."""
    check_dbt(settings.dbt_enabled, settings.live_refresh)
    engine = get_engine(settings.database_url)
    analytics, health = build_analytics(settings, engine)
    server.extensions[REDIS_HEALTH_KEY] = health
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


def build_analytics(settings: Settings, engine: Engine) -> tuple[AnalyticsService, RedisHealth | None]:
    """The analytics service over the dataset cache: shared in Redis (falling back to this process's own memory
    while Redis does not answer, with one warning, and back when it does), or in-process without REDIS_URL."""
    backend: CacheBackend
    health = None
    if settings.redis_url:
        import redis

        client = redis.Redis.from_url(settings.redis_url, socket_timeout=REDIS_TIMEOUT_SECONDS,
                                      socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
        health = RedisHealth(settings.redis_url)
        shared = RedisCache(host=client, default_timeout=settings.analytics_cache_ttl)
        backend = FallbackBackend(shared, SimpleCache(threshold=LOCAL_CACHE_ENTRIES), health)
    else:
        if not settings.demo:  # the demo is one process: an in-process cache is exactly right there
            log.warning("REDIS_URL is not set: using an in-process cache; processes will not share cached data "
                        "or see each other's refreshes before the cache TTL (%s s)", settings.analytics_cache_ttl)
        backend = SimpleCache(threshold=LOCAL_CACHE_ENTRIES, default_timeout=settings.analytics_cache_ttl)
    namespace = database_namespace(settings.database_url)
    analytics = AnalyticsService(
        engine,
        DatasetCache(backend, data_versions(settings.redis_url, namespace, health), settings.analytics_cache_ttl,
                     namespace=namespace, release_seconds=settings.masked_release_interval),
        MaskPolicy(enabled=settings.hipaa_mode, threshold=settings.hipaa_min_threshold),
        request_memo=request_memo,
    )
    return analytics, health


def request_memo() -> dict | None:
    """A dict living as long as the current request (flask.g), or None outside a request."""
    if not has_request_context():
        return None
    memo = g.get("recruit_memo")
    if memo is None:
        memo = g.recruit_memo = {}
    return memo
