"""Server-rendered sign-in (`/login`) and sign-out (`/logout`). Registered on the Flask server by dashboard.security."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, current_app, redirect, render_template_string, request, session
from flask_login import login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import InputRequired, Length

from auth import audit
from auth.context import client_ip, current_engine, signed_in_user
from auth.csrf import session_ended, session_signed_in, token_form_value
from auth.sessions import end_sessions, start_session
from auth.users import authenticate

FAILED_MESSAGE = "Email or password is incorrect."
EXPIRED_MESSAGE = "The sign-in form expired. Please try again."
MISSING_MESSAGE = "Enter your email and password."
RATE_LIMITED_MESSAGE = "Too many sign-in attempts. Wait a minute and try again."


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[InputRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[InputRequired(), Length(max=1024)])


def safe_next(target: str | None) -> str:
    """`target` when it is a local path on this site, else '/' (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return "/"
    return target


def login() -> Response | tuple[str, int] | str:
    """GET: the form. POST: sign in, or 401 with one message whatever was wrong."""
    target = safe_next(request.args.get("next"))
    if request.method == "GET":
        if signed_in_user() is not None:
            return redirect(target)
        return _page(LoginForm())
    form = LoginForm()
    if not form.validate_on_submit():
        message = EXPIRED_MESSAGE if "csrf_token" in form.errors else MISSING_MESSAGE
        return _page(form, message), 400
    engine = current_engine()
    email = form.email.data.strip()
    user = authenticate(engine, email, form.password.data)
    if user is None:
        audit.record(engine, "login_failed", details={"email": email[:254]}, ip=client_ip())
        return _page(form, FAILED_MESSAGE), 401
    session.clear()  # a fresh session on sign-in: nothing set before it (fixation) survives
    login_user(user)
    start_session(user)
    session_signed_in()
    session.permanent = True
    audit.record(engine, "login", user_id=user.id, target=user.email, details={"email": user.email}, ip=client_ip())
    return redirect(target)


def rate_limited_page(_limit: object = None) -> Response:
    """The 429 answer to a sign-in attempt over the limit (a Flask-Limiter `on_breach` callback)."""
    return Response(_page(LoginForm(), RATE_LIMITED_MESSAGE), status=429, mimetype="text/html")


def unavailable_page(message: str) -> str:
    """The sign-in form with `message` (the database is not answering: dashboard/health.py answers 503 with it)."""
    return _page(LoginForm(), message)


def logout() -> Response | str:
    """GET: a page with a sign-out button (a link or an image elsewhere must not sign anyone out). POST with the CSRF
    token: end every session of this user and go back to the sign-in page."""
    user = signed_in_user()
    if user is None or "Authorization" in request.headers:
        return redirect("/login")  # nothing to end
    if request.method == "GET":
        return render_template_string(_SIGN_OUT, title="Sign out", email=user.email, csrf_token=token_form_value())
    current_app.extensions["csrf"].protect()  # 400 without the session's token
    end_sessions(current_engine(), user.id)  # every copy of every session of this user, not just this cookie
    audit.record(current_engine(), "logout", user_id=user.id, target=user.email, ip=client_ip())
    logout_user()
    session.clear()
    session_ended()
    return redirect("/login")


def _page(form: LoginForm, error: str | None = None) -> str:
    return render_template_string(_SIGN_IN, title="Sign in", form=form, error=error)


_HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} · Recruitment analytics</title>
<style>
  :root { color-scheme: light; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: #f4f6f8;
         font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2933; }
  main { width: min(380px, 92vw); background: #fff; border-radius: 12px; padding: 32px 28px;
         box-shadow: 0 2px 6px rgba(15, 23, 42, .08), 0 12px 32px rgba(15, 23, 42, .08); }
  .brand { display: flex; align-items: center; gap: 10px; margin-bottom: 20px; font-weight: 600; }
  .brand img { width: 28px; height: 28px; }
  h1 { font-size: 1.35rem; margin: 0 0 18px; }
  label { display: block; font-weight: 600; margin: 14px 0 6px; }
  input[type=email], input[type=password] { box-sizing: border-box; width: 100%; padding: 10px 12px;
         border: 1px solid #cbd2d9; border-radius: 8px; font: inherit; }
  input:focus { outline: 2px solid #0072b2; outline-offset: 1px; border-color: #0072b2; }
  button { margin-top: 22px; width: 100%; padding: 11px; border: 0; border-radius: 8px; background: #0072b2;
           color: #fff; font: inherit; font-weight: 600; cursor: pointer; }
  button:hover { background: #005a8c; }
  .error { margin: 0 0 8px; padding: 10px 12px; border-radius: 8px; background: #fdecea; color: #8a1c13;
           border: 1px solid #f5c2bd; }
  .note { margin: 0 0 4px; color: #52606d; }
</style>
</head>
<body>
<main>
  <div class="brand"><img src="/assets/logo.svg" alt="">Recruitment analytics</div>
  @MAIN@
</main>
</body>
</html>
"""
_SIGN_IN = _HEAD.replace("@MAIN@", """  <h1>Sign in</h1>
  {% if error %}<p class="error" role="alert" id="login-error">{{ error }}</p>{% endif %}
  <form method="post" novalidate id="login-form">
    {{ form.csrf_token }}
    <label for="email">Email</label>
    <input type="email" id="email" name="email" value="{{ form.email.data or '' }}"
           autocomplete="username" required autofocus>
    <label for="password">Password</label>
    <input type="password" id="password" name="password" autocomplete="current-password" required>
    <button type="submit" id="login-submit">Sign in</button>
  </form>""")
_SIGN_OUT = _HEAD.replace("@MAIN@", """  <h1>Sign out</h1>
  <p class="note">Signed in as {{ email }}. Signing out ends every session of this account, on every device.</p>
  <form method="post" action="/logout" id="logout-form">
    <input type="hidden" name="csrf_token" value="{{ csrf_token }}">
    <button type="submit" id="logout-submit">Sign out</button>
  </form>""")
