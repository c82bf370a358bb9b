import plotly.io as pio

from components import theme
from components.figures import new_figure


def test_template_is_registered_with_system_fonts_and_okabe_ito_colours():
    template = pio.templates[theme.TEMPLATE_NAME]
    assert template.layout.font.family.startswith("system-ui")
    assert "http" not in template.layout.font.family
    assert list(template.layout.colorway)[:3] == ["#0072B2", "#E69F00", "#009E73"]


def test_new_figures_carry_the_template_and_title():
    fig = new_figure("Hello")
    assert fig.layout.title.text == "Hello"
    assert fig.layout.template.layout.colorway == pio.templates["recruit"].layout.colorway


def test_severity_and_channel_colours_are_fixed_and_distinct():
    assert list(theme.SEVERITY_COLORS) == ["low", "medium", "high", "critical"]
    assert len(set(theme.SEVERITY_COLORS.values())) == 4
    assert len(set(theme.CHANNEL_COLORS.values())) == len(theme.CHANNEL_ORDER)
    assert theme.channel_color("email") == "#0072B2"
    assert theme.channel_color("carrier_pigeon") == theme.NEUTRAL_COLOR
    assert theme.channel_label("job_board") == "Job board"
