/* Accessibility fixes for markup that Dash 4's core components render (checked by axe-core in tests/browser).
 *
 * - dcc.Dropdown puts a focus proxy (an aria-hidden input) in the tab order and takes its button out of it: the
 *   button becomes the tab stop (Enter or ArrowDown opens it, as before) and is named by its <label> as well as
 *   its value, so a screen reader says "From, 2025-07" rather than "2025-07".
 * - dcc.Checklist renders a listbox of options that each hold a checkbox (nested controls, no name): it becomes a
 *   plain group of labelled native checkboxes.
 * Runs on every DOM change, so components that Dash re-renders are fixed again before anyone can use them.
 */
(function () {
  "use strict";

  function fixDropdowns(root) {
    root.querySelectorAll(".dash-dropdown-wrapper > .dash-dropdown-focus-target").forEach(function (proxy) {
      if (proxy.tabIndex !== -1) { proxy.tabIndex = -1; }
      const button = proxy.nextElementSibling;
      if (!button || button.tagName !== "BUTTON") { return; }
      if (!button.disabled && button.tabIndex !== 0) { button.tabIndex = 0; }
      const label = button.id ? document.querySelector('label[for="' + CSS.escape(button.id) + '"]') : null;
      if (label) {
        if (!label.id) { label.id = button.id + "-label"; }
        const named = button.getAttribute("aria-labelledby") || "";
        if (named.split(" ").indexOf(label.id) !== 0) {
          button.setAttribute("aria-labelledby", (label.id + " " + named.replace(label.id, "")).trim());
        }
      }
    });
  }

  function fixChecklists(root) {
    root.querySelectorAll(".dash-checklist[role='listbox'], .dash-radioitems[role='listbox']").forEach(function (list) {
      list.setAttribute("role", "group");
    });
    root.querySelectorAll(".dash-checklist [role='option'], .dash-radioitems [role='option']").forEach(function (item) {
      item.removeAttribute("role");
      item.removeAttribute("aria-selected");
    });
    root.querySelectorAll(".dash-checklist label[aria-selected], .dash-radioitems label[aria-selected]")
      .forEach(function (item) { item.removeAttribute("aria-selected"); });
  }

  function fixAll() {
    fixDropdowns(document);
    fixChecklists(document);
  }

  function start() {
    fixAll();
    new MutationObserver(fixAll).observe(document.body, {
      subtree: true, childList: true, attributes: true,
      attributeFilter: ["tabindex", "role", "aria-selected", "aria-labelledby"],
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
