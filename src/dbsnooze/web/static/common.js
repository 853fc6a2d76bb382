// Shared by every page: times in the viewer's zone, API calls with the login session, errors in words.
"use strict";

(function () {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const dateTime = new Intl.DateTimeFormat(undefined, {
    weekday: "short", day: "numeric", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit",
  });
  const shortTime = new Intl.DateTimeFormat(undefined, {
    day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
  });

  function formatLocal(moment) {
    return dateTime.format(moment instanceof Date ? moment : new Date(moment));
  }

  function ago(moment, now) {
    const minutes = Math.round((now - moment) / 60000);
    if (minutes < 1) return "just now";
    if (minutes < 90) return minutes + " min ago";
    const hours = Math.round(minutes / 60);
    if (hours < 48) return hours + " h ago";
    return Math.round(hours / 24) + " days ago";
  }

  function localizeTimes(root) {
    const now = new Date();
    for (const el of (root || document).querySelectorAll("time[datetime]")) {
      const moment = new Date(el.getAttribute("datetime"));
      if (Number.isNaN(moment.getTime())) continue;
      el.title = moment.toISOString().replace(".000Z", "Z") + " (UTC)";
      el.textContent = el.dataset.style === "relative"
        ? shortTime.format(moment) + " · " + ago(moment, now)
        : formatLocal(moment);
    }
    for (const el of (root || document).querySelectorAll("[data-tz-name]")) {
      el.textContent = zone;
    }
  }

  // The login session's CSRF token (absent on the open server): every change sends it back.
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";

  async function api(method, url, body) {
    const init = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (csrf && method !== "GET" && method !== "HEAD") init.headers["X-CSRF-Token"] = csrf;
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (err) {
      return { ok: false, status: 0, data: null };
    }
    let data = null;
    if (response.status !== 204) {
      try { data = await response.json(); } catch (err) { data = null; }
    }
    return { ok: response.ok, status: response.status, data: data };
  }

  const PREFIX = {
    credentials_invalid: "The cloud rejected the credentials: ",
    access_denied: "The credentials are not allowed to do this: ",
    region_invalid: "Region problem: ",
    throttled: "The cloud is throttling requests: ",
  };

  function describeError(result) {
    if (result.status === 0) return "The server did not answer. Is dbsnooze still running?";
    if (result.status === 401) return "Your sign-in is no longer valid. Reload the page to sign in again.";
    const error = result.data && result.data.error;
    if (!error) return "The server answered with HTTP status " + result.status + ".";
    if (error.code === "backfill_running") {
      return "A backfill of this instance is already running (job #" + error.job_id + ").";
    }
    return (PREFIX[error.code] || "") + error.message;
  }

  function say(el, text, kind) {
    el.textContent = text;
    el.dataset.kind = kind || "info";
    el.classList.toggle("alert", kind === "error" || kind === "ok" || kind === "warn");
    el.classList.toggle("alert-error", kind === "error");
    el.classList.toggle("alert-ok", kind === "ok");
    el.classList.toggle("alert-warn", kind === "warn");
  }

  // A message for the page the browser loads next (after a reload or a redirect), said there by
  // sayCarried(); storage refused (private mode, policy): the message is lost, nothing fails.
  const CARRIED = "dbsnooze.carried";

  function carry(text, kind) {
    try { window.sessionStorage.setItem(CARRIED, JSON.stringify({ text, kind })); } catch (err) { /* lost */ }
  }

  function sayCarried(el) {
    let kept = null;
    try {
      kept = window.sessionStorage.getItem(CARRIED);
      if (kept && el) window.sessionStorage.removeItem(CARRIED);
    } catch (err) { return; }
    if (!kept || !el) return;
    const note = JSON.parse(kept);
    say(el, note.text, note.kind);
  }

  // Explanations (data-tip) that a mouse gets on hover are shown on focus too, so keyboard and
  // touch users (a tap focuses) read them: one tooltip, placed inside the viewport.
  let tip = null;
  let tipOwner = null;

  function showTip(owner) {
    if (!tip) {
      tip = document.createElement("div");
      tip.id = "dbsnooze-tip";
      tip.className = "tip";
      tip.setAttribute("role", "tooltip");
      tip.hidden = true;
      document.body.appendChild(tip);
    }
    if (tipOwner && tipOwner !== owner) hideTip();
    tipOwner = owner;
    tip.textContent = owner.dataset.tip;
    tip.hidden = false;
    owner.setAttribute("aria-describedby", tip.id);
    const box = owner.getBoundingClientRect();
    const margin = 8;
    const width = tip.offsetWidth;
    const height = tip.offsetHeight;
    const left = Math.min(Math.max(margin, box.left), window.innerWidth - width - margin);
    const below = box.bottom + 6;
    const top = below + height + margin > window.innerHeight ? Math.max(margin, box.top - height - 6) : below;
    tip.style.left = Math.max(margin, left) + "px";
    tip.style.top = top + "px";
  }

  function hideTip() {
    if (!tipOwner) return;
    if (tipOwner.getAttribute("aria-describedby") === "dbsnooze-tip") tipOwner.removeAttribute("aria-describedby");
    tipOwner = null;
    if (tip) tip.hidden = true;
  }

  function tipOf(event) {
    return event.target instanceof Element ? event.target.closest("[data-tip]") : null;
  }

  document.addEventListener("focusin", (event) => { const owner = tipOf(event); if (owner) showTip(owner); });
  document.addEventListener("focusout", (event) => { if (tipOf(event) === tipOwner) hideTip(); });
  document.addEventListener("mouseover", (event) => { const owner = tipOf(event); if (owner) showTip(owner); });
  document.addEventListener("mouseout", (event) => {
    const owner = tipOf(event);
    if (owner && owner === tipOwner && !owner.contains(event.relatedTarget) && document.activeElement !== owner) hideTip();
  });
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") hideTip(); });
  window.addEventListener("scroll", hideTip, { passive: true });

  window.dbsnooze = {
    zone, formatLocal, localizeTimes, api, describeError, say, carry, sayCarried, hideTip,
  };
  document.addEventListener("DOMContentLoaded", () => localizeTimes(document));
})();
