"""gunicorn settings sized from the machine: `gunicorn -c dashboard/gunicorn_conf.py dashboard.wsgi:server`.

Every value can be overridden from the environment (WEB_CONCURRENCY, GUNICORN_*); docs/SCALING.md explains the
sizing and what each worker holds.

Page callbacks are CPU-bound Python (pandas, plotly, JSON) holding the GIL, with short waits on Redis and
PostgreSQL. So: one worker process per core and a few threads per worker to overlap those waits and keep slow
clients from blocking a process. Measured with bench/load.py at 1M applications on 2 cores (docs/PERFORMANCE.md,
"Concurrency"): 2 workers x 4 threads and 4 x 2 gave the same page p95 at 100 users (68 and 73 ms, warm caches),
and under saturation the latency followed the CPU the server got, not the split; more workers only add about
250 MiB each and a cold per-process cache. What had capped the server at about one core was sign-in: argon2id
with argon2-cffi's defaults (4 lanes on 4 threads, 64 MiB, 240 ms of CPU per verification) ran outside the GIL on
every request thread at once and starved the page requests of both workers; auth/passwords.py now hashes at
OWASP's minimum (27 ms) and one at a time per process.

Each worker builds its own app (`preload_app = False`): building it opens a PostgreSQL pool and Redis clients and,
with SCHEDULER_ENABLED, starts the refresh scheduler thread; none of these survive a fork. Every worker then runs a
scheduler of its own, which is safe (a refresh takes a PostgreSQL advisory lock, so each one still happens once) but
redundant: in production set SCHEDULER_ENABLED=false on the web processes and run `dashboard scheduler` once (the
Procfile's `scheduler:` line, the compose file's `scheduler` service).
"""

from __future__ import annotations

import multiprocessing
import os

from dashboard.settings import Settings, SettingsError, load_settings


def _settings() -> Settings:
    """Every variable the app reads, checked here before any worker starts: a bad one is one line, not a traceback
    from each worker."""
    try:
        return load_settings()
    except SettingsError as exc:
        raise SystemExit(f"Error: {exc}") from None


SETTINGS = _settings()


def _env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SystemExit(f"{name} must be at least {minimum}, got {value}")
    return value


# The cores this process may run on (a container's cpuset), not the host's; a CPU quota (docker --cpus) is not
# visible here: set WEB_CONCURRENCY to match it.
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else multiprocessing.cpu_count()

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8050')}")
workers = _env_int("WEB_CONCURRENCY", max(2, CORES), minimum=1)
worker_class = "gthread"
threads = _env_int("GUNICORN_THREADS", 4, minimum=1)
preload_app = False

# A request slower than this is killed with its worker (the in-flight requests of that worker get 502). Refreshes
# run in the background and answer 202 at once; the slowest synchronous requests are PDF reports (a few seconds).
timeout = _env_int("GUNICORN_TIMEOUT", 60, minimum=1)
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30, minimum=1)
keepalive = _env_int("GUNICORN_KEEPALIVE", 5, minimum=0)  # behind a load balancer: above its idle timeout
# Recycle a worker after this many requests (plus jitter) to bound slow leaks; 0 = never. Off by default: a new
# worker rebuilds the app (a few seconds of one core) and starts with a cold per-process cache.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max(1, max_requests // 10) if max_requests else 0

# Logs to stdout/stderr (12-factor); GUNICORN_ACCESS_LOG=off silences the access log (the load test does).
_access = os.environ.get("GUNICORN_ACCESS_LOG", "-").strip()
accesslog = None if _access.lower() in {"off", "none", ""} else _access
errorlog = "-"
loglevel = SETTINGS.log_level.lower()
# Combined log format plus the request time in milliseconds (%(M)s).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'

# Heartbeat files on tmpfs: a container's overlay filesystem can stall the worker heartbeat.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# gunicorn 27's control socket (gunicornc) defaults to one path in $HOME: two servers on a host would share it,
# and a non-root container user may not own $HOME. Off unless GUNICORN_CONTROL_SOCKET names a path.
_control = os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip()
control_socket_disable = not _control
if _control:
    control_socket = _control

# X-Forwarded-* handling is the app's (PROXY_FIX_HOPS, werkzeug ProxyFix); gunicorn trusts exactly as much. With no
# proxy in front (0) nobody may claim HTTPS, not even 127.0.0.1; behind proxies only X-Forwarded-Proto counts, from
# FORWARDED_ALLOW_IPS (default: any peer, as ProxyFix: only the proxies can reach the app). No forwarded paths.
if SETTINGS.proxy_fix_hops == 0:
    forwarded_allow_ips = ""
    secure_scheme_headers: dict[str, str] = {}
else:
    forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "").strip() or "*"
    secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
forwarder_headers = ""


def on_starting(server) -> None:  # gunicorn hook: the master, before any worker starts
    """Refuse to start, in one line naming it, when the database or Redis does not answer."""
    from dashboard.health import ServiceUnreachable, check_services

    try:
        check_services(SETTINGS.database_url, SETTINGS.redis_url)
    except ServiceUnreachable as exc:
        server.log.error("%s", exc)
        raise SystemExit(f"Error: {exc}") from None


def worker_exit(server, worker) -> None:  # gunicorn hook: server is the Arbiter
    """Log this worker's dataset-cache hits and misses on its way out (bench/load.py reads them)."""
    from auth.context import services_of

    server_app = getattr(worker, "wsgi", None)
    bound = services_of(server_app) if server_app is not None and hasattr(server_app, "extensions") else None
    if bound is not None:
        stats = bound.analytics.cache.stats()
        server.log.info(
            "cache stats pid=%s hits=%s misses=%s views_hits=%s views_misses=%s schema=%s",
            worker.pid, stats["hits"], stats["misses"], stats["views"]["hits"], stats["views"]["misses"],
            stats["schema"],
        )


def post_worker_init(worker) -> None:  # gunicorn hook: the worker's app is built
    """Start the thread that builds the default selections whenever the data versions change (pages/warm.py);
    WARM_DEFAULTS=off leaves every first reader of a new version to build them."""
    if os.environ.get("WARM_DEFAULTS", "on").strip().lower() in {"off", "false", "0", "no"}:
        return
    from pages.warm import start_warmer

    server_app = getattr(worker, "wsgi", None)
    if server_app is not None and hasattr(server_app, "extensions"):
        start_warmer(server_app)
