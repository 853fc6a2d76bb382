// The instance page's time-series charts (uPlot): synced cursor, a read-out of exact values in
// the viewer's time zone, arrow-key navigation, gaps left as gaps and asleep hours shaded.
"use strict";

(function () {
  const HOUR_S = 3600;
  const HEIGHT = 150;
  const CHARTS = [
    { key: "cpu", title: "CPU", unit: "%", floor: 10, ceiling: 100, color: "#c2410c" },
    { key: "connections", title: "Connections", unit: "", floor: 5, color: "#1d4ed8" },
    { key: "memory_used_percent", title: "Memory used", unit: "%", floor: 10, ceiling: 100, color: "#7c3aed" },
    { key: "read_iops", title: "Read IOPS", unit: "/s", floor: 5, color: "#047857" },
    { key: "write_iops", title: "Write IOPS", unit: "/s", floor: 5, color: "#b45309" },
  ];
  const COVERAGE_WORDS = {
    complete: "all metrics stored",
    partial: "some metrics missing",
    provisional: "stored before the hour was final; fetched again once it is",
    empty: "the cloud had no data",
    asleep: "the instance was stopped",
    missing: "not fetched yet",
  };
  const hourFormat = new Intl.DateTimeFormat(undefined, {
    weekday: "short", day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
  });
  const endFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  const dayTick = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });

  // Axis labels in the viewer's locale: days when ticks are a day or more apart, else hours.
  function timeTicks(u, splits, axisIdx, space, incr) {
    return splits.map((seconds) => {
      const moment = new Date(seconds * 1000);
      return incr >= 86400 || moment.getHours() === 0 ? dayTick.format(moment) : endFormat.format(moment);
    });
  }

  function number(value, unit) {
    if (value === null || value === undefined) return "no data";
    const abs = Math.abs(value);
    const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
    return value.toLocaleString(undefined, { maximumFractionDigits: digits }) + (unit ? " " + unit : "");
  }

  function hourLabel(seconds) {
    const start = new Date(seconds * 1000);
    return hourFormat.format(start) + " – " + endFormat.format(new Date((seconds + HOUR_S) * 1000));
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

  let stripes = null;
  function asleepPattern(ctx) {
    if (stripes) return stripes;
    const tile = document.createElement("canvas");
    tile.width = tile.height = 8;
    const t = tile.getContext("2d");
    t.fillStyle = "rgba(100, 116, 139, 0.16)";
    t.fillRect(0, 0, 8, 8);
    t.strokeStyle = "rgba(71, 85, 105, 0.45)";
    t.lineWidth = 1.5;
    t.beginPath(); t.moveTo(0, 8); t.lineTo(8, 0); t.moveTo(-2, 2); t.lineTo(2, -2); t.moveTo(6, 10); t.lineTo(10, 6);
    t.stroke();
    stripes = ctx.createPattern(tile, "repeat");
    return stripes;
  }

  function shadeAsleep(bands, xs) {
    return (u) => {
      const { left, top, width, height } = u.bbox;
      u.ctx.save();
      u.ctx.beginPath();
      u.ctx.rect(left, top, width, height);
      u.ctx.clip();
      u.ctx.fillStyle = asleepPattern(u.ctx);
      for (const [from, to] of bands) {
        const x0 = u.valToPos(xs[from], "x", true);
        const x1 = u.valToPos(xs[to - 1] + HOUR_S, "x", true);
        u.ctx.fillRect(x0, top, x1 - x0, height);
      }
      u.ctx.restore();
    };
  }

  function yRange(spec, values) {
    const peak = values.reduce((m, v) => (v !== null && v > m ? v : m), 0);
    let top = Math.max(spec.floor, peak * 1.1);
    if (spec.ceiling) top = Math.min(spec.ceiling, top);
    return [0, top];
  }

  function summary(spec, values) {
    const present = values.filter((v) => v !== null);
    if (!present.length) return "no data in this range";
    const mean = present.reduce((a, b) => a + b, 0) / present.length;
    const peak = Math.max.apply(null, present);
    return "average " + number(mean, spec.unit) + ", peak " + number(peak, spec.unit) +
      ", " + present.length + " of " + values.length + " hours with data";
  }

  function plotWidth(box) {
    return Math.max(Math.floor(box.clientWidth), 280);
  }

  function figureFor(container, spec, values) {
    const figure = document.createElement("figure");
    figure.className = "chart";
    figure.tabIndex = 0;
    figure.dataset.metric = spec.key;
    figure.dataset.points = String(values.filter((v) => v !== null).length);
    const title = spec.title + (spec.unit === "%" ? " %" : spec.unit === "/s" ? " (per second)" : "");
    figure.setAttribute("aria-label", title + " chart: " + summary(spec, values) +
      ". Use the left and right arrow keys to read hour by hour, Page Up and Page Down for days.");
    const caption = document.createElement("figcaption");
    const strong = document.createElement("strong");
    const note = document.createElement("span");
    strong.textContent = title;
    note.className = "muted";
    note.textContent = " " + summary(spec, values);
    caption.append(strong, note);
    const plotBox = document.createElement("div");
    plotBox.className = "plot";
    figure.append(caption, plotBox);
    container.appendChild(figure);
    return { figure, plotBox, title };
  }

  // One chart group per load of the history; destroy() before drawing the next.
  function draw(container, readout, history) {
    const xs = history.hours.map((h) => Date.parse(h) / 1000);
    const asleep = history.coverage.map((state) => state === "asleep");
    const bands = runs(asleep);
    const syncKey = "dbsnooze-" + history.instance_id + "-" + Date.now();
    const plots = [];
    const shown = CHARTS.filter((spec) => spec.key in history.series);
    container.replaceChildren();

    // Every figure is in the grid before any plot measures its width.
    const boxes = shown.map((spec) => {
      // An asleep hour stores zero activity; drawn, it would read as a busy 100 % memory.
      const values = history.series[spec.key].map((v, i) => (asleep[i] ? null : v));
      return { spec, values, ...figureFor(container, spec, values) };
    });
    for (const { spec, values, figure, plotBox, title } of boxes) {
      if (spec.key === "memory_used_percent" && !values.some((v) => v !== null) &&
          (history.series.freeable_memory || []).some((v) => v !== null)) {
        const note = document.createElement("p");
        note.className = "muted";
        note.textContent = "Memory used % is unknown for this instance class (its RAM is not in dbsnooze's table); freeable memory is stored.";
        plotBox.appendChild(note);
        continue;
      }
      const plot = new uPlot({
        width: plotWidth(plotBox),
        height: HEIGHT,
        legend: { show: false },
        cursor: { sync: { key: syncKey }, drag: { x: false, y: false }, points: { size: 7 } },
        scales: { x: { time: true, range: [xs[0], xs[xs.length - 1] + HOUR_S] }, y: { range: () => yRange(spec, values) } },
        axes: [
          { stroke: "#475569", space: 70, grid: { stroke: "#e2e8f0" }, ticks: { stroke: "#cbd5e1" }, values: timeTicks },
          { stroke: "#475569", size: 56, grid: { stroke: "#e2e8f0" }, ticks: { stroke: "#cbd5e1" },
            values: (u, ticks) => ticks.map((v) => number(v, spec.unit === "%" ? "%" : "")) },
        ],
        series: [
          { value: (u, v) => (v === null ? "" : hourLabel(v)) },
          { label: title, stroke: spec.color, width: 1.5, fill: spec.color + "22", points: { show: false }, spanGaps: false },
        ],
        hooks: {
          drawClear: [shadeAsleep(bands, xs)],
          setCursor: [(u) => readout.show(u.cursor.idx)],
        },
      }, [xs, values], plotBox);
      plots.push({ plot, plotBox });
      figure.addEventListener("keydown", (event) => step(plot, xs, event));
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
    readout.bind(history, xs, shown);
    return {
      count: plots.length,
      destroy() {
        resized.disconnect();
        for (const { plot } of plots) plot.destroy();
      },
    };
  }

  const KEY_STEPS = { ArrowLeft: -1, ArrowRight: 1, PageUp: -24, PageDown: 24 };

  function step(plot, xs, event) {
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
    plot.setCursor({ left: plot.valToPos(xs[idx], "x"), top: plot.bbox.height / devicePixelRatio / 2 });
  }

  function makeReadout(timeEl, valuesEl) {
    let history = null;
    let xs = [];
    let shown = [];
    return {
      bind(h, x, s) {
        history = h; xs = x; shown = s;
        timeEl.textContent = "point at a chart, or focus one and use the arrow keys";
        valuesEl.replaceChildren();
      },
      show(idx) {
        if (!history || idx === null || idx === undefined || idx < 0 || idx >= xs.length) return;
        const state = history.coverage[idx];
        timeEl.textContent = hourLabel(xs[idx]);
        const rows = [["Coverage", state + " (" + COVERAGE_WORDS[state] + ")"]];
        for (const spec of shown) {
          const avg = history.series[spec.key][idx];
          const max = (history.maximum[spec.key] || [])[idx];
          const text = state === "asleep" ? "asleep" : avg === null ? "no data"
            : number(avg, spec.unit) + " avg" + (max !== null && max !== undefined ? ", " + number(max, spec.unit) + " max" : "");
          rows.push([spec.title + (spec.unit === "%" ? " %" : ""), text]);
        }
        valuesEl.replaceChildren(...rows.map(([name, text]) => {
          const wrap = document.createElement("div");
          const dt = document.createElement("dt");
          const dd = document.createElement("dd");
          dt.textContent = name;
          dd.textContent = text;
          wrap.append(dt, dd);
          return wrap;
        }));
      },
    };
  }

  window.dbsnooze.charts = { draw, makeReadout, runs, hourLabel, number, COVERAGE_WORDS };
})();
