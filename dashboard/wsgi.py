"""WSGI entry point for gunicorn: `gunicorn dashboard.wsgi:server`."""

import sys

from dashboard.app import create_app
from dashboard.settings import SettingsError, load_settings

try:
    _settings = load_settings()
except SettingsError as exc:
    print(f"Error: {exc}", file=sys.stderr)
    # 3 is gunicorn's "worker failed to boot": it stops instead of respawning the worker forever.
    raise SystemExit(3) from None

server = create_app(_settings).server
