"""components/outreach.py on totals frames built as production builds them."""

from __future__ import annotations

from components.figures import is_empty
from components.outreach import channel_order, rates_by_channel, response_heatmap, volume_by_channel_month
from data.specs import OUTREACH

from .conftest import FACILITY, K, hidden_positions, outreach_row, subtitle, totals, values


def rows() -> list[dict]:
    return [outreach_row(1, 0, "email", sent=100, responded=30, converted=10),
            outreach_row(1, 0, "sms", sent=40, responded=10, converted=0),
            outreach_row(1, 0, "phone", sent=20, responded=3, converted=0),
            outreach_row(2, 1, "email", sent=50, responded=20, converted=5)]


def test_channels_keep_their_order() -> None:
    assert channel_order(["phone", "zzz", "email"]) == ["email", "phone", "zzz"]
    fig = rates_by_channel(totals(OUTREACH, rows(), ["channel"]), threshold=K)
    assert list(fig.layout.xaxis.categoryarray) == ["Email", "SMS", "Phone"]
    assert values(fig, "response_rate")[0] == 50 / 150
    assert hidden_positions(fig) == ["Phone"]


def test_volume_stacks_channels_by_month() -> None:
    fig = volume_by_channel_month(totals(OUTREACH, rows(), ["month", "channel"]), threshold=K)
    assert fig.layout.barmode == "stack"
    email = next(t for t in fig.data if t.name == "Email" and t.meta["role"] == "value")
    assert list(email.y) == [100.0, 50.0]


def test_heatmap_marks_hidden_cells_and_leaves_no_outreach_blank() -> None:
    fig = response_heatmap(totals(OUTREACH, rows(), [*FACILITY, "channel"]), threshold=K)
    heat = fig.data[0]
    assert list(heat.y) == ["North", "South"] and list(heat.x) == ["Email", "SMS", "Phone"]
    assert heat.z[1][1] is None and heat.customdata[1][1] == "no outreach"
    assert hidden_positions(fig) == ["Phone"]
    assert "protect privacy" in subtitle(fig)


def test_empty() -> None:
    assert is_empty(rates_by_channel(totals(OUTREACH, [], ["channel"]), threshold=K))


def test_volume_leaves_a_gap_where_a_channel_or_every_channel_sent_nothing() -> None:
    data = [*rows(), outreach_row(1, 3, "email", sent=60, responded=6, converted=1)]
    fig = volume_by_channel_month(totals(OUTREACH, data, ["month", "channel"]), threshold=K)
    bars = {t.name: t for t in fig.data if t.meta["role"] == "value"}
    assert len(fig.layout.xaxis.categoryarray) == 4  # months 0 to 3, the two without messages included
    assert list(bars["Email"].y) == [100.0, 50.0, None, 60.0]
    assert list(bars["SMS"].y) == [40.0, None, None, None]
    assert [c[0] for c in bars["SMS"].customdata] == ["40", "—", "—", "—"]
