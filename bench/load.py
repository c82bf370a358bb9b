"""Load test: N simulated browser users against gunicorn through the real sign-in form and Dash callback endpoints.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench1m REDIS_URL=redis://127.0.0.1:6379/9 \\
        python bench/load.py --users 100 --duration 60

DATABASE_URL names a migrated, seeded and refreshed database (the bench only adds users and reads). The bench
starts gunicorn with dashboard/gunicorn_conf.py on a loopback port (SCHEDULER_ENABLED=false, so nothing is
refreshed), or drives a server already running with --url. Users arrive over --ramp seconds: a recruiter, viewer or
admin signs in through /login (CSRF token and all), then loops until the end: a full page load (index HTML,
/_dash-layout, /_dash-dependencies, the router callback, the page's callbacks), a move to another page (router and
page callbacks, filters carried in the URL) or a filter change (the callbacks whose inputs changed), each followed by
a think time. Payloads are built from /_dash-dependencies exactly as the Dash renderer builds them.

Reports requests/s, p50/p95/p99 latency per request kind and overall, errors and the dataset cache hit ratio
(summed over workers from the counts each gunicorn worker logs on exit; with --url, one worker's
/api/v1/analytics/health before and after), and the RSS of the workers at start and end.
"""

# ruff: noqa: E402
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path and this file would shadow the `pages` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import http.client
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

from auth.users import create_user
from dashboard.settings import parse_database_url
from data.engine import dispose_all, get_engine
from data.filters import CHANNELS, add_months, current_month

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "load test horse battery"
PAGES = {"overview": "/", "pipeline": "/pipeline", "compliance": "/compliance", "revenue": "/revenue",
         "outreach": "/outreach"}
ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
STALE_CONNECTION = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.CannotSendRequest, http.client.BadStatusLine)


@dataclass
class Stats:
    """Latencies (ms) by request kind, and errors, shared by every user thread."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, ms: float) -> None:
        with self.lock:
            self.latencies[kind].append(ms)

    def error(self, kind: str, detail: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            if len(self.samples) < 10:
                self.samples.append(f"{kind}: {detail[:200]}")


class Client:
    """One browser: a keep-alive connection, its cookies, timed requests."""

    def __init__(self, host: str, port: int, stats: Stats, keepalive: float) -> None:
        self.host, self.port, self.stats, self.keepalive = host, port, stats, keepalive
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None
        self.last_used = 0.0

    def request(self, kind: str, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, expect: tuple[int, ...] = (200, 204)) -> bytes | None:
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        try:
            status, answer_headers, data = self._send(method, path, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            self.stats.error(kind, f"{type(exc).__name__}: {exc}")
            self._close()
            return None
        self.stats.record(kind, (time.perf_counter() - started) * 1000)
        for value in answer_headers:
            cookie = SimpleCookie(value)
            self.cookies.update({name: morsel.value for name, morsel in cookie.items()})
        if status not in expect:
            self.stats.error(kind, f"HTTP {status} {method} {path}: {data[:150]!r}")
            return None
        return data

    def _send(self, method: str, path: str, body: bytes | None, headers: dict[str, str]) -> tuple:
        # A browser reopens a keep-alive connection the server closed while the user was thinking.
        if self.conn is not None and time.monotonic() - self.last_used > self.keepalive:
            self._close()
        for attempt in (1, 2):
            fresh = self.conn is None
            if fresh:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                answer = self.conn.getresponse()
                data = answer.read()
                self.last_used = time.monotonic()
                if answer.will_close:
                    self._close()
                return answer.status, answer.headers.get_all("Set-Cookie") or [], data
            except STALE_CONNECTION:
                self._close()
                if fresh or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None


@dataclass(frozen=True)
class Account:
    email: str
    role: str
    facilities: tuple[int, ...]


class User:
    """A simulated person: signs in, then loads pages, moves between them and changes filters until `stop`."""

    def __init__(self, account: Account, client: Client, deps: list[dict], facilities: list[int],
                 think: tuple[float, float], rng: random.Random) -> None:
        self.account, self.client, self.deps, self.rng, self.think = account, client, deps, rng, think
        self.choices = list(account.facilities) if account.role == "recruiter" else facilities
        end = current_month()
        self.filters = {"facility": [], "start": f"{add_months(end, -11):%Y-%m}", "end": f"{end:%Y-%m}",
                        "channel": None}
        self.page = "overview"
        self.rendered: dict[str, dict[str, Any]] = {}  # component id -> props, from the last router answer

    def sign_in(self) -> bool:
        page = self.client.request("login_form", "GET", "/login")
        token = CSRF.search(page.decode()) if page else None
        if token is None:
            return False
        form = urlencode({"email": self.account.email, "password": PASSWORD, "csrf_token": token.group(1)})
        answer = self.client.request("login", "POST", "/login", form.encode(),
                                     {"Content-Type": "application/x-www-form-urlencoded"}, expect=(302,))
        return answer is not None

    def run(self, stop: float) -> None:
        try:
            self._run(stop)
        except Exception as exc:  # a bug in the simulation counts as an error, never a silently idle user
            self.client.stats.error("crash", f"{type(exc).__name__}: {exc}")

    def _run(self, stop: float) -> None:
        if not self.sign_in():
            return
        self.full_load(self.page)
        while time.monotonic() < stop:
            time.sleep(self.rng.uniform(*self.think))
            if time.monotonic() >= stop:
                break
            roll = self.rng.random()
            if roll < 0.2:
                self.full_load(self.rng.choice(list(PAGES)))
            elif roll < 0.5:
                self.navigate(self.rng.choice([p for p in PAGES if p != self.page]))
            else:
                self.change_filter()

    def full_load(self, page: str) -> None:
        self.page = page
        self.client.request("index", "GET", PAGES[page] + self.search())
        self.client.request("layout", "GET", "/_dash-layout")
        self.client.request("dependencies", "GET", "/_dash-dependencies")
        self.route_and_render()

    def navigate(self, page: str) -> None:
        self.page = page
        self.route_and_render()

    def route_and_render(self) -> None:
        body = {"output": ROUTER_OUTPUT,
                "outputs": [{"id": "_pages_content", "property": "children"},
                            {"id": "_pages_store", "property": "data"}],
                "inputs": [{"id": "_pages_location", "property": "pathname", "value": PAGES[self.page]},
                           {"id": "_pages_location", "property": "search", "value": self.search()}],
                "changedPropIds": ["_pages_location.pathname", "_pages_location.search"], "state": []}
        answer = self.post("router", body)
        if answer is None:
            return
        self.rendered = {}
        _collect_props(json.loads(answer)["response"]["_pages_content"]["children"], self.rendered)
        for dep in self.page_callbacks(initial=True):
            self.post("callback", self.payload(dep, changed=[]))

    def change_filter(self) -> None:
        roll, end = self.rng.random(), current_month()
        if roll < 0.45:
            count = self.rng.choice([0, 1, 2, 3] if self.account.role == "recruiter" else [0, 1, 3, 10])
            self.filters["facility"] = sorted(self.rng.sample(self.choices, min(count, len(self.choices))))
            changed = "facility"
        elif roll < 0.85 or self.page != "outreach":
            months = self.rng.choice([3, 6, 12, 24])
            last = add_months(end, -self.rng.choice([0, 0, 1, 3]))
            self.filters["start"], self.filters["end"] = f"{add_months(last, -(months - 1)):%Y-%m}", f"{last:%Y-%m}"
            changed = self.rng.choice(["start", "end"])
        else:
            self.filters["channel"] = self.rng.choice([None, *CHANNELS])
            changed = "channel"
        changed_id = f"{self.page}-{changed}"
        for dep in self.page_callbacks(initial=False):
            if any(i["id"] == changed_id for i in dep["inputs"]):
                self.post("filter", self.payload(dep, changed=[f"{changed_id}.{self.prop(dep, changed_id)}"]))

    def page_callbacks(self, *, initial: bool) -> list[dict]:
        prefix = f"{self.page}-"
        return [d for d in self.deps
                if not d.get("clientside_function") and d["inputs"]
                and all(i["id"].startswith(prefix) for i in d["inputs"])
                and not (initial and d.get("prevent_initial_call"))]

    @staticmethod
    def prop(dep: dict, component_id: str) -> str:
        return next(i["property"] for i in dep["inputs"] if i["id"] == component_id)

    def payload(self, dep: dict, changed: list[str]) -> dict[str, Any]:
        parts = [p.rsplit(".", 1) for p in dep["output"].strip(".").split("...")]
        outputs = [{"id": cid, "property": prop} for cid, prop in parts]
        inputs = [{"id": i["id"], "property": i["property"], "value": self.value(i["id"], i["property"])}
                  for i in dep["inputs"]]
        return {"output": dep["output"], "outputs": outputs if dep["output"].startswith("..") else outputs[0],
                "inputs": inputs, "changedPropIds": changed, "state": []}

    def value(self, component_id: str, prop: str) -> Any:
        """A filter's current value; any other input (a switch, say) as the page rendered it."""
        name = component_id.split("-", 1)[1]
        return self.filters[name] if name in self.filters else self.rendered.get(component_id, {}).get(prop)

    def post(self, kind: str, body: dict[str, Any]) -> bytes | None:
        # As Dash's renderer does: the CSRF token from the `_csrf_token` cookie in the X-CSRFToken header.
        headers = {"Content-Type": "application/json", "X-CSRFToken": self.client.cookies.get("_csrf_token", "")}
        return self.client.request(kind, "POST", "/_dash-update-component", json.dumps(body).encode(), headers)

    def search(self) -> str:
        pairs = [("facility_id", f) for f in self.filters["facility"]]
        pairs += [(k, self.filters[k]) for k in ("start", "end")]
        if self.page == "outreach" and self.filters["channel"]:
            pairs.append(("channel", self.filters["channel"]))
        return "?" + urlencode(pairs)


def _collect_props(node: Any, out: dict[str, dict[str, Any]]) -> None:
    """Walk a serialised Dash component tree, keeping the props of every component with a string id."""
    if isinstance(node, list):
        for child in node:
            _collect_props(child, out)
    elif isinstance(node, dict) and isinstance(node.get("props"), dict):
        props = node["props"]
        if isinstance(props.get("id"), str):
            out[props["id"]] = props
        for value in props.values():
            if isinstance(value, list | dict):
                _collect_props(value, out)


def make_accounts(database_url: str, users: int, rng: random.Random) -> tuple[list[Account], list[int]]:
    """A small pool of real accounts (most users share one, as colleagues' sessions would): 60 % recruiters."""
    engine = get_engine(database_url)
    from data.engine import psycopg_connection

    with psycopg_connection(engine) as conn:
        facilities = [row[0] for row in conn.execute("select id from recruiting.facilities order by id")]
    run = uuid.uuid4().hex[:6]
    accounts = [Account(f"load-admin-{run}@bench.example", "admin", ())]
    for i in range(max(1, min(20, users * 6 // 10 // 3))):
        accounts.append(Account(f"load-recruiter{i}-{run}@bench.example", "recruiter",
                                tuple(sorted(rng.sample(facilities, min(5, len(facilities)))))))
    for i in range(max(1, min(10, users * 4 // 10 // 3))):
        accounts.append(Account(f"load-viewer{i}-{run}@bench.example", "viewer", ()))
    for account in accounts:
        create_user(engine, account.email, PASSWORD, account.role, account.facilities)
    return accounts, facilities


def assign(accounts: list[Account], users: int) -> list[Account]:
    """One admin user; of the rest 60 % recruiters and 40 % viewers, spread over the accounts of each role."""
    by_role = {role: [a for a in accounts if a.role == role] for role in ("admin", "recruiter", "viewer")}
    out = [by_role["admin"][0]]
    for n in range(users - 1):
        role = "recruiter" if n % 5 < 3 else "viewer"
        out.append(by_role[role][n % len(by_role[role])])
    return out


def start_server(database_url: str, port: int, workers: int | None, threads: int | None,
                 log: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": uuid.uuid4().hex,
           "SESSION_COOKIE_SECURE": "false", "SCHEDULER_ENABLED": "false", "GUNICORN_BIND": f"127.0.0.1:{port}",
           "GUNICORN_ACCESS_LOG": "off", "LOG_LEVEL": "INFO"}
    if workers:
        env["WEB_CONCURRENCY"] = str(workers)
    if threads:
        env["GUNICORN_THREADS"] = str(threads)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "dashboard" / "gunicorn_conf.py"), "dashboard.wsgi:server"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{log.read_text()[-2000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                time.sleep(5)  # the first worker answered; give the others time to finish building their app
                return process
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not become healthy:\n{log.read_text()[-2000:]}")


def worker_rss(master_pid: int | None) -> list[int]:
    """RSS in MiB of each gunicorn worker (children of the master), when psutil is available."""
    if master_pid is None:
        return []
    try:
        import psutil
    except ImportError:
        return []
    return sorted(c.memory_info().rss // 2**20 for c in psutil.Process(master_pid).children())


def health_cache(client: Client) -> dict[str, Any] | None:
    data = client.request("health", "GET", "/api/v1/analytics/health")
    return json.loads(data)["cache"] if data else None


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds, from the first user's arrival")
    parser.add_argument("--ramp", type=float, default=20.0, help="seconds over which users arrive")
    parser.add_argument("--think", default="1-5", help="seconds between a user's actions: MIN-MAX (uniform)")
    parser.add_argument("--url", help="drive a running server instead of starting gunicorn")
    parser.add_argument("--workers", type=int, help="WEB_CONCURRENCY for the started gunicorn")
    parser.add_argument("--threads", type=int, help="GUNICORN_THREADS for the started gunicorn")
    parser.add_argument("--rss-every", type=float, default=0.0, help="also print worker RSS every N seconds")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    think = tuple(float(x) for x in args.think.split("-", 1))
    rng = random.Random(args.seed)

    database_url = parse_database_url(os.environ.get("DATABASE_URL", ""))
    accounts, facilities = make_accounts(database_url, args.users, rng)
    dispose_all()
    workdir = Path(tempfile.mkdtemp(prefix="load-"))
    log = workdir / "gunicorn.log"
    process = None
    if args.url:
        parts = urlsplit(args.url)
        host, port = parts.hostname, parts.port or 80
    else:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        host = "127.0.0.1"
        process = start_server(database_url, port, args.workers, args.threads, log)
    stats = Stats()
    keepalive = 4.5  # below gunicorn_conf's keepalive (5 s)
    try:
        probe = Client(host, port, stats, keepalive)
        admin = User(accounts[0], probe, [], facilities, think, rng)
        if not admin.sign_in():
            raise SystemExit(f"sign-in failed: {stats.samples}")
        deps = json.loads(probe.request("dependencies", "GET", "/_dash-dependencies"))
        before = health_cache(probe) if args.url else None
        stats.latencies.clear()
        rss_start = worker_rss(process.pid if process else None)
        started = time.monotonic()
        stop = started + args.duration
        threads = []
        for n, account in enumerate(assign(accounts, args.users)):
            user = User(account, Client(host, port, stats, keepalive), deps, facilities, think,
                        random.Random(args.seed * 1000 + n))
            thread = threading.Thread(target=user.run, args=(stop,), daemon=True)
            threads.append(thread)
            delay = started + args.ramp * n / max(1, args.users) - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            thread.start()
        next_rss = started + args.rss_every if args.rss_every else None
        while any(t.is_alive() for t in threads):
            time.sleep(0.5)
            if next_rss and time.monotonic() >= next_rss and time.monotonic() < stop:
                rss = worker_rss(process.pid if process else None)
                print(f"t={time.monotonic() - started:5.0f} s worker RSS MiB {rss}", flush=True)
                next_rss += args.rss_every
        elapsed = time.monotonic() - started
        rss_end = worker_rss(process.pid if process else None)
        after = health_cache(probe) if args.url else None
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
        dispose_all()

    if process is not None:
        found = re.findall(r"cache stats pid=\d+ hits=(\d+) misses=(\d+) views_hits=(\d+) views_misses=(\d+)",
                           log.read_text())
        counts = [sum(int(row[i]) for row in found) for i in range(4)]
        cache_note = f"summed over {len(found)} workers' exit logs"
    else:
        def delta(*path: str) -> int:
            if not (before and after):
                return 0
            a, b = after, before
            for step in path:
                a, b = a[step], b[step]
            return a - b

        counts = [delta("hits"), delta("misses"), delta("views", "hits"), delta("views", "misses")]
        cache_note = "one worker's /api/v1/analytics/health before and after"
    report(args, stats, elapsed, counts, cache_note, rss_start, rss_end)


def report(args: argparse.Namespace, stats: Stats, elapsed: float, counts: list[int], cache_note: str,
           rss_start: list[int], rss_end: list[int]) -> None:
    """`counts`: all cache lookups' hits and misses, then those of the masked-view layer (the dataset cache)."""
    everything = [v for values in stats.latencies.values() for v in values]
    interactive = [v for kind, values in stats.latencies.items() if kind not in ("login", "login_form")
                   for v in values]
    errors = sum(stats.errors.values())
    print(f"\n{args.users} users ({args.ramp:.0f} s ramp, think {args.think} s), {elapsed:.0f} s, "
          f"{os.cpu_count()} cores, workers x threads = {args.workers or 'conf'} x {args.threads or 'conf'}\n")
    print("| requests | kind | req/s | p50 | p95 | p99 | max |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    rows = sorted(stats.latencies.items(), key=lambda kv: -len(kv[1]))
    rows += [("all but sign-in", interactive), ("all", everything)]
    for kind, values in rows:
        if values:
            print(f"| {len(values)} | {kind} | {len(values) / elapsed:.1f} | {statistics.median(values):.0f} ms | "
                  f"{percentile(values, 0.95):.0f} ms | {percentile(values, 0.99):.0f} ms | {max(values):.0f} ms |")
    print(f"\nerrors: {errors} {dict(stats.errors) if errors else ''}")
    for sample in stats.samples:
        print(f"  {sample}")
    for label, hits, misses in (("dataset cache (masked views)", counts[2], counts[3]),
                                ("all cache lookups (views, per-selection totals and figures)", counts[0], counts[1])):
        ratio = hits / (hits + misses) if hits + misses else float("nan")
        print(f"{label}: {hits} hits, {misses} misses, hit ratio {ratio:.1%} ({cache_note})")
    if rss_start or rss_end:
        print(f"worker RSS MiB: start {rss_start}, end {rss_end}")


if __name__ == "__main__":
    main()
