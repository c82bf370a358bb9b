"""Who may reach what: sign-in (Flask-Login), login rate limits, the request guard and security headers.

The guard runs before anything else on every request, including Dash's own routes and URLs no route matches, so
protection never depends on a page or callback remembering to check.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from flask import Flask, Response, current_app, redirect, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from plotly.io.json import to_json_plotly

from auth import views
from auth.context import current_engine, signed_in_user
from auth.csrf import init_csrf, protect_cookie_session, require_json_body, session_ended
from auth.errors import AuthenticationRequired
from auth.permissions import has_permission, normalize_path, raise_for_access, required_permission
from auth.sessions import VERSION_KEY, is_current, within_lifetime
from auth.tokens import user_for_token
from auth.users import User, get_user
from components.admin import not_allowed
from dashboard.settings import Settings

OPEN_PATHS = frozenset({"/login", "/logout", "/health", "/health/ready", "/favicon.ico", "/_favicon.ico"})
# Static files and Dash's component bundles: public library code, no data.
OPEN_PREFIXES = ("/assets/", "/_dash-component-suites/")
# Machine endpoints answer an anonymous caller 401 JSON; anything else fetched with GET is a page.
MACHINE_PREFIXES = ("/_", "/api/", "/export/")
MACHINE_PATHS = frozenset({"/api", "/export"})
DASH_UPDATE_PATH = "/_dash-update-component"
# Open pages poll this every few seconds: a signed session cookie within its lifetimes is enough (no user read from
# the database, so a session ended by sign-out or an account change still polls until its cookie ages out). It
# answers data versions only, never a figure.
LIVE_PATH = "/api/v1/live"
PAGES_LOCATION_ID = "_pages_location"  # the dcc.Location of dash.page_container (dash 4.4)
PAGES_CONTENT_ID, PAGES_STORE_ID = "_pages_content", "_pages_store"  # the router's outputs (dash 4.4)

# Only failed sign-ins count: the sixth rapid failure for one email from one client address, or the 21st from one
# address, gets 429. Nothing counts per email alone: nobody can lock a colleague out by guessing wrong for them.
LOGIN_LIMIT_PER_EMAIL_AND_CLIENT = "5 per minute"
LOGIN_LIMIT_PER_IP = "20 per minute;200 per hour"
LIMITER_KEY_PREFIX = "recruit-login"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        # Dash's renderer bootstraps from inline scripts and plotly.js compiles some code at run time.
        "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def init_security(server: Flask, settings: Settings) -> Limiter:
    """Bind sign-in, the login views, the rate limiter, the guard and the headers to `server`."""
    server.config.update(
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=settings.session_idle_minutes),
        SESSION_REFRESH_EACH_REQUEST=True,  # idle expiry: every request pushes the deadline back
    )
    init_csrf(server, secure=settings.session_cookie_secure)
    login_manager = LoginManager()
    login_manager.user_loader(_load_session_user)
    login_manager.request_loader(_load_token_user)
    login_manager.init_app(server)

    limiter = Limiter(
        get_remote_address,
        storage_uri=settings.redis_url or "memory://",
        key_prefix=LIMITER_KEY_PREFIX,
        in_memory_fallback_enabled=settings.redis_url is not None,
    )
    limiter.init_app(server)
    login_view = views.login
    for limit, key_func in ((LOGIN_LIMIT_PER_IP, get_remote_address),
                            (LOGIN_LIMIT_PER_EMAIL_AND_CLIENT, _email_and_client_key)):
        login_view = limiter.limit(
            limit,
            key_func=key_func,
            methods=["POST"],
            deduct_when=lambda response: response.status_code == 401,
            on_breach=views.rate_limited_page,
        )(login_view)
    server.add_url_rule("/login", "login", login_view, methods=["GET", "POST"])
    server.add_url_rule("/logout", "logout", views.logout, methods=["GET", "POST"])

    # First in line, ahead of Dash's own setup hooks: an anonymous request does no work at all.
    server.before_request_funcs.setdefault(None, []).insert(0, guard)
    server.after_request(add_security_headers)
    server.extensions["recruit.limiter"] = limiter
    server.extensions["recruit.session_max_hours"] = settings.session_max_hours
    return limiter


def is_open(path: str) -> bool:
    return path in OPEN_PATHS or path.startswith(OPEN_PREFIXES)


def is_machine_path(path: str) -> bool:
    return path in MACHINE_PATHS or path.startswith(MACHINE_PREFIXES)


def is_page_request() -> bool:
    """A browser navigation: GET/HEAD of a page URL without an API credential."""
    return (
        request.method in ("GET", "HEAD")
        and not is_machine_path(request.path)
        and "Authorization" not in request.headers
    )


def guard() -> Response | None:
    """Send anonymous page loads to /login, refuse anonymous everything else (401), check page permissions."""
    path = request.path
    if is_open(path):
        return None
    if path == LIVE_PATH and _live_session():
        return None
    user = signed_in_user()
    if user is None:
        if is_page_request():
            target = request.full_path if request.query_string else path
            return redirect("/login?" + urlencode({"next": target}))
        raise AuthenticationRequired()
    if "Authorization" not in request.headers:  # a cookie session: an ambient credential, so CSRF applies
        protect_cookie_session()
    require_json_body()
    permission = required_permission(path)  # on the normalised path: //admin, /ADMIN/, /%61dmin are /admin
    if permission is not None:
        raise_for_access(user, permission)
    routed = _routed_page()
    routed = normalize_path(routed) if routed is not None else None
    permission = required_permission(routed) if routed else None
    if permission is not None and not has_permission(user, permission):
        # In-app navigation: the router's answer is a "not allowed" page (a 403 would leave the old page on
        # screen with no word); the page's own layout and callbacks still never run.
        return _not_allowed_route(f"not allowed: your role ({user.role}) cannot open {routed}")
    return None


def _not_allowed_route(message: str) -> Response:
    """What Dash's page router would answer, with the not-allowed content in place of the page."""
    content = not_allowed(message).to_plotly_json()
    body = {"multi": True, "response": {PAGES_CONTENT_ID: {"children": content},
                                        PAGES_STORE_ID: {"data": {"title": "Not allowed"}}}}
    return Response(to_json_plotly(body), mimetype="application/json")


def _routed_page() -> str | None:
    """The page Dash's router callback is asked to render: in-app navigation never loads the page URL itself."""
    if request.path != DASH_UPDATE_PATH or not request.is_json:
        return None
    payload = request.get_json(silent=True)
    inputs = payload.get("inputs") if isinstance(payload, dict) else None
    for item in inputs if isinstance(inputs, list) else []:
        if isinstance(item, dict) and item.get("id") == PAGES_LOCATION_ID and item.get("property") == "pathname":
            return item.get("value") if isinstance(item.get("value"), str) else None
    return None


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if "Cache-Control" not in response.headers and not request.path.startswith(OPEN_PREFIXES):
        response.headers["Cache-Control"] = "no-store"  # pages and data may hold PII: keep them out of caches
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _live_session() -> bool:
    """A signed-in session cookie within SESSION_MAX_HOURS, judged without the database (see LIVE_PATH)."""
    return bool(session.get("_user_id")) and VERSION_KEY in session and within_lifetime(session, _max_hours())


def _max_hours() -> int:
    return current_app.extensions["recruit.session_max_hours"]


def _load_session_user(user_id: str) -> User | None:
    """Read from the database on every request, so sign-out and account changes take effect at once; a cookie that
    no longer speaks for its user is emptied, so the response deletes it."""
    if "Authorization" in request.headers:
        return None  # an API credential, when sent, is the only one considered
    try:
        user = get_user(current_engine(), int(user_id))
    except ValueError:
        user = None
    if user is None or not is_current(session, user, _max_hours()):
        session.clear()
        session_ended()
        return None
    return user


def _load_token_user(_request: object) -> User | None:
    token = bearer_token()
    return user_for_token(current_engine(), token) if token else None


def _email_and_client_key() -> str:
    # Never empty: Flask-Limiter skips (and logs an error for) a limit whose key is empty.
    email = (request.form.get("email") or "").strip().lower()[:254] or "-"
    return f"{email}|{get_remote_address()}"
