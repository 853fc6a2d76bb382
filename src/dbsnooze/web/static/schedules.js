// The schedule page: draw sleep windows on the 7 x 24 week grid (mouse, touch or keyboard),
// save them through the API, switch dry run / live, and show the API's preview (again when
// schedule_forms.js saves the settings: the "schedulechange" event).
"use strict";

(function () {
  const HOURS = 24;
  const WEEK = 7 * HOURS;
  const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // Asleep hours of the week (Monday 00:00 = 0) as weekly windows, one per sleep time, wake
  // time and length, over all the days that share them.
  function windowsOf(asleep) {
    const all = asleep.every(Boolean);
    if (all) return [{ days: [0], sleep: "00:00", wake: "00:00", span_days: 6 }];
    const start = asleep.indexOf(false);
    const runs = [];
    let open = null;
    for (let i = 1; i <= WEEK; i += 1) {
      const cell = (start + i) % WEEK;
      if (asleep[cell] && open === null) open = { from: cell, hours: 0 };
      if (asleep[cell]) open.hours += 1;
      if (!asleep[cell] && open !== null) { runs.push(open); open = null; }
    }
    if (open !== null) runs.push(open);
    const shapes = new Map();
    for (const run of runs) {
      const day = Math.floor(run.from / HOURS);
      const sleep = run.from % HOURS;
      const end = run.from + run.hours;
      const wake = end % HOURS;
      const overnight = wake <= sleep ? 1 : 0;
      const span = Math.floor(end / HOURS) - day - overnight;
      const key = sleep + "/" + wake + "/" + span;
      if (!shapes.has(key)) {
        shapes.set(key, { days: [], sleep: pad(sleep) + ":00", wake: pad(wake) + ":00", span_days: span });
      }
      shapes.get(key).days.push(day);
    }
    return Array.from(shapes.values());
  }

  function init() {
    const root = document.getElementById("schedule");
    if (!root) return;
    const id = root.dataset.scheduleId;
    const base = "/api/v1/schedules/" + id;
    const message = document.getElementById("schedule-message");
    const cells = Array.from(document.querySelectorAll(".sched-cell"));
    const at = (day, hour) => cells[day * HOURS + hour];

    function setCell(cell, asleep) { cell.setAttribute("aria-pressed", asleep ? "true" : "false"); }
    function isAsleep(cell) { return cell.getAttribute("aria-pressed") === "true"; }

    // Drawing: the first cell decides whether the stroke paints asleep or awake, and the
    // stroke covers the rectangle of days and hours between it and the pointer.
    let painting = null;
    let anchor = null;
    let before = null;
    function paintTo(cell) {
      cells.forEach((other, i) => setCell(other, before[i]));
      const days = [Number(anchor.dataset.day), Number(cell.dataset.day)].sort((a, b) => a - b);
      const hours = [Number(anchor.dataset.hour), Number(cell.dataset.hour)].sort((a, b) => a - b);
      for (let day = days[0]; day <= days[1]; day += 1) {
        for (let hour = hours[0]; hour <= hours[1]; hour += 1) setCell(at(day, hour), painting);
      }
    }
    for (const cell of cells) {
      cell.addEventListener("pointerdown", (event) => {
        event.preventDefault();
        painting = !isAsleep(cell);
        anchor = cell;
        before = cells.map(isAsleep);
        paintTo(cell);
        cell.focus();
        move(cell);
      });
      cell.addEventListener("click", (event) => {
        if (event.detail === 0) setCell(cell, !isAsleep(cell)); // keyboard: Enter or Space
      });
      cell.addEventListener("keydown", (event) => arrows(event, cell));
    }
    // Follow the pointer by position: a touch keeps its first cell as the event target.
    document.addEventListener("pointermove", (event) => {
      if (painting === null) return;
      const under = document.elementFromPoint(event.clientX, event.clientY);
      if (under && under.classList.contains("sched-cell")) paintTo(under);
    });
    function stop() { painting = null; }
    document.addEventListener("pointerup", stop);
    document.addEventListener("pointercancel", stop);

    // One tab stop for the grid; the arrow keys move inside it.
    function move(cell) {
      for (const other of cells) other.tabIndex = -1;
      cell.tabIndex = 0;
    }
    const STEPS = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    function arrows(event, cell) {
      const step = STEPS[event.key];
      if (!step) return;
      event.preventDefault();
      const day = (Number(cell.dataset.day) + step[0] + 7) % 7;
      const hour = (Number(cell.dataset.hour) + step[1] + HOURS) % HOURS;
      const next = at(day, hour);
      move(next);
      next.focus();
    }

    async function patch(body, done) {
      const result = await window.dbsnooze.api("PATCH", base, body);
      if (!result.ok) {
        window.dbsnooze.say(message, window.dbsnooze.describeError(result), "error");
        return null;
      }
      window.dbsnooze.say(message, done, "ok");
      return result.data;
    }

    document.getElementById("save-windows").addEventListener("click", async () => {
      const windows = windowsOf(cells.map(isAsleep));
      if (await patch({ windows: windows }, "Saved " + windows.length + " sleep window(s).")) {
        await preview();
      }
    });
    document.getElementById("clear-windows").addEventListener("click", () => {
      for (const cell of cells) setCell(cell, false);
    });
    const enabled = document.getElementById("enabled");
    enabled.addEventListener("change", async () => {
      const done = enabled.checked ? "Enabled." : "Disabled: it acts on nothing.";
      if (!(await patch({ enabled: enabled.checked }, done))) enabled.checked = !enabled.checked;
    });
    for (const [button, dryRun] of [["go-live", false], ["go-dry", true]]) {
      const el = document.getElementById(button);
      if (!el) continue;
      el.addEventListener("click", async () => {
        const done = dryRun ? "Back to dry run." : "Live: it now stops and starts its instances.";
        if (await patch({ dry_run: dryRun }, done)) window.location.reload();
      });
    }
    document.getElementById("assign-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const instance = Number(document.getElementById("assign-instance").value);
      const result = await window.dbsnooze.api("POST", base + "/instances", { instance_ids: [instance] });
      if (!result.ok) {
        window.dbsnooze.say(message, window.dbsnooze.describeError(result), "error");
        return;
      }
      window.dbsnooze.say(message, "Assigned.", "ok");
      await preview();
    });

    function row(cells) {
      const tr = document.createElement("tr");
      for (const content of cells) {
        const td = document.createElement("td");
        if (content instanceof Node) td.appendChild(content); else td.textContent = content;
        tr.appendChild(td);
      }
      return tr;
    }

    async function unassign(instanceId) {
      const result = await window.dbsnooze.api("DELETE", base + "/instances/" + instanceId);
      if (!result.ok) {
        window.dbsnooze.say(message, window.dbsnooze.describeError(result), "error");
        return;
      }
      window.dbsnooze.say(message, "Unassigned.", "ok");
      await preview();
    }

    async function preview() {
      const result = await window.dbsnooze.api("GET", base + "/preview?days=7");
      if (!result.ok) {
        window.dbsnooze.say(message, window.dbsnooze.describeError(result), "error");
        return;
      }
      const clock = new Intl.DateTimeFormat("en-GB", {  // the schedule's clock, as of this answer
        timeZone: result.data.timezone, weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
      });
      const body = document.querySelector("#preview-table tbody");
      body.replaceChildren(...result.data.transitions.map((t) =>
        row([clock.format(new Date(t.at)), t.asleep ? "asleep" : "awake", t.reason])));
      document.getElementById("preview-empty").hidden = result.data.transitions.length > 0;
      const members = document.querySelector("#members-table tbody");
      members.replaceChildren(...result.data.data.map((m) => {
        const link = document.createElement("a");
        link.href = "/instances/" + m.instance_id;
        link.textContent = m.instance_name;
        const next = m.transitions.length
          ? clock.format(new Date(m.transitions[0].at)) + " · " + (m.transitions[0].asleep ? "sleeps" : "wakes")
          : "—";
        const status = document.createElement("span");
        status.className = "status-" + m.status;
        status.textContent = m.status === "assigned" ? m.reason : m.status.replace("_", " ") + ": " + m.reason;
        const remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = "Unassign";
        remove.setAttribute("aria-label", "Unassign " + m.instance_name);
        remove.addEventListener("click", () => unassign(m.instance_id));
        const tr = row([link, status, next, m.reason === "assigned explicitly" ? remove : ""]);
        tr.dataset.instanceId = m.instance_id;
        tr.dataset.status = m.status;
        return tr;
      }));
      document.getElementById("members-empty").hidden = result.data.data.length > 0;
      document.getElementById("preview-table").dataset.state = "ready";
    }

    document.addEventListener("schedulechange", preview); // the settings form saved new rules
    preview();
  }

  window.dbsnoozeSchedules = { windowsOf: windowsOf, days: DAYS };
  document.addEventListener("DOMContentLoaded", init);
})();
