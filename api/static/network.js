// The network page (api/templates/network.html): draws the nodes and edges the server put in
// #network-data with the vendored Cytoscape.js. Hover shows counts, a click on a node opens the
// actor's page. The page's own state is window.diplographNetwork (read by the tests and the
// benchmark): {state ("loading", "drawn", "error"), nodes, edges, drawnAt, settled, settledAt,
// cy}; the times are performance.now() values.
(function () {
  "use strict";

  // Node colours by class, as the swatches in network.css: each has a contrast of 5.8:1 or
  // more against the page's background, light or dark.
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  var COLOURS = dark ? {
    state: "#7fb0de",
    government: "#b69be0",
    person: "#e8a25c",
    militia: "#f08a8a",
    other: "#9aa6b1",
  } : {
    state: "#2f5d8a",
    government: "#6f4a94",
    person: "#a04f00",
    militia: "#a3262a",
    other: "#5b6670",
  };
  var container = document.getElementById("network");
  var tip = document.getElementById("network-tip");
  var status = {
    state: "loading", nodes: 0, edges: 0, drawnAt: null, settled: false, settledAt: null, cy: null,
  };
  window.diplographNetwork = status;

  function fail(message) {
    status.state = "error";
    status.error = message;
    container.setAttribute("data-state", "error");
    container.textContent = message;
  }

  if (typeof window.cytoscape !== "function") {
    fail("The drawing library did not load; the tables list the network.");
    return;
  }
  var data = JSON.parse(document.getElementById("network-data").textContent);
  var maxCount = data.edges.reduce(function (m, e) { return Math.max(m, e.count); }, 1);
  var maxEvents = data.nodes.reduce(function (m, n) { return Math.max(m, n.events); }, 1);
  var labels = {};
  var elements = [];
  data.nodes.forEach(function (n) {
    labels[n.id] = n.label;
    elements.push({
      group: "nodes",
      data: {
        id: n.id, label: n.label, href: n.href, cls: n.class,
        colour: COLOURS[n.class] || COLOURS.other, events: n.events, degree: n.degree,
        size: 12 + 28 * Math.sqrt(n.events / maxEvents),
      },
    });
  });
  data.edges.forEach(function (e, i) {
    elements.push({
      group: "edges",
      data: {
        id: "e" + i, source: e.source, target: e.target, count: e.count,
        first: e.first, last: e.last,
        width: 1 + 9 * Math.sqrt(e.count / maxCount),
      },
    });
  });

  var text = getComputedStyle(document.documentElement).getPropertyValue("--fg").trim() ||
    (dark ? "#e3e7eb" : "#1d232a");
  var background = dark ? "#15191d" : "#ffffff";
  var large = data.nodes.length > 150;

  var cy = window.cytoscape({
    container: container,
    elements: elements,
    minZoom: 0.05,
    maxZoom: 6,
    textureOnViewport: large,
    hideEdgesOnViewport: large,
    style: [
      {
        selector: "node",
        style: {
          "background-color": "data(colour)",
          width: "data(size)",
          height: "data(size)",
          label: large ? "" : "data(label)",
          color: text,
          "font-size": 11,
          "text-valign": "bottom",
          "text-margin-y": 3,
          "text-outline-color": background,
          "text-outline-width": 2,
        },
      },
      {
        selector: "edge",
        style: {
          width: "data(width)",
          "line-color": dark ? "#6c7884" : "#848f99", // 3.3:1 or more against the background
          opacity: 1,
          "curve-style": "haystack",
        },
      },
      {
        selector: "node.hover, node.selected",
        style: { label: "data(label)", "border-width": 3, "border-color": text },
      },
      { selector: "edge.hover", style: { "line-color": text, opacity: 1 } },
    ],
    layout: { name: "preset" },
  });
  status.cy = cy;

  // The layout in two steps: rings by number of events (quick: the graph is on screen at once),
  // then, for up to REFINE nodes, a force-directed layout (cose) from there, whose end is
  // animated. status.drawnAt is the first drawing, status.settledAt the end of the second.
  var REFINE = 600;
  function ready(field, then) {
    // Cytoscape paints on the next animation frame; the one after it has the graph on screen.
    requestAnimationFrame(function () {
      requestAnimationFrame(function () {
        status[field] = performance.now();
        if (then) then();
      });
    });
  }
  function drawn() {
    status.nodes = cy.nodes().length;
    status.edges = cy.edges().length;
    status.state = "drawn";
    container.setAttribute("data-state", "drawn");
  }
  function settled() {
    status.settled = true;
    container.setAttribute("data-settled", "true");
  }
  var quick = cy.layout({
    name: "concentric",
    concentric: function (node) { return node.data("events"); },
    levelWidth: function () { return Math.max(1, maxEvents / 8); },
    minNodeSpacing: 6,
    animate: false,
  });
  quick.one("layoutstop", function () {
    ready("drawnAt", function () {
      drawn();
      if (data.nodes.length > REFINE || data.nodes.length < 3) {
        status.settledAt = status.drawnAt;
        settled();
        return;
      }
      var fine = cy.layout({
        name: "cose",
        animate: "end",
        animationDuration: 300,
        randomize: false,
        numIter: 400,
        nodeRepulsion: function () { return 6000; },
        idealEdgeLength: function () { return 60; },
        componentSpacing: 60,
      });
      fine.one("layoutstop", function () { ready("settledAt", settled); });
      fine.run();
    });
  });
  quick.run();

  function show(message) { tip.textContent = message; }
  function period(first, last) {
    if (!first) return "";
    return first === last ? " (" + first + ")" : " (" + first + " to " + last + ")";
  }
  cy.on("mouseover", "node", function (event) {
    var n = event.target;
    n.addClass("hover");
    show(n.data("label") + " (" + n.data("cls") + "): " + n.data("events") + " events with " +
      n.data("degree") + " actors shown");
  });
  cy.on("mouseover", "edge", function (event) {
    var e = event.target;
    e.addClass("hover");
    var count = e.data("count");
    show(labels[e.data("source")] + " and " + labels[e.data("target")] + ": " + count +
      (count === 1 ? " event" : " events") + period(e.data("first"), e.data("last")));
  });
  cy.on("mouseout", "node, edge", function (event) {
    event.target.removeClass("hover");
    show("");
  });
  cy.on("tap", "node", function (event) {
    window.location.href = event.target.data("href");
  });

  // The table beside the drawing: focusing an actor's link marks it in the drawing.
  var rows = document.querySelectorAll("#network-nodes tr[data-node]");
  Array.prototype.forEach.call(rows, function (row) {
    var link = row.querySelector("a");
    if (!link) return;
    link.addEventListener("focus", function () {
      cy.nodes(".selected").removeClass("selected");
      var node = cy.getElementById(row.getAttribute("data-node"));
      node.addClass("selected");
      row.classList.add("selected");
      show(node.data("label") + ": " + node.data("events") + " events with " +
        node.data("degree") + " actors shown");
    });
    link.addEventListener("blur", function () {
      cy.getElementById(row.getAttribute("data-node")).removeClass("selected");
      row.classList.remove("selected");
      show("");
    });
  });
})();
