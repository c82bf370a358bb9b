"""What each chart shows: generated from docs/KPIS.md by `python docs/make_definitions.py` (do not edit)."""

DEFINITIONS: dict[tuple[str, str], str] = {
    ('overview', 'kpis'): (
        'Headline totals of the selected facilities and months, each against the period of equal length just '
        'before. Hires are people hired; placements (revenue) count each placement once per month it is '
        'invoiced, so a placement billed for six months counts six times.'
    ),
    ('pipeline', 'funnel'): (
        'How many of the applications made in the selected months reached each stage: screened, interviewed, '
        'offered and hired. The percentage beside a stage is its share of the stage before it.'
    ),
    ('pipeline', 'by-month'): (
        'Applications received and hires made from them, by the month the application was made. The hire rate '
        'is hires divided by applications.'
    ),
    ('pipeline', 'time-to-fill'): (
        'The average number of days from application to hire, for the applications of each month that led to '
        'a hire. There is no value for a month in which nobody was hired.'
    ),
    ('compliance', 'by-facility'): (
        'The share of compliance checks each facility passed in the selected months (passed checks divided by '
        'all checks).'
    ),
    ('compliance', 'violations-by-month'): (
        'Failed compliance checks by month, split by severity (low, medium, high, critical). The line is the '
        'total of failed checks; where small numbers hide a severity, the bars fall short of it.'
    ),
    ('compliance', 'score'): (
        'The average score (0 to 100) of the compliance checks made in each month.'
    ),
    ('revenue', 'by-month'): (
        'Invoiced revenue by the month of the invoice, with the change on the month before.'
    ),
    ('revenue', 'by-facility'): (
        'Invoiced revenue of each facility over the selected months.'
    ),
    ('revenue', 'per-placement'): (
        'Revenue divided by the number of placements invoiced, by month. A placement counts once in each '
        'month it is invoiced.'
    ),
    ('outreach', 'rates'): (
        'For each channel, the share of messages that got a response and the share that led to an '
        'application.'
    ),
    ('outreach', 'volume'): (
        'Messages sent by month, stacked by channel.'
    ),
    ('outreach', 'heatmap'): (
        'The share of messages that got a response, for each facility and channel.'
    ),
}
