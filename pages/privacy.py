"""/privacy: small-number protection explained for people who are not statisticians (linked from every "Why?")."""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from auth.context import optional_user_scope, services
from components.formatting import PRIVACY_PATH
from pages.frame import nav, signed_out_page

TITLE = "Why some numbers are hidden"


def layout(**_query: Any) -> html.Div:
    scope = optional_user_scope()
    if scope is None:
        return signed_out_page(TITLE)
    k = services().analytics.policy.threshold
    sections = [
        ("A small number can point to a person",
         f"If a clinic had 2 hires in March, colleagues can often tell who they were, and from there what they earn or "
         f"why a check failed. So any count from 1 to {k - 1} of candidates, checks, placements or messages is never "
         "shown. Zero is shown: it points to nobody."),
        ("Why other numbers are hidden with it",
         "Some numbers add up to others: applications are hires plus rejections plus pending ones, checks are passed "
         "plus failed. If only the small one were hidden, subtracting the rest from the total would reveal it. So when "
         "one part of such a group is hidden, the other parts are hidden too, and sometimes the total. Rates and "
         "averages built from a hidden number are hidden as well. The rules are public, and the dashboard checks "
         "that knowing them still never lets anyone work a hidden number out."),
        ("What this means for totals",
         "Totals, such as a facility's compliance rate over a year, add up only the numbers that are shown. When they "
         "leave hidden numbers out they say so: a dotted bar or an open marker means partial, with the months or "
         "facilities left out in its tooltip. When so much is left out that one value could mislead, the chart gives "
         "the range the shown numbers allow instead (a striped bar, or a table cell such as \"62% to 91%\")."),
        ("What you can do",
         "Wider selections (more months or more facilities) hide fewer numbers. Admins can see unprotected figures "
         "when they need them; each such view is recorded in the audit log."),
    ]
    body = [html.H1(TITLE, className="page-title")]
    for heading, text in sections:
        body += [html.H2(heading, className="card-title"), html.P(text, className="privacy-text")]
    body.append(dcc.Link("Back to the overview", href="/"))
    return html.Div([html.Div(nav(scope, PRIVACY_PATH, ""), id="privacy-nav"),
                     html.Main(html.Section(body, className="card privacy-card"), className="page", id="privacy-page")],
                    className="page-root")


dash.register_page(__name__, path=PRIVACY_PATH, name=TITLE, title=f"{TITLE} · Recruitment analytics", layout=layout)
