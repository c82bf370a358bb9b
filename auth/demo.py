"""Demo accounts, one per role, for `dashboard demo` only (their passwords are public by design)."""

from __future__ import annotations

from sqlalchemy import Engine

from auth.users import create_user, get_user_by_email, set_facilities, set_password
from data.queries import facilities as all_facilities

DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("admin@demo.local", "admin", "demo-admin-pass"),
    ("recruiter@demo.local", "recruiter", "demo-recruiter-pass"),
    ("viewer@demo.local", "viewer", "demo-viewer-pass"),
)
RECRUITER_FACILITIES = 2  # the demo recruiter sees the first two facilities


def ensure_demo_users(engine: Engine) -> list[str]:
    """Create (or reset the password of) each demo user; one printable line per user. Safe to re-run."""
    lines = []
    first = tuple(sorted(int(i) for i in all_facilities(engine)["id"]))[:RECRUITER_FACILITIES]
    for email, role, password in DEMO_USERS:
        facilities = first if role == "recruiter" else ()
        if get_user_by_email(engine, email) is None:
            create_user(engine, email, password, role, facilities)
        else:
            set_password(engine, email, password)
            if facilities:
                set_facilities(engine, email, facilities)
        where = f", facilities {', '.join(map(str, facilities))}" if facilities else ""
        lines.append(f"demo user {email} password {password} ({role}{where})")
    return lines
