"""Health that tells the truth: the start-up check, `/health/ready`, and what a database outage looks like.

`/health` is the cheap liveness check (the process answers). `/health/ready` asks PostgreSQL and Redis (when
configured) and answers 503 naming the one that does not answer: load balancers and the Docker HEALTHCHECK use it.
`check_services` is the start-up check of `dashboard run`, `dashboard demo` and the gunicorn master: one line naming
an unreachable database or Redis. While the database is away, the API answers 503 JSON with Retry-After, a page
load the "Data temporarily unavailable" page, an open page the same words in its status line, and the sign-in form
a message; the pool's pre-ping reconnects by itself when the database is back (docs/OPERATIONS.md, "Failure modes").
"""

from __future__ import annotations

import html
import logging

import psycopg
import sqlalchemy.exc
from flask import Flask, Response, current_app, jsonify, request
from plotly.io.json import to_json_plotly
from sqlalchemy import text
from sqlalchemy.engine import make_url

from auth.context import services
from components.layout import empty_state
from dashboard.security import DASH_UPDATE_PATH, is_page_request

log = logging.getLogger(__name__)

READY_PATH = "/health/ready"
CONNECT_TIMEOUT_SECONDS = 3
RETRY_AFTER_SECONDS = 15
UNAVAILABLE_MESSAGE = "Data temporarily unavailable: the database is not answering. The figures shown may be out " \
                      "of date; change a filter or reload the page to try again."
PAGE_MESSAGE = "The database is not answering; nothing you did caused this."
API_UNAVAILABLE = "data temporarily unavailable (the database is not answering); try again shortly"
SIGN_IN_UNAVAILABLE = "Sign-in is temporarily unavailable (the database is not answering). Try again in a minute."
# What a lost or refused database connection raises, through SQLAlchemy or psycopg directly.
DATABASE_DOWN = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, sqlalchemy.exc.TimeoutError,
                 psycopg.OperationalError, psycopg.InterfaceError)
# A plain string, not a template: a template's context processors would ask the database who is signed in.
_PAGE = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Data temporarily unavailable</title>
<meta http-equiv="refresh" content="{RETRY_AFTER_SECONDS}">
<link rel="stylesheet" href="/assets/style.css"></head>
<body><main class="page error-page"><h1>Data temporarily unavailable</h1><p>{html.escape(PAGE_MESSAGE)}</p>
<p>This page tries again every {RETRY_AFTER_SECONDS} seconds.</p></main></body></html>"""


class ServiceUnreachable(RuntimeError):
    """A service the app needs does not answer; the message is one line naming it (never a password)."""


def database_location(url: str) -> str:
    parsed = make_url(url)
    host = parsed.host or parsed.query.get("host") or "the local socket"
    return f"{parsed.database or ''} on {host}:{parsed.port or 5432}"


def redis_location(url: str) -> str:
    from data.cache import _redis_location

    return _redis_location(url)


def check_database(url: str, *, timeout: int = CONNECT_TIMEOUT_SECONDS) -> str | None:
    """None when the database answers `select 1`, else the one-line reason."""
    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1),
                             connect_timeout=timeout) as conn:
            conn.execute("select 1")
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        return f"cannot reach the database {database_location(url)} (DATABASE_URL): {reason}"
    return None


def check_redis(url: str, *, timeout: int = CONNECT_TIMEOUT_SECONDS) -> str | None:
    """None when Redis answers PING, else the one-line reason."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        try:
            client.ping()
        finally:
            client.close()
    except (redis.exceptions.RedisError, OSError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"cannot reach Redis at {redis_location(url)} (REDIS_URL): {reason}"
    return None


def check_services(database_url: str | None, redis_url: str | None) -> None:
    """The start-up check: ServiceUnreachable naming the first service that does not answer."""
    for problem in (check_database(database_url) if database_url else None,
                    check_redis(redis_url) if redis_url else None):
        if problem:
            raise ServiceUnreachable(problem)


def init_health(server: Flask) -> None:
    """`/health` (liveness), `/health/ready` (readiness) and the database-outage answers."""

    @server.get("/health")
    def health() -> Response:
        return jsonify(status="ok")

    @server.get(READY_PATH)
    def ready() -> tuple[Response, int]:
        return readiness()

    for error in DATABASE_DOWN:
        server.register_error_handler(error, database_unavailable)


def readiness() -> tuple[Response, int]:
    from dashboard.extensions import REDIS_HEALTH_KEY

    bound = services()
    checks: dict[str, str] = {}
    try:
        with bound.engine.connect() as conn:
            conn.execute(text("select 1"))
        checks["database"] = "ok"
    except DATABASE_DOWN as exc:
        checks["database"] = f"unreachable ({type(exc).__name__})"
    redis_url = bound.settings.redis_url
    if redis_url:
        problem = check_redis(redis_url, timeout=2)
        checks["redis"] = "ok" if problem is None else "unreachable"
        health = current_app.extensions.get(REDIS_HEALTH_KEY)
        if problem is None and health is not None and not health.up:
            checks["redis"] = "ok (this process still on its own cache; it switches back on its next use)"
    else:
        checks["redis"] = "not configured (in-process cache)"
    ok = checks["database"] == "ok" and not checks["redis"].startswith("unreachable")
    return jsonify(status="ready" if ok else "unavailable", **checks), 200 if ok else 503


def database_unavailable(exc: Exception) -> Response:
    """A database outage, wherever a request met it: 503 in the form the caller can show."""
    log.warning("database unavailable during %s %s: %s", request.method, request.path, type(exc).__name__)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if request.path == "/login":
        from auth.views import unavailable_page

        return Response(unavailable_page(SIGN_IN_UNAVAILABLE), status=503, mimetype="text/html", headers=headers)
    if request.path == DASH_UPDATE_PATH:
        answer = status_line_answer()
        if answer is not None:
            return Response(answer, status=200, mimetype="application/json", headers=headers)
    if is_page_request():
        return Response(_PAGE, status=503, mimetype="text/html", headers=headers)
    response = jsonify(error=API_UNAVAILABLE)
    response.status_code = 503
    response.headers.update(headers)
    return response


def status_line_answer() -> str | None:
    """For a page already open: a callback answer that puts the outage in the page's `<page>-status` line (the
    other outputs keep what they show), when the callback writes that line."""
    body = request.get_json(silent=True)
    outputs = body.get("outputs") if isinstance(body, dict) else None
    items = outputs if isinstance(outputs, list) else [outputs]
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"].endswith("-status") \
                and item.get("property") == "children":
            content = empty_state(UNAVAILABLE_MESSAGE, hint=None).to_plotly_json()
            return to_json_plotly({"multi": True, "response": {item["id"]: {"children": content}}})
    return None
