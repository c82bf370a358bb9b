{#-
  kpi_store: writes a model into the KPI store the dashboard reads (analytics.<name>_kpis_materialized), keeping
  the relation, its name, its grain index and its grants, so readers are never blocked. What it does depends on what
  the migrations made of the store (pg_class.relkind):

  * table ('r', migration 006 on): one statement computes the model, deletes the grain rows that vanished, upserts
    the rows that differ (row locks only: readers keep reading the previous numbers under MVCC until the commit) and
    consumes the view's queue of captured changes (analytics.<view>_changes); then the run is recorded as a `full`
    batch in app.live_batches, exactly as analytics.recompute() records a SQL full refresh, so "Data as of", lag and
    queue depth stay right. The hidden running totals (fill_seconds, score_total) come from the model, so live
    refresh can go on from what dbt wrote.
  * materialized view ('m', a database before migration 006): builds the new one beside the old, copies its indexes
    and grants, and swaps the names in one transaction (lock_timeout 2 s: a long reader makes the swap fail rather
    than queue every other reader behind it).
  * missing: refuses; the migrations own the relation.

  Configs: kpi_view (pipeline | compliance | revenue | outreach), grain (the unique key's columns).
  Vars: kpi_lock_held (the caller holds the view's advisory lock: data/refresh.py), kpi_pause_seconds (tests only:
  wait before the commit, with the rows written).
-#}
{% materialization kpi_store, adapter='postgres' %}
  {%- set view = config.require('kpi_view') -%}
  {%- set grain = config.require('grain') -%}
  {%- set kind = recruit_relkind(this) -%}
  {%- if kind is none -%}
    {{ exceptions.raise_compiler_error(this ~ " does not exist: run `dashboard migrate` first (the migrations create the KPI stores; dbt fills them)") }}
  {%- elif kind not in ('r', 'm') -%}
    {{ exceptions.raise_compiler_error(this ~ " is neither a table nor a materialized view (relkind " ~ kind ~ "): run `dashboard migrate`") }}
  {%- endif -%}
  {%- set columns = recruit_store_columns(this) -%}
  {%- for key in grain -%}
    {%- if key not in columns -%}
      {{ exceptions.raise_compiler_error(this ~ " has no grain column " ~ key) }}
    {%- endif -%}
  {%- endfor -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {%- if kind == 'r' -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {% call statement('main', fetch_result=True) -%}
      {{ recruit_store_upsert(this, view, grain, columns, sql) }}
    {%- endcall %}
  {%- else -%}
    {%- set target_relation = this.incorporate(type='materialized_view') -%}
    {% call statement('main') -%}
      {{ recruit_store_swap(this, view, columns, sql) }}
    {%- endcall %}
  {%- endif -%}

  {%- if var('kpi_pause_seconds', 0) | float > 0 -%}
    {% call statement('pause') %}select pg_sleep({{ var('kpi_pause_seconds') | float }}){% endcall %}
  {%- endif -%}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{#- The advisory lock of a view: data/refresh.py's REFRESH_LOCK_BASE + its index (analytics.view_lock_key). -#}
{% macro recruit_lock_key(view) -%}
  {{ 7316100 + ['pipeline', 'compliance', 'revenue', 'outreach'].index(view) }}
{%- endmacro %}


{% macro recruit_relkind(relation) -%}
  {%- set found = run_query("select c.relkind::text from pg_class c join pg_namespace n on n.oid = c.relnamespace"
                            ~ " where n.nspname = '" ~ relation.schema ~ "' and c.relname = '" ~ relation.identifier ~ "'") -%}
  {{ return(found.rows[0][0] if found.rows | length > 0 else none) }}
{%- endmacro %}


{#- The store's columns in table order (the app's columns, plus the hidden sums on tables). -#}
{% macro recruit_store_columns(relation) -%}
  {%- set found = run_query("select attname::text from pg_attribute where attrelid = '" ~ relation ~ "'::regclass"
                            ~ " and attnum > 0 and not attisdropped order by attnum") -%}
  {{ return(found.columns[0].values() | list) }}
{%- endmacro %}


{% macro recruit_store_upsert(relation, view, grain, columns, sql) -%}
  {%- set values = columns | reject('in', grain) | list -%}
  {%- set queue = 'analytics.' ~ view ~ '_changes' -%}
{%- if not var('kpi_lock_held', false) %}
select pg_advisory_xact_lock({{ recruit_lock_key(view) }});
{%- endif %}
select set_config('recruit.dbt_started', clock_timestamp()::text, true);
with consumed as (
    delete from {{ queue }} returning captured_at
), fresh as materialized (
    select {{ columns | join(', ') }}
    from (
{{ sql }}
    ) model
), changed as materialized (
    select f.*
    from fresh f
    left join {{ relation }} t on {% for key in grain %}t.{{ key }} = f.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
    where t.{{ grain[0] }} is null
       or row({% for c in values %}f.{{ c }}{% if not loop.last %}, {% endif %}{% endfor %})
          is distinct from row({% for c in values %}t.{{ c }}{% if not loop.last %}, {% endif %}{% endfor %})
), vanished as materialized (
    select {% for key in grain %}t.{{ key }}{% if not loop.last %}, {% endif %}{% endfor %}
    from {{ relation }} t
    where not exists (select from fresh f where {% for key in grain %}f.{{ key }} = t.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %})
), written as (
    insert into {{ relation }} as t ({{ columns | join(', ') }})
    select {{ columns | join(', ') }} from changed
    on conflict ({{ grain | join(', ') }}) do update
    set ({{ values | join(', ') }}) = ({% for c in values %}excluded.{{ c }}{% if not loop.last %}, {% endif %}{% endfor %})
    returning t.facility_id
), removed as (
    delete from {{ relation }} t
    using vanished v
    where {% for key in grain %}t.{{ key }} = v.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
    returning t.facility_id
), summary as (
    select (select count(*) from consumed)::int as changes,
           ((select count(*) from written) + (select count(*) from removed))::int as groups,
           (select min(captured_at) from consumed) as oldest,
           (select max(captured_at) from consumed) as newest,
           (select coalesce(array_agg(distinct f), '{}') from (select facility_id from written
                                                               union all select facility_id from removed) w(f)) as facility_ids
)
select s.changes, s.groups,
       analytics.record_batch('{{ view }}', 'full', current_setting('recruit.dbt_started')::timestamptz, s.changes,
                              s.groups, s.oldest, s.newest, current_setting('recruit.dbt_started')::timestamptz,
                              s.facility_ids) as duration_ms
from summary s
{%- endmacro %}


{% macro recruit_store_swap(relation, view, columns, sql) -%}
  {%- set new_name = relation.identifier ~ '__dbt_new' -%}
  {%- set old_name = relation.identifier ~ '__dbt_old' -%}
  {%- set new_relation = relation.incorporate(path={'identifier': new_name}) -%}
{%- if not var('kpi_lock_held', false) %}
select pg_advisory_xact_lock({{ recruit_lock_key(view) }});
{%- endif %}
drop materialized view if exists {{ new_relation }};
create materialized view {{ new_relation }} as
select {{ columns | join(', ') }}
from (
{{ sql }}
) model;
do $recruit_swap$
declare
    r record;
begin
    -- The indexes (the unique grain index first of all), under temporary names until the old ones are gone.
    for r in select c.relname as name, pg_get_indexdef(i.indexrelid) as def
             from pg_index i join pg_class c on c.oid = i.indexrelid
             where i.indrelid = '{{ relation }}'::regclass loop
        execute replace(replace(r.def, format(' INDEX %s ON ', quote_ident(r.name)),
                                format(' INDEX %s ON ', quote_ident(r.name || '__dbt_new'))),
                        ' ON {{ relation.schema }}.{{ relation.identifier }} ', ' ON {{ new_relation.schema }}.{{ new_name }} ');
    end loop;
    -- The grants (the owner's own rights are implicit).
    for r in select a.privilege_type, a.grantee
             from pg_class c, aclexplode(c.relacl) a
             where c.oid = '{{ relation }}'::regclass and a.grantee <> c.relowner loop
        execute format('grant %s on {{ new_relation.schema }}.%I to %s', r.privilege_type, '{{ new_name }}',
                       case when r.grantee = 0 then 'public' else quote_ident(r.grantee::regrole::text) end);
    end loop;
    -- The swap: an exclusive lock held only until the commit that follows at once.
    set local lock_timeout = '2s';
    execute 'alter materialized view {{ relation.schema }}.{{ relation.identifier }} rename to {{ old_name }}';
    execute 'alter materialized view {{ new_relation.schema }}.{{ new_name }} rename to {{ relation.identifier }}';
    execute 'drop materialized view {{ relation.schema }}.{{ old_name }}';
    for r in select c.relname as name
             from pg_index i join pg_class c on c.oid = i.indexrelid
             where i.indrelid = '{{ relation }}'::regclass and c.relname like '%\_\_dbt\_new' loop
        execute format('alter index {{ relation.schema }}.%I rename to %I', r.name,
                       left(r.name, length(r.name) - length('__dbt_new')));
    end loop;
end
$recruit_swap$
{%- endmacro %}
