{#- Generic tests of the KPI stores, written here so the project needs no package download (`dbt deps`). -#}

{#- No two rows share the grain. -#}
{% test unique_grain(model, columns) %}
select {{ columns | join(', ') }}, count(*) as rows_with_this_key
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}

{#- The store carries a unique index on exactly its grain (live refresh's upserts and the readers rely on it). -#}
{% test unique_grain_index(model, columns) %}
select '{{ model }}' as relation
where not exists (
    select
    from pg_index i
    where i.indrelid = '{{ model }}'::regclass
      and i.indisunique
      and i.indnkeyatts = {{ columns | length }}
      and (select array_agg(a.attname::text order by a.attname)
           from pg_attribute a
           where a.attrelid = i.indrelid and a.attnum = any (i.indkey::int2[]))
          = array[{% for c in columns | sort %}'{{ c }}'{% if not loop.last %}, {% endif %}{% endfor %}]::text[]
)
{% endtest %}

{#- Counts and money are never negative. -#}
{% test non_negative(model, column_name) %}
select {{ column_name }} from {{ model }} where {{ column_name }} < 0
{% endtest %}

{#- Rates are fractions in [0, 1] (null allowed where the formula is undefined). -#}
{% test between_zero_and_one(model, column_name) %}
select {{ column_name }} from {{ model }} where {{ column_name }} < 0 or {{ column_name }} > 1
{% endtest %}
