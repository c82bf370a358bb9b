-- The live token with this hash and its active owner; expired tokens are returned too (the caller says when).
select t.id, t.user_id, t.expires_at, t.expires_at <= now() as expired
from app.api_tokens t join app.users u on u.id = t.user_id
where t.token_hash = %(token_hash)s and t.revoked_at is null and u.active
