// diplograph query page: a small SPARQL editor with line numbers, one-click examples, and the
// results as a paged table (100 rows a page) whose IRIs link to this server's linked-data pages,
// literals written the way people read them (PT1H as "1 hour", dates, a language as a small tag),
// a chart view for results with a date or a count column, a network view for results that are
// pairs of IRIs, and the last 50 queries kept in this browser (localStorage). #results carries
// data-state (idle, running, done, error), data-rows (all rows), data-page and data-pages.
// No dependencies, no CDN; charts.js lends the bar chart.
"use strict";

(function () {
  const config = JSON.parse(document.getElementById("dg-config").textContent);
  const form = document.getElementById("query-form");
  const editor = document.getElementById("query");
  const gutter = document.getElementById("gutter");
  const results = document.getElementById("results");
  const status = document.getElementById("status");
  const downloads = Array.from(document.querySelectorAll("a.download"));
  const examples = new Map(config.examples.map((e) => [e.id, e]));
  const XSD_STRING = "http://www.w3.org/2001/XMLSchema#string";
  const LOCAL_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
  const NUMERIC = /#(integer|decimal|double|float|long|int|short|byte|nonNegativeInteger)$/;

  // --- links and names ----------------------------------------------------------------------

  function localHref(iri) {
    if (iri.startsWith(config.base) && iri.length > config.base.length) {
      return "/" + iri.slice(config.base.length);
    }
    if (iri.startsWith(config.ontologyRoot)) {
      const rest = iri.slice(config.ontologyRoot.length);
      if (config.localPaths.some((p) => rest.startsWith(p))) return "/" + rest;
    }
    return null;
  }

  function compact(iri) {
    let best = "";
    let bestPrefix = "";
    for (const [prefix, ns] of Object.entries(config.prefixes)) {
      if (iri.startsWith(ns) && ns.length > best.length) {
        best = ns;
        bestPrefix = prefix;
      }
    }
    if (best) {
      const local = iri.slice(best.length);
      if (local === "" || LOCAL_NAME.test(local)) return bestPrefix + ":" + local;
    }
    return iri;
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // --- literals the way people read them ---------------------------------------------------

  const XSD = "http://www.w3.org/2001/XMLSchema#";
  const MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December"];
  const DURATION = /^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
  const DATE_TYPES = new Set(["date", "dateTime", "dateTimeStamp", "gYearMonth", "gYear"]);

  function plural(n, unit) {
    return n + " " + unit + (Number(n) === 1 ? "" : "s");
  }

  // "PT1H30M" → "1 hour 30 minutes"; null when it is not a duration.
  function readDuration(value) {
    const m = DURATION.exec(value);
    if (!m || value === "P" || value.endsWith("T")) return null;
    const units = ["year", "month", "day", "hour", "minute", "second"];
    const parts = [];
    units.forEach((unit, i) => {
      const n = m[i + 2];
      if (n !== undefined && Number(n) !== 0) parts.push(plural(n, unit));
    });
    const text = parts.length ? parts.join(" ") : "0 seconds";
    return m[1] ? "minus " + text : text;
  }

  // "2023-10-14" → "14 October 2023", "2023-06" → "June 2023", a date-time with its zone.
  function readDate(value, kind) {
    const m = /^(-?\d{4,})(?:-(\d{2}))?(?:-(\d{2}))?(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|[+-]\d{2}:\d{2})?$/.exec(value);
    if (!m) return null;
    const [, year, month, day, hour, minute, second, , zone] = m;
    if (kind === "gYear" || (!month && !day)) return year;
    const monthName = MONTH_NAMES[Number(month) - 1];
    if (!monthName) return null;
    if (!day) return monthName + " " + year;
    let text = Number(day) + " " + monthName + " " + year;
    if (hour !== undefined) {
      text += ", " + hour + ":" + minute + (second && second !== "00" ? ":" + second : "");
      text += zone === "Z" ? " UTC" : zone ? " " + zone : "";
    }
    return text;
  }

  function literalNode(term) {
    const type = term.datatype || "";
    const local = type.startsWith(XSD) ? type.slice(XSD.length) : "";
    const span = el("span", { class: "literal" });
    let readable = null;
    if (local.endsWith("uration")) {
      readable = readDuration(term.value);
      if (readable) span.appendChild(el("span", { class: "duration", title: term.value + " (" + compact(type) + ")" }, readable));
    } else if (DATE_TYPES.has(local)) {
      readable = readDate(term.value, local);
      if (readable) span.appendChild(el("time", { datetime: term.value, title: term.value + " (" + compact(type) + ")" }, readable));
    } else if (local === "integer" && /^-?\d{5,}$/.test(term.value)) {
      readable = term.value.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
      span.appendChild(el("span", { title: term.value }, readable));
    }
    if (readable) return span;
    span.appendChild(document.createTextNode(term.value));
    if (term["xml:lang"]) {
      span.appendChild(document.createTextNode(" "));
      span.appendChild(el("span", { class: "lang", title: "language: " + term["xml:lang"] }, term["xml:lang"]));
    } else if (type && type !== XSD_STRING && !NUMERIC.test(type) && type !== XSD + "boolean") {
      span.appendChild(document.createTextNode(" "));
      span.appendChild(el("span", { class: "datatype" }, compact(type)));
    }
    return span;
  }

  function termNode(term) {
    if (!term) return document.createTextNode("");
    if (term.type === "uri") {
      const local = localHref(term.value);
      const link = el("a", { href: local || term.value, title: term.value }, compact(term.value));
      if (!local) link.setAttribute("rel", "external");
      return link;
    }
    if (term.type === "bnode") return el("span", { class: "bnode" }, "_:" + term.value);
    if (term.type === "triple") {
      return el("span", { class: "triple" }, JSON.stringify(term.value));
    }
    return literalNode(term);
  }

  // --- the editor ---------------------------------------------------------------------------

  function updateGutter() {
    const lines = editor.value.split("\n").length;
    let text = "";
    for (let i = 1; i <= lines; i++) text += i + "\n";
    gutter.textContent = text;
    gutter.scrollTop = editor.scrollTop;
  }

  let escaped = false; // Esc, then Tab, leaves the editor (Tab alone indents)
  editor.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      run();
      return;
    }
    if (event.key === "Escape") {
      escaped = true;
      return;
    }
    if (event.key === "Tab" && !escaped && !event.shiftKey) {
      event.preventDefault();
      const start = editor.selectionStart;
      editor.setRangeText("  ", start, editor.selectionEnd, "end");
      updateGutter();
    }
    escaped = false;
  });
  editor.addEventListener("input", () => {
    updateGutter();
    updateDownloads();
  });
  editor.addEventListener("scroll", () => {
    gutter.scrollTop = editor.scrollTop;
  });

  // --- downloads ----------------------------------------------------------------------------

  function queryForm(text) {
    const body = text.replace(/#[^\n]*/g, " ").replace(/\b(PREFIX|BASE)\b[^>]*>/gi, " ");
    const match = /\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b/i.exec(body);
    return match ? match[1].toUpperCase() : "SELECT";
  }

  function updateDownloads() {
    const kind = ["CONSTRUCT", "DESCRIBE"].includes(queryForm(editor.value)) ? "graph" : "results";
    const encoded = encodeURIComponent(editor.value);
    for (const link of downloads) {
      link.hidden = link.dataset.kind !== kind;
      link.href = "/sparql?query=" + encoded + "&format=" + link.dataset.format;
    }
  }

  // --- running ------------------------------------------------------------------------------

  function showError(message) {
    results.replaceChildren(el("div", { class: "error", role: "alert" }, message));
    results.dataset.state = "error";
  }

  // --- results: a paged table, a chart view, a network view ---------------------------------

  const PAGE_SIZE = 100;
  const DATEISH = /^-?\d{4}(-\d{2}(-\d{2})?)?([T ].*)?$/;
  let shown = null; // {vars, rows, page, pages, view, chart, network}

  function isNumeric(term) {
    return term && term.type === "literal" && term.datatype && NUMERIC.test(term.datatype);
  }

  function isDateish(term) {
    if (!term || term.type !== "literal") return false;
    const local = (term.datatype || "").startsWith(XSD) ? term.datatype.slice(XSD.length) : "";
    return DATE_TYPES.has(local) || ((!term.datatype || term.datatype === XSD_STRING) && DATEISH.test(term.value));
  }

  // The columns (of up to the first 1000 rows) every bound value of which passes ``test``.
  function columnsWhere(vars, rows, test) {
    const sample = rows.slice(0, 1000);
    return vars.filter((name) => {
      const bound = sample.map((r) => r[name]).filter(Boolean);
      return bound.length > 0 && bound.every(test);
    });
  }

  function chartPlan(vars, rows) {
    const numbers = columnsWhere(vars, rows, isNumeric);
    const dates = columnsWhere(vars, rows, isDateish);
    if (!numbers.length && !dates.length) return null;
    const x = dates[0] || vars.find((v) => !numbers.includes(v));
    if (!x) return null;
    const y = numbers.find((v) => v !== x) || null;
    const by = vars.find((v) => v !== x && v !== y && !numbers.includes(v) && !dates.includes(v)) || null;
    return { x: x, y: y, by: y ? by : null, dated: dates.includes(x) };
  }

  function networkPlan(vars, rows) {
    const iris = columnsWhere(vars, rows, (t) => t.type === "uri");
    if (iris.length < 2) return null;
    const weight = columnsWhere(vars, rows, isNumeric)[0] || null;
    return { a: iris[0], b: iris[1], weight: weight };
  }

  function cellText(term) {
    if (!term) return "";
    return term.type === "uri" ? compact(term.value) : term.value;
  }

  function drawTable(area) {
    const { vars, rows, page } = shown;
    const table = el("table", { id: "results-table" });
    const headRow = el("tr");
    for (const name of vars) headRow.appendChild(el("th", { scope: "col" }, name));
    table.appendChild(el("thead")).appendChild(headRow);
    const body = table.appendChild(el("tbody"));
    for (const row of rows.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE)) {
      const tr = body.appendChild(el("tr"));
      for (const name of vars) {
        const term = row[name];
        const td = tr.appendChild(el("td"));
        if (isNumeric(term)) td.className = "num";
        td.appendChild(termNode(term));
      }
    }
    area.replaceChildren(table);
  }

  function drawChart(area) {
    const charts = window.diplographCharts;
    const plan = shown.chart;
    const xs = new Map(); // x label → {series label → value}
    const seriesNames = new Map(); // label → total
    for (const row of shown.rows) {
      let key = cellText(row[plan.x]);
      if (!key) continue;
      if (plan.dated && !plan.y) key = key.slice(0, 7); // rows per month
      const series = plan.by ? cellText(row[plan.by]) || "(none)" : plan.y || "rows";
      const value = plan.y ? Number(row[plan.y] ? row[plan.y].value : 0) : 1;
      if (!xs.has(key)) xs.set(key, new Map());
      const cell = xs.get(key);
      cell.set(series, (cell.get(series) || 0) + value);
      seriesNames.set(series, (seriesNames.get(series) || 0) + value);
    }
    let labels = Array.from(xs.keys());
    if (plan.dated) labels.sort();
    labels = labels.slice(0, 400);
    const ranked = Array.from(seriesNames.entries()).sort((a, b) => b[1] - a[1]);
    const top = ranked.slice(0, 11).map(([name]) => name);
    const series = top.map((name, i) => ({
      label: name,
      color: charts.color(i),
      values: labels.map((l) => xs.get(l).get(name) || 0),
    }));
    const extra = ranked.length > top.length
      ? labels.map((l) => Array.from(xs.get(l).entries()).filter(([n]) => !top.includes(n)).reduce((s, [, v]) => s + v, 0))
      : null;
    const what = (plan.y ? plan.y : "rows") + " by " + plan.x + (plan.by ? " and " + plan.by : "");
    const svgChart = charts.bars(labels, series, {
      extra: extra,
      extraLabel: "other",
      label: "Chart of " + what + ": " + labels.length + " bars" + (xs.size > labels.length ? " (the first 400)" : "") + "; the table view has the numbers.",
    });
    const scroll = el("div", { class: "chart-scroll", id: "results-chart" });
    scroll.appendChild(svgChart);
    const items = series.map((s) => ({ label: s.label, color: s.color }));
    if (extra) items.push({ label: "other", color: "var(--muted)" });
    area.replaceChildren(el("p", { class: "hint" }, "Chart of " + what + "."), scroll, charts.legend(items));
  }

  function drawNetwork(area) {
    const plan = shown.network;
    const SVGNS = "http://www.w3.org/2000/svg";
    const nodes = new Map();
    const edges = new Map();
    for (const row of shown.rows) {
      const a = row[plan.a];
      const b = row[plan.b];
      if (!a || !b) continue;
      const w = plan.weight && row[plan.weight] ? Number(row[plan.weight].value) || 0 : 1;
      for (const n of [a.value, b.value]) nodes.set(n, (nodes.get(n) || 0) + w);
      const key = a.value + " " + b.value;
      edges.set(key, { a: a.value, b: b.value, w: ((edges.get(key) || {}).w || 0) + w });
    }
    const kept = new Set(Array.from(nodes.entries()).sort((x, y) => y[1] - x[1]).slice(0, 150).map(([n]) => n));
    const list = Array.from(kept);
    const links = Array.from(edges.values()).filter((e) => kept.has(e.a) && kept.has(e.b));
    // a plain force layout (Fruchterman and Reingold) from a circle, cooling over 120 rounds
    const size = 640;
    const margin = 90; // room for the labels on the right
    const k = Math.sqrt(((size - margin) * (size - 40)) / Math.max(1, list.length)) * 0.8;
    const pos = new Map(list.map((n, i) => {
      const angle = (2 * Math.PI * i) / list.length;
      return [n, [(size - margin) / 2 + 150 * Math.cos(angle), size / 2 + 150 * Math.sin(angle)]];
    }));
    for (let round = 0, heat = size / 10; round < 120; round++, heat *= 0.96) {
      const move = new Map(list.map((n) => [n, [0, 0]]));
      for (let i = 0; i < list.length; i++) {
        for (let j = i + 1; j < list.length; j++) {
          const p = pos.get(list[i]);
          const q = pos.get(list[j]);
          const dx = p[0] - q[0];
          const dy = p[1] - q[1];
          const d = Math.max(1, Math.hypot(dx, dy));
          const f = (k * k) / d / d;
          move.get(list[i])[0] += dx * f; move.get(list[i])[1] += dy * f;
          move.get(list[j])[0] -= dx * f; move.get(list[j])[1] -= dy * f;
        }
      }
      for (const e of links) {
        const p = pos.get(e.a);
        const q = pos.get(e.b);
        const d = Math.max(1, Math.hypot(q[0] - p[0], q[1] - p[1]));
        const dx = ((q[0] - p[0]) * d) / k;
        const dy = ((q[1] - p[1]) * d) / k;
        move.get(e.a)[0] += dx; move.get(e.a)[1] += dy;
        move.get(e.b)[0] -= dx; move.get(e.b)[1] -= dy;
      }
      for (const n of list) {
        const p = pos.get(n);
        const m = move.get(n);
        const length = Math.max(1e-9, Math.hypot(m[0], m[1]));
        const step = Math.min(length, heat);
        p[0] = Math.min(size - margin, Math.max(20, p[0] + (m[0] / length) * step));
        p[1] = Math.min(size - 20, Math.max(20, p[1] + (m[1] / length) * step));
      }
    }
    const root = document.createElementNS(SVGNS, "svg");
    const attrs = { viewBox: "0 0 " + size + " " + size, width: size, height: size, role: "img", class: "pairs", id: "results-network",
      "aria-label": "Network of " + plan.a + " and " + plan.b + ": " + list.length + " nodes, " + links.length + " links" + (nodes.size > list.length ? " (the 150 most connected of " + nodes.size + ")" : "") + "; the table view lists them." };
    for (const [k, v] of Object.entries(attrs)) root.setAttribute(k, String(v));
    const most = Math.max(1, ...links.map((e) => e.w));
    for (const e of links) {
      const p = pos.get(e.a);
      const q = pos.get(e.b);
      const line = document.createElementNS(SVGNS, "line");
      for (const [k, v] of Object.entries({ x1: p[0], y1: p[1], x2: q[0], y2: q[1], "stroke-width": 1 + 5 * (e.w / most) })) line.setAttribute(k, String(v));
      const title = document.createElementNS(SVGNS, "title");
      title.textContent = compact(e.a) + " — " + compact(e.b) + ": " + e.w;
      line.appendChild(title);
      root.appendChild(line);
    }
    for (const n of list) {
      const [x, y] = pos.get(n);
      const a = document.createElementNS(SVGNS, "a");
      a.setAttribute("href", localHref(n) || n);
      a.setAttribute("class", "node");
      a.setAttribute("aria-label", compact(n) + " (" + nodes.get(n) + ")");
      const c = document.createElementNS(SVGNS, "circle");
      for (const [k, v] of Object.entries({ cx: x, cy: y, r: 4 + 6 * Math.sqrt(nodes.get(n) / Math.max(...nodes.values())) })) c.setAttribute(k, String(v));
      const label = document.createElementNS(SVGNS, "text");
      label.setAttribute("x", String(x + 8));
      label.setAttribute("y", String(y + 4));
      label.textContent = compact(n).replace(/^[a-z]+:/, "");
      label.dataset.iri = n;
      a.append(c, label);
      root.appendChild(a);
    }
    const scroll = el("div", { class: "chart-scroll" });
    scroll.appendChild(root);
    area.replaceChildren(el("p", { class: "hint" }, "Pairs of " + plan.a + " and " + plan.b + (plan.weight ? ", line width by " + plan.weight : "") + ". Click a node for its page."), scroll);
    results.dataset.nodes = String(list.length);
    results.dataset.edges = String(links.length);
    nameNodes(root, list);
  }

  // The nodes' names (rdfs:label, English or untagged), asked of the endpoint once drawn.
  async function nameNodes(root, iris) {
    const query = "SELECT ?n (SAMPLE(?l) AS ?label) WHERE { VALUES ?n { " +
      iris.map((i) => "<" + i + ">").join(" ") + " } ?n rdfs:label ?l " +
      'FILTER(LANG(?l) = "" || LANGMATCHES(LANG(?l), "en")) } GROUP BY ?n';
    try {
      const response = await fetch("/sparql", {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/sparql-results+json" },
        body: new URLSearchParams({ query: query }),
      });
      if (!response.ok) return;
      const names = new Map((await response.json()).results.bindings.map((b) => [b.n.value, b.label.value]));
      for (const text of root.querySelectorAll("text[data-iri]")) {
        const name = names.get(text.dataset.iri);
        if (name) {
          text.textContent = name;
          text.parentNode.setAttribute("aria-label", name + text.parentNode.getAttribute("aria-label").replace(/^[^(]*/, " "));
        }
      }
      root.dataset.named = "true";
    } catch (ignored) {
      // the short IRIs stay
    }
  }

  function drawView() {
    const area = document.getElementById("results-view");
    results.dataset.view = shown.view;
    for (const button of results.querySelectorAll(".views button")) {
      button.setAttribute("aria-pressed", String(button.dataset.view === shown.view));
    }
    const pager = document.getElementById("pager");
    if (pager) pager.hidden = shown.view !== "table";
    if (shown.view === "chart") drawChart(area);
    else if (shown.view === "network") drawNetwork(area);
    else drawTable(area);
  }

  function goTo(page) {
    shown.page = Math.max(0, Math.min(shown.pages - 1, page));
    results.dataset.page = String(shown.page + 1);
    const first = shown.page * PAGE_SIZE;
    const last = Math.min(shown.rows.length, first + PAGE_SIZE);
    const pager = document.getElementById("pager");
    if (pager) {
      pager.querySelector(".range").textContent = "Rows " + (first + 1) + "–" + last + " of " + shown.rows.length;
      pager.querySelector("input").value = String(shown.page + 1);
      for (const button of pager.querySelectorAll("button")) {
        const back = button.dataset.go === "first" || button.dataset.go === "previous";
        button.disabled = back ? shown.page === 0 : shown.page === shown.pages - 1;
      }
    }
    if (shown.view === "table") drawTable(document.getElementById("results-view"));
  }

  function pagerNode() {
    const nav = el("nav", { class: "pager", id: "pager", "aria-label": "result pages" });
    const moves = { first: () => 0, previous: () => shown.page - 1, next: () => shown.page + 1, last: () => shown.pages - 1 };
    const labels = { first: "« First", previous: "‹ Previous", next: "Next ›", last: "Last »" };
    const input = el("input", { type: "number", min: 1, max: shown.pages, id: "page-number", "aria-label": "page number" });
    input.addEventListener("change", () => goTo(Number(input.value) - 1));
    for (const go of ["first", "previous"]) {
      const b = nav.appendChild(el("button", { type: "button", "data-go": go }, labels[go]));
      b.addEventListener("click", () => goTo(moves[go]()));
    }
    const label = nav.appendChild(el("label", { for: "page-number" }, "Page "));
    label.after(input);
    input.after(document.createTextNode(" of " + shown.pages));
    for (const go of ["next", "last"]) {
      const b = nav.appendChild(el("button", { type: "button", "data-go": go }, labels[go]));
      b.addEventListener("click", () => goTo(moves[go]()));
    }
    nav.appendChild(el("span", { class: "range", "aria-live": "polite" }));
    return nav;
  }

  function renderResults(data) {
    const vars = data.head.vars || [];
    const rows = data.results.bindings;
    shown = { vars: vars, rows: rows, page: 0, pages: Math.max(1, Math.ceil(rows.length / PAGE_SIZE)), view: "table" };
    shown.chart = rows.length && window.diplographCharts ? chartPlan(vars, rows) : null;
    shown.network = rows.length ? networkPlan(vars, rows) : null;
    const parts = [];
    if (shown.chart || shown.network) {
      const views = el("div", { class: "views", role: "group", "aria-label": "show the results as" });
      for (const [view, label] of [["table", "Table"], ["chart", "Chart"], ["network", "Network"]]) {
        if (view !== "table" && !shown[view]) continue;
        const button = views.appendChild(el("button", { type: "button", "data-view": view, "aria-pressed": "false" }, label));
        button.addEventListener("click", () => {
          shown.view = view;
          drawView();
        });
      }
      parts.push(views);
    }
    if (shown.pages > 1) parts.push(pagerNode());
    parts.push(el("div", { id: "results-view" }));
    results.replaceChildren(...parts);
    results.dataset.pages = String(shown.pages);
    results.dataset.views = ["table", shown.chart ? "chart" : "", shown.network ? "network" : ""].filter(Boolean).join(" ");
    drawView();
    goTo(0);
    return rows.length;
  }

  // --- history, kept in this browser ------------------------------------------------------

  const HISTORY_KEY = "diplograph.queryHistory";
  const HISTORY_SIZE = 50;

  function readHistory() {
    try {
      const list = JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]");
      return Array.isArray(list) ? list.filter((h) => h && typeof h.query === "string") : [];
    } catch (ignored) {
      return []; // storage off or spoiled: no history
    }
  }

  function remember(query, outcome) {
    const list = [{ query: query, at: new Date().toISOString(), outcome: outcome }]
      .concat(readHistory().filter((h) => h.query !== query))
      .slice(0, HISTORY_SIZE);
    try {
      localStorage.setItem(HISTORY_KEY, JSON.stringify(list));
    } catch (ignored) {
      // storage full or off: the history is a convenience
    }
    showHistory();
  }

  function showHistory() {
    const box = document.getElementById("history");
    if (!box) return;
    const list = readHistory();
    box.querySelector(".count").textContent = String(list.length);
    const ol = box.querySelector("ol");
    ol.replaceChildren(
      ...list.map((h) => {
        const li = el("li");
        const button = li.appendChild(el("button", { type: "button", title: "Load this query" }, h.query.trim().slice(0, 400)));
        button.addEventListener("click", () => {
          editor.value = h.query;
          updateGutter();
          updateDownloads();
          editor.focus();
        });
        li.appendChild(el("small", {}, h.at.slice(0, 16).replace("T", " ") + " UTC · " + h.outcome));
        return li;
      }),
    );
    box.hidden = false;
  }

  async function run() {
    const text = editor.value;
    if (!text.trim()) return;
    results.dataset.state = "running";
    for (const key of ["rows", "page", "pages", "view", "views", "nodes", "edges"]) delete results.dataset[key];
    status.textContent = "Running…";
    const started = performance.now();
    let response;
    try {
      response = await fetch("/sparql", {
        method: "POST",
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          Accept: "application/sparql-results+json, text/turtle;q=0.9",
        },
        body: new URLSearchParams({ query: text }),
      });
    } catch (error) {
      status.textContent = "";
      showError("The server could not be reached: " + error);
      return;
    }
    const ms = Math.round(performance.now() - started);
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok) {
      let message = response.status + " " + response.statusText;
      try {
        const body = await response.json();
        message = body.message || message;
      } catch (ignored) {
        // not JSON: keep the status line
      }
      status.textContent = "Failed after " + ms + " ms";
      showError(message);
      remember(text, "failed");
      return;
    }
    if (type.startsWith("application/sparql-results+json")) {
      const data = await response.json();
      if (typeof data.boolean === "boolean") {
        results.replaceChildren(el("p", { id: "ask-result" }, String(data.boolean)));
        results.dataset.rows = "1";
        status.textContent = "Answered in " + ms + " ms";
        remember(text, String(data.boolean));
      } else {
        const count = renderResults(data);
        results.dataset.rows = String(count);
        status.textContent = count + (count === 1 ? " row" : " rows") + " in " + ms + " ms";
        remember(text, count + (count === 1 ? " row" : " rows"));
      }
    } else {
      const text = await response.text();
      results.replaceChildren(el("pre", { class: "graph", id: "results-graph" }, text));
      results.dataset.rows = String(text.split("\n").filter((l) => l.trim()).length);
      status.textContent = "Graph in " + ms + " ms";
      remember(text, "graph");
    }
    results.dataset.state = "done";
  }

  // --- examples and the URL -----------------------------------------------------------------

  function selectExample(id, runIt) {
    const example = examples.get(id);
    if (!example) return;
    editor.value = example.query;
    for (const button of document.querySelectorAll("button.example")) {
      button.classList.toggle("selected", button.dataset.example === id);
    }
    history.replaceState(null, "", "?example=" + encodeURIComponent(id));
    updateGutter();
    updateDownloads();
    if (runIt) run();
  }

  for (const button of document.querySelectorAll("button.example")) {
    button.addEventListener("click", () => selectExample(button.dataset.example, true));
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run();
  });

  const clear = document.getElementById("clear-history");
  if (clear) {
    clear.addEventListener("click", () => {
      try {
        localStorage.removeItem(HISTORY_KEY);
      } catch (ignored) {
        // nothing to clear
      }
      showHistory();
    });
  }

  updateGutter();
  updateDownloads();
  showHistory();
  if (new URLSearchParams(location.search).get("run") === "1") run();
})();
