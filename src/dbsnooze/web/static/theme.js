// The colour theme: <html data-theme="light|dark">, from the viewer's saved choice or else the
// system's (prefers-color-scheme). Loaded without defer in <head>, so the first paint already has
// it. The header's switch saves a choice; every change dispatches `themechange` on document
// (detail: { theme }) for what draws with colours of its own (the charts).
"use strict";

(function () {
  const KEY = "dbsnooze.theme";
  const root = document.documentElement;
  const system = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function saved() {
    try {
      const value = window.localStorage.getItem(KEY);
      return value === "dark" || value === "light" ? value : null;
    } catch (err) {
      return null;  // storage refused (private mode, policy): follow the system
    }
  }

  function wanted() {
    return saved() || (system && system.matches ? "dark" : "light");
  }

  function apply(theme) {
    const changed = root.dataset.theme !== theme;
    root.dataset.theme = theme;
    for (const button of document.querySelectorAll(".theme-toggle")) {
      button.setAttribute("aria-pressed", theme === "dark" ? "true" : "false");
    }
    if (changed) document.dispatchEvent(new CustomEvent("themechange", { detail: { theme } }));
  }

  function choose(theme) {
    try { window.localStorage.setItem(KEY, theme); } catch (err) { /* kept for this page only */ }
    apply(theme);
  }

  root.dataset.theme = wanted();
  if (system && system.addEventListener) {
    system.addEventListener("change", () => { if (!saved()) apply(wanted()); });
  }
  window.addEventListener("storage", (event) => { if (event.key === KEY) apply(wanted()); });
  document.addEventListener("DOMContentLoaded", () => {
    apply(root.dataset.theme);
    for (const button of document.querySelectorAll(".theme-toggle")) {
      button.hidden = false;
      button.addEventListener("click", () => choose(root.dataset.theme === "dark" ? "light" : "dark"));
    }
  });
  window.dbsnoozeTheme = { current: () => root.dataset.theme, choose };
})();
