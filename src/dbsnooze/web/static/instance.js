// The instance page: load a range of history, draw it, and run a backfill with live progress.
// The page's URL holds the range (`range=` or `start=`/`end=`), the statistic (`stat=maximum`)
// and the time zone (`tz=utc`). Every range change (buttons, custom range, drag-zoom,
// double-click reset) is a browser history entry: Back and Forward step through them.
//
// Event markers (e.g. a schedule's stop/start actions) can be fed to the charts with
// `window.dbsnooze.instancePage.setEvents([{ at: "2026-11-18T20:00:00Z", label: "stopped" }])`;
// they stay through redraws until replaced.
"use strict";

(function () {
  const { api, describeError, say } = window.dbsnooze;
  const POLL_MS = 400;
  const MAX_SPAN_DAYS = 455;
  const page = document.getElementById("instance-page");
  const id = page.dataset.instanceId;
  const base = "/api/v1/instances/" + id + "/metrics/history";
  const el = (name) => document.getElementById(name);
  const status = el("history-status");
  const chartsEl = el("charts");
  const rangeForm = el("range-form");
  const optionsForm = el("chart-options");
  const custom = el("custom-range");
  const facts = {
    thresholds: JSON.parse(chartsEl.dataset.thresholds || "null"),
    ownerZone: chartsEl.dataset.ownerZone || "UTC",
    memoryKnown: chartsEl.dataset.memoryKnown !== "false",
  };
  const defaultRange = page.dataset.range;
  let drawn = null;
  let shownHistory = null;
  let events = [];
  let view = fromUrl();

  // --- the view in the URL ----------------------------------------------------------------

  function fromUrl() {
    const params = new URLSearchParams(window.location.search);
    const found = { stat: params.get("stat") === "maximum" ? "maximum" : "average", utc: params.get("tz") === "utc" };
    if (params.get("start") && params.get("end")) {
      return { ...found, start: params.get("start"), end: params.get("end") };
    }
    return { ...found, range: params.get("range") && el("range-" + params.get("range")) ? params.get("range") : defaultRange };
  }

  function rangeParams(v) {
    return v.range ? { range: v.range } : { start: v.start, end: v.end };
  }

  function pageQuery(v) {
    const params = new URLSearchParams(rangeParams(v));
    if (v.stat === "maximum") params.set("stat", "maximum");
    if (v.utc) params.set("tz", "utc");
    return "?" + params.toString();
  }

  function apiQuery(extra) {
    const params = new URLSearchParams(rangeParams(view));
    for (const [k, v] of Object.entries(extra || {})) params.set(k, v);
    return params.toString();
  }

  // A new range: a new history entry (the previous range is one Back away).
  function goTo(range, reason, from) {
    const same = range.range ? range.range === view.range : range.start === view.start && range.end === view.end;
    if (same) return; // e.g. the synced charts all report one drag
    view = { ...view, range: undefined, start: undefined, end: undefined, ...range };
    if (!view.range) delete view.range;
    if (!view.start) { delete view.start; delete view.end; }
    window.history.pushState({ reason: reason || "range", from: from || null }, "", pageQuery(view));
    syncControls();
    loadHistory();
  }

  // The statistic or the zone: the same range drawn again, the URL updated in place.
  function redrawWith(change) {
    view = { ...view, ...change };
    window.history.replaceState(window.history.state, "", pageQuery(view));
    if (shownHistory) render(shownHistory);
  }

  window.addEventListener("popstate", () => {
    view = fromUrl();
    syncControls();
    loadHistory();
  });

  function syncControls() {
    const named = view.range ? el("range-" + view.range) : null;
    (named || el("range-custom")).checked = true;
    custom.disabled = Boolean(named);
    if (!named) {
      el("range-start").value = localInput(view.start);
      el("range-end").value = localInput(view.end);
    }
    el(view.stat === "maximum" ? "stat-maximum" : "stat-average").checked = true;
    el(view.utc ? "tz-utc" : "tz-local").checked = true;
  }

  // --- history ----------------------------------------------------------------------------

  let loading = 0;
  async function loadHistory() {
    const ticket = ++loading;
    say(status, "Loading history…", "info");
    chartsEl.dataset.state = "loading";
    const result = await api("GET", base + "?" + apiQuery());
    if (ticket !== loading) return; // a later range was asked for meanwhile
    if (!result.ok) {
      chartsEl.dataset.state = "error";
      say(status, "Could not load the history: " + describeError(result), "error");
      return;
    }
    el("csv-link").href = base + "?" + apiQuery({ format: "csv" });
    shownHistory = result.data;
    render(result.data);
    loadActivity(result.data);
  }

  // The heatmap draws the server's hour classes over the same hours as the history.
  async function loadActivity(history) {
    const heat = el("heatmap");
    heat.dataset.state = "loading";
    const params = new URLSearchParams({ start: history.start, end: history.end });
    const result = await api("GET", "/api/v1/instances/" + id + "/activity?" + params);
    if (history !== shownHistory) return;
    if (!result.ok) {
      heat.dataset.state = "error";
      say(el("heatmap-summary"), "Could not classify the hours: " + describeError(result), "error");
      return;
    }
    window.dbsnooze.heatmap.drawHeatmap(heat, el("heatmap-summary"), history, result.data);
  }

  // A drag: the selected hours, remembering the range the zooming started from.
  function zoomed(startSeconds, endSeconds) {
    const state = window.history.state;
    const from = state && state.from ? state.from : rangeParams(view);
    const iso = (seconds) => new Date(seconds * 1000).toISOString();
    goTo({ start: iso(startSeconds), end: iso(endSeconds) }, "zoom", from);
  }

  // Double-click: back to the range the zooming started from (or the page's default range).
  function reset() {
    const state = window.history.state;
    if (state && state.from) {
      goTo(state.from, "reset");
      return;
    }
    if (view.range) return;
    goTo({ range: defaultRange }, "reset");
  }

  function render(history) {
    const charts = window.dbsnooze.charts;
    const states = charts.hourStates(history);
    const stored = history.coverage.filter((s) => s !== "missing").length;
    const future = states.filter((s) => s === "future").length;
    if (drawn) drawn.destroy();
    drawn = null;
    if (window.uPlot) {
      drawn = charts.draw(chartsEl, readout, history, {
        ...facts, stat: view.stat, utc: view.utc, events,
        onZoom: zoomed, onReset: reset,
      });
    }
    chartsEl.dataset.state = !window.uPlot ? "unavailable" : stored ? "ready" : "empty";
    charts.drawCoverage(el("coverage-strip"), el("coverage-summary"), history);
    const first = window.dbsnooze.formatLocal(history.hours[0]);
    const last = window.dbsnooze.formatLocal(Date.parse(history.hours[history.hours.length - 1]) + 3600000);
    let message;
    if (future === states.length) {
      message = "The range " + first + " to " + last + " is in the future: there is no history for it yet.";
    } else if (!stored && states.every((s) => s === "open" || s === "unsettled" || s === "future")) {
      message = "Nothing stored yet for " + first + " to " + last + ": these hours are not final, and live collection fills them as they go.";
    } else if (!stored) {
      message = "No history stored for " + first + " to " + last + " yet. Backfill fetches it from the cloud.";
    } else {
      message = "Showing " + plural(history.hours.length, "hour") + ", " + first + " to " + last + "." +
        (future ? " The last " + plural(future, "hour") + " of it are still to come." : "");
    }
    say(status, message, "info");
    status.dataset.future = String(future);
    custom.dataset.lastStart = history.start;
    custom.dataset.lastEnd = history.end;
  }

  const readout = window.dbsnooze.charts.makeReadout(
    el("readout-time"), el("readout-values"), el("readout-zone"), el("readout-announce"));

  function redrawForTheme() {
    if (shownHistory) render(shownHistory);
  }
  document.addEventListener("themechange", redrawForTheme);
  if (window.matchMedia) {
    window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", redrawForTheme);
  }

  window.dbsnooze.instancePage = {
    setEvents(list) {
      events = Array.isArray(list) ? list.slice() : [];
      if (drawn) drawn.setEvents(events);
    },
  };

  // --- range controls ---------------------------------------------------------------------

  function localInput(iso) {
    const d = new Date(iso);
    const pad = (n) => String(n).padStart(2, "0");
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":00";
  }

  rangeForm.addEventListener("change", (event) => {
    if (event.target.name !== "range") return;
    const choice = event.target.value;
    custom.disabled = choice !== "custom";
    if (choice === "custom") {
      if (custom.dataset.lastStart) {
        el("range-start").value = localInput(custom.dataset.lastStart);
        el("range-end").value = localInput(custom.dataset.lastEnd);
      }
      el("range-start").focus();
      return;
    }
    goTo({ range: choice });
  });

  rangeForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const start = new Date(el("range-start").value);
    const end = new Date(el("range-end").value);
    if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) {
      say(status, "Give both a start and an end for the custom range.", "error");
      return;
    }
    if (end <= start) {
      say(status, "The end of the range must come after its start.", "error");
      return;
    }
    if (end - start > MAX_SPAN_DAYS * 86400000) {
      say(status, "A range can span at most " + MAX_SPAN_DAYS + " days.", "error");
      return;
    }
    goTo({ start: start.toISOString(), end: end.toISOString() });
  });

  optionsForm.addEventListener("change", (event) => {
    if (event.target.name === "stat") redrawWith({ stat: event.target.value });
    if (event.target.name === "tz") redrawWith({ utc: event.target.value === "utc" });
  });

  // --- backfill ---------------------------------------------------------------------------

  const form = el("backfill-form");
  const button = el("backfill-button");
  const cancel = el("backfill-cancel");
  const box = el("backfill-status");
  const bar = el("backfill-progress");
  const text = el("backfill-text");
  let following = null;

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  function describeJob(job, note) {
    const done = job.hours_backfilled + job.hours_empty + job.hours_skipped + job.hours_refetched;
    const pct = Math.floor(job.progress * 100);
    const name = "Backfill job #" + job.id + (job.instance_ids.length > 1 ? " (" + job.instance_ids.length + " instances)" : "");
    const errors = job.errors.map((e) => e.error || e.message || JSON.stringify(e));
    const prefix = note ? note + " " : "";
    switch (job.state) {
      case "queued":
        return prefix + name + " is queued, waiting for a worker…";
      case "running":
        return prefix + name + " is running: " + done + " of " + plural(job.hours_total, "hour") +
          " done (" + pct + " %), " + plural(job.api_calls, "API call") + " so far.";
      case "succeeded":
        return prefix + name + " finished: " + plural(job.hours_backfilled, "hour") + " backfilled, " +
          job.hours_empty + " with no data in the cloud, " + job.hours_skipped + " already stored" +
          (job.hours_refetched ? ", " + plural(job.hours_refetched, "stored hour") + " fetched again" : "") + "; " +
          plural(job.api_calls, "API call") + "." +
          (job.capped ? " The depth was capped at " + plural(job.days, "day") + " by the server's setting." : "") +
          (errors.length ? " Some requests failed: " + errors.join("; ") : "");
      case "failed":
        return prefix + name + " failed at " + pct + " %" + (errors.length ? ": " + errors.join("; ") : ".");
      case "cancelled":
        return prefix + name + " was cancelled at " + pct + " %, after " + plural(job.hours_backfilled, "hour") + " backfilled.";
      default:
        return prefix + name + ": " + job.state;
    }
  }

  function showJob(job, note) {
    box.hidden = false;
    box.dataset.state = job.state;
    box.dataset.jobId = String(job.id);
    bar.value = job.progress;
    bar.dataset.state = job.state;
    text.textContent = describeJob(job, note);
    const kind = job.state === "failed" ? "error" : job.state === "succeeded" ? "ok" : "info";
    box.dataset.kind = kind;
  }

  function showMessage(message, state, kind) {
    box.hidden = false;
    box.dataset.state = state;
    box.dataset.kind = kind;
    bar.value = 0;
    text.textContent = message;
  }

  function showError(message) {
    showMessage(message, "error", "error");
  }

  async function follow(job, note) {
    following = job.id;
    button.disabled = true;
    cancel.hidden = false;
    cancel.disabled = false;
    showJob(job, note);
    while (!job.finished_at) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const result = await api("GET", "/api/v1/jobs/" + job.id);
      if (!result.ok) {
        showError("Lost track of backfill job #" + job.id + ": " + describeError(result));
        break;
      }
      job = result.data;
      showJob(job, note);
    }
    following = null;
    button.disabled = false;
    cancel.hidden = true;
    if (job.finished_at) loadHistory();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (following) return;
    button.disabled = true;
    showMessage("Starting the backfill…", "submitting", "info");
    const params = new URLSearchParams({ days: el("backfill-days").value });
    if (el("backfill-force").checked) params.set("force", "true");
    const result = await api("POST", "/api/v1/instances/" + id + "/metrics/backfill?" + params);
    if (result.ok) {
      follow(result.data);
      return;
    }
    const error = result.data && result.data.error;
    if (result.status === 409 && error && error.code === "backfill_running" && error.job_id) {
      const running = await api("GET", "/api/v1/jobs/" + error.job_id);
      if (running.ok) {
        follow(running.data, describeError(result) + " Following it:");
        return;
      }
    }
    button.disabled = false;
    showError("The backfill did not start. " + describeError(result));
  });

  cancel.addEventListener("click", async () => {
    if (!following) return;
    cancel.disabled = true;
    const result = await api("POST", "/api/v1/jobs/" + following + "/cancel");
    if (!result.ok) {
      cancel.disabled = false;
      say(status, "Could not cancel job #" + following + ": " + describeError(result), "error");
    }
  });

  async function resumeRunningJob() {
    const result = await api("GET", "/api/v1/jobs?instance=" + id + "&limit=1");
    if (!result.ok || !result.data.data.length) return;
    const job = result.data.data[0];
    if (!job.finished_at) follow(job, "A backfill of this instance is in progress.");
  }

  window.history.replaceState(null, "", pageQuery(view));
  syncControls();
  loadHistory();
  resumeRunningJob();
})();
