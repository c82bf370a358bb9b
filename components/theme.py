"""The shared plotly template "recruit": colour-blind-safe palette, system fonts, fixed category colours."""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

TEMPLATE_NAME = "recruit"

# System font stack only: the app runs on closed networks, so no web fonts are fetched.
FONT_FAMILY = (
    'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", "Liberation Sans", Arial, sans-serif'
)

# Okabe-Ito palette (distinguishable with the common colour-vision deficiencies).
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
COLORWAY = [
    OKABE_ITO["blue"],
    OKABE_ITO["orange"],
    OKABE_ITO["bluish_green"],
    OKABE_ITO["vermillion"],
    OKABE_ITO["sky_blue"],
    OKABE_ITO["reddish_purple"],
    OKABE_ITO["yellow"],
    OKABE_ITO["black"],
]

TEXT_COLOR = "#1F2933"
MUTED_COLOR = "#616E7C"
GRID_COLOR = "#E4E7EB"
AXIS_COLOR = "#9AA5B1"
NEUTRAL_COLOR = "#7B8794"
EMPTY_CELL_COLOR = "#F5F7FA"

SEVERITY_COLORS = {
    "low": OKABE_ITO["sky_blue"],
    "medium": OKABE_ITO["orange"],
    "high": OKABE_ITO["vermillion"],
    "critical": "#882255",
}
SEVERITY_LABELS = {"low": "Low", "medium": "Medium", "high": "High", "critical": "Critical"}

# Every channel an application or a message can carry, in the order legends and axes show them.
CHANNEL_ORDER = ("email", "sms", "phone", "job_board", "referral", "direct")
CHANNEL_COLORS = {
    "email": OKABE_ITO["blue"],
    "sms": OKABE_ITO["orange"],
    "phone": OKABE_ITO["bluish_green"],
    "job_board": OKABE_ITO["reddish_purple"],
    "referral": OKABE_ITO["vermillion"],
    "direct": OKABE_ITO["sky_blue"],
}
CHANNEL_LABELS = {
    "email": "Email",
    "sms": "SMS",
    "phone": "Phone",
    "job_board": "Job board",
    "referral": "Referral",
    "direct": "Direct",
}

# Compliance check types as people say them (the data stores identifiers).
CHECK_TYPE_LABELS = {
    "license": "License",
    "background": "Background check",
    "drug_screen": "Drug screen",
    "immunization": "Immunization",
    "cpr_certification": "CPR certification",
    "i9_verification": "I-9 verification",
}

# Named series used across pages, so "Hired" is the same colour on every chart.
SERIES_COLORS = {
    "applications": OKABE_ITO["blue"],
    "hired": OKABE_ITO["bluish_green"],
    "time_to_fill_days": OKABE_ITO["orange"],
    "compliance_rate": OKABE_ITO["blue"],
    "avg_score": OKABE_ITO["bluish_green"],
    "revenue": OKABE_ITO["blue"],
    "revenue_per_placement": OKABE_ITO["reddish_purple"],
    "response_rate": OKABE_ITO["blue"],
    "conversion_rate": OKABE_ITO["orange"],
}

# Sequential scale for heatmaps (cividis: perceptually uniform and colour-blind safe).
SEQUENTIAL_SCALE = "cividis"


def channel_color(channel: str) -> str:
    """The fixed colour of a channel; unknown channels are neutral grey."""
    return CHANNEL_COLORS.get(channel, NEUTRAL_COLOR)


def channel_label(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, channel.replace("_", " ").capitalize())


def check_type_label(check_type: str) -> str:
    return CHECK_TYPE_LABELS.get(check_type, check_type.replace("_", " ").capitalize())


def _build_template() -> go.layout.Template:
    axis = {
        "automargin": True,
        "linecolor": AXIS_COLOR,
        "tickcolor": AXIS_COLOR,
        "ticks": "outside",
        "ticklen": 4,
        "gridcolor": GRID_COLOR,
        "zerolinecolor": AXIS_COLOR,
        "title": {"standoff": 8, "font": {"size": 12, "color": MUTED_COLOR}},
        "tickfont": {"size": 12, "color": MUTED_COLOR},
    }
    layout = go.Layout(
        font={"family": FONT_FAMILY, "size": 13, "color": TEXT_COLOR},
        title={
            "x": 0,
            "xref": "paper",
            "xanchor": "left",
            "font": {"size": 16, "color": TEXT_COLOR},
            "subtitle": {"font": {"size": 12, "color": MUTED_COLOR}},
        },
        colorway=COLORWAY,
        paper_bgcolor="#FFFFFF",
        plot_bgcolor="#FFFFFF",
        margin={"l": 56, "r": 24, "t": 72, "b": 56},
        separators=".,",
        hovermode="closest",
        hoverlabel={
            "font": {"family": FONT_FAMILY, "size": 12},
            "bgcolor": "#FFFFFF",
            "bordercolor": AXIS_COLOR,
        },
        legend={
            "orientation": "h",
            "yref": "container",
            "y": 0,
            "yanchor": "bottom",
            "x": 0,
            "xanchor": "left",
            "font": {"size": 12},
            "title": {"text": ""},
            "traceorder": "normal",  # stacks list their layers bottom first, like every other chart
        },
        bargap=0.25,
        bargroupgap=0.05,
        xaxis={**axis, "showgrid": False},
        yaxis={**axis, "showgrid": True, "zeroline": True},
        colorscale={"sequential": SEQUENTIAL_SCALE},
    )
    return go.layout.Template(layout=layout)


TEMPLATE = _build_template()
pio.templates[TEMPLATE_NAME] = TEMPLATE
