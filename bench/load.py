"""Load test: simulated browser users against gunicorn, through the real sign-in form and Dash's callback endpoints.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench1m REDIS_URL=redis://127.0.0.1:6379/9 \\
        python bench/load.py --users 25,50,100,200 --duration 120 --think 5-15

DATABASE_URL names a migrated, seeded and refreshed database (the bench only adds users and reads). The bench
starts gunicorn with dashboard/gunicorn_conf.py on a loopback port (SCHEDULER_ENABLED=false, access log as
configured unless --quiet-log), or drives a server already running with --url. For each user count in --users
(one level after another against the same server), users arrive over --ramp seconds and each one:

1. signs in through the form: GET /login (for the CSRF token), POST /login (argon2id verification, 302);
2. loads the page the sign-in redirected to as a browser does: the index HTML, /_dash-layout, /_dash-dependencies,
   the router callback (Dash pages' `_pages_location` -> `_pages_content`), then every server callback whose inputs
   and outputs the rendered page holds and that is not `prevent_initial_call`, with the values the page rendered
   (payloads built from /_dash-dependencies exactly as the Dash renderer builds them);
3. loops until the level ends: think (--think, uniform), polling GET /api/v1/live every --poll seconds as an open
   page does, then either reloads a page (15 %), moves to another page (30 %: router and page callbacks, filters
   carried in the URL) or changes a filter (55 %: the server callbacks with that input). Selections are what people
   pick: mostly the page defaults (every facility in scope, the 12 months to the last complete month) and the
   standard windows (3, 6, 24 months), sometimes one or two of the user's own favourite facilities, a channel on
   the outreach page.

With --writer-rate N, a writer commits N new applications a second (random facilities, this month) for the whole
run while a `dashboard scheduler` process applies them live (LIVE_REFRESH, as in production), so every page sees new
data versions every second or so: page times under a steady stream of changes (issue 13's target: p95 < 300 ms for
50 users at 20 changes/s). The writer's rows are deleted again at the end.

Reported per level: requests/s, p50/p95/p99/max and errors per request kind and for "page requests" (everything but
sign-in and the live polls: what a person waits for), also split into the sign-in ramp and after it; the CPU each
process used (gunicorn master and workers, the PostgreSQL backends of this database, Redis, this generator) in cores;
the machine's load average and core count. --generator-cpus and --server-cpus pin the generator and gunicorn with
sched_setaffinity / taskset; on a machine with at least 4 cores they default to the last core for the generator and
the others for the server, on smaller ones nothing is pinned (the report says so).
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
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

import psutil
import psycopg

from auth.users import create_user
from dashboard.settings import parse_database_url
from data.engine import dispose_all, get_engine, psycopg_connection
from data.filters import CHANNELS, add_months, last_complete_month
from data.migrations import migrate

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "load test horse battery"
PAGES = {"overview": "/", "pipeline": "/pipeline", "compliance": "/compliance", "revenue": "/revenue",
         "outreach": "/outreach"}
ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
STALE_CONNECTION = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.CannotSendRequest, http.client.BadStatusLine)
SIGN_IN = ("login_form", "login")
POLL = "live poll"
KINDS = ("login_form", "login", "index", "layout", "dependencies", "router", "page callback", "filter callback",
         POLL)


@dataclass
class Sample:
    kind: str
    at: float  # monotonic time the request started
    ms: float


@dataclass
class Stats:
    """Every request's latency, and errors, shared by the user threads of one level."""

    samples: list[Sample] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    error_samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, at: float, ms: float) -> None:
        with self.lock:
            self.samples.append(Sample(kind, at, ms))

    def error(self, kind: str, detail: str) -> None:
        with self.lock:
            self.errors[kind] += 1
            if len(self.error_samples) < 10:
                self.error_samples.append(f"{kind}: {detail[:200]}")


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
        started = time.monotonic()
        try:
            status, answer_headers, data = self._send(method, path, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            self.stats.error(kind, f"{type(exc).__name__}: {exc}")
            self._close()
            return None
        self.stats.record(kind, started, (time.monotonic() - started) * 1000)
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
                 think: tuple[float, float], poll: float, rng: random.Random) -> None:
        self.account, self.client, self.deps, self.rng, self.think, self.poll = (account, client, deps, rng, think,
                                                                                   poll)
        scope = list(account.facilities) if account.role == "recruiter" else facilities
        self.favourites = sorted(rng.sample(scope, min(3, len(scope))))  # the facilities this person looks at
        self.default_end = f"{last_complete_month():%Y-%m}"
        self.filters: dict[str, Any] = {"facility": [], "start": None, "end": None, "channel": None}
        self.page = "overview"
        self.rendered: dict[str, dict[str, Any]] = {}  # component id -> props, from the last router answer
        self.next_poll = 0.0
        self.signed_in_at: float | None = None

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
        finally:
            if self.signed_in_at is None:
                self.signed_in_at = time.monotonic()

    def _run(self, stop: float) -> None:
        ok = self.sign_in()
        self.signed_in_at = time.monotonic()
        if not ok:
            return
        self.full_load(self.page)  # where the sign-in redirected to
        while time.monotonic() < stop:
            self.wait(self.rng.uniform(*self.think), stop)
            if time.monotonic() >= stop:
                break
            roll = self.rng.random()
            if roll < 0.15:
                self.full_load(self.rng.choice(list(PAGES)))
            elif roll < 0.45:
                self.navigate(self.rng.choice([p for p in PAGES if p != self.page]))
            else:
                self.change_filter()

    def wait(self, seconds: float, stop: float) -> None:
        """Think, polling /api/v1/live as the open page does (dcc.Interval, every LIVE_POLL_MS)."""
        until = min(stop, time.monotonic() + seconds)
        while True:
            now = time.monotonic()
            if self.poll <= 0 or self.next_poll >= until:
                time.sleep(max(0.0, until - now))
                return
            time.sleep(max(0.0, self.next_poll - now))
            unmasked = "on" in (self.rendered.get(f"{self.page}-unmasked", {}).get("value") or [])
            self.client.request(POLL, "GET", f"/api/v1/live?unmasked={int(unmasked)}")
            self.next_poll += self.poll

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
        # The filters as the page rendered them (defaults filled in, values out of scope left out).
        for name in ("facility", "start", "end", "channel"):
            props = self.rendered.get(f"{self.page}-{name}")
            if props is not None:
                self.filters[name] = props.get("value", props.get("data"))
        self.next_poll = time.monotonic() + self.poll
        for dep in self.initial_callbacks():
            self.post("page callback", self.payload(dep, changed=[]))

    def change_filter(self) -> None:
        roll = self.rng.random()
        end = self.default_end
        if roll < 0.3:  # back to the defaults: every facility in scope, the 12 months to the last complete month
            self.filters["facility"] = []
            self.filters["start"], self.filters["end"] = f"{add_months(_month(end), -11):%Y-%m}", end
            changed = self.rng.choice(["facility", "start"])
        elif roll < 0.65:  # a standard window ending at the last complete month
            months = self.rng.choice([3, 6, 24])
            self.filters["start"], self.filters["end"] = f"{add_months(_month(end), -(months - 1)):%Y-%m}", end
            changed = "start"
        elif roll < 0.9 or self.page != "outreach":  # one or two of this person's facilities, or all of them again
            count = self.rng.choice([0, 1, 1, 2])
            self.filters["facility"] = sorted(self.rng.sample(self.favourites, min(count, len(self.favourites))))
            changed = "facility"
        else:
            self.filters["channel"] = self.rng.choice([None, *CHANNELS])
            changed = "channel"
        changed_id = f"{self.page}-{changed}"
        for dep in self.page_deps():
            if any(i["id"] == changed_id for i in dep["inputs"]) and self.outputs_rendered(dep):
                self.post("filter callback",
                          self.payload(dep, changed=[f"{changed_id}.{self.prop(dep, changed_id)}"]))

    def page_deps(self) -> list[dict]:
        """Server callbacks of the current page (clientside ones run in the browser)."""
        prefix = f"{self.page}-"
        return [d for d in self.deps
                if not d.get("clientside_function") and d["inputs"]
                and all(isinstance(i["id"], str) and i["id"].startswith(prefix) for i in d["inputs"])]

    def initial_callbacks(self) -> list[dict]:
        """What the renderer fires once the router's layout is in: every callback whose inputs and outputs are all
        on the page, unless it is prevent_initial_call."""
        return [d for d in self.page_deps() if not d.get("prevent_initial_call")
                and all(i["id"] in self.rendered for i in d["inputs"]) and self.outputs_rendered(d)]

    def outputs_rendered(self, dep: dict) -> bool:
        return all(cid in self.rendered for cid, _ in _outputs(dep["output"]))

    @staticmethod
    def prop(dep: dict, component_id: str) -> str:
        return next(i["property"] for i in dep["inputs"] if i["id"] == component_id)

    def payload(self, dep: dict, changed: list[str]) -> dict[str, Any]:
        outputs = [{"id": cid, "property": prop} for cid, prop in _outputs(dep["output"])]
        inputs = [{"id": i["id"], "property": i["property"], "value": self.value(i["id"], i["property"])}
                  for i in dep["inputs"]]
        state = [{"id": s["id"], "property": s["property"], "value": self.value(s["id"], s["property"])}
                 for s in dep.get("state", [])]
        return {"output": dep["output"], "outputs": outputs if dep["output"].startswith("..") else outputs[0],
                "inputs": inputs, "changedPropIds": changed, "state": state}

    def value(self, component_id: str, prop: str) -> Any:
        """A filter's current value; any other input (a switch, a store) as the page rendered it."""
        name = component_id.split("-", 1)[1] if "-" in component_id else component_id
        if name in self.filters and component_id == f"{self.page}-{name}":
            return self.filters[name]
        return self.rendered.get(component_id, {}).get(prop)

    def post(self, kind: str, body: dict[str, Any]) -> bytes | None:
        # As Dash's renderer does: the CSRF token from the `_csrf_token` cookie in the X-CSRFToken header.
        headers = {"Content-Type": "application/json", "X-CSRFToken": self.client.cookies.get("_csrf_token", "")}
        return self.client.request(kind, "POST", "/_dash-update-component", json.dumps(body).encode(), headers)

    def search(self) -> str:
        pairs: list[tuple[str, Any]] = [("facility_id", f) for f in self.filters["facility"] or []]
        pairs += [(k, self.filters[k]) for k in ("start", "end") if self.filters[k]]
        if self.page == "outreach" and self.filters["channel"]:
            pairs.append(("channel", self.filters["channel"]))
        return "?" + urlencode(pairs) if pairs else ""


def _month(text: str) -> Any:
    return datetime.strptime(text, "%Y-%m").date()


def _outputs(output: str) -> list[tuple[str, str]]:
    """(component id, property) of each output of a callback's output string (single ids only)."""
    parts = output.strip(".").split("...") if output.startswith("..") else [output]
    return [tuple(p.rsplit(".", 1)) for p in parts if not p.startswith("{")]  # type: ignore[misc]


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
    migrate(engine)  # a database seeded by an older release gets the newer migrations first (idempotent)
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


def _cpu_set(text: str | None) -> set[int] | None:
    return {int(c) for c in text.split(",")} if text else None


def default_pinning(server: str | None, generator: str | None) -> tuple[set[int] | None, set[int] | None]:
    """CPU sets for the server and this generator: as given, else split when there are at least 4 cores."""
    cores = sorted(os.sched_getaffinity(0))
    server_set, generator_set = _cpu_set(server), _cpu_set(generator)
    if server_set is None and generator_set is None and len(cores) >= 4:
        generator_set, server_set = {cores[-1]}, set(cores[:-1])
    return server_set, generator_set


class Writer:
    """Commits `rate` new applications a second, then deletes them; `dashboard scheduler` applies them live."""

    def __init__(self, database_url: str, rate: float, facilities: list[int], log: Path) -> None:
        self.rate, self.facilities, self.ids = rate, facilities, []
        self.conninfo = database_url.replace("postgresql+psycopg://", "postgresql://", 1)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._write, daemon=True)
        env = {**os.environ, "DATABASE_URL": database_url, "LIVE_REFRESH": "true", "LOG_LEVEL": "WARNING"}
        self.scheduler = subprocess.Popen([sys.executable, "-c", "from dashboard.cli import main; main()",
                                           "scheduler"], cwd=ROOT, env=env, stdout=log.open("w"),
                                          stderr=subprocess.STDOUT, start_new_session=True)

    def start(self) -> None:
        self.thread.start()

    def _write(self) -> None:
        rng = random.Random(7)
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            next_at = time.monotonic()
            while not self.stop.is_set():
                row = conn.execute("insert into recruiting.applications (facility_id, channel, applied_at)"
                                   " values (%s, 'sms', now()) returning id", (rng.choice(self.facilities),))
                self.ids.append(row.fetchone()[0])
                next_at += 1 / self.rate
                time.sleep(max(0.0, next_at - time.monotonic()))

    def close(self) -> int:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join()
        os.killpg(self.scheduler.pid, signal.SIGTERM)
        self.scheduler.wait(timeout=60)
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute("delete from recruiting.applications where id = any(%s)", (self.ids,))
        return len(self.ids)


def start_server(database_url: str, port: int, workers: int | None, threads: int | None, log: Path,
                 cpus: set[int] | None, access_log: bool) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": uuid.uuid4().hex,
           "SESSION_COOKIE_SECURE": "false", "SCHEDULER_ENABLED": "false", "GUNICORN_BIND": f"127.0.0.1:{port}",
           "LOG_LEVEL": "INFO"}
    if not access_log:
        env["GUNICORN_ACCESS_LOG"] = "off"
    if workers:
        env["WEB_CONCURRENCY"] = str(workers)
    if threads:
        env["GUNICORN_THREADS"] = str(threads)
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "dashboard" / "gunicorn_conf.py"),
               "dashboard.wsgi:server"]
    if cpus:
        command = ["taskset", "-c", ",".join(map(str, sorted(cpus))), *command]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
                               start_new_session=True)
    deadline = time.monotonic() + 90
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


class CpuMeter:
    """CPU seconds (user + system) of the processes that serve the test, read from /proc through psutil."""

    def __init__(self, master_pid: int | None, database: str) -> None:
        self.master = psutil.Process(master_pid) if master_pid else None
        self.database = database
        self.me = psutil.Process()

    def groups(self) -> dict[str, list[psutil.Process]]:
        out: dict[str, list[psutil.Process]] = defaultdict(list)
        if self.master is not None:
            out["gunicorn master"].append(self.master)
            for n, child in enumerate(sorted(self.master.children(), key=lambda p: p.pid)):
                out[f"gunicorn worker {n + 1}"].append(child)
        for proc in psutil.process_iter(["name", "cmdline"]):
            try:
                title = " ".join(proc.info["cmdline"] or [])
                if title.startswith("postgres: ") and f" {self.database} " in f" {title} ":
                    out["postgres backends of the database"].append(proc)
                elif (proc.info["name"] or "").startswith("redis-server"):
                    out["redis-server (shared)"].append(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        out["load generator"].append(self.me)
        return out

    def snapshot(self) -> dict[str, dict[int, float]]:
        """CPU seconds per process id, per group."""
        out: dict[str, dict[int, float]] = {}
        for group, procs in self.groups().items():
            seen = out.setdefault(group, {})
            for proc in procs:
                try:
                    times = proc.cpu_times()
                    seen[proc.pid] = times.user + times.system
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
        return out

    @staticmethod
    def used(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
        """CPU seconds each group used between two snapshots (processes that came and went count what they had)."""
        out = {}
        for group, pids in after.items():
            old = before.get(group, {})
            out[group] = sum(cpu - old.get(pid, 0.0) for pid, cpu in pids.items())
        return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


@dataclass
class Level:
    users: int
    stats: Stats
    elapsed: float
    ramp_end: float  # monotonic time the last user signed in (or gave up)
    started: float
    cpu: dict[str, float]
    machine_busy: float  # share of all cores busy (psutil.cpu_percent over the level)
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    rss: list[int]


def run_level(users: int, args: argparse.Namespace, accounts: list[Account], facilities: list[int],
              deps: list[dict], host: str, port: int, meter: CpuMeter, level_seed: int) -> Level:
    think = tuple(float(x) for x in args.think.split("-", 1))
    stats = Stats()
    keepalive = 4.5  # below gunicorn_conf's keepalive (5 s)
    load_before = os.getloadavg()
    cpu_before = meter.snapshot()
    psutil.cpu_percent(None)
    started = time.monotonic()
    stop = started + args.duration
    threads, simulated = [], []
    for n, account in enumerate(assign(accounts, users)):
        user = User(account, Client(host, port, stats, keepalive), deps, facilities, think, args.poll,
                    random.Random(level_seed * 1000 + n))
        thread = threading.Thread(target=user.run, args=(stop,), daemon=True)
        threads.append(thread)
        simulated.append(user)
        delay = started + args.ramp * n / max(1, users) - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        thread.start()
    next_rss = started + args.rss_every if args.rss_every else None
    while any(t.is_alive() for t in threads):
        time.sleep(0.5)
        if next_rss and time.monotonic() >= next_rss and time.monotonic() < stop:
            print(f"t={time.monotonic() - started:5.0f} s worker RSS MiB {worker_rss(meter)}", flush=True)
            next_rss += args.rss_every
    elapsed = time.monotonic() - started
    busy = psutil.cpu_percent(None)
    cpu = CpuMeter.used(cpu_before, meter.snapshot())
    ramp_end = max((u.signed_in_at for u in simulated if u.signed_in_at is not None), default=started)
    return Level(users, stats, elapsed, ramp_end, started, cpu, busy, load_before, os.getloadavg(), worker_rss(meter))


def worker_rss(meter: CpuMeter) -> list[int]:
    if meter.master is None:
        return []
    try:
        return sorted(c.memory_info().rss // 2**20 for c in meter.master.children())
    except psutil.NoSuchProcess:
        return []


def report(level: Level, args: argparse.Namespace, pinning: str) -> None:
    stats, elapsed = level.stats, level.elapsed
    by_kind: dict[str, list[float]] = defaultdict(list)
    for s in stats.samples:
        by_kind[s.kind].append(s.ms)
    page = [s for s in stats.samples if s.kind not in (*SIGN_IN, POLL)]
    during = [s.ms for s in page if s.at <= level.ramp_end]
    after = [s.ms for s in page if s.at > level.ramp_end]
    la, lb = level.load_before, level.load_after
    print(f"\n### {level.users} users, think {args.think} s, poll {args.poll:g} s, ramp {args.ramp:g} s, "
          f"{elapsed:.0f} s\n")
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; nproc {os.cpu_count()}; load average before "
          f"{la[0]:.2f} {la[1]:.2f} {la[2]:.2f}, after {lb[0]:.2f} {lb[1]:.2f} {lb[2]:.2f}; machine busy "
          f"{level.machine_busy:.0f} % of all cores; {pinning}; last sign-in done at "
          f"{level.ramp_end - level.started:.1f} s\n")
    print("| requests | kind | req/s | p50 | p95 | p99 | max | errors |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    order = [k for k in KINDS if k in by_kind] + sorted(k for k in by_kind if k not in KINDS)
    rows = [(k, by_kind[k], stats.errors.get(k, 0)) for k in order]
    page_errors = sum(n for k, n in stats.errors.items() if k not in (*SIGN_IN, POLL))
    rows += [("**page requests** (all but sign-in and polls)", [s.ms for s in page], page_errors),
             ("page requests during the sign-in ramp", during, None),
             ("page requests after the last sign-in", after, None),
             ("all", [s.ms for s in stats.samples], sum(stats.errors.values()))]
    for kind, values, errors in rows:
        if values:
            print(f"| {len(values)} | {kind} | {len(values) / elapsed:.1f} | {statistics.median(values):.0f} ms | "
                  f"{percentile(values, 0.95):.0f} ms | {percentile(values, 0.99):.0f} ms | {max(values):.0f} ms | "
                  f"{'' if errors is None else errors} |")
    if stats.errors:
        print(f"\nerrors: {dict(stats.errors)}")
        for sample in stats.error_samples:
            print(f"  {sample}")
    print("\n| process | CPU s | cores (CPU s / wall s) |")
    print("| --- | ---: | ---: |")
    for group, seconds in level.cpu.items():
        print(f"| {group} | {seconds:.1f} | {seconds / elapsed:.2f} |")
    server = sum(v for k, v in level.cpu.items() if k.startswith("gunicorn"))
    print(f"| gunicorn in all | {server:.1f} | {server / elapsed:.2f} |")
    if level.rss:
        print(f"\nworker RSS MiB at the end: {level.rss}")


def api_report(client: Client, stats: Stats, repeat: int) -> None:
    """Each JSON API dataset with the default query, `repeat` times in a row through the server (the first call may
    build the answer; the rest are what a dashboard or script polling the API waits for)."""
    load = os.getloadavg()
    print(f"\n### JSON API through gunicorn, default query, {repeat} GETs in a row per dataset (admin session); "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")
    print("| dataset | first | p50 (rest) | p95 (rest) | max (rest) | errors |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for dataset in ("pipeline", "compliance", "revenue", "outreach", "kpis"):
        kind = f"api {dataset}"
        for _ in range(repeat):
            client.request(kind, "GET", f"/api/v1/analytics/{dataset}")
        times = [x.ms for x in stats.samples if x.kind == kind]
        rest = times[1:] or times
        print(f"| {dataset} | {times[0]:.1f} ms | {statistics.median(rest):.1f} ms | {percentile(rest, 0.95):.1f} ms "
              f"| {max(rest):.1f} ms | {stats.errors.get(kind, 0)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="100", help="user counts, one level each: e.g. 25,50,100,200")
    parser.add_argument("--duration", type=float, default=120.0, help="seconds per level, from the first arrival")
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds over which a level's users arrive")
    parser.add_argument("--think", default="5-15", help="seconds between a user's actions: MIN-MAX (uniform)")
    parser.add_argument("--poll", type=float, default=5.0, help="seconds between an open page's /api/v1/live "
                        "polls (the page's LIVE_POLL_MS); 0: no polls")
    parser.add_argument("--url", help="drive a running server instead of starting gunicorn")
    parser.add_argument("--workers", type=int, help="WEB_CONCURRENCY for the started gunicorn")
    parser.add_argument("--threads", type=int, help="GUNICORN_THREADS for the started gunicorn")
    parser.add_argument("--server-cpus", help="pin gunicorn to these cores (taskset), e.g. 0,1,2")
    parser.add_argument("--generator-cpus", help="pin this generator to these cores, e.g. 3")
    parser.add_argument("--quiet-log", action="store_true",
                        help="turn gunicorn's access log off (on by default, as the Procfile runs it; to the log file)")
    parser.add_argument("--rss-every", type=float, default=0.0, help="also print worker RSS every N seconds")
    parser.add_argument("--pause", type=float, default=10.0, help="seconds between levels")
    parser.add_argument("--api-repeat", type=int, default=50, help="GETs per JSON API dataset after the levels "
                        "(0: none)")
    parser.add_argument("--writer-rate", type=float, default=0.0,
                        help="new applications committed per second during the run, applied live by a "
                             "`dashboard scheduler` process (0: no writer)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    levels = [int(n) for n in args.users.split(",")]
    rng = random.Random(args.seed)

    server_cpus, generator_cpus = default_pinning(args.server_cpus, args.generator_cpus)
    if generator_cpus:
        os.sched_setaffinity(0, generator_cpus)  # before any thread starts: they inherit it (as with taskset)
    pinning = (f"server on cores {sorted(server_cpus) if server_cpus else 'any'}, generator on cores "
               f"{sorted(generator_cpus) if generator_cpus else 'any'}")
    if not server_cpus and not generator_cpus:
        pinning = "nothing pinned (fewer than 4 cores: generator and server share them)"

    database_url = parse_database_url(os.environ.get("DATABASE_URL", ""))
    database = urlsplit(database_url.replace("postgresql+psycopg", "postgresql")).path.lstrip("/")
    accounts, facilities = make_accounts(database_url, max(levels), rng)
    dispose_all()
    workdir = Path(tempfile.mkdtemp(prefix="load-"))
    log = workdir / "gunicorn.log"
    process = None
    if args.url:
        parts = urlsplit(args.url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
    else:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        host = "127.0.0.1"
        process = start_server(database_url, port, args.workers, args.threads, log, server_cpus, not args.quiet_log)
    meter = CpuMeter(process.pid if process else None, database)
    writer = Writer(database_url, args.writer_rate, facilities, workdir / "scheduler.log") if args.writer_rate else None
    if writer is not None:
        writer.start()
        print(f"writer: {args.writer_rate:g} new applications/s, applied live by `dashboard scheduler`; log "
              f"{workdir / 'scheduler.log'}")
    print(f"gunicorn: {args.workers or 'conf'} workers x {args.threads or 'conf'} threads, access log "
          f"{'off' if args.quiet_log else 'on'}; log {log}")
    try:
        probe_stats = Stats()
        probe = Client(host, port, probe_stats, 4.5)
        admin = User(accounts[0], probe, [], facilities, (0, 0), 0, rng)
        if not admin.sign_in():
            raise SystemExit(f"sign-in failed: {probe_stats.error_samples}")
        deps = json.loads(probe.request("dependencies", "GET", "/_dash-dependencies") or b"[]")
        for n, users in enumerate(levels):
            if n:
                time.sleep(args.pause)
            level = run_level(users, args, accounts, facilities, deps, host, port, meter, args.seed + n)
            report(level, args, pinning)
            sys.stdout.flush()
        if args.api_repeat:
            api_report(probe, probe_stats, args.api_repeat)
    finally:
        if writer is not None:
            print(f"writer: {writer.close()} applications committed during the run (deleted again)")
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)
        dispose_all()
    if process is not None:
        found = re.findall(r"cache stats pid=\d+ hits=(\d+) misses=(\d+) views_hits=(\d+) views_misses=(\d+)",
                           log.read_text())
        counts = [sum(int(row[i]) for row in found) for i in range(4)]
        for label, hits, misses in (("dataset cache (masked views)", counts[2], counts[3]),
                                    ("all cache lookups", counts[0], counts[1])):
            ratio = hits / (hits + misses) if hits + misses else float("nan")
            print(f"{label}: {hits} hits, {misses} misses, hit ratio {ratio:.1%} (all levels, summed over "
                  f"{len(found)} workers' exit logs)")


if __name__ == "__main__":
    main()
