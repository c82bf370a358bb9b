"""Browser checks shared by the layout and accessibility tests: the viewport width, what overflows or is cut off,
and axe-core (vendored: tests/browser/vendor/axe.min.js) with its serious and critical violations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

AXE_JS = (Path(__file__).resolve().parent / "vendor" / "axe.min.js").read_text(encoding="utf-8")
BLOCKING = ("serious", "critical")
WAIT = 20

# Text that must never be cut: tile values and labels, card titles and subtitles, the page header, the navbar (the
# signed-in email may end in an ellipsis on a narrow screen: the whole address is its tooltip).
_CLIPPED_JS = """
const selectors = arguments[0];
const out = [];
const doc = document.documentElement;
if (doc.scrollWidth > doc.clientWidth + 1) {
  out.push(`the page scrolls sideways: ${doc.scrollWidth}px of content in ${doc.clientWidth}px`);
}
for (const el of document.querySelectorAll(selectors)) {
  const style = getComputedStyle(el);
  if (style.display === "none" || style.visibility === "hidden" || style.clip === "rect(0px, 0px, 0px, 0px)") continue;
  if (el.offsetParent === null && style.position !== "fixed") continue;
  if (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 2) {
    out.push(`cut off: ${el.className || el.tagName} "${el.textContent.trim().slice(0, 60)}"` +
             ` (${el.scrollWidth}x${el.scrollHeight} in ${el.clientWidth}x${el.clientHeight})`);
  }
  const box = el.getBoundingClientRect();
  if (box.width > 0 && (box.left < -1 || box.right > doc.clientWidth + 1)) {
    out.push(`outside the screen: ${el.className || el.tagName} "${el.textContent.trim().slice(0, 60)}"` +
             ` (${Math.round(box.left)}..${Math.round(box.right)} of ${doc.clientWidth})`);
  }
}
// Chart text drawn outside its chart (legend entries, ticks, value labels).
for (const plot of document.querySelectorAll(".js-plotly-plot")) {
  const frame = plot.getBoundingClientRect();
  for (const text of plot.querySelectorAll(".legendtext, .xtick text, .ytick text, .bartext, .textpoint text")) {
    const box = text.getBoundingClientRect();
    if (box.width > 0 && (box.right > frame.right + 2 || box.left < frame.left - 2)) {
      out.push(`chart text outside its chart in #${plot.parentElement.id || plot.id}: "${text.textContent}"`);
    }
  }
}
return out;
"""
CHECKED_TEXT = (".kpi-value, .kpi-label, .kpi-change, .card-title, .card-subtitle, .page-title, .freshness, "
                ".live-status, .navbar-brand, .nav-link, .role-badge, .navbar-signout, .filter-hint, "
                ".notices, .export-report")


def set_width(driver: webdriver.Chrome, width: int | None, height: int = 900) -> None:
    """Lay the page out `width` CSS pixels wide; None restores the window.

    Not emulated as a mobile device: a phone's browser would zoom out to fit a page that overflows, and hide the
    overflow this checks for.
    """
    if width is None:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
    WebDriverWait(driver, WAIT).until(lambda d: d.execute_script("return window.innerWidth") == width)
    settle(driver)


def settle(driver: webdriver.Chrome) -> None:
    """Until no callback is pending and every chart has been redrawn at its card's width."""
    WebDriverWait(driver, WAIT).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-dash-is-loading='true']"))
    WebDriverWait(driver, WAIT).until(lambda d: d.execute_script(
        "return [...document.querySelectorAll('.js-plotly-plot')].every(p => {"
        "  const svg = p.querySelector('.main-svg'); if (!svg) return true;"
        "  return Math.abs(svg.getBoundingClientRect().width - p.getBoundingClientRect().width) < 2; })"))
    driver.execute_script("return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def layout_problems(driver: webdriver.Chrome) -> list[str]:
    """Sideways scrolling, text cut off or off screen, chart text outside its chart."""
    return list(driver.execute_script(_CLIPPED_JS, CHECKED_TEXT))


def axe_violations(driver: webdriver.Chrome, *, impacts: tuple[str, ...] = BLOCKING) -> list[str]:
    """axe-core's violations of these impacts on the page as it is now, one line per rule with its first nodes."""
    driver.set_script_timeout(60)
    if not driver.execute_script("return Boolean(window.axe)"):
        driver.execute_script(AXE_JS)
    results: Any = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        "  nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));")
    return [f"{v['impact']} {v['id']}: {v['help']} at {v['nodes']}" for v in results if v["impact"] in impacts]
