// The instance page's time-series charts (uPlot): synced cursor (time only), a read-out of exact
// values announced to screen readers when stepping with the keyboard, the viewer's zone or UTC
// on the axes, gaps left as gaps, asleep hours striped, nights and weekends of the owner's zone
// shaded, idle thresholds drawn as dashed lines, min / avg / max of the range per chart, drag to
// zoom and double-click to reset (the page decides what a zoom does), and vertical event markers.
//
// draw(container, readout, history, options) -> { count, destroy(), setEvents(events) }
//   options.stat        "average" | "maximum": which statistic the lines plot
//   options.utc         true: axes and read-out in UTC, else the viewer's zone
//   options.thresholds  { cpu: percent, connections: count } drawn as lines on those charts
//   options.ownerZone   IANA zone whose nights (19:00–07:00) and weekends are shaded
//   options.memoryKnown false: the instance class's RAM is unknown, memory used % cannot be had
//   options.events      [{ at: ISO string | epoch ms, label: "stopped" }] vertical markers, e.g.
//                       the schedule's stop/start actions; setEvents() replaces them later
//   options.onZoom(startSeconds, endSeconds)  a drag selected these whole hours
//   options.onReset()   a double-click on a chart
"use strict";

(function () {
  const HOUR_S = 3600;
  const HEIGHT = 170;
  const NIGHT_FROM = 19; // owner-local hours [19:00, 07:00) are night
  const NIGHT_UNTIL = 7;
  const CHARTS = [
    { key: "cpu", title: "CPU", unit: "%", axis: "%", floor: 10, ceiling: 100, colour: "--chart-cpu" },
    { key: "connections", title: "Connections", unit: "", axis: "connections", floor: 5, colour: "--chart-connections" },
    { key: "memory_used_percent", title: "Memory used", unit: "%", axis: "%", floor: 10, ceiling: 100, colour: "--chart-memory" },
    { key: "read_iops", title: "Read IOPS", unit: "/s", axis: "IOPS (per second)", floor: 5, colour: "--chart-read-iops" },
    { key: "write_iops", title: "Write IOPS", unit: "/s", axis: "IOPS (per second)", floor: 5, colour: "--chart-write-iops" },
  ];
  const FALLBACK = {
    "--chart-cpu": "#c2410c", "--chart-connections": "#1d4ed8", "--chart-memory": "#7c3aed",
    "--chart-read-iops": "#047857", "--chart-write-iops": "#b45309", "--chart-axis": "#475569",
    "--chart-grid": "#e2e8f0", "--chart-tick": "#cbd5e1", "--chart-threshold": "#a21caf",
    "--chart-night": "rgba(30, 64, 175, 0.06)", "--chart-weekend": "rgba(30, 64, 175, 0.12)",
    "--chart-asleep-bg": "rgba(100, 116, 139, 0.16)", "--chart-asleep-line": "rgba(71, 85, 105, 0.45)",
    "--chart-marker": "#0f172a",
  };
  const COVERAGE_WORDS = {
    complete: "all metrics stored",
    partial: "some metrics missing",
    provisional: "stored before the hour was final; fetched again once it is",
    empty: "the cloud had no data",
    asleep: "the instance was stopped",
    missing: "not fetched yet",
    open: "the hour is in progress; live collection fills it as it goes",
    unsettled: "the hour ended less than 10 minutes ago; the cloud may still add to it",
    future: "the hour has not begun",
  };
  const STATE_NAMES = { open: "in progress", unsettled: "not final yet", future: "still to come" };
  const STAT_WORDS = { average: "hourly average", maximum: "hourly maximum" };

  function colours() {
    const style = getComputedStyle(document.documentElement);
    const found = {};
    for (const name of Object.keys(FALLBACK)) {
      found[name] = style.getPropertyValue(name).trim() || FALLBACK[name];
    }
    return found;
  }

  function translucent(colour, alpha) {
    const hex = /^#([0-9a-f]{6})$/i.exec(colour);
    if (!hex) return "transparent";
    const n = parseInt(hex[1], 16);
    return "rgba(" + (n >> 16) + ", " + ((n >> 8) & 255) + ", " + (n & 255) + ", " + alpha + ")";
  }

  // Formatters for one zone: undefined is the viewer's own.
  function timeWords(zone) {
    const opts = zone ? { timeZone: zone } : {};
    const long = new Intl.DateTimeFormat(undefined, {
      weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", ...opts,
    });
    const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", ...opts });
    const day = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", ...opts });
    const hourOf = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", hourCycle: "h23", ...opts });
    return {
      name: zone || Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
      hour(seconds) {
        return long.format(new Date(seconds * 1000)) + " – " + clock.format(new Date((seconds + HOUR_S) * 1000));
      },
      // Axis labels: days when ticks are a day or more apart (or at midnight), else clock times.
      tick(seconds, incr) {
        const moment = new Date(seconds * 1000);
        return incr >= 86400 || Number(hourOf.format(moment)) === 0 ? day.format(moment) : clock.format(moment);
      },
    };
  }

  const viewer = timeWords(undefined);

  function hourLabel(seconds) {
    return viewer.hour(seconds);
  }

  function number(value, unit) {
    if (value === null || value === undefined) return "no data";
    const abs = Math.abs(value);
    const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
    return value.toLocaleString(undefined, { maximumFractionDigits: digits }) + (unit ? " " + unit : "");
  }

  function runs(flags) {
    const found = [];
    let start = null;
    flags.forEach((flag, i) => {
      if (flag && start === null) start = i;
      if (!flag && start !== null) { found.push([start, i]); start = null; }
    });
    if (start !== null) found.push([start, flags.length]);
    return found;
  }

  // Each hour's state as shown: the stored coverage, except that hours not yet final are told
  // as such, whatever is stored for them so far.
  function hourStates(history) {
    const current = history.current_hour ? Date.parse(history.current_hour) : null;
    const final = history.final_until ? Date.parse(history.final_until) : null;
    return history.hours.map((iso, i) => {
      const start = Date.parse(iso);
      const stored = history.coverage[i];
      if (current !== null && start > current) return "future";
      if (current !== null && start === current) return stored === "asleep" ? "asleep" : "open";
      if (final !== null && start + HOUR_S * 1000 > final && stored !== "asleep") return "unsettled";
      return stored;
    });
  }

  // Owner-local night / weekend of each hour, by the zone's own clock (DST included).
  function offHours(xs, zone) {
    if (!zone) return xs.map(() => null);
    let parts;
    try {
      parts = new Intl.DateTimeFormat("en-GB", { timeZone: zone, weekday: "short", hour: "2-digit", hourCycle: "h23" });
    } catch (err) {
      return xs.map(() => null);
    }
    return xs.map((seconds) => {
      let weekday = "", hour = 0;
      for (const part of parts.formatToParts(new Date(seconds * 1000))) {
        if (part.type === "weekday") weekday = part.value;
        if (part.type === "hour") hour = Number(part.value);
      }
      if (weekday === "Sat" || weekday === "Sun") return "weekend";
      return hour >= NIGHT_FROM || hour < NIGHT_UNTIL ? "night" : null;
    });
  }

  function asleepPattern(ctx, palette) {
    const tile = document.createElement("canvas");
    tile.width = tile.height = 8;
    const t = tile.getContext("2d");
    t.fillStyle = palette["--chart-asleep-bg"];
    t.fillRect(0, 0, 8, 8);
    t.strokeStyle = palette["--chart-asleep-line"];
    t.lineWidth = 1.5;
    t.beginPath(); t.moveTo(0, 8); t.lineTo(8, 0); t.moveTo(-2, 2); t.lineTo(2, -2); t.moveTo(6, 10); t.lineTo(10, 6);
    t.stroke();
    return ctx.createPattern(tile, "repeat");
  }

  // Under the lines: night and weekend tints, then asleep stripes.
  function shadeBackground(xs, bands, off, palette) {
    const nights = runs(off.map((kind) => kind === "night"));
    const weekends = runs(off.map((kind) => kind === "weekend"));
    let stripes = null;
    return (u) => {
      const { left, top, width, height } = u.bbox;
      const ctx = u.ctx;
      const fill = (list) => {
        for (const [from, to] of list) {
          const x0 = u.valToPos(xs[from], "x", true);
          const x1 = u.valToPos(xs[to - 1] + HOUR_S, "x", true);
          ctx.fillRect(x0, top, x1 - x0, height);
        }
      };
      ctx.save();
      ctx.beginPath();
      ctx.rect(left, top, width, height);
      ctx.clip();
      ctx.fillStyle = palette["--chart-night"];
      fill(nights);
      ctx.fillStyle = palette["--chart-weekend"];
      fill(weekends);
      stripes = stripes || asleepPattern(ctx, palette);
      ctx.fillStyle = stripes;
      fill(bands);
      ctx.restore();
    };
  }

  // Over the lines: the idle threshold and the event markers.
  function drawOverlays(scaleKey, threshold, thresholdText, markers, palette) {
    return (u) => {
      const { left, top, width, height } = u.bbox;
      const ctx = u.ctx;
      const ratio = devicePixelRatio || 1;
      ctx.save();
      ctx.beginPath();
      ctx.rect(left, top, width, height);
      ctx.clip();
      ctx.font = Math.round(11 * ratio) + "px system-ui, sans-serif";
      if (threshold !== null && threshold !== undefined) {
        const y = Math.round(u.valToPos(threshold, scaleKey, true)) + 0.5;
        ctx.strokeStyle = palette["--chart-threshold"];
        ctx.fillStyle = palette["--chart-threshold"];
        ctx.lineWidth = 1.5 * ratio;
        ctx.setLineDash([6 * ratio, 4 * ratio]);
        ctx.beginPath();
        ctx.moveTo(left, y);
        ctx.lineTo(left + width, y);
        ctx.stroke();
        ctx.setLineDash([]);
        ctx.textAlign = "right";
        ctx.textBaseline = "bottom";
        ctx.fillText(thresholdText, left + width - 4 * ratio, y - 2 * ratio);
      }
      const [xMin, xMax] = [u.scales.x.min, u.scales.x.max];
      ctx.strokeStyle = palette["--chart-marker"];
      ctx.fillStyle = palette["--chart-marker"];
      ctx.lineWidth = ratio;
      ctx.textAlign = "left";
      ctx.textBaseline = "top";
      for (const marker of markers.list) {
        if (marker.at < xMin || marker.at > xMax) continue;
        const x = Math.round(u.valToPos(marker.at, "x", true)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, top + height);
        ctx.stroke();
        ctx.fillText(marker.label, x + 3 * ratio, top + 2 * ratio);
      }
      ctx.restore();
    };
  }

  function eventMarkers(events) {
    return (events || []).map((event) => ({
      at: (typeof event.at === "number" ? event.at : Date.parse(event.at)) / 1000,
      label: String(event.label || ""),
    })).filter((marker) => Number.isFinite(marker.at));
  }

  function yRange(spec, values, threshold) {
    const peak = values.reduce((m, v) => (v !== null && v > m ? v : m), 0);
    let top = Math.max(spec.floor, peak * 1.1, threshold ? threshold * 1.2 : 0);
    if (spec.ceiling) top = Math.min(spec.ceiling, top);
    return [0, top];
  }

  function rangeStats(values) {
    const present = values.filter((v) => v !== null && v !== undefined);
    if (!present.length) return null;
    return {
      min: Math.min.apply(null, present),
      avg: present.reduce((a, b) => a + b, 0) / present.length,
      max: Math.max.apply(null, present),
      hours: present.length,
    };
  }

  function summary(spec, stats, hours, stat) {
    if (!stats) return "no data in this range";
    return STAT_WORDS[stat] + " from " + number(stats.min, spec.unit) + " to " + number(stats.max, spec.unit) +
      ", mean " + number(stats.avg, spec.unit) + ", " + stats.hours + " of " + hours + " hours with data";
  }

  function plotWidth(box) {
    return Math.max(Math.floor(box.clientWidth), 240);
  }

  function statsList(stats, unit) {
    const list = document.createElement("dl");
    list.className = "range-stats";
    for (const key of ["min", "avg", "max"]) {
      const wrap = document.createElement("div");
      const dt = document.createElement("dt");
      const dd = document.createElement("dd");
      dt.textContent = key === "avg" ? "Avg" : key === "min" ? "Min" : "Max";
      dd.textContent = stats ? number(stats[key], unit) : "–";
      dd.dataset.stat = key;
      if (stats) dd.dataset.value = String(stats[key]);
      wrap.append(dt, dd);
      list.appendChild(wrap);
    }
    return list;
  }

  function figureFor(container, spec, values, hours, stat, thresholdText) {
    const stats = rangeStats(values);
    const figure = document.createElement("figure");
    figure.className = "chart";
    figure.tabIndex = 0;
    figure.dataset.metric = spec.key;
    figure.dataset.points = String(values.filter((v) => v !== null).length);
    const title = spec.title + (spec.unit === "%" ? " %" : spec.unit === "/s" ? " (per second)" : "");
    figure.setAttribute("aria-label", title + " chart, " + summary(spec, stats, hours, stat) +
      (thresholdText ? "; " + thresholdText : "") +
      ". Use the left and right arrow keys to read hour by hour, Page Up and Page Down for days.");
    const caption = document.createElement("figcaption");
    const swatch = document.createElement("span");
    swatch.className = "swatch series";
    swatch.dataset.metric = spec.key;
    swatch.setAttribute("aria-hidden", "true");
    const strong = document.createElement("strong");
    strong.textContent = title;
    const note = document.createElement("span");
    note.className = "muted stat-name";
    note.textContent = STAT_WORDS[stat];
    caption.append(swatch, strong, note, statsList(stats, spec.unit));
    if (thresholdText) {
      const line = document.createElement("span");
      line.className = "threshold-note";
      line.textContent = "Dashed line: " + thresholdText;
      caption.appendChild(line);
    }
    const plotBox = document.createElement("div");
    plotBox.className = "plot";
    figure.append(caption, plotBox);
    container.appendChild(figure);
    return { figure, plotBox, title };
  }

  function thresholdFor(spec, thresholds) {
    if (!thresholds) return [null, ""];
    if (spec.key === "cpu" && typeof thresholds.cpu === "number") {
      return [thresholds.cpu, "idle threshold, average CPU below " + number(thresholds.cpu, "%")];
    }
    if (spec.key === "connections" && typeof thresholds.connections === "number") {
      const word = thresholds.connections === 1 ? " connection" : " connections";
      return [thresholds.connections, "idle threshold, at most " + number(thresholds.connections, "") +
        word + " (hourly maximum)"];
    }
    return [null, ""];
  }

  // One chart group per load of the history; destroy() before drawing the next.
  function draw(container, readout, history, options) {
    const opts = options || {};
    const stat = opts.stat === "maximum" ? "maximum" : "average";
    const words = timeWords(opts.utc ? "UTC" : undefined);
    const palette = colours();
    const xs = history.hours.map((h) => Date.parse(h) / 1000);
    const states = hourStates(history);
    const asleep = history.coverage.map((state) => state === "asleep");
    const bands = runs(asleep);
    const off = offHours(xs, opts.ownerZone);
    const markers = { list: eventMarkers(opts.events) };
    const syncKey = "dbsnooze-" + history.instance_id + "-" + Date.now();
    const plots = [];
    const source = stat === "maximum" ? history.maximum || {} : history.series;
    const shown = CHARTS.filter((spec) => spec.key in history.series);
    container.replaceChildren();
    container.dataset.stat = stat;
    container.dataset.zone = words.name;
    container.dataset.nightHours = String(off.filter((kind) => kind === "night").length);
    container.dataset.weekendHours = String(off.filter((kind) => kind === "weekend").length);

    // Every figure is in the grid before any plot measures its width.
    const boxes = shown.map((spec) => {
      // An asleep hour stores zero activity; drawn, it would read as a busy 100 % memory.
      const values = (source[spec.key] || history.series[spec.key]).map((v, i) => (asleep[i] ? null : v));
      const [threshold, thresholdText] = thresholdFor(spec, opts.thresholds);
      return { spec, values, threshold, ...figureFor(container, spec, values, xs.length, stat, thresholdText), thresholdText };
    });
    for (const { spec, values, threshold, thresholdText, figure, plotBox, title } of boxes) {
      if (spec.key === "memory_used_percent" && opts.memoryKnown === false) {
        const note = document.createElement("p");
        note.className = "muted memory-unknown";
        note.textContent = "Memory used % is unknown for this instance class (its RAM is not in dbsnooze's table); freeable memory is stored.";
        plotBox.appendChild(note);
        continue;
      }
      if (threshold !== null) figure.dataset.threshold = String(threshold);
      const colour = palette[spec.colour];
      const axisStyle = { stroke: palette["--chart-axis"], grid: { stroke: palette["--chart-grid"] }, ticks: { stroke: palette["--chart-tick"] } };
      const plot = new uPlot({
        width: plotWidth(plotBox),
        height: HEIGHT,
        legend: { show: false },
        tzDate: opts.utc ? (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC") : (ts) => new Date(ts * 1000),
        cursor: {
          // Each chart has its own y scale: only the time is shared, never the hovered height.
          sync: { key: syncKey },
          drag: { x: true, y: false, setScale: false },
          points: { size: 7 },
          bind: { dblclick: () => null },
        },
        select: { show: true },
        scales: { x: { time: true, range: [xs[0], xs[xs.length - 1] + HOUR_S] }, [spec.key]: { range: () => yRange(spec, values, threshold) } },
        axes: [
          {
            ...axisStyle, space: 70, label: "Time (" + words.name + ")", labelSize: 18, labelFont: "12px system-ui, sans-serif",
            values: (u, splits, axisIdx, space, incr) => {
              const labels = splits.map((s) => words.tick(s, incr));
              figure.dataset.xTicks = labels.join("|");
              return labels;
            },
          },
          {
            ...axisStyle, scale: spec.key, size: 50, label: spec.axis, labelSize: 18, labelFont: "12px system-ui, sans-serif",
            values: (u, ticks) => ticks.map((v) => number(v, spec.unit === "%" ? "%" : "")),
          },
        ],
        series: [
          { value: (u, v) => (v === null ? "" : words.hour(v)) },
          {
            label: title, scale: spec.key, stroke: colour, width: 1.5, fill: translucent(colour, 0.13),
            points: { show: xs.length <= 48, size: 5 }, spanGaps: false,
          },
        ],
        hooks: {
          drawClear: [shadeBackground(xs, bands, off, palette)],
          draw: [drawOverlays(spec.key, threshold, thresholdText, markers, palette)],
          setCursor: [(u) => readout.show(u.cursor.idx)],
          setSelect: [(u) => {
            if (u.select.width < 4) return;
            const from = u.posToVal(u.select.left, "x");
            const to = u.posToVal(u.select.left + u.select.width, "x");
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            const start = Math.floor(from / HOUR_S) * HOUR_S;
            const end = Math.max(start + HOUR_S, Math.ceil(to / HOUR_S) * HOUR_S);
            if (opts.onZoom) opts.onZoom(start, end);
          }],
        },
      }, [xs, values], plotBox);
      plots.push({ plot, plotBox });
      figure.addEventListener("keydown", (event) => step(plot, xs, values, spec.key, event, readout));
      plotBox.addEventListener("dblclick", () => { if (opts.onReset) opts.onReset(); });
    }

    let pending = null;
    const resized = new ResizeObserver(() => {
      if (pending) return;
      pending = requestAnimationFrame(() => {
        pending = null;
        for (const { plot, plotBox } of plots) {
          if (plot.width !== plotWidth(plotBox)) plot.setSize({ width: plotWidth(plotBox), height: HEIGHT });
        }
      });
    });
    resized.observe(container);
    readout.bind(history, xs, shown, states, words);
    return {
      count: plots.length,
      destroy() {
        resized.disconnect();
        if (pending) cancelAnimationFrame(pending);
        for (const { plot } of plots) plot.destroy();
      },
      setEvents(events) {
        markers.list = eventMarkers(events);
        for (const { plot } of plots) plot.redraw(false, false);
      },
    };
  }

  const KEY_STEPS = { ArrowLeft: -1, ArrowRight: 1, PageUp: -24, PageDown: 24 };

  function step(plot, xs, values, scaleKey, event, readout) {
    let idx = plot.cursor.idx;
    if (event.key in KEY_STEPS) {
      idx = idx === null || idx === undefined ? (KEY_STEPS[event.key] > 0 ? 0 : xs.length - 1)
        : Math.min(xs.length - 1, Math.max(0, idx + KEY_STEPS[event.key]));
    } else if (event.key === "Home") {
      idx = 0;
    } else if (event.key === "End") {
      idx = xs.length - 1;
    } else {
      return;
    }
    event.preventDefault();
    readout.announceNext();
    // The horizontal line marks the hour's value (none where there is no value).
    const value = values[idx];
    const top = value === null || value === undefined ? -10 : plot.valToPos(value, scaleKey);
    plot.setCursor({ left: plot.valToPos(xs[idx], "x"), top });
  }

  // The read-out shows the hovered hour; the announcer tells it to screen readers, but only when
  // the hour was reached with the keyboard (a pointer sweeping over a chart would flood them).
  function makeReadout(timeEl, valuesEl, zoneEl, announceEl) {
    let history = null;
    let xs = [];
    let shown = [];
    let states = [];
    let words = viewer;
    let announce = false;
    const rowName = (spec) => spec.title + (spec.unit === "%" ? " %" : "");
    function fill(rows) {
      valuesEl.replaceChildren(...rows.map(([name, text]) => {
        const wrap = document.createElement("div");
        const dt = document.createElement("dt");
        const dd = document.createElement("dd");
        dt.textContent = name;
        dd.textContent = text;
        wrap.append(dt, dd);
        return wrap;
      }));
    }
    return {
      bind(h, x, s, st, w) {
        history = h; xs = x; shown = s; states = st || h.coverage; words = w || viewer;
        if (zoneEl) zoneEl.textContent = words.name;
        timeEl.textContent = "point at a chart, or focus one and use the arrow keys";
        // Every row from the start, so the read-out keeps its height (the charts do not jump).
        fill([["Coverage", "–"], ...shown.map((spec) => [rowName(spec), "–"])]);
      },
      announceNext() {
        announce = true;
      },
      show(idx) {
        if (!history || idx === null || idx === undefined || idx < 0 || idx >= xs.length) return;
        const state = states[idx];
        timeEl.textContent = words.hour(xs[idx]);
        const rows = [["Coverage", (STATE_NAMES[state] || state) + " (" + COVERAGE_WORDS[state] + ")"]];
        for (const spec of shown) {
          const avg = history.series[spec.key][idx];
          const max = ((history.maximum || {})[spec.key] || [])[idx];
          const text = state === "asleep" ? "asleep" : avg === null ? "no data"
            : number(avg, spec.unit) + " avg" + (max !== null && max !== undefined ? ", " + number(max, spec.unit) + " max" : "");
          rows.push([rowName(spec), text]);
        }
        fill(rows);
        if (announce && announceEl) {
          announce = false;
          announceEl.textContent = words.hour(xs[idx]) + ": " + rows.map(([name, text]) => name + " " + text).join("; ");
        }
      },
    };
  }

  // The coverage strip: one rect per run of equal states, placed in percent of the width (no
  // stretched viewBox), so the asleep / missing / partial patterns keep their own size.
  function drawCoverage(holder, summaryEl, history) {
    const SVG = "http://www.w3.org/2000/svg";
    const states = hourStates(history);
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "cov-strip");
    svg.setAttribute("role", "img");
    const counts = {};
    const share = (n) => (100 * n / states.length).toFixed(4) + "%";
    let start = 0;
    for (let i = 1; i <= states.length; i++) {
      if (i < states.length && states[i] === states[start]) continue;
      const state = states[start];
      counts[state] = (counts[state] || 0) + (i - start);
      const rect = document.createElementNS(SVG, "rect");
      rect.setAttribute("x", share(start));
      rect.setAttribute("width", share(i - start));
      rect.setAttribute("y", "0");
      rect.setAttribute("height", "100%");
      rect.setAttribute("class", "cov-" + state);
      rect.dataset.state = state;
      const title = document.createElementNS(SVG, "title");
      const first = Date.parse(history.hours[start]) / 1000;
      const last = Date.parse(history.hours[i - 1]) / 1000;
      title.textContent = (i - start) + " h " + (STATE_NAMES[state] || state) + " (" + COVERAGE_WORDS[state] + "): " +
        hourLabel(first).split(" – ")[0] + " to " + hourLabel(last).split(" – ")[1];
      rect.appendChild(title);
      svg.appendChild(rect);
      start = i;
    }
    const words = Object.entries(counts).map(([state, n]) => n + " h " + (STATE_NAMES[state] || state) + " (" + COVERAGE_WORDS[state] + ")");
    svg.setAttribute("aria-label", "Coverage of " + states.length + " hours: " + words.join(", "));
    holder.replaceChildren(svg);
    summaryEl.textContent = "Coverage of the " + states.length + " hours shown: " + words.join(", ") + ".";
  }

  window.dbsnooze.charts = { draw, makeReadout, drawCoverage, hourStates, runs, hourLabel, number, COVERAGE_WORDS };
})();
