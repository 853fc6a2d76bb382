// The instance page's day × hour-of-day activity heatmap, in the viewer's time zone (the coverage
// strip is charts.js's). Idle, asleep and no-data cells differ by pattern as well as colour.
// Each hour's class comes from the server's one idle rule (/activity), with the part of the
// rule that decided it; hours the proposed sleep windows cover are outlined.
"use strict";

(function () {
  const dayKey = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit" });
  const dayLabel = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });
  const dayShort = new Intl.DateTimeFormat(undefined, { weekday: "narrow", day: "numeric" });
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
      ": connections an application pool keeps open are not activity. Point at, tap or focus a cell to see which rule decided it.";
  }

  function level(cpu) {
    if (cpu === null) return 1;
    return cpu < 10 ? 1 : cpu < 25 ? 2 : cpu < 50 ? 3 : 4;
  }

  // Local (day, hour) cells; around a DST change two UTC hours can share a cell (the hour the
  // clock repeats) or none (the hour it skips). A cell keeps every hour it holds.
  function cells(history, activity) {
    const cpu = history.series.cpu || [];
    const conns = history.maximum.connections || history.series.connections || [];
    const found = verdicts(activity);
    const days = new Map();
    const hours = [];
    history.hours.forEach((iso, i) => {
      const start = new Date(iso);
      const key = dayKey.format(start);
      if (!days.has(key)) days.set(key, { date: start, hours: new Array(24).fill(null) });
      const hour = start.getHours();
      const verdict = found.get(iso) || { state: "nodata", reason: "no_data", sleep: 0 };
      const slot = days.get(key).hours;
      const cell = { iso, ...verdict, cpu: cpu[i] ?? null, connections: conns[i] ?? null };
      hours.push(cell);
      slot[hour] = slot[hour] ? merge(slot[hour], cell) : { ...cell, count: 1 };
    });
    return { days, hours };
  }

  const RANK = { active: 3, idle: 2, asleep: 1, nodata: 0 };
  // The cell of a repeated clock hour shows the busier of its two hours.
  function merge(a, b) {
    const shown = RANK[b.state] > RANK[a.state] ? b : a;
    return { ...shown, count: a.count + 1, idleHours: (a.state === "idle" ? 1 : 0) + (b.state === "idle" ? 1 : 0) };
  }

  function hourName(hour) {
    return String(hour).padStart(2, "0") + ":00";
  }

  function cellText(day, hour, cell, words) {
    const when = dayLabel.format(day.date) + " " + hourName(hour);
    if (!cell) return when + " · not in the range shown (or skipped by a clock change)";
    const { number } = window.dbsnooze.charts;
    const values = cell.state === "asleep" || cell.state === "nodata" ? ""
      : ": CPU " + number(cell.cpu, "%") + ", at most " + number(cell.connections, "") + " connections";
    const why = cell.state === "active" || cell.state === "idle" ? " (" + words[cell.reason] + ")" : "";
    const sleep = cell.sleep > 0 ? " · inside the proposed sleep windows" : "";
    const twice = cell.count > 1 ? " · this clock hour happened twice (clock change); the busier is shown" : "";
    return when + " · " + STATE_WORDS[cell.state] + why + values + sleep + twice;
  }

  // Keyboard: the grid is one tab stop; the arrow keys, Home and End move between hours and
  // days. The focused (or pointed at, or tapped) hour is described under the heatmap.
  function moveFocus(table, event) {
    const cell = event.target.closest("td.hm");
    if (!cell) return;
    const row = cell.parentElement;
    const hour = Number(cell.dataset.hour);
    const rows = Array.from(table.tBodies[0].rows);
    const at = rows.indexOf(row);
    let target = null;
    const inRow = (r, h) => r && r.querySelector('td.hm[data-hour="' + h + '"]');
    if (event.key === "ArrowRight") target = inRow(row, hour + 1);
    else if (event.key === "ArrowLeft") target = inRow(row, hour - 1);
    else if (event.key === "ArrowDown") target = inRow(rows[at + 1], hour);
    else if (event.key === "ArrowUp") target = inRow(rows[at - 1], hour);
    else if (event.key === "Home") target = event.ctrlKey ? inRow(rows[0], 0) : inRow(row, 0);
    else if (event.key === "End") target = event.ctrlKey ? inRow(rows[rows.length - 1], 23) : inRow(row, 23);
    else return;
    event.preventDefault();
    if (!target) return;
    cell.tabIndex = -1;
    target.tabIndex = 0;
    target.focus();
  }

  function describe(readout, cell) {
    if (!readout || !cell) return;
    readout.textContent = cell.getAttribute("aria-label");
    readout.dataset.hour = cell.dataset.start || "";
  }

  function drawHeatmap(holder, summaryEl, history, activity) {
    const { days, hours } = cells(history, activity);
    const ruleEl = document.getElementById("heatmap-rule");
    if (ruleEl) ruleEl.textContent = ruleText(activity);
    const readout = document.getElementById("heatmap-readout");
    const table = document.createElement("table");
    table.className = "heatmap";
    table.id = "heatmap-table";
    table.setAttribute("role", "grid");
    table.setAttribute("aria-describedby", "heatmap-help");
    const caption = table.createCaption();
    caption.className = "visually-hidden";
    caption.textContent = "Activity per hour: one row per day, one column per hour of the day, in " + window.dbsnooze.zone;
    const cols = document.createElement("colgroup");
    cols.appendChild(col("day"));
    for (let h = 0; h < 24; h++) cols.appendChild(col("hour"));
    cols.appendChild(col("count"));
    table.appendChild(cols);
    const head = table.createTHead().insertRow();
    head.appendChild(headerCell("Day", "col"));
    for (let h = 0; h < 24; h++) {
      const th = headerCell(String(h).padStart(2, "0"), "col");
      th.className = h % 6 === 0 ? "hour" : h % 3 === 0 ? "hour mid" : "hour minor";
      th.setAttribute("aria-label", hourName(h));
      head.appendChild(th);
    }
    const countHead = headerCell("Idle h", "col");
    countHead.setAttribute("aria-label", "Idle hours");
    head.appendChild(countHead);
    const body = table.createTBody();
    let first = null;
    for (const [key, day] of days) {
      const row = body.insertRow();
      row.dataset.day = key;
      const weekend = [0, 6].includes(day.date.getDay());
      if (weekend) row.className = "weekend";
      const dayHead = headerCell("", "row");
      dayHead.append(span("d-long", dayLabel.format(day.date)), span("d-short", dayShort.format(day.date)));
      row.appendChild(dayHead);
      let idle = 0;
      day.hours.forEach((cell, hour) => {
        const td = row.insertCell();
        td.dataset.hour = String(hour);
        td.tabIndex = -1;
        td.setAttribute("aria-label", cellText(day, hour, cell, activity.reason_words));
        if (!cell) {  // before or after the range, or skipped by a clock change
          td.className = "hm hm-outside";
          td.dataset.state = "outside";
          return;
        }
        if (!first) first = td;
        td.className = "hm hm-" + cell.state + (cell.state === "active" ? " hm-l" + level(cell.cpu) : "") +
          (cell.sleep > 0 ? " hm-sleep" : "");
        td.dataset.state = cell.state;
        td.dataset.reason = cell.reason;
        if (cell.sleep > 0) td.dataset.sleep = String(cell.sleep);
        td.dataset.start = cell.iso;
        if (cell.count > 1) td.dataset.hours = String(cell.count);
        if (cell.cpu !== null) td.dataset.cpu = String(cell.cpu);
        idle += cell.count > 1 ? cell.idleHours : cell.state === "idle" ? 1 : 0;
      });
      const count = row.insertCell();
      count.className = "idle-count";
      count.textContent = String(idle);
    }
    (first || table.querySelector("td.hm") || document.createElement("td")).tabIndex = 0;
    table.addEventListener("keydown", (event) => moveFocus(table, event));
    table.addEventListener("focusin", (event) => describe(readout, event.target.closest("td.hm")));
    table.addEventListener("mouseover", (event) => describe(readout, event.target.closest("td.hm")));
    table.addEventListener("click", (event) => {
      const cell = event.target.closest("td.hm");
      if (!cell) return;
      for (const other of table.querySelectorAll('td.hm[tabindex="0"]')) other.tabIndex = -1;
      cell.tabIndex = 0;
      cell.focus();
    });
    holder.replaceChildren(table);
    holder.dataset.state = "ready";
    if (readout) readout.textContent = "Focus the heatmap and use the arrow keys, point at a cell or tap it to read its hour.";
    // Counted by hour, not by cell: a day with a repeated clock hour has 25 hours and 24 cells.
    const totals = { active: 0, idle: 0, asleep: 0, nodata: 0 };
    for (const hour of hours) totals[hour.state] += 1;
    const pct = (n) => (hours.length ? Math.round((100 * n) / hours.length) : 0) + " %";
    const windows = activity.windows.map((w) => w.sleep + " → " + w.wake).join(", ");
    summaryEl.textContent = "Over " + hours.length + " hours: idle " + totals.idle + " h (" + pct(totals.idle) +
      "), active " + totals.active + " h (" + pct(totals.active) + "), asleep " + totals.asleep +
      " h, no data " + totals.nodata + " h." + (windows
        ? " Proposed sleep windows, " + activity.timezone.name + " time: " + windows + " (outlined cells)."
        : "");
  }

  function col(name) {
    const el = document.createElement("col");
    el.className = name;
    return el;
  }

  function span(name, text) {
    const el = document.createElement("span");
    el.className = name;
    el.textContent = text;
    return el;
  }

  function headerCell(text, scope) {
    const th = document.createElement("th");
    th.scope = scope;
    th.textContent = text;
    return th;
  }

  window.dbsnooze.heatmap = { drawHeatmap };
})();
