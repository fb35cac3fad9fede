// Inside ILSVRC: small fixes to the theme's controls (with custom.css and book/_ext/site_fixes.py).
(function () {
  "use strict";

  // WCAG 2.5.3 (label in name): a control whose aria-label does not contain the text it
  // shows ("Toggle hidden content" on a button that reads "Show code cell source", "Search"
  // on one that reads "Search Ctrl+K") cannot be named by what a voice-control user sees.
  // Without the aria-label, the control is named by its visible text.
  function nameControlsByTheirText(root) {
    root.querySelectorAll("button[aria-label], a[aria-label], summary[aria-label]").forEach(
      function (control) {
        var visible = (control.innerText || "").replace(/\s+/g, " ").trim().toLowerCase();
        var label = control.getAttribute("aria-label").replace(/\s+/g, " ").trim().toLowerCase();
        if (visible && label.indexOf(visible) === -1) {
          control.removeAttribute("aria-label");
        }
      }
    );
  }

  function fix() {
    nameControlsByTheirText(document);
  }

  // The theme and sphinx-togglebutton add their controls when the page has loaded.
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setTimeout(fix, 0); });
  } else {
    setTimeout(fix, 0);
  }
  window.addEventListener("load", fix);
})();
