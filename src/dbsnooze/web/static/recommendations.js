// The recommendations page: apply or dismiss a recommendation, recompute them all.
"use strict";

(function () {
  const { api, describeError, say } = window.dbsnooze;
  const message = document.getElementById("rec-message");
  const table = document.getElementById("recommendations-table");
  const recompute = document.getElementById("recompute");

  async function decide(row, action, button) {
    button.disabled = true;
    const name = row.dataset.name;
    const result = await api("POST", "/api/v1/recommendations/" + row.dataset.id + "/" + action, {});
    if (!result.ok) {
      button.disabled = false;
      say(message, "Could not " + action + " the recommendation for " + name + ": " + describeError(result), "error");
      return;
    }
    row.dataset.state = result.data.state;
    row.querySelector(".state").textContent = result.data.state;
    for (const other of row.querySelectorAll("button[data-action]")) {
      other.hidden = (other.dataset.action === "apply" && result.data.state === "applied") ||
        (other.dataset.action === "dismiss" && result.data.state === "dismissed");
      other.disabled = false;
    }
    say(message, action === "apply"
      ? "Applied: the sleep windows for " + name + " are recorded (" + result.data.timezone + " time)."
      : "Dismissed the recommendation for " + name + " until its windows change.", "ok");
  }

  if (table) {
    table.addEventListener("click", (event) => {
      const button = event.target.closest("button[data-action]");
      if (!button) return;
      decide(button.closest("tr"), button.dataset.action, button);
    });
  }

  recompute.addEventListener("click", async () => {
    recompute.disabled = true;
    say(message, "Recomputing every recommendation…", "info");
    const result = await api("POST", "/api/v1/recommendations/refresh", {});
    if (!result.ok) {
      recompute.disabled = false;
      say(message, "Could not recompute: " + describeError(result), "error");
      return;
    }
    window.location.reload();
  });
})();
