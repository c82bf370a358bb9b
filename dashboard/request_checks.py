"""Checks that run before any view, so that no input reaches code that would fail on it with a 500.

In order, on every request: a request id (kept from `X-Request-ID` when it is sane, else a new one; echoed on every
response and named in the log line of a failure), control characters in the URL (400), NUL characters in the query
string or a form (400), the body size (`MAX_CONTENT_LENGTH`, 413), JSON bodies that do not parse or nest deeper than
`MAX_JSON_DEPTH` (400), Dash callback bodies that do not have the shape of a declared callback (400; the body
checks only for a caller with a session or credential: the guard refuses anyone else first), machine paths
(`/api`, `/_dash-*`, `/export`) that only Dash's catch-all page route would match (JSON 404, or 405 with `Allow`
when another method has a route). Unknown `/_dash-component-suites` files are a 404.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterable
from typing import Any

import dash
from dash._callback import GLOBAL_CALLBACK_MAP
from dash.exceptions import DependencyException
from flask import Response, current_app, g, jsonify, request, session
from werkzeug.exceptions import BadRequest, HTTPException, MethodNotAllowed, NotFound

from dashboard.security import DASH_UPDATE_PATH, PAGES_LOCATION_ID, is_machine_path

log = logging.getLogger(__name__)

MAX_CONTENT_LENGTH = 1024 * 1024  # bytes: the largest request body (a callback body is a few kB)
MAX_JSON_DEPTH = 64  # a Dash callback body nests about 20 deep (figures are outputs, never inputs)
REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CATCHALL_ENDPOINTS = frozenset({"/<path:path>"})
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
COMPONENT_SUITES = "/_dash-component-suites/"
_DASH_APP_KEY = "recruit.dash_app"


class BadInput(BadRequest):
    """A request this app refuses to look at (400 JSON with the description)."""


def init_request_checks(app: dash.Dash) -> None:
    """Run the checks first on every request (ahead of the sign-in guard) and tag every response."""
    server = app.server
    server.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    server.extensions[_DASH_APP_KEY] = app
    server.before_request_funcs.setdefault(None, []).insert(0, check_request)
    server.after_request(tag_response)
    server.register_error_handler(DependencyException, _unknown_asset)
    server.log_exception = _log_exception  # type: ignore[method-assign]


def request_id() -> str:
    """This request's id (from a sane `X-Request-ID`, else new), made once per request."""
    rid = g.get("request_id")
    if rid is None:
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        rid = sent if _SANE_REQUEST_ID.match(sent) else uuid.uuid4().hex
        g.request_id = rid
    return rid


def tag_response(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = request_id()
    return response


def _log_exception(exc_info: Any) -> None:
    """Flask's log line for an unhandled error, with the request id the 500 answer carries."""
    log.error("unhandled error in %s %s (request_id=%s)", request.method, request.path, request_id(),
              exc_info=exc_info)


def check_request() -> Response | None:
    request_id()
    path = request.path
    if _CONTROL.search(path):
        raise BadInput("control characters are not allowed in the URL")
    if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
        raise BadInput("NUL characters are not allowed in the query string")
    if request.content_length is not None and request.content_length > MAX_CONTENT_LENGTH:
        raise _too_large()
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype == "application/x-www-form-urlencoded" \
            and any("\x00" in key or "\x00" in value for key, value in request.form.items(multi=True)):
        raise BadInput("NUL characters are not allowed in a form")
    if request.is_json and request.method in ("POST", "PUT", "PATCH", "DELETE") and _may_be_signed_in():
        body = _json_body()
        if path == DASH_UPDATE_PATH and request.method == "POST":
            check_callback_body(body)
    if is_machine_path(path):
        _check_route(path)
    return None


def _may_be_signed_in() -> bool:
    """A session or an API credential: the body is worth checking (the guard refuses anyone else with 401 before
    anything reads it)."""
    return "Authorization" in request.headers or bool(session.get("_user_id"))


def _too_large() -> HTTPException:
    from werkzeug.exceptions import RequestEntityTooLarge

    return RequestEntityTooLarge(f"the request body may be at most {MAX_CONTENT_LENGTH} bytes")


def _json_body() -> Any:
    """Parse the JSON body once (Flask keeps it for get_json), refusing bad encoding, depth and NUL characters."""
    raw = request.get_data(cache=True)
    if not raw:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput("the body must be UTF-8 encoded JSON") from None
    if json_depth(text) > MAX_JSON_DEPTH:
        raise BadInput(f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        body = json.loads(text)
    except ValueError:
        raise BadInput("the body is not valid JSON") from None
    if _has_nul(body):
        raise BadInput("NUL characters are not allowed in the body")
    request._cached_json = (body, body)  # get_json() returns this parse
    return body


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON `text`, without recursion (strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _has_nul(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


# --- Dash callback bodies ------------------------------------------------------------------------------------------


def check_callback_body(body: Any) -> None:
    """400 unless `body` names a declared callback and sends its inputs and state as declared."""
    if not isinstance(body, dict):
        raise BadInput("a callback body must be a JSON object")
    output = body.get("output")
    if not isinstance(output, str) or not output:
        raise BadInput("a callback body needs its output")
    spec = _callbacks().get(output)
    if spec is None:
        raise BadInput("no such callback")
    outputs = body.get("outputs")
    if outputs is not None and not all(_is_prop(o) for o in _flat([outputs] if isinstance(outputs, dict) else outputs)):
        raise BadInput("callback outputs must be objects with an id and a property")
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        raise BadInput("changedPropIds must be a list of strings")
    for field, declared in (("inputs", spec.get("inputs", [])), ("state", spec.get("state", []))):
        _check_values(field, body.get(field, []), declared)


def _check_values(field: str, sent: Any, declared: list[dict[str, Any]]) -> None:
    if not isinstance(sent, list) or len(sent) != len(declared):
        raise BadInput(f"callback {field} do not match the callback")
    for item, declared_item in zip(sent, declared, strict=True):
        wanted = {**declared_item, "id": _declared_id(declared_item.get("id"))}
        if isinstance(item, list):  # a pattern-matching (ALL/ALLSMALLER) input: any number of matches
            if not isinstance(wanted.get("id"), dict) or not all(_is_prop(i) for i in item):
                raise BadInput(f"callback {field} do not match the callback")
            continue
        if not _is_prop(item) or item["property"] != wanted.get("property"):
            raise BadInput(f"callback {field} do not match the callback")
        if isinstance(wanted.get("id"), str) and item["id"] != wanted["id"]:
            raise BadInput(f"callback {field} do not match the callback")
        if isinstance(wanted.get("id"), dict) and not isinstance(item["id"], dict):
            raise BadInput(f"callback {field} do not match the callback")
        if item["id"] == PAGES_LOCATION_ID and not isinstance(item.get("value"), str | None):
            raise BadInput("the page address must be a string")


def _declared_id(ident: Any) -> Any:
    """A declared id as the renderer sends it: pattern-matching ids are declared as JSON text."""
    if isinstance(ident, str) and ident.startswith("{"):
        try:
            return json.loads(ident)
        except ValueError:
            return ident
    return ident


def _is_prop(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("id"), str | dict) and isinstance(item.get("property"), str)


def _flat(items: Any) -> Iterable[Any]:
    if not isinstance(items, list):
        return [None]
    out: list[Any] = []
    for item in items:
        out.extend(item if isinstance(item, list) else [item])
    return out


def _callbacks() -> dict[str, Any]:
    """Every declared callback: the app's and those still waiting to move onto it on the first request."""
    app: dash.Dash = current_app.extensions[_DASH_APP_KEY]
    return {**GLOBAL_CALLBACK_MAP, **app.callback_map}


# --- routes --------------------------------------------------------------------------------------------------------


def _check_route(path: str) -> None:
    """A machine path that only Dash's catch-all page route matches is not a page: 404, or 405 with `Allow`."""
    rule = request.url_rule
    if rule is not None and rule.endpoint not in _CATCHALL_ENDPOINTS:
        return
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = set()
    for method in _METHODS:
        try:
            endpoint, _ = adapter.match(path, method=method)
        except HTTPException:
            continue
        if endpoint not in _CATCHALL_ENDPOINTS:
            allowed.add(method)
    if allowed and request.method not in allowed:
        if "GET" in allowed:
            allowed.add("HEAD")
        raise MethodNotAllowed(valid_methods=sorted(allowed | {"OPTIONS"}))
    if not allowed:
        raise NotFound()


def _unknown_asset(_exc: DependencyException) -> tuple[Response, int]:
    return jsonify(error="not found"), 404

