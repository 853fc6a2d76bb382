// The schedules pages' forms: create a schedule (then open its page), edit a schedule's settings
// (sending only what changed) and delete it after an inline confirmation. A refusal is shown at
// the field it is about, marked aria-invalid; a status for the next page is carried (common.js carry).
"use strict";

(function () {
  const { api, describeError, say, carry, sayCarried, zone } = window.dbsnooze;
  const DATE = /^\d{4}-\d{2}-\d{2}$/;
  // Errors whose code says their field; the others name it first in their message
  // ("sleep_cron '…' is not…", "skip_dates.0: Input should be…", "selector.tags: …").
  const FIELD_OF_CODE = {
    schedule_name_taken: "name",
    unknown_timezone: "timezone",
    unknown_holiday_country: "holidays_country",
    unknown_holiday_subdivision: "holidays_subdivision",
  };

  function input(form, name) { return form.elements.namedItem(name); }
  function text(form, name) { return input(form, name).value.trim(); }

  function mark(form, name, words) {
    const field = input(form, name);
    const note = document.getElementById(field.id + "-error");
    field.setAttribute("aria-invalid", "true");
    note.textContent = words;
    note.hidden = false;
  }

  function unmark(form) {
    for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
    for (const note of form.querySelectorAll(".field-error")) {
      note.textContent = "";
      note.hidden = true;
    }
  }

  function refused(form, status, words) {
    say(status, words, "error");
    const first = form.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
  }

  function fieldOf(form, error, problem) {
    if (error.code === "half_cron_pair") return text(form, "sleep_cron") ? "wake_cron" : "sleep_cron";
    const path = problem.split(/[: ]/)[0].split(".").filter((part) => part !== "selector");
    const name = FIELD_OF_CODE[error.code] || path[0];
    return input(form, name) ? name : null;
  }

  // The API's refusal, at each field it names.
  function showErrors(form, status, result, verb) {
    const error = result.data && result.data.error;
    for (const problem of error ? error.fields || [error.message] : []) {
      const name = fieldOf(form, error, problem);
      if (name) mark(form, name, problem.replace(/^[\w.]+: /, ""));
    }
    refused(form, status, verb + describeError(result));
  }

  function busy(form, on) { form.querySelector('[type="submit"]').disabled = on; }

  // The settings as the API takes them; what the API could not say in words is marked here.
  function dates(form) {
    const found = text(form, "skip_dates").split(/[\s,]+/).filter(Boolean);
    const bad = found.find((day) => !DATE.test(day));
    if (bad) mark(form, "skip_dates", "“" + bad + "” is not a date as YYYY-MM-DD.");
    return found;
  }

  function tags(form) {
    const found = {};
    for (const pair of text(form, "tags").split(",").map((p) => p.trim()).filter(Boolean)) {
      const at = pair.indexOf("=");
      if (at < 1) mark(form, "tags", "“" + pair + "” is not key=value.");
      else found[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
    }
    return found;
  }

  function read(form) {
    const optional = (name) => text(form, name) || null;
    return {
      name: text(form, "name"),
      timezone: text(form, "timezone"),
      enforce: input(form, "enforce").checked,
      holidays_country: optional("holidays_country"),
      holidays_subdivision: optional("holidays_subdivision"),
      skip_dates: dates(form),
      sleep_cron: optional("sleep_cron"),
      wake_cron: optional("wake_cron"),
      selector: {
        tags: tags(form),
        name_pattern: optional("name_pattern"),
        account_id: Number(form.dataset.accountId) || null, // kept: no field for it here
        region: optional("region"),
        engine: optional("engine"),
      },
    };
  }

  function changes(now, saved) {
    const body = {};
    for (const key of Object.keys(now)) {
      if (JSON.stringify(now[key]) !== JSON.stringify(saved[key])) body[key] = now[key];
    }
    return body;
  }

  // The header and the zone's other mentions, as the server renders them now.
  async function refreshHead() {
    let response;
    try {
      response = await fetch(window.location.pathname, { credentials: "same-origin" });
    } catch (err) {
      return false;
    }
    if (!response.ok) return false;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const el of document.querySelectorAll("[data-refresh]")) {
      const again = fresh.getElementById(el.id);
      if (again) el.innerHTML = again.innerHTML;
    }
    document.title = fresh.title;
    return true;
  }

  function initSettings(form, id) {
    const status = document.getElementById("settings-status");
    let saved = read(form);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      unmark(form);
      const now = read(form);
      if (form.querySelector("[aria-invalid]")) return refused(form, status, "Not saved: see the marked field.");
      const body = changes(now, saved);
      if (Object.keys(body).length === 0) return say(status, "Nothing changed.", "info");
      busy(form, true);
      const result = await api("PATCH", "/api/v1/schedules/" + id, body);
      busy(form, false);
      if (!result.ok) return showErrors(form, status, result, "Not saved: ");
      saved = now;
      const what = Object.keys(body).join(", ").replaceAll("_", " ");
      document.dispatchEvent(new CustomEvent("schedulechange", { detail: result.data }));
      const fresh = await refreshHead();
      say(status, "Saved " + what + "." + (fresh ? "" : " Reload the page to see the new header."), "ok");
    });
  }

  function initDelete(id) {
    const ask = document.getElementById("delete-schedule");
    const confirm = document.getElementById("delete-confirm");
    const yes = document.getElementById("delete-yes");
    function open(on) {
      confirm.hidden = !on;
      ask.setAttribute("aria-expanded", String(on));
      (on ? yes : ask).focus();
    }
    ask.addEventListener("click", () => open(confirm.hidden));
    document.getElementById("delete-no").addEventListener("click", () => open(false));
    confirm.addEventListener("keydown", (event) => { if (event.key === "Escape") open(false); });
    yes.addEventListener("click", async () => {
      const name = document.getElementById("schedule-name").textContent.trim();
      yes.disabled = true;
      const result = await api("DELETE", "/api/v1/schedules/" + id);
      yes.disabled = false;
      if (!result.ok) {
        say(document.getElementById("delete-status"), "Not deleted: " + describeError(result), "error");
        return;
      }
      carry("Schedule “" + name + "” deleted.", "ok");
      window.location.assign("/schedules");
    });
  }

  function initNew(form) {
    const status = document.getElementById("new-status");
    if (document.querySelector('#zones option[value="' + CSS.escape(zone) + '"]')) {
      input(form, "timezone").value = zone; // the viewer's own zone, when the server knows it
    }
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      unmark(form);
      busy(form, true);
      const body = { name: text(form, "name"), timezone: text(form, "timezone") };
      const result = await api("POST", "/api/v1/schedules", body);
      busy(form, false);
      if (!result.ok) return showErrors(form, status, result, "Not created: ");
      carry("Schedule “" + result.data.name + "” created, in dry run. Draw its sleep windows below.", "ok");
      window.location.assign("/schedules/" + result.data.id);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    sayCarried(document.getElementById("schedule-message") || document.getElementById("schedules-message"));
    const creating = document.getElementById("new-schedule");
    if (creating) initNew(creating);
    const root = document.getElementById("schedule");
    if (root) {
      initSettings(document.getElementById("settings-form"), root.dataset.scheduleId);
      initDelete(root.dataset.scheduleId);
    }
  });
})();
