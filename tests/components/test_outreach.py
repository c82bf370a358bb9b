import pandas as pd
import pytest

from components import outreach, theme
from components.figures import is_empty


def test_rates_by_channel_keeps_channel_colours_and_marks_hidden_rates(outreach_df, threshold, trace, placeholders):
    fig = outreach.rates_by_channel(outreach_df, threshold=threshold)
    email, sms, phone = trace(fig, "Email"), trace(fig, "SMS"), trace(fig, "Phone")
    assert list(email.x) == ["Response rate", "Conversion rate"]
    assert list(email.y) == [0.3, 0.1]
    assert list(sms.y) == [0.25, 0.0]  # a published zero is drawn as zero
    assert list(phone.y) == [None, None]
    assert email.marker.color == theme.CHANNEL_COLORS["email"]
    assert phone.marker.color == theme.CHANNEL_COLORS["phone"]
    assert sorted(placeholders(fig)) == ["Conversion rate", "Response rate"]
    assert [t.offsetgroup for t in fig.data if t.name.startswith("Suppressed")] == ["phone"]
    assert fig.layout.yaxis.tickformat == ".0%"
    assert list(email.text) == ["30.0%", "10.0%"]


def test_volume_by_channel_month_stacks_channels(outreach_df, threshold, trace, subtitle):
    fig = outreach.volume_by_channel_month(outreach_df, threshold=threshold, metric="responded")
    assert [t.name for t in fig.data[:3]] == ["Email", "SMS", "Phone"]
    assert list(trace(fig, "Email").y) == [30]
    assert list(trace(fig, "Phone").y) == [None]
    marks = trace(fig, "Suppressed (fewer than 5)")
    assert list(marks.x) == ["2026-01"] and marks.customdata[0] == "Phone"
    assert marks.y[0] > 40
    assert fig.layout.title.text == "Responses by channel and month"
    assert "suppressed: fewer than 5" in subtitle(fig)


def test_volume_without_suppression_has_no_marks(outreach_df, threshold, subtitle):
    fig = outreach.volume_by_channel_month(outreach_df, threshold=threshold, metric="sent")
    assert not [t for t in fig.data if t.name.startswith("Suppressed")]
    assert subtitle(fig) == ""


def test_response_heatmap_leaves_suppressed_cells_uncoloured(outreach_df, threshold, trace, subtitle):
    south = outreach_df.iloc[[0]].assign(
        facility_id=2, facility_name="South", responded=pd.array([0], dtype="Int64"), response_rate=[0.0]
    )
    fig = outreach.response_heatmap(pd.concat([outreach_df, south]), threshold=threshold)
    heat = trace(fig, "Response rate")
    assert list(heat.x) == ["Email", "SMS", "Phone"]
    assert list(heat.y) == ["North", "South"]
    assert heat.z[0] == (0.3, 0.25, None) or list(heat.z[0]) == [0.3, 0.25, None]
    assert list(heat.z[1]) == [0.0, None, None]  # published zero is coloured; no outreach is blank
    assert heat.text[0][2] == "" and heat.text[1][0] == "0.0%"
    assert heat.customdata[0][2][0] == "suppressed"
    assert heat.customdata[1][1][0] == "no outreach"
    marks = trace(fig, "Suppressed (fewer than 5)")
    assert (list(marks.x), list(marks.y)) == (["Phone"], ["North"])
    assert "suppressed: fewer than 5" in subtitle(fig)
    assert heat.colorbar.tickformat == ".0%"


@pytest.mark.parametrize(
    "builder", [outreach.rates_by_channel, outreach.volume_by_channel_month, outreach.response_heatmap]
)
def test_outreach_empty_state(builder, outreach_df):
    assert is_empty(builder(outreach_df.iloc[0:0], threshold=5))


def test_channel_order_is_fixed():
    assert outreach.channel_order(["sms", "other", "email"]) == ["email", "sms", "other"]
