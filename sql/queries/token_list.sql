-- One user's tokens, oldest first, without their hashes.
select id, created_at, last_used_at, expires_at, revoked_at
from app.api_tokens
where user_id = %(user_id)s
order by id
