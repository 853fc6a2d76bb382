// The instance page's schedule panel: its schedule, the next stop or start and why, overrides.
"use strict";

(function () {
  const { api, describeError, say, formatLocal } = window.dbsnooze;
  const panel = document.getElementById("schedule-panel");
  if (!panel) return;
  const base = "/api/v1/instances/" + panel.dataset.instanceId;
  const status = document.getElementById("schedule-status");
  const field = (id) => document.getElementById(id);
  const WAITING = { planned: true, skipped: true, dry_run: true, failed: true };

  function scheduleText(data) {
    if (!data.schedule_name) return "none";
    const flags = [data.dry_run ? "dry run" : "", data.enforce ? "enforced" : ""].filter(Boolean);
    return data.schedule_name + (flags.length ? " (" + flags.join(", ") + ")" : "");
  }

  function nextText(data) {
    if (!data.next_kind || !data.next_change) return data.asleep_wanted === null ? "nothing planned" : "no change ahead";
    return (data.next_kind === "stop" ? "stop" : "start") + " at " + formatLocal(data.next_change);
  }

  function whyText(data) {
    const latest = data.latest;
    if (latest && WAITING[latest.state]) return latest.reason;
    if (data.override) return "a person's override (" + data.override.created_by + ")";
    if (latest) return "last: " + latest.kind + " " + latest.state + " — " + latest.reason;
    return data.schedule_name ? "following the schedule" : "no schedule or override";
  }

  function show(data) {
    field("schedule-name").textContent = scheduleText(data);
    field("schedule-next").textContent = nextText(data);
    field("schedule-why").textContent = whyText(data);
    const override = data.override;
    field("schedule-override-row").hidden = !override;
    field("schedule-clear").hidden = !override;
    if (override) {
      field("schedule-override").textContent = "keep " + override.state + " until " + formatLocal(override.until);
    }
    panel.dataset.state = "ready";
  }

  async function load() {
    const result = await api("GET", base + "/schedule");
    if (!result.ok) {
      panel.dataset.state = "error";
      say(status, "Could not load the schedule: " + describeError(result), "error");
      return;
    }
    show(result.data);
    await markers();
  }

  // Done stops and starts as markers on the charts (the newest 200).
  async function markers() {
    const query = "?instance_id=" + panel.dataset.instanceId + "&state=done&limit=200";
    const result = await api("GET", "/api/v1/actions" + query);
    const page = window.dbsnooze.instancePage;
    if (!result.ok || !page) return;
    const events = result.data.data
      .filter((a) => a.finished_at)
      .map((a) => ({ at: a.finished_at, label: (a.kind === "stop" ? "stopped" : "started") + " by " + a.actor }));
    page.setEvents(events);
    panel.dataset.markers = String(events.length);
  }

  function tomorrowMorning() {
    const at = new Date();
    at.setDate(at.getDate() + 1);
    at.setHours(8, 0, 0, 0);
    return at.toISOString();
  }

  async function override(button) {
    const body = { state: button.dataset.override };
    if (button.dataset.duration) body.duration = button.dataset.duration;
    if (button.dataset.until === "tomorrow") body.until = tomorrowMorning();
    button.disabled = true;
    say(status, "Asking the cloud…", "info");
    const result = await api("POST", base + "/override", body);
    button.disabled = false;
    if (!result.ok) {
      say(status, "Could not override: " + describeError(result), "error");
      return;
    }
    const outcome = result.data.outcome ? " (" + result.data.outcome + ")" : "";
    say(status, "Kept " + result.data.override.state + " " + result.data.why_until + outcome + ".", "ok");
    await load();
  }

  panel.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-override]");
    if (button) {
      override(button);
      return;
    }
    if (event.target.id === "schedule-clear") {
      const result = await api("DELETE", base + "/override");
      say(status, result.ok ? "Override cleared: the schedule decides again." : "Could not clear: " + describeError(result), result.ok ? "ok" : "error");
      await load();
    }
  });
  load();
})();
