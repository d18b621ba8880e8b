// diplograph query page: a small SPARQL editor with line numbers, one-click examples, and a
// results table whose IRIs link to this server's linked-data pages. No dependencies, no CDN.
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
    const span = el("span", { class: "literal" });
    span.appendChild(document.createTextNode(term.value));
    if (term["xml:lang"]) {
      span.appendChild(document.createTextNode(" "));
      span.appendChild(el("span", { class: "lang" }, "@" + term["xml:lang"]));
    } else if (term.datatype && term.datatype !== XSD_STRING && !NUMERIC.test(term.datatype)) {
      span.appendChild(document.createTextNode(" "));
      span.appendChild(el("span", { class: "datatype" }, compact(term.datatype)));
    }
    return span;
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

  function renderTable(data) {
    const vars = data.head.vars || [];
    const rows = data.results.bindings;
    const table = el("table", { id: "results-table" });
    const headRow = el("tr");
    for (const name of vars) headRow.appendChild(el("th", { scope: "col" }, name));
    table.appendChild(el("thead")).appendChild(headRow);
    const body = table.appendChild(el("tbody"));
    for (const row of rows) {
      const tr = body.appendChild(el("tr"));
      for (const name of vars) {
        const term = row[name];
        const td = tr.appendChild(el("td"));
        if (term && term.type === "literal" && term.datatype && NUMERIC.test(term.datatype)) {
          td.className = "num";
        }
        td.appendChild(termNode(term));
      }
    }
    results.replaceChildren(table);
    return rows.length;
  }

  async function run() {
    const text = editor.value;
    if (!text.trim()) return;
    results.dataset.state = "running";
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
      return;
    }
    if (type.startsWith("application/sparql-results+json")) {
      const data = await response.json();
      if (typeof data.boolean === "boolean") {
        results.replaceChildren(el("p", { id: "ask-result" }, String(data.boolean)));
        results.dataset.rows = "1";
        status.textContent = "Answered in " + ms + " ms";
      } else {
        const count = renderTable(data);
        results.dataset.rows = String(count);
        status.textContent = count + (count === 1 ? " row" : " rows") + " in " + ms + " ms";
      }
    } else {
      const text = await response.text();
      results.replaceChildren(el("pre", { class: "graph", id: "results-graph" }, text));
      results.dataset.rows = String(text.split("\n").filter((l) => l.trim()).length);
      status.textContent = "Graph in " + ms + " ms";
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

  updateGutter();
  updateDownloads();
  if (new URLSearchParams(location.search).get("run") === "1") run();
})();
