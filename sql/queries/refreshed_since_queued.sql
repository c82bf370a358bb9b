-- Whether a refresh of the same view succeeded after this queued run started (another process's, say): a run
-- queued at T is satisfied by any refresh that finished after T. Parameter: the run's id.
select exists (
    select 1
    from app.refresh_runs done, app.refresh_runs mine
    where mine.id = %s and done.view = mine.view and done.status = 'succeeded' and done.finished_at > mine.started_at
)
