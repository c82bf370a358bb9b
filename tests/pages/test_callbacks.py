"""Page callbacks against the real seeded database, through `/_dash-update-component` as a signed-in user.

Every number a chart shows must equal the service's published totals for the same filters (totals of published cells),
scope must hold for crafted requests, and the dataset cache must serve a repeated call and retire on a refresh.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
from cachelib import SimpleCache

from auth.context import services_of
from components.figures import field_view
from components.overview import TILES, change_vs_previous, tile_text
from components.theme import channel_label
from data.cache import DatasetCache, LocalVersions
from data.engine import get_engine, psycopg_connection
from data.filters import build_filter, previous_period
from data.masking import MaskPolicy
from data.refresh import refresh_views
from data.seed import SeedConfig, seed
from data.service import AnalyticsService
from data.specs import DATASETS

from .conftest import END, START, DashCaller, filters


@pytest.fixture
def service(app: Any) -> AnalyticsService:
    return services_of(app.server).analytics


@pytest.fixture
def viewer(make_user: Callable, auth: Any) -> Any:
    user, password = make_user("viewer")
    assert auth.login(user.email, password).status_code == 302
    return user


@pytest.fixture
def recruiter(make_user: Callable, auth: Any) -> Any:
    user, password = make_user("recruiter", facilities=(1, 2))
    assert auth.login(user.email, password).status_code == 302
    return user


def all_ids(service: AnalyticsService) -> tuple[int, ...]:
    return tuple(sorted(int(i) for i in service.facilities()["id"]))


def filt_for(ids: tuple[int, ...], channel: str | None = None) -> Any:
    return build_filter(ids, START, END, channel)


def trace(figure: dict, name: str) -> dict:
    return next(t for t in figure["data"] if t.get("name") == name)


def drawn(figure: dict, field: str, axis: str = "y") -> list[float | None]:
    """A field's values as drawn: its full and partial (dotted) traces merged by position."""
    traces = [t for t in figure["data"] if (t.get("meta") or {}).get("field") == field
              and t["meta"].get("role") in ("value", "partial")]
    assert traces, f"no traces of {field}"
    merged = list(traces[0][axis])
    for t in traces[1:]:
        merged = [a if a is not None else b for a, b in zip(merged, t[axis], strict=True)]
    return merged


def points(frame: pd.DataFrame, dataset: str, field: str) -> list[float | None]:
    """The values the contract allows to be drawn as one value (None where hidden, a range or undefined)."""
    column = DATASETS[dataset].column(field)
    view = field_view(frame.reset_index(drop=True), column)
    return [float(v) if s == "point" else None for v, s in zip(view.values, view.shown, strict=True)]


def close(a: list[float | None], b: list[float | None]) -> bool:
    return len(a) == len(b) and all(
        (x is None and y is None) or (x is not None and y is not None and math.isclose(x, y, rel_tol=1e-9))
        for x, y in zip(a, b, strict=True)
    )


def find(component: Any, component_id: str) -> dict | None:
    """The serialised component with `component_id` anywhere under `component`."""
    if isinstance(component, list):
        for child in component:
            found = find(child, component_id)
            if found is not None:
                return found
        return None
    if not isinstance(component, dict) or "props" not in component:
        return None
    props = component["props"]
    if props.get("id") == component_id:
        return component
    return find(props.get("children"), component_id)


def text_of(component: Any) -> str:
    if isinstance(component, list):
        return "".join(text_of(c) for c in component)
    if isinstance(component, dict) and "props" in component:
        return text_of(component["props"].get("children"))
    return "" if component is None else str(component)


@pytest.mark.parametrize("facility_ids", [(), (2, 5)])
def test_pipeline_charts_equal_service_totals(
    dash_call: DashCaller, viewer: Any, service: AnalyticsService, facility_ids: tuple[int, ...]
) -> None:
    out = dash_call("pipeline-funnel", filters("pipeline", facility_ids))
    filt = filt_for(facility_ids or all_ids(service))
    by_month = service.aggregate("pipeline", filt, ["month"])
    months = [f"{m:%Y-%m}" for m in by_month["month"]]
    assert len(by_month) == 12

    for field in ("applications", "hired"):
        assert trace(out["pipeline-by-month"], DATASETS["pipeline"].column(field).label)["x"] == months
        assert close(drawn(out["pipeline-by-month"], field), points(by_month, "pipeline", field))
    assert close(drawn(out["pipeline-time-to-fill"], "time_to_fill_days"),
                 points(by_month, "pipeline", "time_to_fill_days"))

    overall = service.aggregate("pipeline", filt, [])
    stages = ["applications", "screened", "interviewed", "offered", "hired"]
    expected = [points(overall, "pipeline", stage)[0] for stage in stages]
    assert close(drawn(out["pipeline-funnel"], "applications", axis="x"), expected)

    grid = find(out["pipeline-table"], "pipeline-grid")
    by_facility = service.aggregate("pipeline", filt, ["facility_id", "facility_name"])
    rows = {r["label"]: r["applications__text"] for r in grid["props"]["rowData"]}
    view = field_view(by_facility, DATASETS["pipeline"].column("applications"))
    assert rows == {name: view.text(i) for i, name in enumerate(by_facility["facility_name"])}
    assert "Data as of" in text_of(out["pipeline-freshness"])
    assert out["pipeline-status"] is None


def test_compliance_charts_equal_service_totals(dash_call: DashCaller, viewer: Any, service: AnalyticsService) -> None:
    out = dash_call("compliance-by-facility", filters("compliance"))
    filt = filt_for(all_ids(service))
    by_facility = service.aggregate("compliance", filt, ["facility_id", "facility_name"])
    figure = out["compliance-by-facility"]
    shown = dict(zip(figure["data"][0]["y"], drawn(figure, "compliance_rate", axis="x"), strict=True))
    expected = dict(zip(by_facility["facility_name"], points(by_facility, "compliance", "compliance_rate"),
                        strict=True))
    assert set(shown) == set(expected)
    assert all(close([shown[n]], [expected[n]]) for n in expected)
    order = list(figure["layout"]["yaxis"]["categoryarray"])
    rates = [shown[n] for n in order if shown[n] is not None]
    assert rates == sorted(rates), "facilities are sorted by compliance rate"

    by_month = service.aggregate("compliance", filt, ["month"])
    for severity in ("low", "medium", "high", "critical"):
        layer = [t for t in out["compliance-violations-by-month"]["data"] if t.get("name") == severity.title()]
        merged = [next((t["y"][i] for t in layer if t["y"][i] is not None), None) for i in range(len(by_month))]
        view = field_view(by_month, DATASETS["compliance"].column(f"violations_{severity}"))
        assert close(merged, [float(v) if s in ("point", "range") else None
                              for v, s in zip(view.values, view.shown, strict=True)])
    assert close(drawn(out["compliance-score"], "avg_score"), points(by_month, "compliance", "avg_score"))


def test_revenue_charts_equal_service_totals(dash_call: DashCaller, viewer: Any, service: AnalyticsService) -> None:
    out = dash_call("revenue-by-month", filters("revenue", (1, 3, 4)))
    filt = filt_for((1, 3, 4))
    by_month = service.aggregate("revenue", filt, ["month"])
    assert close(drawn(out["revenue-by-month"], "revenue"), points(by_month, "revenue", "revenue"))
    assert close(drawn(out["revenue-per-placement"], "revenue_per_placement"),
                 points(by_month, "revenue", "revenue_per_placement"))
    by_facility = service.aggregate("revenue", filt, ["facility_id", "facility_name"])
    figure = out["revenue-by-facility"]
    assert set(figure["data"][0]["y"]) == set(by_facility["facility_name"])
    assert close(sorted(v for v in drawn(figure, "revenue", axis="x") if v is not None),
                 sorted(v for v in points(by_facility, "revenue", "revenue") if v is not None))


def test_outreach_charts_equal_service_totals(dash_call: DashCaller, viewer: Any, service: AnalyticsService) -> None:
    out = dash_call("outreach-rates", filters("outreach", channel=None))
    by_channel = service.aggregate("outreach", filt_for(all_ids(service)), ["channel"])
    labels = [channel_label(c) for c in by_channel["channel"]]
    rates = out["outreach-rates"]
    for field in ("response_rate", "conversion_rate"):
        shown = dict(zip(trace(rates, DATASETS["outreach"].column(field).label)["x"], drawn(rates, field),
                         strict=True))
        assert all(close([shown[label]], [v]) for label, v in zip(labels, points(by_channel, "outreach", field),
                                                                    strict=True))

    narrowed = dash_call("outreach-rates", filters("outreach", channel="email"))
    names = {t["name"] for t in narrowed["outreach-volume"]["data"] if t.get("type") == "bar"
             and (t.get("meta") or {}).get("role") == "value"}
    assert names == {"Email"}
    email = service.aggregate("outreach", filt_for(all_ids(service), "email"), ["month", "channel"])
    volume = next(t for t in narrowed["outreach-volume"]["data"] if t.get("name") == "Email")
    view = field_view(email, DATASETS["outreach"].column("sent"))
    assert close([v for v in volume["y"] if v is not None],
                 [float(v) for v, s, p in zip(view.values, view.shown, view.partial, strict=True)
                  if s == "point" and not p])


def test_overview_tiles_equal_service_kpis(dash_call: DashCaller, viewer: Any, service: AnalyticsService) -> None:
    out = dash_call("overview-kpis", filters("overview", (1, 2, 3), start="2026-01", end="2026-06"))
    filt = build_filter((1, 2, 3), "2026-01", "2026-06")
    now, before = service.kpis(filt), service.kpis(previous_period(filt))
    assert previous_period(filt).start.isoformat() == "2025-07-01"
    assert previous_period(filt).end.isoformat() == "2025-12-01"
    tiles = out["overview-kpis"]
    for tile in TILES:
        shown, _ = tile_text(tile, now)
        assert shown in text_of(find(tiles, f"overview-kpi-{tile.key.replace('_', '-')}")), tile.key
        _, change, _ = change_vs_previous(now, before, tile)
        assert change in text_of(find(tiles, f"overview-kpi-{tile.key.replace('_', '-')}"))


def test_repeated_call_is_a_cache_hit(dash_call: DashCaller, viewer: Any, service: AnalyticsService) -> None:
    dash_call("revenue-by-month", filters("revenue"))
    hits, misses = service.cache.hits, service.cache.misses
    dash_call("revenue-by-month", filters("revenue"))
    assert service.cache.hits > hits
    assert service.cache.misses == misses


def test_bad_filters_are_replaced_and_named_in_one_banner(dash_call: DashCaller, viewer: Any) -> None:
    out = dash_call("pipeline-funnel", filters("pipeline", start="2026-06", end="2026-01"))
    notices = text_of(out["pipeline-notices"])
    assert "The start (2026-06) was after the end (2026-01)" in notices
    assert "Traceback" not in json.dumps(out)
    assert out["pipeline-funnel"]["layout"].get("meta") != {"empty": True}
    garbage = dash_call("revenue-by-month", filters("revenue", start={"x": 1}, end="2026-13"))
    notices = text_of(garbage["revenue-notices"])
    assert "The end month '2026-13' is not a month written YYYY-MM" in notices
    assert "The start month {'x': 1} is not a month" in notices
    assert "widen" not in notices.lower()


def test_empty_selection_explains_itself(dash_call: DashCaller, viewer: Any) -> None:
    out = dash_call("compliance-by-facility", filters("compliance", start="2019-01", end="2019-03"))
    assert "No data for this selection" in text_of(out["compliance-status"])
    assert out["compliance-by-facility"]["layout"]["meta"] == {"empty": True}


@pytest.mark.parametrize(
    ("output", "page"),
    [("pipeline-funnel", "pipeline"), ("compliance-by-facility", "compliance"), ("revenue-by-month", "revenue"),
     ("outreach-rates", "outreach"), ("overview-kpis", "overview")],
)
def test_crafted_request_outside_scope_gets_no_data(
    dash_call: DashCaller, recruiter: Any, service: AnalyticsService, output: str, page: str
) -> None:
    extra = {"channel": None} if page == "outreach" else {}
    answer = dash_call.response(output, filters(page, (2, 7), **extra))
    body = answer.get_data(as_text=True)
    names = service.facilities().set_index("id")["name"]
    assert "Facility 7 is not in your scope and was left out" in body
    for outsider in (3, 7, 9):
        assert names[outsider] not in body


def test_recruiter_sees_only_their_facilities(dash_call: DashCaller, recruiter: Any, service: AnalyticsService) -> None:
    out = dash_call("compliance-by-facility", filters("compliance"))
    names = service.facilities().set_index("id")["name"]
    assert set(out["compliance-by-facility"]["layout"]["yaxis"]["categoryarray"]) == {names[1], names[2]}
    page = dash_call("_pages_content", {"_pages_location.pathname": "/compliance", "_pages_location.search": ""})
    dropdown = find(page["_pages_content"], "compliance-facility")
    assert sorted(o["value"] for o in dropdown["props"]["options"]) == [1, 2]


def test_violations_drill_down_needs_view_pii(
    dash_call: DashCaller, make_user: Callable, auth: Any, service: AnalyticsService
) -> None:
    viewer, password = make_user("viewer")
    auth.login(viewer.email, password)
    assert dash_call.response("compliance-violations", filters("compliance")).status_code == 204
    page = dash_call("_pages_content", {"_pages_location.pathname": "/compliance", "_pages_location.search": ""})
    assert find(page["_pages_content"], "compliance-violations") is None

    auth.logout()
    recruiter, password = make_user("recruiter", facilities=(4,))
    auth.login(recruiter.email, password)
    crafted = dash_call.response("compliance-violations", filters("compliance", (4, 5))).get_data(as_text=True)
    assert service.facilities().set_index("id")["name"][5] not in crafted  # facility 5 is left out
    grid = find(dash_call("compliance-violations", filters("compliance"))["compliance-violations"],
                "compliance-violations-grid")
    rows = grid["props"]["rowData"]
    assert rows and {r["label"] for r in rows} == {service.facilities().set_index("id")["name"][4]}
    assert all(r["email"] for r in rows)


def test_layout_reads_filters_from_the_url(dash_call: DashCaller, viewer: Any) -> None:
    search = "?facility_id=3&facility_id=5&start=2025-10&end=2026-03&channel=sms"
    page = dash_call("_pages_content", {"_pages_location.pathname": "/outreach", "_pages_location.search": search})
    content = page["_pages_content"]
    assert find(content, "outreach-facility")["props"]["value"] == [3, 5]
    assert find(content, "outreach-start")["props"]["value"] == "2025-10"
    assert find(content, "outreach-end")["props"]["value"] == "2026-03"
    assert find(content, "outreach-channel")["props"]["value"] == "sms"
    links = json.dumps(find(content, "outreach-nav"))
    assert '"/pipeline?facility_id=3&facility_id=5&start=2025-10&end=2026-03&channel=sms"' in links


def test_filter_change_rewrites_url_and_nav_links(dash_call: DashCaller, viewer: Any) -> None:
    inputs = {**filters("revenue", (4,), start="2026-01", end="2026-02"), "revenue-channel.data": "email"}
    out = dash_call("revenue-search", inputs)
    assert out["revenue-search"] == "?facility_id=4&start=2026-01&end=2026-02&channel=email"
    assert '"/outreach?facility_id=4&start=2026-01&end=2026-02&channel=email"' in json.dumps(out["revenue-nav"])


@pytest.fixture
def own_database(make_database: Callable[[], str], app: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A small seeded database of this test's own, swapped in as the app's engine and analytics service."""
    engine = get_engine(make_database())
    seed(engine, SeedConfig(applications=400, facilities=2, months=3, seed=3, now=datetime(2026, 6, 15, tzinfo=UTC)))
    refresh_views(engine, ["all"], trigger="cli")
    cache = DatasetCache(SimpleCache(), LocalVersions(), 300)
    own = AnalyticsService(engine, cache, MaskPolicy(enabled=True, threshold=5))
    monkeypatch.setattr(services_of(app.server), "engine", engine)
    monkeypatch.setattr(services_of(app.server), "analytics", own)
    yield own


def test_refresh_and_generation_bump_show_new_data(
    own_database: AnalyticsService, dash_call: DashCaller, make_user: Callable, auth: Any
) -> None:
    user, password = make_user("viewer")
    auth.login(user.email, password)
    inputs = filters("pipeline", (1,), start="2026-06", end="2026-06")
    before = drawn(dash_call("pipeline-funnel", inputs)["pipeline-by-month"], "applications")[0]
    with psycopg_connection(own_database.engine) as conn:
        conn.execute(
            "insert into recruiting.applications (facility_id, channel, applied_at) "
            "select 1, 'email', timestamptz '2026-06-10 12:00Z' from generate_series(1, 25)"
        )
    refresh_views(own_database.engine, ["pipeline"], trigger="cli")
    stale = drawn(dash_call("pipeline-funnel", inputs)["pipeline-by-month"], "applications")[0]
    assert stale == before, "the cached generation still serves the old data"

    own_database.data_changed({"pipeline": None})
    misses = own_database.cache.misses
    after = drawn(dash_call("pipeline-funnel", inputs)["pipeline-by-month"], "applications")[0]
    assert own_database.cache.misses > misses
    assert after == before + 25


def test_the_drill_down_sends_at_most_the_newest_rows_and_says_so(
    dash_call: DashCaller, make_user: Callable, auth: Any, monkeypatch: Any
) -> None:
    import pages.chart_page

    admin, password = make_user("admin")
    auth.login(admin.email, password)
    monkeypatch.setattr(pages.chart_page, "UI_VIOLATION_ROWS", 3)
    out = dash_call("compliance-violations", filters("compliance"))["compliance-violations"]
    rows = find(out, "compliance-violations-grid")["props"]["rowData"]
    assert len(rows) == 3
    assert "Showing the newest 3 failed checks" in json.dumps(out)
