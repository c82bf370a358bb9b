-- When each view's data is from: the store holds every change captured up to this time (data/live.py).
-- Falls back to the refresh history for databases refreshed before live refresh existed (migration 006).
select v.view,
       coalesce((select b.data_as_of from app.live_batches b where b.view = v.view order by b.id desc limit 1),
                (select max(r.finished_at) from app.refresh_runs r where r.view = v.view and r.status = 'succeeded'))
from unnest(%(views)s::text[]) as v(view)
