// The jobs page: refresh the table while a job is going; cancel a job.
"use strict";

(function () {
  const { api, describeError, localizeTimes, say } = window.dbsnooze;
  const REFRESH_MS = 1500;
  const holder = document.getElementById("jobs-table");
  const message = document.getElementById("jobs-message");
  let timer = null;

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
    const focused = document.activeElement && document.activeElement.dataset.jobId;
    holder.innerHTML = await response.text();
    localizeTimes(holder);
    if (focused) {
      const again = holder.querySelector('.cancel-job[data-job-id="' + focused + '"]');
      if (again) again.focus();
    }
    schedule();
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
