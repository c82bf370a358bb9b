-- Deterministic uniform draws in [0, 1) for the demo-data generator: a hash of (row number, salt), so the same
-- seed gives the same data whatever the plan, parallel or not. Session-local (pg_temp): nothing is left behind.
create or replace function pg_temp.u(g bigint, salt bigint) returns float8
language sql immutable parallel safe
as $$ select (hashint8extended(g, salt) & 2147483647)::float8 / 2147483648.0 $$;

-- Facility for the n-th generated event: a few tiny facilities get a fixed small share (so small cells really
-- occur at any data size); the rest are skewed so that low ids are large hospitals and high ids small clinics.
create or replace function pg_temp.facility_for(g bigint, salt bigint, tiny_fraction float8,
                                                n_regular int, n_tiny int) returns int
language sql immutable parallel safe
as $$
    select case
        when n_tiny > 0 and pg_temp.u(g, salt) < tiny_fraction
            then n_regular + 1 + least(n_tiny - 1, floor(pg_temp.u(g, salt + 1) * n_tiny)::int)
        else 1 + least(n_regular - 1, floor(n_regular * power(pg_temp.u(g, salt + 1), 2.5))::int)
    end
$$;

-- A timestamp in the window [window_start, now) with an annual seasonal swing (monotonic warp of a uniform draw).
-- STABLE, not IMMUTABLE: timestamptz arithmetic is stable, and an immutable SQL function with a stable body is
-- never inlined (a per-row function call made the whole load 2x slower).
create or replace function pg_temp.seasonal_ts(x float8, window_start timestamptz, now_ts timestamptz,
                                               months float8) returns timestamptz
language sql stable parallel safe
as $$
    select window_start + (now_ts - window_start) * greatest(0.0, least(0.999999,
        x + 0.35 * sin(2 * pi() * (months / 12) * x) / (2 * pi() * (months / 12))))
$$;
