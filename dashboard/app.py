"""The app factory: a Dash app on a Flask server, with every extension bound here and nowhere else."""

from __future__ import annotations

import gc
import logging
from pathlib import Path

import dash
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from components.layout import INDEX_STRING
from dashboard.api import api
from dashboard.errors import register_error_handlers
from dashboard.exports import init_exports
from dashboard.extensions import init_services
from dashboard.health import init_health
from dashboard.request_checks import init_request_checks
from dashboard.security import init_security
from dashboard.settings import Settings, load_settings
from data.engine import configure_pool

ASSETS = Path(__file__).resolve().parent.parent / "assets"
log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> dash.Dash:
    """Build the dashboard; `settings=None` reads them from the environment."""
    settings = settings or load_settings()
    configure_pool(settings.database_pool_size, settings.database_max_overflow)
    if settings.database_url is None:
        from data.embedded import start_embedded

        settings = settings.with_overrides(database_url=start_embedded())
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS),
        serve_locally=True,
        title="Recruitment analytics",
        index_string=INDEX_STRING,
        update_title=None,
        suppress_callback_exceptions=True,
    )
    server = app.server
    server.config.update(
        SECRET_KEY=settings.secret_key or "demo-only-not-secret",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
    )
    server.json.sort_keys = False  # JSON fields keep the documented order (CSV headers follow it too)
    trust_proxies(server, settings.proxy_fix_hops)
    bound = init_services(server, settings)
    init_security(server, settings)
    register_error_handlers(server)
    init_request_checks(app)  # ahead of the guard: no input reaches a view unchecked
    server.register_blueprint(api)
    init_exports(server, bound)

    init_health(server)
    _register_pages(app)
    # Everything built so far (Dash, plotly's validators, the page registry) lives as long as the process: move it
    # out of the collector's reach, so the full collections that bulk reads trigger do not walk it every time.
    gc.freeze()
    return app


def trust_proxies(server: Flask, hops: int) -> None:
    """Behind `hops` proxies, take the client address and scheme from X-Forwarded-* (per-IP login limits, audit).

    With 0 (the default) the headers are ignored: anyone could forge them when nothing in front strips them.
    """
    if hops > 0:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)


def _register_pages(app: dash.Dash) -> None:
    """Import page modules explicitly (with `pages_folder` outside this package Dash would give them odd module
    names) and lay out the shell around the page container."""
    from dash import html

    import pages.admin
    import pages.compliance
    import pages.outreach
    import pages.overview
    import pages.pipeline
    import pages.privacy
    import pages.revenue  # noqa: F401

    app.layout = html.Div([dash.page_container], className="app-shell")
