"""The Outreach page: its charts, table and exports are declared in components/registry.py."""

from components.registry import PAGES
from pages.chart_page import register_chart_page

register_chart_page(__name__, PAGES["outreach"])
