/* tracer report: draws the contact graph, the evidence panel and the case
 * timelines from the JSON block #report-data. Plain JS + SVG, no libraries,
 * no network. Data are only ever inserted with textContent/setAttribute. */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var people = data.people, places = data.places;
  var HOP_COLOURS = ["#c62828", "#ef6c00", "#1565c0", "#6a1b9a"];
  var nodeByPid = {}, edgeEls = [], selected = null;

  function el(tag, attrs, text, ns) {
    var node = ns ? document.createElementNS(ns, tag) : document.createElement(tag);
    for (var k in attrs || {}) { if (attrs[k] !== null && attrs[k] !== undefined) node.setAttribute(k, attrs[k]); }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function svg(tag, attrs, text) { return el(tag, attrs, text, SVG); }
  function label(pid) { return pid >= 0 && pid < people.length ? people[pid] : ""; }
  function hopColour(h) { return HOP_COLOURS[Math.min(h, HOP_COLOURS.length - 1)]; }
  function pct(x) { return (100 * x).toFixed(2) + "%"; }

  /* -- graph ------------------------------------------------------------ */
  function layout(nodes, W, H) {
    var cx = W / 2, cy = H / 2, rx = W / 2 - 60, ry = H / 2 - 30;
    var maxHop = 0, cases = [], rings = {};
    nodes.forEach(function (n) {
      if (n.h === 0) { cases.push(n); } else { (rings[n.h] = rings[n.h] || []).push(n); maxHop = Math.max(maxHop, n.h); }
    });
    var inner = cases.length > 1 ? 0.2 : 0;
    function place(n, frac, angle) {
      n.angle = angle; n.x = cx + rx * frac * Math.cos(angle); n.y = cy + ry * frac * Math.sin(angle);
    }
    cases.forEach(function (n, i) { place(n, inner, 2 * Math.PI * i / cases.length - Math.PI / 2); });
    for (var h = 1; h <= maxHop; h++) {
      var ring = rings[h] || [];
      ring.forEach(function (n) {
        var parent = nodeByPid[n.a];
        n.key = parent && parent.angle !== undefined ? parent.angle : 99;
      });
      ring.sort(function (a, b) { return a.key - b.key || a.k - b.k; });
      ring = spread(ring);
      var frac = inner + (1 - inner) * h / maxHop;
      ring.forEach(function (n, i) { place(n, frac, 2 * Math.PI * (i + 0.5) / ring.length - Math.PI / 2); });
    }
  }

  /* Within each run of siblings (same parent), reorder the rank-sorted
   * nodes by a golden-ratio stride so that the best ranked (labelled) ones
   * do not sit next to each other. */
  function spread(ring) {
    var out = [], i = 0;
    while (i < ring.length) {
      var j = i;
      while (j < ring.length && ring[j].key === ring[i].key) { j++; }
      var n = j - i, stride = Math.max(1, Math.round(n * 0.618));
      while (n > 1 && gcd(stride, n) !== 1) { stride++; }
      for (var m = 0; m < n; m++) { out.push(ring[i + (m * stride) % n]); }
      i = j;
    }
    return out;
  }
  function gcd(a, b) { return b ? gcd(b, a % b) : a; }

  function drawGraph() {
    var box = document.getElementById("graph");
    var nodes = data.graph.nodes, W = 1000, H = 640;
    nodes.forEach(function (n) { nodeByPid[n.p] = n; });
    layout(nodes, W, H);
    var root = svg("svg", { viewBox: "0 0 " + W + " " + H, "data-testid": "graph-svg", role: "img" });
    var scene = svg("g", { "class": "scene" });
    root.appendChild(scene);
    data.graph.edges.forEach(function (e) {
      var a = nodeByPid[e[0]], b = nodeByPid[e[1]];
      if (!a || !b) { return; }
      var line = svg("line", { "class": "edge", x1: a.x, y1: a.y, x2: b.x, y2: b.y,
        "stroke-width": (0.6 + 7 * Math.sqrt(e[2])).toFixed(2) });
      line.appendChild(svg("title", {}, label(e[0]) + " \u2192 " + label(e[1]) + ": risk " + pct(e[2]) + ", " + e[3] + " event(s)"));
      line.dataset.a = e[0]; line.dataset.b = e[1];
      scene.appendChild(line); edgeEls.push(line);
    });
    nodes.forEach(function (n) {
      var r = n.h === 0 ? 9 : 3 + 9 * Math.sqrt(n.r);
      var c = svg("circle", { "class": "node" + (n.u === "close" ? " close" : ""), cx: n.x.toFixed(1), cy: n.y.toFixed(1),
        r: r.toFixed(2), fill: hopColour(n.h), "data-pid": n.p, "data-hop": n.h, "data-testid": "graph-node" });
      var what = n.h === 0 ? "A-class case" : "hop " + n.h + ", rank " + n.k + ", risk " + pct(n.r) + ", " + n.u;
      c.appendChild(svg("title", {}, label(n.p) + " (" + what + ")"));
      c.addEventListener("click", function (ev) { ev.stopPropagation(); select(n.p); });
      n.el = c; scene.appendChild(c);
    });
    nodes.forEach(function (n) {
      if (n.h === 0 || (n.k >= 1 && n.k <= 8)) {
        scene.appendChild(svg("text", { "class": "glabel", x: (n.x + 11).toFixed(1), y: (n.y + 4).toFixed(1) }, label(n.p)));
      }
    });
    root.appendChild(legend());
    root.addEventListener("click", function () { select(null); });
    zoomable(root, W, H);
    box.appendChild(root);
    document.body.dataset.graphNodes = String(nodes.length);
    document.body.dataset.graphEdges = String(edgeEls.length);
  }

  function legend() {
    var g = svg("g", { "class": "legend", transform: "translate(12,16)" });
    ["case", "hop 1", "hop 2", "hop 3"].forEach(function (t, i) {
      g.appendChild(svg("circle", { cx: 6, cy: i * 18, r: 6, fill: HOP_COLOURS[i] }));
      g.appendChild(svg("text", { x: 18, y: i * 18 + 4 }, t));
    });
    g.appendChild(svg("text", { x: 0, y: 4 * 18 + 4 }, "dark ring: close contact"));
    return g;
  }

  function zoomable(root, W, H) {
    var vb = [0, 0, W, H], drag = null;
    function apply() { root.setAttribute("viewBox", vb.map(function (v) { return v.toFixed(1); }).join(" ")); }
    root.addEventListener("wheel", function (ev) {
      ev.preventDefault();
      var rect = root.getBoundingClientRect(), f = ev.deltaY > 0 ? 1.15 : 1 / 1.15;
      var px = vb[0] + vb[2] * (ev.clientX - rect.left) / rect.width, py = vb[1] + vb[3] * (ev.clientY - rect.top) / rect.height;
      vb = [px - (px - vb[0]) * f, py - (py - vb[1]) * f, vb[2] * f, vb[3] * f];
      apply();
    }, { passive: false });
    root.addEventListener("mousedown", function (ev) { drag = { x: ev.clientX, y: ev.clientY, vb: vb.slice() }; });
    window.addEventListener("mousemove", function (ev) {
      if (!drag) { return; }
      var rect = root.getBoundingClientRect();
      vb[0] = drag.vb[0] - (ev.clientX - drag.x) * vb[2] / rect.width;
      vb[1] = drag.vb[1] - (ev.clientY - drag.y) * vb[3] / rect.height;
      apply();
    });
    window.addEventListener("mouseup", function () { drag = null; });
  }

  /* -- selection and evidence -------------------------------------------- */
  function select(pid) {
    selected = pid;
    var near = {};
    if (pid !== null) {
      near[pid] = true;
      edgeEls.forEach(function (e) {
        var hit = +e.dataset.a === pid || +e.dataset.b === pid;
        if (hit) { near[e.dataset.a] = near[e.dataset.b] = true; }
        e.classList.toggle("hi", hit); e.classList.toggle("dim", !hit);
      });
    } else {
      edgeEls.forEach(function (e) { e.classList.remove("hi", "dim"); });
    }
    data.graph.nodes.forEach(function (n) {
      n.el.classList.toggle("sel", n.p === pid);
      n.el.classList.toggle("dim", pid !== null && !near[n.p]);
    });
    var rows = document.querySelectorAll("#ranked-table tr.contact-row");
    for (var i = 0; i < rows.length; i++) { rows[i].classList.toggle("sel", pid !== null && +rows[i].dataset.pid === pid); }
    showEvidence(pid);
    document.body.dataset.selected = pid === null ? "" : String(pid);
  }

  function keyValues(pairs) {
    var dl = el("dl", { "class": "params" });
    pairs.forEach(function (p) { dl.appendChild(el("dt", {}, p[0])); dl.appendChild(el("dd", {}, p[1])); });
    return dl;
  }

  function showEvidence(pid) {
    var box = document.getElementById("evidence");
    while (box.firstChild) { box.removeChild(box.firstChild); }
    if (pid === null) { box.appendChild(el("p", { "class": "hint" }, "Click a node (or a table row) to see the evidence behind it.")); return; }
    var node = nodeByPid[pid], ev = data.evidence[String(pid)];
    var isCase = data.cases.indexOf(pid) >= 0;
    box.appendChild(el("h3", { "data-testid": "evidence-title" }, label(pid) + (isCase ? " \u2014 A-class case" : "")));
    if (isCase) {
      var tl = data.timelines.filter(function (t) { return t.p === pid; })[0];
      var direct = data.graph.nodes.filter(function (n) { return n.a === pid && n.h > 0; }).length;
      var pairs = [["contacts drawn", String(direct)]];
      if (tl) { pairs.push(["hop-1 co-presences", String(tl.n)]); }
      if (tl && tl.w) { pairs.push(["infectious window", fmtTime(tl.w[0], true) + " \u2013 " + fmtTime(tl.w[1], true)]); }
      box.appendChild(keyValues(pairs));
    }
    if (!ev) { if (!isCase) { box.appendChild(el("p", { "class": "hint" }, "No evidence kept for this person.")); } return; }
    var c = ev.c;
    box.appendChild(keyValues([
      ["rank", String(c[0])], ["risk", pct(c[1])], ["rule", c[2]], ["hop", String(c[3])],
      ["source case", label(c[4])], ["via", c[5] >= 0 ? label(c[5]) : "\u2014"], ["first contact", c[6]],
      ["overlap", c[7] + " min"], ["events", String(c[8])]
    ]));
    var table = el("table", { "data-testid": "evidence-table" }), head = el("tr");
    ["source", "place", "kind", "start", "end", "overlap min", "together min", "seat dist", "rule", "p_event"].forEach(function (h) {
      head.appendChild(el("th", {}, h));
    });
    table.appendChild(el("thead")).appendChild(head);
    var body = el("tbody");
    ev.e.forEach(function (e) {
      var tr = el("tr", { "class": "ev-row", "data-testid": "evidence-row" });
      [label(e[0]), places[e[1]][0], e[2], e[3], e[4], (e[5] / 60).toFixed(1), (e[6] / 60).toFixed(1),
        e[7] === null ? "\u2014" : String(e[7]), e[8], e[9].toFixed(4)].forEach(function (v) { tr.appendChild(el("td", {}, v)); });
      body.appendChild(tr);
    });
    table.appendChild(body);
    box.appendChild(el("p", { "class": "hint" }, "Events: " + ev.e.length + (ev.n > ev.e.length ? " of " + ev.n + " shown" : "")));
    box.appendChild(table);
  }

  /* -- ranked table -------------------------------------------------------- */
  function sortableTable() {
    var table = document.getElementById("ranked-table");
    if (!table) { return; }
    var heads = table.querySelectorAll("th"), body = table.tBodies[0];
    Array.prototype.forEach.call(heads, function (th) {
      th.addEventListener("click", function () {
        var col = +th.dataset.col, num = th.dataset.type === "num", asc = !th.classList.contains("asc");
        Array.prototype.forEach.call(heads, function (h) { h.classList.remove("asc", "desc"); });
        th.classList.add(asc ? "asc" : "desc");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[col].dataset.sort, y = b.cells[col].dataset.sort;
          var d = num ? (+x) - (+y) : (x < y ? -1 : x > y ? 1 : 0);
          return asc ? d : -d;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
    Array.prototype.forEach.call(body.rows, function (tr) {
      tr.addEventListener("click", function () {
        select(+tr.dataset.pid);
        document.getElementById("graph-section").scrollIntoView({ behavior: "smooth" });
      });
    });
  }

  /* -- timelines ------------------------------------------------------------ */
  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function fmtTime(t, withDate) {
    var d = new Date((t + data.tzOffset) * 1000);
    var hm = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
    return withDate ? d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + hm : hm;
  }
  function fmtTick(t, step) {
    var d = new Date((t + data.tzOffset) * 1000), day = pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate());
    if (step >= 86400) { return day; }
    return d.getUTCHours() === 0 ? day : pad(d.getUTCHours()) + ":00";
  }

  function drawTimeline(tl) {
    var W = 1000, left = 230, right = 12, top = 22, rowH = 20, H = top + Math.max(1, tl.rows.length) * rowH + 8;
    var lo = Infinity, hi = -Infinity;
    function span(s, e) { lo = Math.min(lo, s); hi = Math.max(hi, e); }
    if (tl.w) { span(tl.w[0], tl.w[1]); }
    tl.rows.forEach(function (r) {
      r.b.forEach(function (b) { span(b[0], b[1]); });
      r.e.forEach(function (e) { span(e[0], e[1]); });
    });
    if (!isFinite(lo)) { lo = 0; hi = 1; }
    if (hi <= lo) { hi = lo + 3600; }
    var padT = (hi - lo) * 0.01; lo -= padT; hi += padT;
    function x(t) { return left + (W - left - right) * (t - lo) / (hi - lo); }
    var box = el("div", { "class": "timeline", "data-testid": "timeline", "data-pid": tl.p });
    var head = "Case " + label(tl.p) + ": " + tl.n + " co-presence(s)";
    if (tl.w) { head += "; infectious " + fmtTime(tl.w[0], true) + " \u2013 " + fmtTime(tl.w[1], true); }
    if (tl.more) { head += "; " + tl.more + " more place(s) not shown"; }
    box.appendChild(el("h3", {}, head));
    var root = svg("svg", { viewBox: "0 0 " + W + " " + H });
    if (tl.w) { root.appendChild(svg("rect", { "class": "tl-window", x: x(tl.w[0]), y: top - 4, width: Math.max(0, x(tl.w[1]) - x(tl.w[0])), height: H - top })); }
    var steps = [3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400, 28 * 86400];
    var step = steps.filter(function (s) { return (hi - lo) / s <= 10; })[0] || steps[steps.length - 1];
    for (var t = Math.ceil((lo + data.tzOffset) / step) * step - data.tzOffset; t <= hi; t += step) {
      root.appendChild(svg("line", { "class": "tl-grid", x1: x(t), x2: x(t), y1: top - 4, y2: H }));
      if (x(t) < W - 40) { root.appendChild(svg("text", { "class": "tl-axis", x: x(t) + 2, y: 12 }, fmtTick(t, step))); }
    }
    if (tl.ref !== null) {
      var ref = svg("line", { "class": "tl-ref", x1: x(tl.ref), x2: x(tl.ref), y1: top - 4, y2: H });
      ref.appendChild(svg("title", {}, "onset / sampling " + fmtTime(tl.ref, true)));
      root.appendChild(ref);
    }
    var pmax = 1e-9;
    tl.rows.forEach(function (r) { r.e.forEach(function (e) { pmax = Math.max(pmax, e[3]); }); });
    tl.rows.forEach(function (r, i) {
      var y = top + i * rowH, pl = places[r.pl], name = pl[0].length > 34 ? pl[0].slice(0, 33) + "\u2026" : pl[0];
      var text = svg("text", { "class": "tl-label", x: 4, y: y + 13 }, name);
      text.appendChild(svg("title", {}, pl[0] + " (" + pl[1] + ")"));
      root.appendChild(text);
      r.b.forEach(function (b) {
        root.appendChild(svg("rect", { "class": "tl-bar", x: x(b[0]), y: y + 3, width: Math.max(1, x(b[1]) - x(b[0])), height: 12 }));
      });
      r.e.forEach(function (e) {
        var bar = svg("rect", { "class": "tl-ev", x: x(e[0]), y: y + 6, width: Math.max(1.5, x(e[1]) - x(e[0])), height: 6,
          "fill-opacity": (0.2 + 0.8 * e[3] / pmax).toFixed(2), "data-testid": "timeline-overlap" });
        bar.appendChild(svg("title", {}, label(e[2]) + ": " + fmtTime(e[0], true) + " \u2013 " + fmtTime(e[1], false) + ", p_event " + e[3].toFixed(4)));
        bar.addEventListener("click", function () { select(e[2]); });
        root.appendChild(bar);
      });
    });
    box.appendChild(root);
    return box;
  }

  function drawTimelines() {
    var list = document.getElementById("timeline-list");
    data.timelines.forEach(function (tl) { list.appendChild(drawTimeline(tl)); });
    document.body.dataset.timelines = String(data.timelines.length);
  }

  /* -- start --------------------------------------------------------------- */
  function fromHash() {
    var m = /^#(rank|case|node)=(\d+)$/.exec(window.location.hash || "");
    if (!m) { return; }
    var n = +m[2], pid = null;
    if (m[1] === "node") { pid = n; }
    if (m[1] === "case") { pid = n >= 1 && n <= data.cases.length ? data.cases[n - 1] : null; }
    if (m[1] === "rank") {
      for (var k in data.evidence) { if (data.evidence[k].c[0] === n) { pid = +k; } }
    }
    if (pid !== null) { select(pid); }
  }

  drawGraph();
  sortableTable();
  drawTimelines();
  fromHash();
  document.body.dataset.ready = "1";
})();
