// The instance page's day × hour-of-day activity heatmap, in the viewer's time zone (the coverage
// strip is charts.js's). Idle, asleep and no-data cells differ by pattern as well as colour.
// Each hour's class comes from the server's one idle rule (/activity), with the part of the
// rule that decided it; hours the proposed sleep windows cover are outlined.
"use strict";

(function () {
  const dayKey = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit" });
  const dayLabel = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
  const STATE_WORDS = { active: "active", idle: "idle", asleep: "asleep (stopped)", nodata: "no data" };
  const CLASS_STATE = { active: "active", idle: "idle", asleep: "asleep", unknown: "nodata" };

  // The server's verdict on each hour, by the hour's ISO start.
  function verdicts(activity) {
    const found = new Map();
    activity.hours.forEach((iso, i) => {
      found.set(iso, { state: CLASS_STATE[activity.classes[i]] || "nodata", reason: activity.reasons[i], sleep: activity.sleep[i] });
    });
    return found;
  }

  // The rule in words, with this instance's numbers.
  function ruleText(activity) {
    const t = activity.thresholds;
    const { number } = window.dbsnooze.charts;
    const floor = t.sources.connection_floor === "tag"
      ? "the floor of " + number(t.connection_floor, "") + " its tag sets"
      : "its idle floor of " + number(t.connection_floor, "") + " (learned from its own history)" +
        (t.connections_margin ? " plus " + number(t.connections_margin, "") : "");
    return "An hour is idle when average CPU stays below " + number(t.cpu_percent, "%") +
      ", read + write IOPS below " + number(t.iops, "") + ", and connections no higher than " + floor +
      ": connections an application pool keeps open are not activity. Hover a cell to see which rule decided it.";
  }

  function level(cpu) {
    if (cpu === null) return 1;
    return cpu < 10 ? 1 : cpu < 25 ? 2 : cpu < 50 ? 3 : 4;
  }

  // Local (day, hour) cells; around a DST change two UTC hours can share a cell, or none.
  function cells(history, activity) {
    const cpu = history.series.cpu || [];
    const conns = history.maximum.connections || history.series.connections || [];
    const found = verdicts(activity);
    const days = new Map();
    history.hours.forEach((iso, i) => {
      const start = new Date(iso);
      const key = dayKey.format(start);
      if (!days.has(key)) days.set(key, { date: start, hours: new Array(24).fill(null) });
      const hour = start.getHours();
      const verdict = found.get(iso) || { state: "nodata", reason: "no_data", sleep: 0 };
      const slot = days.get(key).hours;
      const cell = { iso, ...verdict, cpu: cpu[i] ?? null, connections: conns[i] ?? null };
      slot[hour] = slot[hour] ? merge(slot[hour], cell) : cell;
    });
    return days;
  }

  const RANK = { active: 3, idle: 2, asleep: 1, nodata: 0 };
  function merge(a, b) {
    return RANK[b.state] > RANK[a.state] ? b : a;
  }

  function cellText(day, hour, cell, words) {
    const when = dayLabel.format(day.date) + " " + String(hour).padStart(2, "0") + ":00";
    const { number } = window.dbsnooze.charts;
    const values = cell.state === "asleep" || cell.state === "nodata" ? ""
      : ": CPU " + number(cell.cpu, "%") + ", at most " + number(cell.connections, "") + " connections";
    const why = cell.state === "active" || cell.state === "idle" ? " (" + words[cell.reason] + ")" : "";
    const sleep = cell.sleep > 0 ? " · inside the proposed sleep windows" : "";
    return when + " · " + STATE_WORDS[cell.state] + why + values + sleep;
  }

  function drawHeatmap(holder, summaryEl, history, activity) {
    const days = cells(history, activity);
    const ruleEl = document.getElementById("heatmap-rule");
    if (ruleEl) ruleEl.textContent = ruleText(activity);
    const table = document.createElement("table");
    table.className = "heatmap";
    table.id = "heatmap-table";
    const caption = table.createCaption();
    caption.className = "visually-hidden";
    caption.textContent = "Activity per hour: one row per day, one column per hour of the day, in " + window.dbsnooze.zone;
    const head = table.createTHead().insertRow();
    head.appendChild(headerCell("Day", "col"));
    for (let h = 0; h < 24; h++) {
      const th = headerCell(String(h).padStart(2, "0"), "col");
      th.className = h % 3 === 0 ? "hour" : "hour minor";
      th.setAttribute("aria-label", String(h).padStart(2, "0") + ":00");
      head.appendChild(th);
    }
    head.appendChild(headerCell("Idle h", "col"));
    const body = table.createTBody();
    const totals = { active: 0, idle: 0, asleep: 0, nodata: 0 };
    for (const [key, day] of days) {
      const row = body.insertRow();
      row.dataset.day = key;
      const weekend = [0, 6].includes(day.date.getDay());
      if (weekend) row.className = "weekend";
      row.appendChild(headerCell(dayLabel.format(day.date), "row"));
      let idle = 0;
      day.hours.forEach((cell, hour) => {
        const td = row.insertCell();
        td.dataset.hour = String(hour);
        if (!cell) {  // before or after the range, or skipped by a clock change
          td.className = "hm hm-outside";
          td.dataset.state = "outside";
          return;
        }
        td.className = "hm hm-" + cell.state + (cell.state === "active" ? " hm-l" + level(cell.cpu) : "") +
          (cell.sleep > 0 ? " hm-sleep" : "");
        td.dataset.state = cell.state;
        td.dataset.reason = cell.reason;
        if (cell.sleep > 0) td.dataset.sleep = String(cell.sleep);
        td.dataset.start = cell.iso;
        if (cell.cpu !== null) td.dataset.cpu = String(cell.cpu);
        totals[cell.state] += 1;
        if (cell.state === "idle") idle += 1;
        const text = cellText(day, hour, cell, activity.reason_words);
        td.title = text;
        td.setAttribute("aria-label", text);
      });
      const count = row.insertCell();
      count.className = "idle-count";
      count.textContent = String(idle);
    }
    holder.replaceChildren(table);
    holder.dataset.state = "ready";
    const hours = Object.values(totals).reduce((a, b) => a + b, 0);
    const pct = (n) => (hours ? Math.round((100 * n) / hours) : 0) + " %";
    const windows = activity.windows.map((w) => w.sleep + " → " + w.wake).join(", ");
    summaryEl.textContent = "Over " + hours + " hours: idle " + totals.idle + " h (" + pct(totals.idle) +
      "), active " + totals.active + " h (" + pct(totals.active) + "), asleep " + totals.asleep +
      " h, no data " + totals.nodata + " h." + (windows
        ? " Proposed sleep windows, " + activity.timezone.name + " time: " + windows + " (outlined cells)."
        : "");
  }

  function headerCell(text, scope) {
    const th = document.createElement("th");
    th.scope = scope;
    th.textContent = text;
    return th;
  }

  window.dbsnooze.heatmap = { drawHeatmap };
})();
