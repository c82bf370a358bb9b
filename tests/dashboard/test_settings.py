"""PROXY_FIX_HOPS: parsed strictly, off by default, and when on the client address comes from X-Forwarded-For."""

from __future__ import annotations

import pytest
from flask import Flask, request

from dashboard.app import trust_proxies
from dashboard.settings import SettingsError, load_settings

BASE = {"SECRET_KEY": "x"}


@pytest.mark.parametrize(("raw", "hops"), [(None, 0), ("", 0), ("0", 0), ("1", 1), (" 2 ", 2)])
def test_proxy_fix_hops_parsed(raw: str | None, hops: int) -> None:
    env = BASE if raw is None else {**BASE, "PROXY_FIX_HOPS": raw}
    assert load_settings(env).proxy_fix_hops == hops


@pytest.mark.parametrize("raw", ["-1", "one", "1.5", "6"])
def test_proxy_fix_hops_rejects_bad_values(raw: str) -> None:
    with pytest.raises(SettingsError, match="PROXY_FIX_HOPS"):
        load_settings({**BASE, "PROXY_FIX_HOPS": raw})


def _remote_addr_app(hops: int) -> Flask:
    server = Flask(__name__)
    server.add_url_rule("/ip", "ip", lambda: f"{request.remote_addr} {request.scheme}")
    trust_proxies(server, hops)
    return server


@pytest.mark.parametrize(
    ("hops", "expected"),
    [(0, "10.0.0.9 http"), (1, "203.0.113.7 https"), (2, "198.51.100.1 https")],
)
def test_trust_proxies_takes_client_from_forwarded_headers(hops: int, expected: str) -> None:
    client = _remote_addr_app(hops).test_client()
    answer = client.get(
        "/ip",
        headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.7", "X-Forwarded-Proto": "https, https"},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert answer.get_data(as_text=True) == expected


def test_live_refresh_settings_default_and_override() -> None:
    defaults = load_settings(BASE)
    assert (defaults.live_refresh, defaults.live_refresh_debounce_ms, defaults.live_refresh_sweep_ms) == (
        True, 1000, 60_000)
    changed = load_settings({**BASE, "LIVE_REFRESH": "false", "LIVE_REFRESH_DEBOUNCE_MS": "0",
                             "LIVE_REFRESH_SWEEP_INTERVAL": "5000"})
    assert (changed.live_refresh, changed.live_refresh_debounce_ms, changed.live_refresh_sweep_ms) == (False, 0, 5000)


@pytest.mark.parametrize(
    ("name", "raw"),
    [("LIVE_REFRESH", "sometimes"), ("LIVE_REFRESH_DEBOUNCE_MS", "-1"), ("LIVE_REFRESH_DEBOUNCE_MS", "1s"),
     ("LIVE_REFRESH_SWEEP_INTERVAL", "999")],
)
def test_live_refresh_settings_reject_bad_values(name: str, raw: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({**BASE, name: raw})
