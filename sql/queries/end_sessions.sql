-- Ends every session of one user: cookies that carry an older session_version are refused (auth/sessions.py).
update app.users set session_version = session_version + 1 where id = %(user_id)s
