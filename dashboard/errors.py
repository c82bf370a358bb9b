"""Every refusal becomes `{"error": message}` with its status, in this one place."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template_string
from werkzeug.exceptions import HTTPException

from auth.errors import AuthError
from dashboard.security import is_page_request
from data.filters import FilterError

_MESSAGES = {
    400: "bad request",
    401: "authentication required",
    403: "not allowed",
    404: "not found",
    405: "method not allowed",
    413: "the request body is too large",
    415: "unsupported media type",
    429: "too many requests; try again later",
    500: "internal error; the request id names it in the server log",
}
_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<link rel="stylesheet" href="/assets/style.css"></head>
<body><main class="page error-page"><h1>{{ title }}</h1><p>{{ message }}</p><p><a href="/">Back to the overview</a>
</p></main></body></html>"""


def register_error_handlers(server: Flask) -> None:
    server.register_error_handler(AuthError, _auth_error)
    server.register_error_handler(FilterError, lambda exc: error_response(str(exc), 400))
    server.register_error_handler(HTTPException, _http_error)  # every status, with its headers (Allow, ...)
    server.register_error_handler(500, _internal_error)


def error_response(message: str, status: int) -> tuple[Response, int]:
    """JSON for machines; a short HTML page when a person navigated to a page URL."""
    if is_page_request() and status in (403, 404):
        return Response(render_template_string(_HTML, title=_MESSAGES[status].capitalize(), message=message),
                        mimetype="text/html"), status
    return jsonify(error=message), status


def _auth_error(exc: AuthError) -> tuple[Response, int]:
    return error_response(str(exc), exc.status)


def _http_error(exc: HTTPException) -> Response | tuple[Response, int]:
    if exc.response is not None:  # e.g. the sign-in page's own 429
        return exc.response
    code = exc.code or 500
    if code == 500:
        return _internal_error(exc)
    custom = exc.description if exc.description != type(exc).description else None
    response, status = error_response(custom or _MESSAGES.get(code, exc.name), code)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value  # e.g. Allow on a 405, Retry-After
    return response, status


def _internal_error(_exc: Exception) -> tuple[Response, int]:
    """The last resort: JSON naming the request id that the log line of the failure also names (never details)."""
    from dashboard.request_checks import request_id

    rid = request_id()
    return jsonify(error=f"{_MESSAGES[500]} (request id {rid})", request_id=rid), 500
