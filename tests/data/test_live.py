"""Live refresh (migration 006, data/live.py): captured changes applied in batches keep every KPI store equal, row
for row, to a full recompute; concurrent writers lose nothing and double nothing; a failed batch changes nothing."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from data.engine import get_engine, psycopg_connection
from data.live import apply_changes, data_as_of, differences, freshness
from data.queries import fetch_dataset
from data.refresh import VIEWS, refresh_views
from data.seed import seed

MONTH0 = datetime(2025, 11, 1, tzinfo=UTC)
FACILITIES = (1, 2, 3)
PLACEMENTS = (1, 2, 3, 4)
EVENT_TABLES = ("outreach", "invoices", "placements", "compliance_checks", "applications")
NO_DIFFERENCES = dict.fromkeys(VIEWS, 0)
ANCHOR = 1  # the first application of every example, never deleted: outreach conversions point at it

# Instants over about three UTC months (few, so that neighbouring months of one facility are common), with month
# boundaries (and a microsecond either side) drawn often.
_boundaries = [MONTH0 + timedelta(days=d) + timedelta(microseconds=us)
               for d in (0, 30, 61) for us in (-1, 0, 1)]
instants = st.one_of(
    st.builds(lambda h, us: MONTH0 + timedelta(hours=h, microseconds=us),
              st.integers(-30, 24 * 80), st.sampled_from([0, 1, 123_457, 999_999])),
    st.sampled_from(_boundaries),
)
maybe_instant = st.one_of(st.none(), instants)
facility = st.sampled_from(FACILITIES)
money = st.decimals(min_value=0, max_value=5000, places=2, allow_nan=False, allow_infinity=False)
score = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)
severity = st.sampled_from(["low", "medium", "high", "critical"])
app_channel = st.sampled_from(["email", "sms", "phone", "job_board", "referral", "direct"])
outreach_channel = st.sampled_from(["email", "sms", "phone", "job_board", "referral"])

# Which rows a statement touches: rows picked by position among the table's current rows, or a whole facility.
selectors = st.one_of(
    st.tuples(st.just("rows"), st.lists(st.integers(0, 200), min_size=1, max_size=4)),
    st.tuples(st.just("facility"), facility),
)


@st.composite
def application_rows(draw):
    outcome = draw(st.sampled_from(["pending", "hired", "rejected"]))
    return (draw(facility), draw(app_channel), draw(instants), draw(maybe_instant), draw(maybe_instant),
            draw(maybe_instant), draw(instants) if outcome == "hired" else None,
            draw(instants) if outcome == "rejected" else None)


@st.composite
def check_rows(draw):
    passed = draw(st.booleans())
    return draw(facility), passed, draw(score), None if passed else draw(severity), draw(instants)


invoice_rows = st.tuples(st.one_of(st.none(), st.sampled_from(PLACEMENTS)), facility, money, instants)
outreach_rows = st.tuples(facility, outreach_channel, instants, maybe_instant, st.booleans())

# SET clauses (with their parameters) that keep every check constraint: hired and rejected exclude each other,
# passed = (severity is null). "candidate_id = null" changes nothing any KPI reads.
_noop = st.just(("candidate_id = null", ()))
application_sets = st.one_of(
    facility.map(lambda f: ("facility_id = %s", (f,))),
    instants.map(lambda t: ("applied_at = %s", (t,))),
    maybe_instant.map(lambda t: ("hired_at = %s, rejected_at = null", (t,))),
    maybe_instant.map(lambda t: ("rejected_at = %s, hired_at = null", (t,))),
    st.tuples(st.sampled_from(["screened_at", "interviewed_at", "offered_at"]), maybe_instant)
    .map(lambda c: (f"{c[0]} = %s", (c[1],))),
    st.tuples(facility, instants).map(lambda v: ("facility_id = %s, applied_at = %s", v)),
    _noop,
)
check_sets = st.one_of(
    facility.map(lambda f: ("facility_id = %s", (f,))),
    instants.map(lambda t: ("checked_at = %s", (t,))),
    st.just(("passed = true, severity = null", ())),
    severity.map(lambda s: ("passed = false, severity = %s", (s,))),
    score.map(lambda s: ("score = %s", (s,))),
    _noop,
)
invoice_sets = st.one_of(
    facility.map(lambda f: ("facility_id = %s", (f,))),
    instants.map(lambda t: ("invoiced_at = %s", (t,))),
    money.map(lambda m: ("amount = %s", (m,))),
    st.one_of(st.none(), st.sampled_from(PLACEMENTS)).map(lambda p: ("placement_id = %s", (p,))),
    st.just(("paid_at = invoiced_at", ())),
)
outreach_sets = st.one_of(
    facility.map(lambda f: ("facility_id = %s", (f,))),
    instants.map(lambda t: ("sent_at = %s", (t,))),
    outreach_channel.map(lambda c: ("channel = %s", (c,))),
    maybe_instant.map(lambda t: ("responded_at = %s", (t,))),
    st.booleans().map(lambda c: ("converted_application_id = %s", (ANCHOR if c else None,))),
    _noop,
)
INSERTS = {
    "applications": ("(facility_id, channel, applied_at, screened_at, interviewed_at, offered_at, hired_at,"
                     " rejected_at)", application_rows()),
    "compliance_checks": ("(facility_id, passed, score, severity, checked_at)", check_rows()),
    "invoices": ("(placement_id, facility_id, amount, invoiced_at)", invoice_rows),
    "outreach": ("(facility_id, channel, sent_at, responded_at, converted_application_id)",
                 outreach_rows.map(lambda r: (*r[:4], ANCHOR if r[4] else None))),
}
UPDATES = {"applications": application_sets, "compliance_checks": check_sets, "invoices": invoice_sets,
           "outreach": outreach_sets}

operations = st.one_of(
    st.sampled_from(list(INSERTS)).flatmap(
        lambda t: st.tuples(st.just("insert"), st.just(t), st.lists(INSERTS[t][1], min_size=1, max_size=4))),
    st.sampled_from(list(UPDATES)).flatmap(
        lambda t: st.tuples(st.just("update"), st.just(t), selectors, UPDATES[t])),
    st.tuples(st.just("delete"), st.sampled_from(list(INSERTS)), selectors),
    st.just(("commit",)),
    st.just(("apply",)),
    st.just(("apply",)),  # twice as likely: a batch between changes is where neighbours and netting matter
)


def reset(engine) -> None:
    """Empty the event tables (a TRUNCATE, which the next batch recomputes in full) and add the fixed rows."""
    with psycopg_connection(engine) as conn:
        conn.execute("truncate " + ", ".join(f"recruiting.{t}" for t in EVENT_TABLES) + " restart identity")
        for p in PLACEMENTS:
            conn.execute("insert into recruiting.placements (id, facility_id) values (%s, %s)", (p, 1 + p % 3))
        anchor = conn.execute("insert into recruiting.applications (facility_id, channel, applied_at)"
                              " values (1, 'email', %s) returning id", (MONTH0,)).fetchone()[0]
    assert anchor == ANCHOR
    assert {r.status for r in apply_changes(engine)} == {"full"}


def where(conn, table: str, selector) -> tuple[str, tuple]:
    kind, value = selector
    spare = " and id <> %s" if table == "applications" else ""
    extra = (ANCHOR,) if spare else ()
    if kind == "facility":
        return "facility_id = %s" + spare, (value, *extra)
    ids = [r[0] for r in conn.execute(f"select id from recruiting.{table} order by id").fetchall()]
    chosen = sorted({ids[i % len(ids)] for i in value}) if ids else []
    return "id = any(%s)" + spare, (chosen, *extra)


def run(engine, ops) -> None:
    """The operations on one connection, in one transaction until each "commit"; "apply" runs a batch elsewhere
    (it sees only what was committed). Ends with everything committed and one last batch."""
    with psycopg_connection(engine) as writer:
        for op in ops:
            if op[0] == "commit":
                writer.commit()
            elif op[0] == "apply":
                assert all(r.status in ("applied", "empty") for r in apply_changes(engine)), op
            elif op[0] == "insert":
                columns, _ = INSERTS[op[1]]
                values = ", ".join(["(" + ", ".join(["%s"] * len(op[2][0])) + ")"] * len(op[2]))
                writer.execute(f"insert into recruiting.{op[1]} {columns} values {values}",
                               [v for row in op[2] for v in row])
            elif op[0] == "update":
                clause, params = where(writer, op[1], op[2])
                assignment, values = op[3]
                writer.execute(f"update recruiting.{op[1]} set {assignment} where {clause}", (*values, *params))
            else:
                clause, params = where(writer, op[1], op[2])
                writer.execute(f"delete from recruiting.{op[1]} where {clause}", params)
    apply_changes(engine)


def assert_store_is_a_full_recompute(engine) -> None:
    """Each store equals its live view row for row, and a full recompute (hidden sums included) changes nothing."""
    assert differences(engine) == NO_DIFFERENCES
    with psycopg_connection(engine) as conn:
        rewritten = {view: conn.execute("select groups from analytics.recompute(%s)", (view,)).fetchone()[0]
                     for view in VIEWS}
    assert rewritten == NO_DIFFERENCES, "a full recompute changed what the batches left"
    assert all(f.queue_depth == 0 for f in freshness(engine).values())


@pytest.fixture(scope="module")
def live_engine(make_database):
    engine = get_engine(make_database())
    with psycopg_connection(engine) as conn:
        conn.execute("insert into recruiting.facilities (id, name) select f, 'Facility ' || f from unnest(%s) f",
                     (list(FACILITIES),))
    yield engine
    engine.dispose()  # the test server's connections are shared: give back what these tests pooled


# Every example starts with a few rows in each table (committed, and applied half the time), so that the statements
# drawn next have rows to move, change and delete.
examples = st.tuples(
    st.tuples(*(st.lists(rows, min_size=2, max_size=6) for _, rows in INSERTS.values())),
    st.booleans(),
    st.lists(operations, min_size=1, max_size=20),
).map(lambda e: [*(("insert", t, rows) for t, rows in zip(INSERTS, e[0], strict=True)), ("commit",),
                 *((("apply",),) if e[1] else ()), *e[2]])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=examples)
def test_incremental_batches_equal_a_full_recompute(live_engine, ops):
    reset(live_engine)
    run(live_engine, ops)
    assert_store_is_a_full_recompute(live_engine)


def test_moves_between_facilities_months_and_channels_in_one_statement(live_engine):
    """A hand-written case of what the property test draws: multi-row statements that move rows across every key."""
    reset(live_engine)
    t = MONTH0 + timedelta(days=20)
    with psycopg_connection(live_engine) as conn:
        conn.execute("insert into recruiting.applications (facility_id, channel, applied_at, hired_at) values"
                     " (1, 'sms', %s, %s), (1, 'sms', %s, null), (2, 'email', %s, null)",
                     (t, t + timedelta(days=9), t, t))
        conn.execute("insert into recruiting.invoices (placement_id, facility_id, amount, invoiced_at) values"
                     " (1, 1, 100, %s), (1, 1, 50, %s), (2, 1, 80, %s)",
                     (t, t + timedelta(days=5), t + timedelta(days=31)))
        conn.execute("insert into recruiting.outreach (facility_id, channel, sent_at) values"
                     " (1, 'email', %s), (1, 'sms', %s)", (t, t))
    apply_changes(live_engine)
    with psycopg_connection(live_engine) as conn:
        conn.execute("update recruiting.applications set facility_id = 3, applied_at = applied_at + interval '40 days'"
                     " where facility_id = 1 and id <> %s", (ANCHOR,))
        conn.execute("update recruiting.invoices set invoiced_at = invoiced_at - interval '35 days' where amount = 100")
        conn.execute("update recruiting.outreach set channel = 'phone', responded_at = sent_at")
    batch = {r.view: r for r in apply_changes(live_engine)}
    # Revenue also rewrote the months after the changed ones: their growth reads the changed month.
    assert batch["revenue"].status == "applied" and batch["revenue"].groups >= 3
    assert batch["pipeline"].facility_ids == (1, 3)
    assert_store_is_a_full_recompute(live_engine)


QUEUED = {"applications": "pipeline", "compliance_checks": "compliance", "invoices": "revenue", "outreach": "outreach"}


def queued(conn, table: str) -> list[tuple]:
    """The queue rows of the view `table` feeds, without their capture times, emptying the queue."""
    view = QUEUED[table]
    columns = [r[0] for r in conn.execute(
        "select column_name from information_schema.columns where table_schema = 'analytics'"
        " and table_name = %s and column_name <> 'captured_at' order by ordinal_position", (f"{view}_changes",))]
    rows = conn.execute(f"delete from analytics.{view}_changes returning {', '.join(columns)}").fetchall()
    return sorted(rows, key=repr)


def test_a_single_row_statement_queues_what_grouping_would(live_engine):
    """Migration 012 writes a one-row INSERT or DELETE to the queue as it is, skipping the grouping of bigger
    statements: the queue rows are the same, a single row counts once, and a delete counts against it."""
    reset(live_engine)
    t = MONTH0 + timedelta(days=3, microseconds=123_457)
    rows = {
        "applications": (1, "sms", t, t, t, t, t + timedelta(days=9, microseconds=1), None),
        "compliance_checks": (2, False, Decimal("71.25"), "high", t),
        "invoices": (1, 1, Decimal("123.45"), t),
        "outreach": (3, "email", t, t, ANCHOR),
    }
    with psycopg_connection(live_engine) as conn:
        for table, row in rows.items():
            columns = INSERTS[table][0]
            marks = "(" + ", ".join(["%s"] * len(row)) + ")"
            [added] = conn.execute(f"insert into recruiting.{table} {columns} values {marks} returning id",
                                   row).fetchall()
            [single] = queued(conn, table)
            conn.execute(f"insert into recruiting.{table} {columns} values {marks}, {marks}", row * 2)
            [double] = queued(conn, table)
            conn.execute(f"delete from recruiting.{table} where id = %s", added)
            [removed] = queued(conn, table)
            keys = 3 if table in ("invoices", "outreach") else 2  # the grain key, then the signed quantities
            assert double == (*single[:keys], *(2 * v for v in single[keys:])), table
            assert removed == (*single[:keys], *(-v for v in single[keys:])), table
            assert single[keys] == 1, (table, single)
        conn.rollback()


def test_an_update_that_changes_no_kpi_input_queues_nothing(live_engine):
    reset(live_engine)
    with psycopg_connection(live_engine) as conn:
        conn.execute("insert into recruiting.invoices (placement_id, facility_id, amount, invoiced_at)"
                     " values (1, 2, 10, %s)", (MONTH0,))
    apply_changes(live_engine)
    with psycopg_connection(live_engine) as conn:
        conn.execute("update recruiting.applications set candidate_id = null")
        conn.execute("update recruiting.invoices set paid_at = now()")
        conn.execute("update recruiting.invoices set amount = amount")
    assert {f.queue_depth for f in freshness(live_engine).values()} == {0}


def test_a_store_out_of_step_with_its_queue_is_recomputed(live_engine):
    reset(live_engine)
    with psycopg_connection(live_engine) as conn:
        # A row written behind capture's back (as a replica-mode bulk job would), then a captured delete of it:
        # the merged count would go below zero.
        conn.execute("set local session_replication_role = replica")
        conn.execute("insert into recruiting.compliance_checks (facility_id, passed, score, checked_at)"
                     " values (2, true, 50, %s)", (MONTH0,))
        conn.execute("set local session_replication_role = origin")
        conn.execute("delete from recruiting.compliance_checks where score = 50")
    [result] = apply_changes(live_engine, ["compliance"])
    assert result.status == "full"
    assert_store_is_a_full_recompute(live_engine)


def test_batches_are_recorded_and_as_of_follows_the_changes(live_engine):
    reset(live_engine)
    with psycopg_connection(live_engine) as conn:
        conn.execute("insert into recruiting.outreach (facility_id, channel, sent_at) values (1, 'sms', %s)",
                     (MONTH0,))
        conn.execute("insert into recruiting.outreach (facility_id, channel, sent_at) values (2, 'sms', %s)",
                     (MONTH0,))
        captured = conn.execute("select max(captured_at) from analytics.outreach_changes").fetchone()[0]
    waiting = freshness(live_engine)["outreach"]
    assert waiting.queue_depth == 2 and waiting.lag_seconds > 0
    [result] = apply_changes(live_engine, ["outreach"])
    assert (result.status, result.changes, result.groups, result.facility_ids) == ("applied", 2, 2, (1, 2))
    done = freshness(live_engine)["outreach"]
    assert (done.queue_depth, done.lag_seconds, done.last_batch_kind) == (0, 0.0, "incremental")
    assert (done.last_batch_changes, done.last_batch_groups) == (2, 2) and done.last_batch_ms > 0
    assert done.as_of == captured == data_as_of(live_engine)["outreach"]
    [again] = apply_changes(live_engine, ["outreach"])
    assert again.status == "empty" and freshness(live_engine)["outreach"].last_batch_at == done.last_batch_at


def test_a_batch_failing_midway_changes_nothing_and_keeps_the_queue(live_engine):
    reset(live_engine)
    with psycopg_connection(live_engine) as conn:
        conn.execute("insert into recruiting.applications (facility_id, channel, applied_at) values"
                     " (2, 'sms', %s), (3, 'sms', %s)", (MONTH0, MONTH0))
    apply_changes(live_engine, ["pipeline"])
    before = fetch_dataset(live_engine, "pipeline")
    with psycopg_connection(live_engine) as conn:
        conn.execute("insert into recruiting.applications (facility_id, channel, applied_at) values"
                     " (2, 'sms', %s), (3, 'sms', %s)", (MONTH0, MONTH0))
        # Fail the batch when it writes facility 3's row (after or before facility 2's: either way, midway).
        conn.execute("create table public.fail_on (facility_id int)")
        conn.execute("insert into public.fail_on values (3)")
        conn.execute("create function public.fail_on_facility() returns trigger language plpgsql as $$ begin"
                     " if new.facility_id in (select facility_id from public.fail_on) then"
                     " raise exception 'injected failure at facility %', new.facility_id; end if;"
                     " return new; end $$")
        conn.execute("create trigger fail_midway before insert or update on analytics.pipeline_kpis_materialized"
                     " for each row execute function public.fail_on_facility()")
    depth = freshness(live_engine)["pipeline"].queue_depth
    try:
        [failed] = apply_changes(live_engine, ["pipeline"])
        assert failed.status == "failed" and "injected failure at facility 3" in failed.error
        assert freshness(live_engine)["pipeline"].queue_depth == depth == 2
        assert fetch_dataset(live_engine, "pipeline").equals(before), "the previous numbers stay readable"
    finally:
        with psycopg_connection(live_engine) as conn:
            conn.execute("drop trigger fail_midway on analytics.pipeline_kpis_materialized")
            conn.execute("drop function public.fail_on_facility()")
            conn.execute("drop table public.fail_on")
    [applied] = apply_changes(live_engine, ["pipeline"])
    assert applied.status == "applied" and applied.changes == 2
    assert_store_is_a_full_recompute(live_engine)


def test_writers_committing_while_batches_and_full_refreshes_run(live_engine):
    """Nothing lost, nothing doubled: several writers commit while one thread applies batches and another runs full
    refreshes; afterwards every store equals a full recompute."""
    reset(live_engine)
    stop = threading.Event()
    errors: list[BaseException] = []
    statuses: list[str] = []

    def writer(seed: int) -> None:
        i = 0
        try:
            with psycopg_connection(live_engine, autocommit=True) as conn:
                while not stop.is_set():
                    i += 1
                    f, t = 1 + (seed + i) % 3, MONTH0 + timedelta(hours=(seed * 7919 + i * 613) % 2400)
                    with conn.transaction():
                        conn.execute("insert into recruiting.applications (facility_id, channel, applied_at,"
                                     " hired_at) values (%s, 'sms', %s, %s)",
                                     (f, t, t + timedelta(days=3) if i % 3 == 0 else None))
                        conn.execute("insert into recruiting.invoices (placement_id, facility_id, amount,"
                                     " invoiced_at) values (%s, %s, %s, %s)",
                                     (1 + i % 4, f, Decimal(i % 500) + Decimal("0.25"), t))
                    conn.execute("update recruiting.applications set facility_id = %s, rejected_at = applied_at,"
                                 " hired_at = null where id = (select max(id) - 1 from recruiting.applications)",
                                 (1 + i % 3,))
                    conn.execute("update recruiting.invoices set invoiced_at = invoiced_at + interval '29 days'"
                                 " where id = (select min(id) + %s from recruiting.invoices)", (i % 7,))
                    conn.execute("insert into recruiting.outreach (facility_id, channel, sent_at) values"
                                 " (%s, 'email', %s), (%s, 'sms', %s)", (f, t, 1 + i % 3, t))
                    if i % 5 == 0:
                        conn.execute("delete from recruiting.outreach where id = (select min(id)"
                                     " from recruiting.outreach)")
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    def applier() -> None:
        try:
            while not stop.is_set():
                statuses.extend(r.status for r in apply_changes(live_engine))
        except BaseException as exc:
            errors.append(exc)

    def full_refresher() -> None:
        try:
            while not stop.is_set():
                refresh_views(live_engine, ["all"], trigger="cli")
                time.sleep(0.2)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=applier), threading.Thread(target=full_refresher)]
    for thread in threads:
        thread.start()
    time.sleep(4)
    stop.set()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    assert "applied" in statuses, "batches ran while the writers wrote"
    apply_changes(live_engine)
    assert_store_is_a_full_recompute(live_engine)


def test_the_seed_bypasses_capture_and_a_full_refresh_consumes_the_queue(make_database, seed_config):
    engine = get_engine(make_database())
    seed(engine, replace(seed_config, applications=300))
    assert {f.queue_depth for f in freshness(engine).values()} == {0}, "bulk loads bypass capture"
    with psycopg_connection(engine) as conn:
        conn.execute("insert into recruiting.applications (facility_id, channel, applied_at) values (1, 'sms', now())")
    assert freshness(engine)["pipeline"].queue_depth == 1
    refresh_views(engine, ["all"], trigger="cli")
    assert {f.queue_depth for f in freshness(engine).values()} == {0}
    assert differences(engine) == NO_DIFFERENCES
    assert {f.last_batch_kind for f in freshness(engine).values()} == {"full"}
    engine.dispose()


def test_reading_a_store_is_not_blocked_by_a_batch(live_engine):
    reset(live_engine)
    with psycopg_connection(live_engine) as conn:
        conn.execute("insert into recruiting.applications (facility_id, channel, applied_at) values (2, 'sms', %s)",
                     (MONTH0,))
    apply_changes(live_engine, ["pipeline"])
    with psycopg_connection(live_engine) as conn:
        conn.execute("insert into recruiting.applications (facility_id, channel, applied_at) values (2, 'sms', %s)",
                     (MONTH0,))
    with psycopg_connection(live_engine) as batch:
        # A batch that has written its rows and not committed yet.
        assert batch.execute("select status from analytics.apply_changes('pipeline')").fetchone()[0] == "applied"
        with psycopg_connection(live_engine) as reader:
            reader.execute("set local lock_timeout = '2s'")
            rows = reader.execute("select facility_id, applications from analytics.pipeline_kpis_materialized"
                                  " order by 1").fetchall()
        assert rows == [(1, 1), (2, 1)]
    assert fetch_dataset(live_engine, "pipeline")["applications"].tolist() == [1, 2]


def test_unknown_views_are_refused(live_engine):
    with psycopg_connection(live_engine) as conn, pytest.raises(psycopg.errors.InvalidParameterValue):
        conn.execute("select analytics.apply_changes('payroll')")
