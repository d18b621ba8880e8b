// diplograph charts: events per month by type as stacked bars in plain SVG, with a table of the
// same numbers for screen readers and for reading. No dependencies, no CDN.
// A <figure class="dg-chart" data-src="/charts/events-by-month…"> is filled from its JSON;
// window.diplographCharts lends the drawing to the other scripts (the query page's chart view).
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const OTHER = "var(--muted)";

  // The colour of an event type: its index among the ontology's event classes, spread over the
  // hue circle by the golden angle, so that types next to each other differ.
  function color(index) {
    return "hsl(" + Math.round((index * 137.508) % 360) + " 60% 42%)";
  }

  function svg(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function niceMax(value) {
    if (value <= 5) return Math.max(1, value);
    const step = Math.pow(10, Math.floor(Math.log10(value)));
    for (const f of [1, 2, 2.5, 5, 10]) if (f * step >= value) return f * step;
    return value;
  }

  // Stacked bars: labels along x, series = [{label, color, values}], extra = a grey remainder per
  // bar (or null). Returns the <svg>; its aria-label says what it shows in words.
  function bars(labels, series, options) {
    const opts = options || {};
    const height = opts.height || 200;
    const left = 44;
    const bottom = 46;
    const step = Math.max(8, Math.min(48, 720 / Math.max(1, labels.length)));
    const width = left + step * labels.length + 12;
    const sums = labels.map((_, i) =>
      Math.max(
        series.reduce((s, x) => s + (x.values[i] || 0), 0) + (opts.extra ? opts.extra[i] : 0),
        opts.totals ? opts.totals[i] : 0,
      ),
    );
    const top = niceMax(Math.max(0, ...sums));
    const plot = height - bottom - 8;
    const y = (v) => 8 + plot - (v / top) * plot;
    const root = svg("svg", {
      viewBox: "0 0 " + width + " " + height,
      width: width,
      height: height,
      role: "img",
      class: "bars",
      "aria-label": opts.label || "bar chart",
    });
    for (const tick of [0, top / 2, top]) {
      const ty = y(tick);
      root.appendChild(svg("line", { x1: left, x2: width - 4, y1: ty, y2: ty, class: "grid" }));
      const text = Number.isInteger(tick) ? String(tick) : tick.toFixed(1);
      root.appendChild(svg("text", { x: left - 6, y: ty + 4, class: "tick", "text-anchor": "end" }, text));
    }
    const every = Math.max(1, Math.ceil(24 / step)); // rotated labels need about 24 px apart
    labels.forEach((label, i) => {
      const x = left + i * step + 1;
      let base = 0;
      const parts = series.map((s) => ({ label: s.label, color: s.color, value: s.values[i] || 0 }));
      if (opts.extra && opts.extra[i] > 0) {
        parts.push({ label: opts.extraLabel || "other", color: OTHER, value: opts.extra[i] });
      }
      for (const part of parts) {
        if (!part.value) continue;
        const rect = svg("rect", {
          x: x,
          y: y(base + part.value),
          width: Math.max(2, step - 3),
          height: Math.max(0.5, y(base) - y(base + part.value)),
          fill: part.color,
          class: "bar",
        });
        rect.appendChild(svg("title", {}, label + " · " + part.label + ": " + part.value));
        root.appendChild(rect);
        base += part.value;
      }
      if (i % every === 0) {
        const lx = x + step / 2;
        const ly = height - bottom + 14;
        root.appendChild(
          svg("text", { x: lx, y: ly, class: "tick", transform: "rotate(-35 " + lx + " " + ly + ")", "text-anchor": "end" }, label),
        );
      }
    });
    return root;
  }

  function legend(items) {
    const list = el("ul", { class: "legend" });
    for (const item of items) {
      const li = list.appendChild(el("li"));
      const swatch = li.appendChild(el("span", { class: "swatch", "aria-hidden": "true" }));
      swatch.style.background = item.color;
      li.appendChild(document.createTextNode(item.label + (item.count !== undefined ? " (" + item.count + ")" : "")));
    }
    return list;
  }

  function table(caption, head, rows) {
    const details = el("details", { class: "chart-table" });
    details.appendChild(el("summary", {}, caption));
    const t = details.appendChild(el("table"));
    const tr = t.appendChild(el("thead")).appendChild(el("tr"));
    for (const h of head) tr.appendChild(el("th", { scope: "col" }, h));
    const body = t.appendChild(el("tbody"));
    for (const row of rows) {
      const r = body.appendChild(el("tr"));
      row.forEach((cell, i) => r.appendChild(el(i === 0 ? "th" : "td", i === 0 ? { scope: "row" } : { class: "num" }, String(cell))));
    }
    return details;
  }

  function renderMonths(figure, data) {
    const body = figure.querySelector(".chart-body") || figure;
    const events = data.total.reduce((a, b) => a + b, 0);
    figure.dataset.months = String(data.months.length);
    figure.dataset.events = String(events);
    figure.dataset.source = data.source;
    if (!data.months.length) {
      body.replaceChildren(el("p", { class: "hint" }, "No dated events."));
      figure.dataset.state = "done";
      return;
    }
    const series = data.types.map((t) => ({ label: t.label, color: color(t.color), values: t.counts }));
    const extra = data.total.map((total, i) => Math.max(0, total - series.reduce((s, x) => s + x.values[i], 0)));
    const chart = bars(data.months, series, {
      totals: data.total,
      extra: extra,
      extraLabel: "events of a more general type",
      label:
        "Events per month by type: " + events + " events in " + data.months.length + " months, from " +
        data.months[0] + " to " + data.months[data.months.length - 1] + ". The table below has the numbers.",
    });
    const items = data.types.map((t) => ({ label: t.label, color: color(t.color), count: t.counts.reduce((a, b) => a + b, 0) }));
    if (extra.some((v) => v > 0)) items.push({ label: "more general type", color: OTHER, count: extra.reduce((a, b) => a + b, 0) });
    const rows = data.months.map((m, i) => [m, data.total[i], ...data.types.map((t) => t.counts[i])]);
    body.replaceChildren(
      el("div", { class: "chart-scroll" }),
      legend(items),
      table("The numbers", ["Month", "All events", ...data.types.map((t) => t.label)], rows),
    );
    body.firstChild.appendChild(chart);
    figure.dataset.state = "done";
  }

  async function load(figure) {
    figure.dataset.state = "loading";
    const body = figure.querySelector(".chart-body") || figure;
    try {
      const response = await fetch(figure.dataset.src, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(response.status + " " + response.statusText);
      renderMonths(figure, await response.json());
    } catch (error) {
      body.replaceChildren(el("p", { class: "error", role: "alert" }, "The chart could not be drawn: " + error.message));
      figure.dataset.state = "error";
    }
  }

  window.diplographCharts = { color: color, bars: bars, legend: legend, svg: svg, el: el };
  for (const figure of document.querySelectorAll("figure.dg-chart[data-src]")) load(figure);
})();
