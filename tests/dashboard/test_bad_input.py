"""No input gets a 500: odd URLs, bodies, months, Dash callback payloads (issue 12, item 6).

Every answer to a machine path is JSON, every answer carries X-Request-ID, and the last-resort 500 names the
request id that its log line also carries.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dashboard.request_checks import MAX_JSON_DEPTH
from data.filters import FilterError, parse_month


@pytest.fixture
def admin(client, auth, make_user):
    user, password = make_user("admin")
    auth.login(user.email, password)
    return client


@pytest.fixture
def viewer(client, auth, make_user):
    user, password = make_user("viewer")
    auth.login(user.email, password)
    return client


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def assert_json_error(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert isinstance(body.get("error"), str) and body["error"]
    assert response.headers.get("X-Request-ID")
    return body


@pytest.mark.parametrize("value", ["0000-05", "9999-12", "1999-12", "2100-01", "0001-01", "2026-13", "2026-00"])
def test_parse_month_refuses_months_outside_the_documented_range(value):
    with pytest.raises(FilterError):
        parse_month(value)


@pytest.mark.parametrize("query", ["end=9999-12", "start=1900-01&end=3799-12", "start=0000-05", "end=2100-01",
                                   "start=2000-01&end=2099-12"])
def test_api_months_outside_the_range_are_400_not_500(admin, query):
    response = admin.get(f"/api/v1/analytics/kpis?{query}")
    if query == "start=2000-01&end=2099-12":
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
    else:
        assert "between 2000-01 and 2099-12" in assert_json_error(response, 400)["error"]


@pytest.mark.parametrize("path", ["/?end=9999-12", "/?start=0000-05", "/pipeline?start=1900-01&end=3799-12",
                                  "/?start=2000-01&end=2000-01"])
def test_pages_with_months_outside_the_range_load(admin, path):
    response = admin.get(path)
    assert response.status_code == 200
    assert "text/html" in response.content_type


@pytest.mark.parametrize("path", ["/api/v1/analytics/refresh/%00", "/api/v1/analytics/pipeline%00",
                                  "/api/v1/analytics/refresh/a%01b", "/pipeline%0d%0aX-Evil:%201"])
def test_control_characters_in_the_url_are_400(admin, path):
    assert_json_error(admin.get(path), 400)


def test_a_nul_in_a_query_value_is_400(admin):
    assert_json_error(admin.get("/api/v1/analytics/kpis?channel=email%00"), 400)


@pytest.mark.parametrize("path", ["/api/v1/analytics/refresh", "/_dash-update-component"])
def test_deeply_nested_json_is_400(admin, path):
    body = nested(5000)
    assert_json_error(admin.post(path, data=body, content_type="application/json"), 400)
    assert_json_error(admin.post(path, data=nested(MAX_JSON_DEPTH + 1), content_type="application/json"), 400)


@pytest.mark.parametrize("body", ['{"views": ', "\xff\xfe", '{"views": ["all"]}\x00', "[1, 2"])
def test_malformed_json_is_400(admin, body):
    assert_json_error(admin.post("/api/v1/analytics/refresh", data=body.encode("latin-1"),
                                 content_type="application/json"), 400)


def test_a_body_over_the_limit_is_413(admin):
    response = admin.post("/api/v1/analytics/refresh", data=b"x" * (1024 * 1024 + 1),
                          content_type="application/json")
    assert_json_error(response, 413)


def _router_body(pathname: Any, **overrides: Any) -> dict[str, Any]:
    body = {
        "output": "..._pages_content.children..._pages_store.data...",
        "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                   {"id": "_pages_location", "property": "search", "value": ""}],
        "changedPropIds": ["_pages_location.pathname"],
        "state": [],
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize("body", [
    {"inputs": [], "changedPropIds": []},                                  # no output
    _router_body(["/admin"]),                                              # non-string pathname
    _router_body({"a": 1}),
    _router_body(12),
    _router_body("/", inputs=[{"id": "_pages_location", "property": "pathname", "value": "/"}] * 2),  # duplicates
    _router_body("/", output=7),
    _router_body("/", inputs="nope"),
    _router_body("/", outputs=[1, 2]),
    _router_body("/", state={"x": 1}),
    [1, 2, 3],
    "just a string",
])
def test_malformed_dash_callback_bodies_are_400_json(admin, body):
    response = admin.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    assert_json_error(response, 400)


def test_an_unknown_callback_is_a_400_or_204_never_500(admin):
    body = _router_body("/")
    body["output"] = "nothing-here.children"
    body["outputs"] = {"id": "nothing-here", "property": "children"}
    response = admin.post("/_dash-update-component", data=json.dumps(body), content_type="application/json")
    assert response.status_code in (400, 404), response.status_code
    assert response.mimetype == "application/json"


@pytest.mark.parametrize("path", ["/api/v1/nothing", "/api/v2/analytics/kpis", "/api/v1", "/_dash-nothing",
                                  "/export/nothing", "/export/chart/pipeline", "/api/v1/analytics/kpis/extra"])
def test_unknown_machine_paths_are_json_404(admin, path):
    assert_json_error(admin.get(path), 404)


def test_an_unknown_page_is_still_an_html_page(admin):
    response = admin.get("/no-such-page")
    assert response.status_code in (200, 404)
    assert "text/html" in response.content_type


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("DELETE", "/api/v1/analytics/kpis", {"GET", "HEAD", "OPTIONS"}),
    ("PUT", "/api/v1/analytics/refresh", {"GET", "HEAD", "POST", "OPTIONS"}),  # GET: /analytics/<dataset>
    ("POST", "/api/v1/openapi.json", {"GET", "HEAD", "OPTIONS"}),
    ("GET", "/_dash-update-component", {"POST", "OPTIONS"}),
])
def test_wrong_method_is_405_with_allow(admin, method, path, allowed):
    response = admin.open(path, method=method)
    assert_json_error(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == allowed


@pytest.mark.parametrize("path", ["/_dash-component-suites/nothing/x.js", "/_dash-component-suites/dash/nope.js",
                                  "/_dash-component-suites/dash/../../etc/passwd",
                                  "/_dash-component-suites/dash_ag_grid/x.v1m1.js"])
def test_unknown_component_assets_are_404_for_anyone(client, path, caplog):
    with caplog.at_level(logging.ERROR):
        response = client.get(path)
    assert response.status_code == 404
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_every_response_has_a_request_id(client, admin):
    ids = {client.get("/health").headers["X-Request-ID"], admin.get("/api/v1/analytics/kpis").headers["X-Request-ID"],
           admin.get("/api/v1/nothing").headers["X-Request-ID"]}
    assert len(ids) == 3


def test_a_request_id_sent_by_a_proxy_is_kept_when_it_is_sane(client):
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    evil = client.get("/health", headers={"X-Request-ID": "x" * 500}).headers["X-Request-ID"]
    assert evil != "x" * 500 and len(evil) <= 64


def test_an_unexpected_error_is_a_json_500_with_the_request_id_in_the_log(app, admin, caplog, monkeypatch):
    from auth.context import services_of

    bound = services_of(app.server)

    def boom(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("unexpected")

    monkeypatch.setattr(bound.analytics, "remember", boom)
    monkeypatch.setitem(app.server.config, "PROPAGATE_EXCEPTIONS", False)  # as in production (TESTING re-raises)
    with caplog.at_level(logging.ERROR):
        response = admin.get("/api/v1/analytics/kpis")
    body = assert_json_error(response, 500)
    request_id = response.headers["X-Request-ID"]
    assert body["request_id"] == request_id and "unexpected" not in body["error"]
    assert any(request_id in r.getMessage() and r.exc_info for r in caplog.records)


# --- every server-side Dash callback, fed odd values --------------------------------------------------------------

ODD = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True),
    st.text(max_size=12), st.sampled_from(["0000-05", "9999-12", "2026-13", "\x00", "/admin", "//admin", "all", "on"]),
    st.lists(st.one_of(st.integers(), st.text(max_size=4), st.none()), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _server_callbacks(app: Any, client: Any) -> list[tuple[str, dict[str, Any]]]:
    client.get("/health")  # the first request moves the global callbacks onto the app
    return sorted((key, spec) for key, spec in app.callback_map.items() if "callback" in spec)


def _body(key: str, spec: dict[str, Any], values: list[Any]) -> dict[str, Any]:
    def output(part: str) -> dict[str, Any]:
        ident, prop = part.rsplit(".", 1)
        return {"id": json.loads(ident) if ident.startswith("{") else ident, "property": prop.split("@")[0]}

    parts = [p for p in key.strip(".").split("...") if p]
    outputs = [output(p) for p in parts]
    inputs = [{"id": d["id"], "property": d["property"], "value": v}
              for d, v in zip(spec["inputs"], values, strict=False)]
    state = [{"id": d["id"], "property": d["property"], "value": v}
             for d, v in zip(spec.get("state", []), values[len(inputs):], strict=False)]
    first = spec["inputs"][0] if spec["inputs"] else {"id": "x", "property": "y"}
    return {"output": key, "outputs": outputs if key.startswith("..") else outputs[0], "inputs": inputs,
            "state": state, "changedPropIds": [f"{first['id']}.{first['property']}"]}


def test_every_server_callback_survives_odd_values(app, admin):
    callbacks = [(k, s) for k, s in _server_callbacks(app, admin) if "{" not in k]  # pattern-matching: below
    assert len(callbacks) >= 10

    def check(key: str, spec: dict[str, Any]) -> None:
        count = len(spec["inputs"]) + len(spec.get("state", []))

        @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        @given(values=st.lists(ODD, min_size=count, max_size=count))
        def run(values: list[Any]) -> None:
            response = admin.post("/_dash-update-component", data=json.dumps(_body(key, spec, values)),
                                  content_type="application/json")
            assert response.status_code in (200, 204, 400), (key, values, response.get_data(as_text=True)[:500])

        run()

    for key, spec in callbacks:
        check(key, spec)


def _concrete(ident: Any, value: str = "pipeline-by-month") -> Any:
    """A pattern-matching id as the renderer sends it: wildcards replaced by one component's values."""
    ident = json.loads(ident) if isinstance(ident, str) and ident.startswith("{") else ident
    if not isinstance(ident, dict):
        return ident
    return {k: (value if v == ["MATCH"] else "png" if v == ["ALL"] else v) for k, v in ident.items()}


def test_well_formed_pattern_matching_callback_bodies_pass_the_checks(app, admin):
    from dashboard.request_checks import check_callback_body

    pattern = [(k, s) for k, s in _server_callbacks(app, admin) if "{" in k]
    assert pattern, "the export menus use pattern-matching callbacks"
    for key, spec in pattern:
        def sent(declared: dict[str, Any]) -> Any:
            ident = json.loads(declared["id"]) if declared["id"].startswith("{") else declared["id"]
            item = {"id": _concrete(ident), "property": declared["property"], "value": None}
            return [item] if isinstance(ident, dict) and ["ALL"] in ident.values() else item

        body = {"output": key, "outputs": [], "inputs": [sent(d) for d in spec["inputs"]],
                "state": [sent(d) for d in spec.get("state", [])], "changedPropIds": []}
        with app.server.test_request_context("/_dash-update-component", method="POST"):
            check_callback_body(body)  # raises BadInput (400) when it would refuse the renderer's body


@pytest.mark.parametrize("pathname", ["//admin", "/ADMIN", "/%61dmin", "/pipeline/../admin", None, "", "x" * 3000])
def test_the_router_never_fails_on_odd_pathnames(viewer, pathname):
    response = viewer.post("/_dash-update-component", data=json.dumps(_router_body(pathname)),
                           content_type="application/json")
    assert response.status_code in (200, 204, 400), response.get_data(as_text=True)[:500]


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(value=st.one_of(st.from_regex(r"\A\d{4}-\d{2}\Z"), st.text(max_size=8)))
def test_the_openapi_month_pattern_and_the_filters_agree(value):
    import re

    from dashboard.schema import MONTH_PATTERN

    try:
        parse_month(value)
        accepted = True
    except FilterError:
        accepted = False
    assert accepted == bool(re.match(MONTH_PATTERN, value.strip())), value
