"""CSRF protection for cookie sessions (Flask-WTF's CSRFProtect, enforced from the request guard).

With a session cookie every state-changing request (POST, PUT, PATCH, DELETE) carries the token: the sign-in and
sign-out forms in a `csrf_token` field, everything else in an `X-CSRFToken` header. The token travels to the page
as the `_csrf_token` cookie (readable by the page's script, SameSite=Strict), which Dash's renderer copies into that
header on every callback request, so pages need nothing of their own. Bearer-token calls carry no ambient
credential and are exempt.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf, validate_csrf
from werkzeug.exceptions import UnsupportedMediaType
from wtforms import ValidationError

COOKIE_NAME = "_csrf_token"  # what Dash's renderer reads (its csrf_token_name default)
HEADER_NAME = "X-CSRFToken"  # what it sends (its csrf_header_name default)
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_COOKIE_ACTION = "recruit_csrf_cookie"  # g: "set" for a signed-in cookie session, "delete" once it has ended

__all__ = ["COOKIE_NAME", "HEADER_NAME", "CSRFError", "init_csrf"]


def init_csrf(server: Flask, *, secure: bool) -> CSRFProtect:
    """CSRFProtect on `server`, checked only where the guard asks (cookie sessions), and the token cookie."""
    server.config.update(
        WTF_CSRF_CHECK_DEFAULT=False,  # the request guard decides (bearer calls are exempt)
        WTF_CSRF_HEADERS=[HEADER_NAME],
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session that holds it
    )
    csrf = CSRFProtect(server)
    server.extensions["recruit.csrf_cookie_secure"] = secure
    server.after_request(_token_cookie)
    return csrf


def protect_cookie_session() -> None:
    """For a request signed in by its session cookie: keep the token cookie current and refuse (400) a
    state-changing request without a valid token."""
    g.setdefault(_COOKIE_ACTION, "set")
    if request.method in STATE_CHANGING:
        current_app.extensions["csrf"].protect()


def session_signed_in() -> None:
    """The session cookie now speaks for a user (sign-in, on a fresh session): give the page a new token."""
    g.pop(current_app.config["WTF_CSRF_FIELD_NAME"], None)  # the sign-in form's token belonged to the old session
    setattr(g, _COOKIE_ACTION, "set")


def session_ended() -> None:
    """The session is over (sign-out, or a cookie that no longer speaks for its user): drop the token cookie."""
    setattr(g, _COOKIE_ACTION, "delete")


def require_json_body() -> None:
    """A state-changing request with a body must send it as `Content-Type: application/json` (415 otherwise)."""
    if request.method in STATE_CHANGING and _has_body() and not request.is_json:
        raise UnsupportedMediaType("the body must be JSON sent with Content-Type: application/json")


def token_form_value() -> str:
    """The token for a server-rendered form's `csrf_token` field."""
    return generate_csrf()


def _has_body() -> bool:
    return bool(request.content_length) or bool(request.content_type) or request.headers.get(
        "Transfer-Encoding", "").lower() == "chunked"


def _token_cookie(response: Response) -> Response:
    action = g.get(_COOKIE_ACTION)
    if action == "set" and not _valid(request.cookies.get(COOKIE_NAME)):
        response.set_cookie(COOKIE_NAME, generate_csrf(), path="/", httponly=False, samesite="Strict",
                            secure=current_app.extensions["recruit.csrf_cookie_secure"])
    elif action == "delete" and COOKIE_NAME in request.cookies:
        response.delete_cookie(COOKIE_NAME, path="/", samesite="Strict")
    return response


def _valid(token: str | None) -> bool:
    if not token:
        return False
    try:
        validate_csrf(token)
    except ValidationError:
        return False
    return True
