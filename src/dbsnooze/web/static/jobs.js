// The jobs page: refresh the table while a job is going, keeping the details the viewer opened
// and the focus; cancel a job, and say so once it has stopped.
"use strict";

(function () {
  const { api, describeError, localizeTimes, say } = window.dbsnooze;
  const REFRESH_MS = 1500;
  const holder = document.getElementById("jobs-table");
  const message = document.getElementById("jobs-message");
  let timer = null;
  const cancelling = new Set();  // job ids whose cancel was asked here and not yet seen done

  async function refresh() {
    timer = null;
    let response;
    try {
      response = await fetch(holder.dataset.source, { credentials: "same-origin" });
    } catch (err) {
      say(message, "The server did not answer; the table stopped refreshing.", "error");
      return;
    }
    if (response.redirected && new URL(response.url).pathname === "/login") {
      say(message, "Your sign-in is no longer valid. Reload the page to sign in again.", "error");
      return;
    }
    if (!response.ok) {
      say(message, "Could not refresh the jobs (HTTP " + response.status + ").", "error");
      return;
    }
    const focused = focusKey(document.activeElement);
    const open = Array.from(holder.querySelectorAll("details[open]"), detailsKey);
    holder.innerHTML = await response.text();
    localizeTimes(holder);
    for (const key of open) {
      const again = holder.querySelector(key);
      if (again) again.open = true;
    }
    if (focused) {
      const again = holder.querySelector(focused);
      if (again) again.focus();
    }
    reportCancelled();
    schedule();
  }

  // A details element (or the summary in it) by its job row and its kind, across a refresh.
  function detailsKey(details) {
    const row = details.closest("tr[data-job-id]");
    const kind = details.classList.contains("errors") ? ".errors" : ":not(.errors)";
    return 'tr[data-job-id="' + (row ? row.dataset.jobId : "") + '"] details' + kind;
  }

  function focusKey(el) {
    if (!el || !holder.contains(el)) return null;
    if (el.classList.contains("cancel-job")) return '.cancel-job[data-job-id="' + el.dataset.jobId + '"]';
    const details = el.closest("details");
    if (el.tagName === "SUMMARY" && details) return detailsKey(details) + " > summary";
    return null;
  }

  // "Cancelling job #n…" becomes what happened, once the table shows the job stopped.
  function reportCancelled() {
    for (const id of Array.from(cancelling)) {
      const row = holder.querySelector('tr[data-job-id="' + id + '"]');
      const state = row ? row.dataset.state : null;
      if (state === "queued" || state === "running") continue;
      cancelling.delete(id);
      say(message, state === "cancelled" ? "Job #" + id + " cancelled."
        : state ? "Job #" + id + " finished as " + state + " before the cancel took effect." : "Job #" + id + " cancelled.",
        state === "cancelled" || !state ? "ok" : "info");
    }
  }

  function schedule() {
    const inner = holder.querySelector(".jobs-inner");
    if (!timer && inner && inner.dataset.active === "true") {
      timer = setTimeout(refresh, REFRESH_MS);
    }
  }

  holder.addEventListener("click", async (event) => {
    const button = event.target.closest(".cancel-job");
    if (!button) return;
    button.disabled = true;
    const result = await api("POST", "/api/v1/jobs/" + button.dataset.jobId + "/cancel");
    if (result.ok) {
      cancelling.add(button.dataset.jobId);
      say(message, "Cancelling job #" + button.dataset.jobId + "…", "info");
    } else {
      say(message, "Could not cancel job #" + button.dataset.jobId + ": " + describeError(result), "error");
      button.disabled = false;
    }
    if (timer) clearTimeout(timer);
    refresh();
  });

  schedule();
})();
