-- Forget batches older than the given age, always keeping each view's newest (it carries "as of").
delete from app.live_batches b
where b.finished_at < now() - %(older_than)s::interval
  and b.id <> (select max(n.id) from app.live_batches n where n.view = b.view)
