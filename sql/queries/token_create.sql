insert into app.api_tokens (user_id, token_hash, expires_at)
values (%(user_id)s, %(token_hash)s, now() + make_interval(secs => %(seconds)s))
returning id, expires_at
