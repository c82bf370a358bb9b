"""Exports that cannot take the service down (issue 12, item 5): plain placeholders in vector output, point, size
and time budgets, per-user slots shared through Redis, a dead browser restarted once.

Real app, real PostgreSQL, real Redis, real Chromium: nothing here is mocked. The budgets are narrowed on the app's
own exporter (monkeypatch) to reach them with the small test data.
"""

from __future__ import annotations

import io
import threading
import time
import uuid
from dataclasses import replace

import plotly.graph_objects as go
import pytest
from pypdf import PdfReader

from auth.context import services_of
from auth.errors import AuthError
from components.figures import RANGE_PATTERN, add_privacy_note
from dashboard.export_limits import (
    KEY_LABELS,
    ExportRefused,
    ExportSlots,
    count_points,
    pattern_backgrounds,
    plain_placeholders,
)
from dashboard.renderer import ChartRenderer, FairTurns
from dashboard.settings import SettingsError, load_settings
from data.engine import psycopg_connection
from tests.conftest import csrf_headers

pytestmark = pytest.mark.browser
RANGE = "start=2025-05&end=2026-06"
SMALL = "facility_id=8&facility_id=9"  # with a tiny clinic: partial and hidden months, so patterned bars
MB = 1_000_000


@pytest.fixture(scope="session")
def renderer(app, chromium_available: None) -> ChartRenderer:
    current = services_of(app.server).exporter.renderer
    if current.browser_path != "/usr/bin/chromium":
        current = ChartRenderer("/usr/bin/chromium")
        services_of(app.server).exporter.renderer = current
    return current


@pytest.fixture
def exporter(app):
    return services_of(app.server).exporter


@pytest.fixture
def signed_in(client, auth, make_user, renderer):
    user, password = make_user("viewer")
    auth.login(user.email, password)
    return client, user


def export_count(app) -> int:
    with psycopg_connection(services_of(app.server).engine) as conn:
        return conn.execute("select count(*) from app.audit_log where action = 'export'").fetchone()[0]


def patterned_figure() -> go.Figure:
    fig = go.Figure()
    fig.add_bar(x=["a", "b"], y=[3, 4], marker={"color": "#0072B2", "pattern": {"shape": ".", "size": 6}},
                meta={"role": "partial"})
    fig.add_bar(x=["a", "b"], y=[1, 2], base=[1, 1], marker={"color": "#E69F00", "pattern": RANGE_PATTERN},
                meta={"role": "range"})
    add_privacy_note(fig, 5)
    return fig


def test_plain_placeholders_replace_every_pattern_and_say_grey_in_the_legend():
    spec = plain_placeholders(patterned_figure().to_plotly_json())
    assert all("pattern" not in trace.get("marker", {}) for trace in spec["data"])
    partial, ranged = spec["data"][0], spec["data"][1]
    assert partial["marker"]["line"]["color"] == "#0072B2" and ranged["marker"]["line"]["color"] == "#E69F00"
    assert partial["marker"]["color"] != ranged["marker"]["color"]
    names = {t.get("name") for t in spec["data"]}
    assert set(KEY_LABELS.values()) <= names


def test_png_keeps_patterns_with_their_bar_colour_behind():
    spec = pattern_backgrounds(patterned_figure().to_plotly_json())
    patterns = [t["marker"]["pattern"] for t in spec["data"] if "pattern" in t.get("marker", {})]
    assert patterns and all(p.get("bgcolor") for p in patterns)
    assert patterns[0]["bgcolor"] == "#0072B2" and patterns[1]["bgcolor"] == "#E69F00"


def test_a_patterned_chart_as_pdf_is_small_and_has_no_pattern(signed_in):
    client, _ = signed_in
    assert client.get(f"/export/chart/pipeline/funnel.png?{RANGE}").status_code == 200  # the browser is up
    started = time.perf_counter()
    response = client.get(f"/export/chart/pipeline/by-month.pdf?{SMALL}&{RANGE}")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.get_data(as_text=True)
    # Hatched, this chart was about 6 MB over 36 months (2 MB over these 14); plain, about 20 KB.
    assert len(response.data) < 200_000
    assert elapsed < 5
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert KEY_LABELS["key-range"] in text


def test_svg_has_plain_placeholders_too(app, signed_in):
    client, _ = signed_in
    svg = client.get(f"/export/chart/compliance/violations-by-month.svg?{SMALL}&{RANGE}")
    assert svg.status_code == 200 and b"<pattern" not in svg.data
    for label in KEY_LABELS.values():
        assert label.encode() in svg.data


def test_over_the_point_budget_is_a_400_before_rendering(app, signed_in, exporter, monkeypatch):
    client, _ = signed_in
    monkeypatch.setattr(exporter, "budget", replace(exporter.budget, max_points=10))
    before = export_count(app)
    for path in (f"/export/chart/pipeline/by-month.png?{RANGE}", f"/export/report/pipeline.pdf?{RANGE}"):
        response = client.get(path)
        assert response.status_code == 400 and response.is_json
        assert "EXPORT_MAX_POINTS" in response.get_json()["error"]
    assert export_count(app) == before, "nothing was exported, nothing is audited"


def test_over_the_size_budget_is_a_400(app, signed_in, exporter, monkeypatch):
    client, _ = signed_in
    monkeypatch.setattr(exporter, "budget", replace(exporter.budget, max_bytes=5_000))
    before = export_count(app)
    response = client.get(f"/export/chart/pipeline/by-month.png?{RANGE}")
    assert response.status_code == 400 and response.is_json
    assert "EXPORT_MAX_MB" in response.get_json()["error"]
    assert export_count(app) == before


def test_a_third_concurrent_export_of_one_user_is_a_429_with_retry_after(app, signed_in, exporter):
    client, user = signed_in
    with exporter.slots.hold(user.id), exporter.slots.hold(user.id):
        response = client.get(f"/export/chart/pipeline/by-month.png?{RANGE}")
        assert response.status_code == 429 and response.is_json
        assert int(response.headers["Retry-After"]) >= 1
        assert "in progress" in response.get_json()["error"]
        # CSV does not use the browser: not limited
        assert client.get(f"/api/v1/export/pipeline.csv?{RANGE}").status_code == 200
    assert client.get(f"/export/chart/pipeline/by-month.png?{RANGE}").status_code == 200


@pytest.mark.redis
def test_slots_are_shared_between_processes_through_redis_and_expire(redis_url):
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    first, second = (ExportSlots(2, redis_url, namespace) for _ in range(2))  # two workers, one Redis
    with first.hold(7), second.hold(7):
        assert first.in_use(7) == 2
        with pytest.raises(ExportRefused) as refused, second.hold(7):
            pass
        assert refused.value.status == 429 and refused.value.retry_after
        with first.hold(8):  # another user is not affected
            pass
    assert first.in_use(7) == 0
    # A slot whose worker was killed (never released) frees itself.
    short = ExportSlots(1, redis_url, namespace, ttl_s=1)
    short._acquire(9)
    with pytest.raises(ExportRefused), short.hold(9):
        pass
    time.sleep(1.2)
    with short.hold(9):
        pass


def test_slots_without_a_reachable_redis_count_this_process_and_stay_quick():
    slots = ExportSlots(2, "redis://127.0.0.1:1/0", "unreachable")  # nothing listens on port 1
    with slots.hold(5), slots.hold(5):
        started = time.perf_counter()
        with pytest.raises(ExportRefused), slots.hold(5):
            pass
        assert time.perf_counter() - started < 0.5, "Redis is not asked again at every export"
    with slots.hold(5):
        pass


def test_export_refused_is_shown_by_the_menus_like_any_refusal():
    assert issubclass(ExportRefused, AuthError)  # pages/chart_page.py: except (AuthError, ...) shows the message


def test_the_time_budget_cancels_only_the_export_over_it(chromium_available: None):
    renderer = ChartRenderer("/usr/bin/chromium")
    try:
        small = go.Figure(go.Bar(x=["a"], y=[1]))
        renderer.render(small, "png", width=400, height=300)  # the browser is up
        heavy = go.Figure(go.Scatter(x=list(range(20_000)), y=[i % 97 for i in range(20_000)], mode="markers"))
        results: dict[str, object] = {}

        def other() -> None:
            results["other"] = renderer.render(small, "png", width=400, height=300, timeout=20)

        with pytest.raises(ExportRefused) as over:
            thread = threading.Thread(target=other)
            thread.start()
            renderer.render(heavy, "pdf", width=1600, height=900, timeout=0.3)
        thread.join(30)
        assert over.value.status == 503 and "longer than" in str(over.value)
        assert isinstance(results.get("other"), bytes), "the other export finished"
        assert renderer.render(small, "png", width=400, height=300, timeout=20)
        assert renderer.starts == 1, "the browser was kept"
    finally:
        renderer.close()


def test_a_dead_browser_is_restarted_once_by_whoever_notices_first(chromium_available: None):
    renderer = ChartRenderer("/usr/bin/chromium")
    try:
        small = go.Figure(go.Bar(x=["a"], y=[1]))
        renderer.render(small, "png", width=400, height=300)
        renderer._kaleido.subprocess.kill()  # the browser this test started
        renderer._kaleido.subprocess.wait(10)
        results: list[object] = []

        def export() -> None:
            try:
                results.append(renderer.render(small, "png", width=400, height=300, timeout=20))
            except Exception as exc:  # collected and asserted below
                results.append(exc)

        threads = [threading.Thread(target=export) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert all(isinstance(r, bytes) for r in results) and len(results) == 4, results
        assert renderer.starts == 2, "one restart, not one per request"
    finally:
        renderer.close()


def test_turns_at_the_browser_are_shared_fairly_between_users():
    """Four users queue two exports each behind a busy browser; a fifth user's one export goes after at most one
    export of each, not after all eight."""
    turns = FairTurns(1)
    order: list[str] = []
    lock = threading.Lock()
    release = threading.Event()

    def export(user: str, name: str) -> None:
        with turns.turn(user, 10):
            with lock:
                order.append(name)
            time.sleep(0.01)

    def hold() -> None:
        with turns.turn("holder", 10):
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.05)
    threads = [threading.Thread(target=export, args=(u, f"{u}{i}")) for u in "ABCD" for i in (1, 2)]
    for thread in threads:
        thread.start()
        time.sleep(0.01)  # arrival order A1 A2 B1 B2 ...
    late = threading.Thread(target=export, args=("E", "E1"))
    late.start()
    time.sleep(0.05)
    release.set()
    for thread in (*threads, late, holder):
        thread.join(10)
    assert order.index("E1") <= 4, order
    assert order[:4] == ["A1", "B1", "C1", "D1"], order
    # a turn not granted in time is a timeout (the first holds the only slot)
    with pytest.raises(TimeoutError), turns.turn("x", 0.05), turns.turn("y", 0.05):
        pass


def test_export_settings_have_defaults_and_bounds():
    settings = load_settings({"SECRET_KEY": "x"})
    assert (settings.export_max_mb, settings.export_concurrency_per_user, settings.export_timeout_seconds) == (
        10, 2, 20)
    assert settings.export_max_points > 0
    with pytest.raises(SettingsError, match="EXPORT_TIMEOUT_SECONDS must be at most 25"):
        load_settings({"SECRET_KEY": "x", "EXPORT_TIMEOUT_SECONDS": "26"})
    with pytest.raises(SettingsError, match="EXPORT_CONCURRENCY_PER_USER"):
        load_settings({"SECRET_KEY": "x", "EXPORT_CONCURRENCY_PER_USER": "0"})


def test_count_points_counts_what_the_browser_draws():
    fig = go.Figure([go.Bar(x=["a", "b", "c"], y=[1, 2, 3]), go.Heatmap(z=[[1, 2], [3, 4], [5, 6]])])
    assert count_points(fig.to_plotly_json()) == 3 + 6


def test_the_export_menu_shows_a_refusal_as_its_message(app, signed_in, exporter):
    """The menus' callback (pages/chart_page.py) catches AuthError: a 429-style refusal reads as a message."""
    client, user = signed_in
    client.get("/health")  # the first request moves the global callbacks onto the app
    key = next(k for k in app.callback_map if '"type":"export-download"' in k and '"page":"pipeline"' in k)
    ids = [{"type": "export", "page": "pipeline", "chart": "by-month", "format": f}
           for f in ("png", "svg", "pdf", "csv")]
    state = [{"id": d["id"], "property": d["property"], "value": None} for d in app.callback_map[key]["state"]]
    state[1]["value"], state[2]["value"] = "2025-05", "2026-06"
    body = {
        "output": key,
        "outputs": [{"id": {"type": "export-download", "page": "pipeline", "chart": "by-month"}, "property": "data"},
                    {"id": {"type": "export-status", "page": "pipeline", "chart": "by-month"},
                     "property": "children"}],
        "inputs": [[{"id": i, "property": "n_clicks", "value": 1 if i["format"] == "png" else 0} for i in ids]],
        "changedPropIds": ['{"chart":"by-month","format":"png","page":"pipeline","type":"export"}.n_clicks'],
        "state": state,
    }
    with exporter.slots.hold(user.id), exporter.slots.hold(user.id):
        answer = client.post("/_dash-update-component", json=body, headers=csrf_headers(client))
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    status = next(props["children"] for cid, props in answer.get_json()["response"].items() if "export-status" in cid)
    assert status.startswith("Export failed: you already have 2 exports in progress")
