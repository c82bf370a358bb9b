"""Typed settings parsed once from the environment (README.md, "Configuration").

Every parser rejects a bad value with a message naming the variable, so a misconfigured process stops at start-up
instead of failing on the first request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from data.masking import MIN_THRESHOLD

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
_DB_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


class SettingsError(ValueError):
    """A configuration value is missing or malformed."""


def parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name} must be one of true/false/1/0/yes/no, got {raw!r}")


def parse_int(name: str, raw: str, *, minimum: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def parse_database_url(raw: str) -> str:
    """Normalise every accepted PostgreSQL URL to the psycopg 3 dialect SQLAlchemy needs."""
    url = raw.strip()
    if not url.startswith(_DB_SCHEMES):
        raise SettingsError("DATABASE_URL must start with postgresql://, postgres:// or postgresql+psycopg://")
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def parse_proxy_hops(raw: str) -> int:
    """PROXY_FIX_HOPS: how many proxies in front of the app set X-Forwarded-*; 0 (default) trusts none."""
    hops = parse_int("PROXY_FIX_HOPS", raw, minimum=0)
    if hops > 5:
        raise SettingsError(f"PROXY_FIX_HOPS must be at most 5 (the proxies in front of the app), got {hops}")
    return hops


def parse_export_timeout(raw: str) -> int:
    """EXPORT_TIMEOUT_SECONDS: 1..25, so that with a browser start (30 s at most) an export stays under gunicorn's
    60 s worker timeout."""
    seconds = parse_int("EXPORT_TIMEOUT_SECONDS", raw, minimum=1)
    if seconds > 25:
        raise SettingsError(f"EXPORT_TIMEOUT_SECONDS must be at most 25 (gunicorn stops a request after 60 s and a "
                            f"browser start may take 30), got {seconds}")
    return seconds


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: str | None = None
    session_cookie_secure: bool = True
    hipaa_mode: bool = True
    hipaa_min_threshold: int = 5
    analytics_cache_ttl: int = 300
    analytics_refresh_interval_ms: int = 3_600_000
    pipeline_refresh_interval_ms: int = 1_800_000
    scheduler_enabled: bool = True
    live_refresh: bool = True
    dbt_enabled: bool = False
    live_refresh_debounce_ms: int = 1000
    live_refresh_sweep_ms: int = 60_000
    masked_release_interval: int = 60
    log_level: str = "INFO"
    session_idle_minutes: int = 480
    session_max_hours: int = 12
    proxy_fix_hops: int = 0
    database_pool_size: int = 5
    database_max_overflow: int = 10
    export_max_mb: int = 10
    export_max_points: int = 20_000
    export_concurrency_per_user: int = 2
    export_timeout_seconds: int = 20
    demo: bool = False

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @property
    def refresh_build(self) -> str:
        """How refreshes build the KPI stores: "dbt" with DBT_ENABLED, else "sql"."""
        return "dbt" if self.dbt_enabled else "sql"


def check_dbt(dbt_enabled: bool, live_refresh: bool) -> None:
    """DBT_ENABLED needs the dbt extra, and excludes live refresh (README.md, "dbt"; docs/OPERATIONS.md)."""
    if not dbt_enabled:
        return
    if live_refresh:
        raise SettingsError(
            "DBT_ENABLED=true and LIVE_REFRESH=true cannot both be on: with dbt every refresh is a full dbt build;"
            " set LIVE_REFRESH=false (its default when DBT_ENABLED=true) or DBT_ENABLED=false"
        )
    from data.dbt import INSTALL_HINT, dbt_available

    if not dbt_available():
        raise SettingsError(f"DBT_ENABLED=true but {INSTALL_HINT}")


def load_settings(environ: Mapping[str, str] | None = None, *, demo: bool = False) -> Settings:
    """Read the environment variables; raise SettingsError on a bad value or a missing secret outside demo."""
    env = os.environ if environ is None else environ

    def get(name: str) -> str | None:
        value = env.get(name)
        return value if value not in (None, "") else None

    database_url = get("DATABASE_URL")
    secret_key = get("SECRET_KEY")
    if secret_key is None and not demo:
        raise SettingsError(
            "SECRET_KEY is required (set it to a long random string; only `dashboard demo` runs without)"
        )
    log_level = (get("LOG_LEVEL") or "INFO").upper()
    if log_level not in _LOG_LEVELS:
        raise SettingsError(f"LOG_LEVEL must be one of {', '.join(sorted(_LOG_LEVELS))}, got {log_level!r}")
    cookie_secure = get("SESSION_COOKIE_SECURE")
    dbt_enabled = parse_bool("DBT_ENABLED", get("DBT_ENABLED") or "false")
    live_refresh = parse_bool("LIVE_REFRESH", get("LIVE_REFRESH") or ("false" if dbt_enabled else "true"))
    check_dbt(dbt_enabled, live_refresh)
    return Settings(
        database_url=parse_database_url(database_url) if database_url else None,
        redis_url=get("REDIS_URL"),
        secret_key=secret_key,
        session_cookie_secure=(
            parse_bool("SESSION_COOKIE_SECURE", cookie_secure) if cookie_secure is not None else not demo
        ),
        hipaa_mode=parse_bool("HIPAA_MODE", get("HIPAA_MODE") or "true"),
        hipaa_min_threshold=parse_int("HIPAA_MIN_THRESHOLD", get("HIPAA_MIN_THRESHOLD") or "5", minimum=MIN_THRESHOLD),
        analytics_cache_ttl=parse_int("ANALYTICS_CACHE_TTL", get("ANALYTICS_CACHE_TTL") or "300", minimum=0),
        analytics_refresh_interval_ms=parse_int(
            "ANALYTICS_REFRESH_INTERVAL", get("ANALYTICS_REFRESH_INTERVAL") or "3600000", minimum=1000
        ),
        pipeline_refresh_interval_ms=parse_int(
            "PIPELINE_REFRESH_INTERVAL", get("PIPELINE_REFRESH_INTERVAL") or "1800000", minimum=1000
        ),
        scheduler_enabled=parse_bool("SCHEDULER_ENABLED", get("SCHEDULER_ENABLED") or "true"),
        live_refresh=live_refresh,
        dbt_enabled=dbt_enabled,
        live_refresh_debounce_ms=parse_int(
            "LIVE_REFRESH_DEBOUNCE_MS", get("LIVE_REFRESH_DEBOUNCE_MS") or "1000", minimum=0
        ),
        live_refresh_sweep_ms=parse_int(
            "LIVE_REFRESH_SWEEP_INTERVAL", get("LIVE_REFRESH_SWEEP_INTERVAL") or "60000", minimum=1000
        ),
        masked_release_interval=parse_int("MASKED_RELEASE_INTERVAL", get("MASKED_RELEASE_INTERVAL") or "60",
                                          minimum=0),
        log_level=log_level,
        session_idle_minutes=parse_int("SESSION_IDLE_MINUTES", get("SESSION_IDLE_MINUTES") or "480", minimum=1),
        session_max_hours=parse_int("SESSION_MAX_HOURS", get("SESSION_MAX_HOURS") or "12", minimum=1),
        proxy_fix_hops=parse_proxy_hops(get("PROXY_FIX_HOPS") or "0"),
        database_pool_size=parse_int("DATABASE_POOL_SIZE", get("DATABASE_POOL_SIZE") or "5", minimum=1),
        database_max_overflow=parse_int("DATABASE_MAX_OVERFLOW", get("DATABASE_MAX_OVERFLOW") or "10", minimum=0),
        export_max_mb=parse_int("EXPORT_MAX_MB", get("EXPORT_MAX_MB") or "10", minimum=1),
        export_max_points=parse_int("EXPORT_MAX_POINTS", get("EXPORT_MAX_POINTS") or "20000", minimum=100),
        export_concurrency_per_user=parse_int(
            "EXPORT_CONCURRENCY_PER_USER", get("EXPORT_CONCURRENCY_PER_USER") or "2", minimum=1
        ),
        export_timeout_seconds=parse_export_timeout(get("EXPORT_TIMEOUT_SECONDS") or "20"),
        demo=demo,
    )
