// diplograph timeline: an actor's events over time (one lane per event type, coloured by type)
// and the posts it held as bars (docs/mapping.md, "Posts over time": certain from the latest
// begin to the earliest end, hatched where it may have begun or lasted, fading where a bound is
// unknown, a dot on each day an article saw it held). Plain SVG; tables of the same facts below.
// It fills <section id="timeline" data-src="/charts/timeline?actor=…"> and keeps what it drew in
// window.diplographTimeline (the browser tests read it).
"use strict";

(function () {
  const section = document.getElementById("timeline");
  if (!section || !section.dataset.src) return;
  const body = section.querySelector(".timeline-body");
  const config = JSON.parse(document.getElementById("dg-timeline-config").textContent);
  const DAY = 86400000;
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  // The type colours and element makers of charts.js, which the page loads first.
  const { color, svg, el } = window.diplographCharts;

  // a lane's name, cut to fit the space left of the plot (the whole name is in its title)
  function laneLabel(x, y, text) {
    const short = text.length > 27 ? text.slice(0, 26) + "…" : text;
    const label = svg("text", { x: x, y: y, class: "lane-label" }, short);
    if (short !== text) label.appendChild(svg("title", {}, text));
    return label;
  }

  function localHref(iri) {
    if (iri.startsWith(config.base) && iri.length > config.base.length) {
      return "/" + iri.slice(config.base.length);
    }
    return iri;
  }

  function link(iri, text) {
    return el("a", { href: localHref(iri) }, text || iri);
  }

  const time = (day) => Date.parse(day + "T00:00:00Z");

  function sourcesText(sources) {
    return sources.map((s) => (s.title || s.iri) + (s.issued ? " (" + s.issued + ")" : "")).join("; ");
  }

  function sourcesCell(sources) {
    const td = el("td");
    sources.forEach((s, i) => {
      if (i) td.appendChild(document.createTextNode("; "));
      td.appendChild(link(s.iri, s.title || s.iri));
      if (s.issued) td.appendChild(document.createTextNode(" (" + s.issued + ")"));
    });
    return td;
  }

  function dayRange(event) {
    return event.days[0] === event.days[1] ? event.days[0] : event.days[0] + " – " + event.days[1];
  }

  function holdingText(h) {
    const parts = [];
    if (h.fromLatest && h.untilEarliest) parts.push("held for certain " + h.fromLatest + " – " + h.untilEarliest);
    parts.push("may have begun " + (h.fromEarliest ? "on " + h.fromEarliest : "at any time before"));
    parts.push(h.untilLatest ? "ended by " + h.untilLatest : "may still be held");
    if (h.observed.length) parts.push("seen held on " + h.observed.join(", "));
    return parts.join("; ");
  }

  // --- the picture --------------------------------------------------------------------------

  function domain(data) {
    const days = [];
    for (const e of data.events) if (e.days) days.push(...e.days);
    for (const h of data.holdings) {
      for (const d of [h.fromEarliest, h.fromLatest, h.untilEarliest, h.untilLatest, ...h.observed]) {
        if (d) days.push(d);
      }
    }
    if (!days.length) return null;
    const times = days.map(time);
    let lo = Math.min(...times);
    let hi = Math.max(...times);
    const pad = Math.max(15 * DAY, (hi - lo) * 0.06);
    return [lo - pad, hi + pad];
  }

  function ticks(lo, hi) {
    const out = [];
    const span = (hi - lo) / DAY;
    const stepMonths = span > 3650 ? 60 : span > 1460 ? 12 : span > 540 ? 3 : 1;
    const start = new Date(lo);
    let d = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1));
    while (d.getTime() <= hi && out.length < 200) {
      if (d.getUTCMonth() % stepMonths === 0 || stepMonths === 1) {
        const label = d.getUTCMonth() === 0 || stepMonths >= 12 ? String(d.getUTCFullYear()) : MONTHS[d.getUTCMonth()] + " " + d.getUTCFullYear();
        out.push([d.getTime(), label]);
      }
      d = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
    }
    return out;
  }

  function draw(data, range) {
    const [lo, hi] = range;
    const left = 190;
    const width = 960;
    const x = (t) => left + ((t - lo) / (hi - lo)) * (width - left - 10);
    const root = svg("svg", { viewBox: "0 0 " + width + " 10", class: "timeline", role: "group" });
    const defs = root.appendChild(svg("defs"));
    const hatch = defs.appendChild(svg("pattern", { id: "tl-hatch", width: 6, height: 6, patternUnits: "userSpaceOnUse", patternTransform: "rotate(45)" }));
    hatch.appendChild(svg("rect", { width: 6, height: 6, class: "hatch-bg" }));
    hatch.appendChild(svg("line", { x1: 0, y1: 0, x2: 0, y2: 6, class: "hatch-line" }));
    // a bound that is unknown fades out: towards the past before a begin, the future after an end
    for (const [id, from, to] of [["tl-fade-in", 0, 0.55], ["tl-fade-out", 0.55, 0]]) {
      const g = defs.appendChild(svg("linearGradient", { id: id, x1: 0, x2: 1, y1: 0, y2: 0 }));
      g.appendChild(svg("stop", { offset: 0, class: "fade-stop", "stop-opacity": from }));
      g.appendChild(svg("stop", { offset: 1, class: "fade-stop", "stop-opacity": to }));
    }
    let y = 26;
    const axis = root.appendChild(svg("g", { class: "axis" }));
    const lanes = root.appendChild(svg("g"));
    const drawn = [];
    // events: a lane per type; events that overlap in a lane go to the next row of the lane
    const byType = new Map();
    for (const e of data.events) {
      if (!e.days) continue;
      const key = e.types.length ? e.types[0].iri : "";
      if (!byType.has(key)) byType.set(key, { label: e.types.length ? e.types[0].label : "event", color: color(e.color), events: [] });
      byType.get(key).events.push(e);
    }
    if (byType.size) {
      lanes.appendChild(svg("text", { x: 4, y: y, class: "lane-group" }, "Events"));
      y += 8;
    }
    for (const lane of byType.values()) {
      const rows = [];
      const placed = lane.events.map((e) => {
        const x1 = x(time(e.days[0]));
        const x2 = Math.max(x1 + 10, x(time(e.days[1]) + DAY));
        let row = rows.findIndex((end) => end < x1 - 2);
        if (row < 0) row = rows.push(0) - 1;
        rows[row] = x2;
        return [e, x1, x2, row];
      });
      const height = rows.length * 14 + 8;
      lanes.appendChild(laneLabel(12, y + 13, lane.label));
      lanes.appendChild(svg("line", { x1: left, x2: width - 10, y1: y + height, y2: y + height, class: "lane-line" }));
      for (const [e, x1, x2, row] of placed) {
        const a = svg("a", { href: localHref(e.iri), class: "tl-event", "data-iri": e.iri });
        const top = y + 4 + row * 14;
        const mark = e.days[0] === e.days[1]
          ? svg("circle", { cx: x1 + 5, cy: top + 5, r: 5, fill: lane.color })
          : e.exact
            ? svg("rect", { x: x1, y: top, width: x2 - x1, height: 10, rx: 3, fill: lane.color })
            : svg("rect", { x: x1, y: top, width: x2 - x1, height: 10, rx: 3, fill: lane.color, "fill-opacity": 0.3, stroke: lane.color, "stroke-dasharray": "3 2", class: "inexact" });
        a.appendChild(mark);
        const title = e.label + " — " + e.types.map((t) => t.label).join(", ") + ", " + dayRange(e) +
          (e.exact ? "" : " (not known to the day)") + ". Sources: " + sourcesText(e.sources);
        a.setAttribute("aria-label", title);
        a.appendChild(svg("title", {}, title));
        lanes.appendChild(a);
        drawn.push(e.iri);
      }
      y += height;
    }
    // posts: one lane per holding
    if (data.holdings.length) {
      y += 14;
      lanes.appendChild(svg("text", { x: 4, y: y, class: "lane-group" }, "Posts"));
      y += 8;
    }
    const posts = [];
    for (const h of data.holdings) {
      const g = svg("a", { href: localHref(h.iri), class: "tl-holding", "data-iri": h.iri });
      const top = y + 6;
      const bar = (from, to, fill, cls) => {
        if (from === null || to === null || to < from) return;
        g.appendChild(svg("rect", { x: x(from), y: top, width: Math.max(2, x(to) - x(from)), height: 12, fill: fill, class: cls }));
      };
      const fromLatest = h.fromLatest ? time(h.fromLatest) : null;
      const untilEarliest = h.untilEarliest ? time(h.untilEarliest) + DAY : null;
      const certainFrom = fromLatest !== null && untilEarliest !== null ? fromLatest : null;
      const beginEdge = certainFrom !== null ? certainFrom : untilEarliest;
      const endEdge = untilEarliest !== null ? untilEarliest : fromLatest;
      if (certainFrom !== null) bar(certainFrom, untilEarliest, "currentColor", "held");
      if (beginEdge !== null) {
        if (h.fromEarliest) bar(time(h.fromEarliest), beginEdge, "url(#tl-hatch)", "may-have-begun");
        else bar(Math.max(lo, beginEdge - (hi - lo) * 0.12), beginEdge, "url(#tl-fade-in)", "begun-unknown");
      }
      if (endEdge !== null) {
        if (h.untilLatest) bar(endEdge, time(h.untilLatest) + DAY, "url(#tl-hatch)", "may-have-lasted");
        else bar(endEdge, Math.min(hi, endEdge + (hi - lo) * 0.12), "url(#tl-fade-out)", "end-unknown");
      }
      for (const day of h.observed) {
        g.appendChild(svg("circle", { cx: x(time(day) + DAY / 2), cy: top + 6, r: 3.5, class: "observed" }));
      }
      const title = h.lane + (h.holder && h.post ? " (" + h.holder.label + " as " + h.post.label + ")" : "") +
        ": " + holdingText(h) + ". Sources: " + sourcesText(h.sources);
      g.setAttribute("aria-label", title);
      g.appendChild(svg("title", {}, title));
      lanes.appendChild(laneLabel(12, top + 10, h.lane));
      lanes.appendChild(g);
      posts.push(h.iri);
      y += 24;
    }
    for (const [t, label] of ticks(lo, hi)) {
      axis.appendChild(svg("line", { x1: x(t), x2: x(t), y1: 14, y2: y, class: "grid" }));
      axis.appendChild(svg("text", { x: x(t) + 2, y: 10, class: "tick" }, label));
    }
    root.setAttribute("viewBox", "0 0 " + width + " " + (y + 6));
    root.setAttribute("aria-label",
      "Timeline: " + drawn.length + " dated events in " + byType.size + " types and " + posts.length +
      " post holdings; the tables below list them with their sources.");
    const legend = el("ul", { class: "legend" });
    for (const lane of byType.values()) {
      const li = legend.appendChild(el("li"));
      li.appendChild(el("span", { class: "swatch", "aria-hidden": "true" })).style.background = lane.color;
      li.appendChild(document.createTextNode(lane.label + " (" + lane.events.length + ")"));
    }
    if (posts.length) {
      for (const [cls, text] of [["held", "post held"], ["may", "may have begun or lasted"], ["unknown", "bound unknown"], ["observed", "seen held (article date)"]]) {
        const li = legend.appendChild(el("li"));
        li.appendChild(el("span", { class: "swatch key-" + cls, "aria-hidden": "true" }));
        li.appendChild(document.createTextNode(text));
      }
    }
    return { svg: root, legend: legend, events: drawn, holdings: posts };
  }

  // --- the tables ---------------------------------------------------------------------------

  function tables(data) {
    const out = [];
    if (data.events.length) {
      const t = el("table", { class: "timeline-events" });
      t.appendChild(el("caption", {}, "Events (" + data.events.length + "), by date"));
      const tr = t.appendChild(el("thead")).appendChild(el("tr"));
      for (const h of ["Date", "Type", "Event", "Role", "Sources"]) tr.appendChild(el("th", { scope: "col" }, h));
      const tbody = t.appendChild(el("tbody"));
      for (const e of data.events) {
        const row = tbody.appendChild(el("tr", { "data-iri": e.iri }));
        row.appendChild(el("td", {}, e.days ? dayRange(e) + (e.exact ? "" : " ~") : "undated"));
        row.appendChild(el("td", {}, e.types.map((x) => x.label).join(", ")));
        row.appendChild(el("td")).appendChild(link(e.iri, e.label));
        row.appendChild(el("td", {}, e.roles.join(", ")));
        row.appendChild(sourcesCell(e.sources));
      }
      out.push(t);
    }
    if (data.holdings.length) {
      const t = el("table", { class: "timeline-holdings" });
      t.appendChild(el("caption", {}, "Post holdings (" + data.holdings.length + ")"));
      const tr = t.appendChild(el("thead")).appendChild(el("tr"));
      for (const h of ["Post", "Holder", "When", "Sources"]) tr.appendChild(el("th", { scope: "col" }, h));
      const tbody = t.appendChild(el("tbody"));
      for (const h of data.holdings) {
        const row = tbody.appendChild(el("tr", { "data-iri": h.iri }));
        row.appendChild(el("td")).appendChild(link(h.iri, h.post ? h.post.label : h.lane));
        row.appendChild(el("td")).appendChild(h.holder ? link(h.holder.iri, h.holder.label) : document.createTextNode(""));
        row.appendChild(el("td", {}, holdingText(h)));
        row.appendChild(sourcesCell(h.sources));
      }
      out.push(t);
    }
    return out;
  }

  async function main() {
    section.dataset.state = "loading";
    let data;
    try {
      const response = await fetch(section.dataset.src, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(response.status + " " + response.statusText);
      data = await response.json();
    } catch (error) {
      body.replaceChildren(el("p", { class: "error", role: "alert" }, "The timeline could not be drawn: " + error.message));
      section.dataset.state = "error";
      return;
    }
    const range = domain(data);
    const parts = [];
    let drawn = { events: [], holdings: [] };
    if (range) {
      drawn = draw(data, range);
      const scroll = el("div", { class: "timeline-scroll" });
      scroll.appendChild(drawn.svg);
      parts.push(scroll, drawn.legend);
    } else {
      parts.push(el("p", { class: "hint" }, "Nothing here is dated."));
    }
    const undated = data.events.filter((e) => !e.days).length;
    if (undated) parts.push(el("p", { class: "hint" }, undated + " undated event(s) are in the table, not in the picture."));
    if (data.truncated) parts.push(el("p", { class: "hint" }, "The first 1000 events and post holdings are shown."));
    const details = el("details", { class: "chart-table" });
    details.appendChild(el("summary", {}, "The timeline as tables, with the sources"));
    details.append(...tables(data));
    parts.push(details);
    body.replaceChildren(...parts);
    window.diplographTimeline = { data: data, drawnEvents: drawn.events, drawnHoldings: drawn.holdings };
    section.dataset.events = String(drawn.events.length);
    section.dataset.holdings = String(drawn.holdings.length);
    section.dataset.state = "done";
  }

  main();
})();
